import { parseRunStatus, RUN_STATUS_LABELS } from "@sluice/pipeline/control/run-status";

/** A coloured pill for a run status; takes the engine's lower-case or the database's upper-case spelling. */
export function RunStatusBadge({ status }: { status: string }) {
  const s = parseRunStatus(status);
  return <span className={`status status-${s ?? "unknown"}`}>{s ? RUN_STATUS_LABELS[s] : status}</span>;
}
