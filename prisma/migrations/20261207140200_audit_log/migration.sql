-- The workspace audit log (packages/api/src/audit).
CREATE TABLE "AuditEntry" (
    "id" BIGSERIAL NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actorId" TEXT,
    "actorName" TEXT NOT NULL,
    "via" TEXT NOT NULL,
    "tokenId" TEXT,
    "tokenName" TEXT,
    "action" TEXT NOT NULL,
    "targetType" TEXT,
    "targetId" TEXT,
    "targetName" TEXT,
    "details" JSONB,
    "address" TEXT,

    CONSTRAINT "AuditEntry_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "AuditEntry_workspaceId_at_idx" ON "AuditEntry"("workspaceId", "at");
CREATE INDEX "AuditEntry_workspaceId_action_at_idx" ON "AuditEntry"("workspaceId", "action", "at");
CREATE INDEX "AuditEntry_at_idx" ON "AuditEntry"("at");

ALTER TABLE "AuditEntry" ADD CONSTRAINT "AuditEntry_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE;
