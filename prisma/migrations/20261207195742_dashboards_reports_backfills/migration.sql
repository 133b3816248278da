-- Dashboards (tiles of saved queries and pipelines' live figures), saved-query parameters, scheduled reports with
-- their delivery history and query alerts in the alert inbox, and backfills into shadow tables (issue 17).
-- CreateEnum
CREATE TYPE "DashboardTileKind" AS ENUM ('QUERY', 'PIPELINE_FIGURES');

-- CreateEnum
CREATE TYPE "ReportFormat" AS ENUM ('CSV', 'PARQUET');

-- CreateEnum
CREATE TYPE "BackfillState" AS ENUM ('FILLING', 'FILLED', 'COMPARED', 'SWAPPED', 'FAILED', 'DISCARDED');

-- AlterTable
ALTER TABLE "AlertInboxEntry" ADD COLUMN     "reportId" TEXT,
ALTER COLUMN "alertId" DROP NOT NULL;

-- AlterTable
ALTER TABLE "SavedQuery" ADD COLUMN     "parameters" JSONB NOT NULL DEFAULT '[]';

-- CreateTable
CREATE TABLE "Dashboard" (
    "id" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "timeRange" JSONB NOT NULL DEFAULT '{"kind":"relative","last":"1h"}',
    "refreshSeconds" INTEGER NOT NULL DEFAULT 60,
    "createdById" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Dashboard_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "DashboardTile" (
    "id" TEXT NOT NULL,
    "dashboardId" TEXT NOT NULL,
    "kind" "DashboardTileKind" NOT NULL,
    "savedQueryId" TEXT,
    "pipelineId" TEXT,
    "title" TEXT NOT NULL DEFAULT '',
    "x" INTEGER NOT NULL,
    "y" INTEGER NOT NULL,
    "w" INTEGER NOT NULL,
    "h" INTEGER NOT NULL,

    CONSTRAINT "DashboardTile_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Report" (
    "id" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "savedQueryId" TEXT NOT NULL,
    "pattern" TEXT NOT NULL,
    "timeZone" TEXT NOT NULL DEFAULT 'UTC',
    "range" TEXT,
    "format" "ReportFormat" NOT NULL DEFAULT 'CSV',
    "filePath" TEXT,
    "webhookConnection" TEXT,
    "condition" JSONB,
    "severity" TEXT NOT NULL DEFAULT 'warning',
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "conditionMet" BOOLEAN,
    "createdById" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "lastSlotAt" TIMESTAMP(3),

    CONSTRAINT "Report_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ReportDelivery" (
    "id" TEXT NOT NULL,
    "reportId" TEXT NOT NULL,
    "trigger" TEXT NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMP(3),
    "outcome" TEXT NOT NULL DEFAULT 'running',
    "rows" INTEGER,
    "bytes" INTEGER,
    "file" TEXT,
    "webhookStatus" INTEGER,
    "conditionMet" BOOLEAN,
    "error" TEXT,

    CONSTRAINT "ReportDelivery_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Backfill" (
    "id" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "pipelineId" TEXT NOT NULL,
    "runId" TEXT,
    "sinkNodeId" TEXT NOT NULL,
    "liveTable" TEXT NOT NULL,
    "shadowTable" TEXT NOT NULL,
    "generation" INTEGER NOT NULL,
    "replay" JSONB NOT NULL,
    "state" "BackfillState" NOT NULL DEFAULT 'FILLING',
    "comparison" JSONB,
    "previousTable" TEXT,
    "error" TEXT,
    "createdById" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "swappedAt" TIMESTAMP(3),

    CONSTRAINT "Backfill_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Dashboard_workspaceId_updatedAt_idx" ON "Dashboard"("workspaceId", "updatedAt");

-- CreateIndex
CREATE UNIQUE INDEX "Dashboard_workspaceId_name_key" ON "Dashboard"("workspaceId", "name");

-- CreateIndex
CREATE INDEX "DashboardTile_dashboardId_idx" ON "DashboardTile"("dashboardId");

-- CreateIndex
CREATE INDEX "DashboardTile_savedQueryId_idx" ON "DashboardTile"("savedQueryId");

-- CreateIndex
CREATE INDEX "DashboardTile_pipelineId_idx" ON "DashboardTile"("pipelineId");

-- CreateIndex
CREATE INDEX "Report_savedQueryId_idx" ON "Report"("savedQueryId");

-- CreateIndex
CREATE UNIQUE INDEX "Report_workspaceId_name_key" ON "Report"("workspaceId", "name");

-- CreateIndex
CREATE INDEX "ReportDelivery_reportId_startedAt_idx" ON "ReportDelivery"("reportId", "startedAt");

-- CreateIndex
CREATE INDEX "Backfill_pipelineId_createdAt_idx" ON "Backfill"("pipelineId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "Backfill_pipelineId_sinkNodeId_generation_key" ON "Backfill"("pipelineId", "sinkNodeId", "generation");

-- AddForeignKey
ALTER TABLE "AlertInboxEntry" ADD CONSTRAINT "AlertInboxEntry_reportId_fkey" FOREIGN KEY ("reportId") REFERENCES "Report"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Dashboard" ADD CONSTRAINT "Dashboard_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Dashboard" ADD CONSTRAINT "Dashboard_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DashboardTile" ADD CONSTRAINT "DashboardTile_dashboardId_fkey" FOREIGN KEY ("dashboardId") REFERENCES "Dashboard"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DashboardTile" ADD CONSTRAINT "DashboardTile_savedQueryId_fkey" FOREIGN KEY ("savedQueryId") REFERENCES "SavedQuery"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DashboardTile" ADD CONSTRAINT "DashboardTile_pipelineId_fkey" FOREIGN KEY ("pipelineId") REFERENCES "Pipeline"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Report" ADD CONSTRAINT "Report_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Report" ADD CONSTRAINT "Report_savedQueryId_fkey" FOREIGN KEY ("savedQueryId") REFERENCES "SavedQuery"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Report" ADD CONSTRAINT "Report_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ReportDelivery" ADD CONSTRAINT "ReportDelivery_reportId_fkey" FOREIGN KEY ("reportId") REFERENCES "Report"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Backfill" ADD CONSTRAINT "Backfill_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Backfill" ADD CONSTRAINT "Backfill_pipelineId_fkey" FOREIGN KEY ("pipelineId") REFERENCES "Pipeline"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Backfill" ADD CONSTRAINT "Backfill_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Backfill" ADD CONSTRAINT "Backfill_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
