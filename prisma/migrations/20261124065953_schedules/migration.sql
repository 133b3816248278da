-- CreateEnum
CREATE TYPE "ScheduleOverlap" AS ENUM ('SKIP', 'QUEUE');

-- CreateEnum
CREATE TYPE "ScheduleOutcome" AS ENUM ('STARTED', 'SKIPPED', 'QUEUED', 'FAILED');

-- CreateTable
CREATE TABLE "Schedule" (
    "id" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "pipelineId" TEXT NOT NULL,
    "pattern" TEXT NOT NULL,
    "timeZone" TEXT NOT NULL DEFAULT 'UTC',
    "version" INTEGER,
    "parameters" JSONB NOT NULL DEFAULT '{}',
    "overlap" "ScheduleOverlap" NOT NULL DEFAULT 'SKIP',
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "createdById" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "lastFiredAt" TIMESTAMP(3),
    "lastRunId" TEXT,
    "lastOutcome" "ScheduleOutcome",
    "lastMessage" TEXT,
    "lastSlotAt" TIMESTAMP(3),
    "pendingSince" TIMESTAMP(3),

    CONSTRAINT "Schedule_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Schedule_workspaceId_pipelineId_idx" ON "Schedule"("workspaceId", "pipelineId");

-- CreateIndex
CREATE INDEX "Schedule_pipelineId_idx" ON "Schedule"("pipelineId");

-- CreateIndex
CREATE INDEX "Schedule_pendingSince_idx" ON "Schedule"("pendingSince");

-- AddForeignKey
ALTER TABLE "Schedule" ADD CONSTRAINT "Schedule_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Schedule" ADD CONSTRAINT "Schedule_pipelineId_fkey" FOREIGN KEY ("pipelineId") REFERENCES "Pipeline"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Schedule" ADD CONSTRAINT "Schedule_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
