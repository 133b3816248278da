-- Saved queries of the query page (packages/api/src/saved-queries): a workspace's named queries, each with its source
-- (one of its connections, or its files), its SQL and the chart drawn from its result, columns named rather than
-- numbered. Deleting the connection keeps the query with no connection (SET NULL), so it can say its source is gone;
-- deleting the workspace deletes them, deleting the author keeps them without one.

-- CreateEnum
CREATE TYPE "SavedQuerySource" AS ENUM ('connection', 'files');

-- CreateTable
CREATE TABLE "SavedQuery" (
    "id" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "source" "SavedQuerySource" NOT NULL,
    "connectionId" TEXT,
    "sql" TEXT NOT NULL,
    "chart" JSONB,
    "createdById" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "SavedQuery_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "SavedQuery_workspaceId_updatedAt_idx" ON "SavedQuery"("workspaceId", "updatedAt");

-- CreateIndex
CREATE INDEX "SavedQuery_connectionId_idx" ON "SavedQuery"("connectionId");

-- CreateIndex
CREATE UNIQUE INDEX "SavedQuery_workspaceId_name_key" ON "SavedQuery"("workspaceId", "name");

-- AddForeignKey
ALTER TABLE "SavedQuery" ADD CONSTRAINT "SavedQuery_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SavedQuery" ADD CONSTRAINT "SavedQuery_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "Connection"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SavedQuery" ADD CONSTRAINT "SavedQuery_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;
