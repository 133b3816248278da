import type { RunStatus as EngineStatus } from "@sluice/pipeline/control/protocol";

export type DbRunStatus = "QUEUED" | "RUNNING" | "PAUSED" | "STOPPING" | "COMPLETED" | "STOPPED" | "FAILED";

export function toDbStatus(status: EngineStatus): DbRunStatus {
  return status.toUpperCase() as DbRunStatus;
}

export const TERMINAL_DB_STATUSES: readonly DbRunStatus[] = ["COMPLETED", "STOPPED", "FAILED"];
