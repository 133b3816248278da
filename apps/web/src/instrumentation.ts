// Runs once when a Next server starts. The run reconciler copies run state from Redis into Postgres; the schedule
// runner turns cron fires into runs, the report runner into report deliveries; the history roll-up rolls node figures up from Redis into Postgres; the alert loop evaluates spec.alerts; old audit entries are deleted. They need
// Prisma, ioredis and BullMQ, so they are imported only in the Node.js runtime (the edge bundle never sees them).
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { startReconciler } = await import("./server/reconciler");
  startReconciler();
  const { startScheduler } = await import("./server/scheduler");
  startScheduler();
  const { startReports } = await import("./server/reports");
  startReports();
  const { startHistory } = await import("./server/history-rollup");
  startHistory();
  const { startAlerts } = await import("./server/alerts");
  startAlerts();
  const { startAuditRetention } = await import("./server/audit-retention");
  startAuditRetention();
  const { importLegacyTokens } = await import("./server/legacy-tokens");
  importLegacyTokens();
}
