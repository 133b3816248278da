// A run's statuses and what each allows: the one list the web app, the API and the engine read. It imports nothing,
// so the web app's first-load bundle can use it without pulling zod in. The engine spells a status in lower case (Redis); Postgres keeps the same set upper-cased (Prisma enum
// RunStatus), mapped by toDbStatus / fromDbStatus.

export const RUN_STATUSES = ["queued", "running", "paused", "stopping", "completed", "stopped", "failed"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** Statuses a run leaves by itself or by a user's action; a pipeline with a run in one of them is busy. */
export const ACTIVE_STATUSES: readonly RunStatus[] = ["queued", "running", "paused", "stopping"];
/** Statuses a run never leaves unless restarted. */
export const TERMINAL_STATUSES: readonly RunStatus[] = ["completed", "stopped", "failed"];

export function isTerminal(status: RunStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export function isActive(status: RunStatus): boolean {
  return ACTIVE_STATUSES.includes(status);
}

export type RunAction = "start" | "pause" | "resume" | "stop" | "restart";

const ALLOWED: Record<RunStatus, readonly RunAction[]> = {
  // Stop of a queued run is honoured: the worker that takes the start job finds it stopped.
  queued: ["stop"],
  running: ["pause", "stop"],
  paused: ["resume", "stop"],
  // Already stopping: the tasks are draining; nothing to add until it ends.
  stopping: [],
  // A new run of the pipeline may start, or this one continue from its last commit (or afresh).
  completed: ["start", "restart"],
  stopped: ["start", "restart"],
  failed: ["start", "restart"],
};

/** What a user may do to a run in this status (`start` means a new run of its pipeline). */
export function allowedActions(status: RunStatus): readonly RunAction[] {
  return ALLOWED[status];
}

export function allows(status: RunStatus, action: RunAction): boolean {
  return ALLOWED[status].includes(action);
}

export const RUN_STATUS_LABELS: Record<RunStatus, string> = {
  queued: "Queued",
  running: "Running",
  paused: "Paused",
  stopping: "Stopping",
  completed: "Completed",
  stopped: "Stopped",
  failed: "Failed",
};

/** The status in either spelling (engine lower-case, database upper-case); undefined for anything else. */
export function parseRunStatus(status: string | null | undefined): RunStatus | undefined {
  const s = status?.toLowerCase();
  return RUN_STATUSES.find((known) => known === s);
}

/** The Prisma enum RunStatus: the same statuses, upper-cased. */
export type DbRunStatus = Uppercase<RunStatus>;

export function toDbStatus(status: RunStatus): DbRunStatus {
  return status.toUpperCase() as DbRunStatus;
}

export function fromDbStatus(status: DbRunStatus): RunStatus {
  return status.toLowerCase() as RunStatus;
}

export const ACTIVE_DB_STATUSES: readonly DbRunStatus[] = ACTIVE_STATUSES.map(toDbStatus);
export const TERMINAL_DB_STATUSES: readonly DbRunStatus[] = TERMINAL_STATUSES.map(toDbStatus);
