const LABELS: Record<string, string> = {
  queued: "Queued",
  running: "Running",
  paused: "Paused",
  stopping: "Stopping",
  completed: "Completed",
  stopped: "Stopped",
  failed: "Failed",
};

const ACTIVE = new Set(["queued", "running", "paused", "stopping"]);

/** Whether a run in this status may still change it by itself (either spelling, like the badge). */
export function isActiveRunStatus(status: string): boolean {
  return ACTIVE.has(status.toLowerCase());
}

/** A coloured pill for a run status; takes the engine's lower-case or the database's upper-case spelling. */
export function RunStatusBadge({ status }: { status: string }) {
  const s = status.toLowerCase();
  return <span className={`status status-${s}`}>{LABELS[s] ?? s}</span>;
}
