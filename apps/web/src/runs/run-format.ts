import type { TaskRetry } from "@sluice/pipeline/control/protocol";

// Small formatters for run figures.

/** "850 ms", "12.4 s", "3 min 05 s", "2 h 07 min". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.floor(s % 60)).padStart(2, "0")} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${String(m % 60).padStart(2, "0")} min`;
}

const integer = new Intl.NumberFormat("en-US");
export function formatCount(n: number): string {
  return integer.format(n);
}

export function toMs(value: Date | number | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  const ms = value instanceof Date ? value.getTime() : value;
  return Number.isNaN(ms) ? null : ms;
}

/** A partition waiting to try again, as a run shows it (a type-only import: zod stays out of the bundle). */
type RetryView = Pick<TaskRetry, "stage" | "partition" | "error" | "attempt" | "nextAt">;

/** "retrying: cannot connect to … (attempt 7, next in 16 s)"; "next now" once the time has come. */
export function formatRetry(retry: RetryView, now: number): string {
  const wait = retry.nextAt - now;
  const next = wait > 500 ? `next in ${formatDuration(Math.ceil(wait / 1000) * 1000)}` : "next now";
  return `retrying: ${retry.error} (attempt ${formatCount(retry.attempt)}, ${next})`;
}
