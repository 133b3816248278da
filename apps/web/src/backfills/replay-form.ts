// The replay form's values (one row per source: by time or by offset, from and optional to) and the bounds they
// make for backfills.start; what a person typed wrong is said per field. Pure, so it is tested without a browser.

type ReplayBound = { time: number } | { offset: string };

export interface ReplayRow {
  by: "time" | "offset";
  /** datetime-local text (local time) or an offset. */
  from: string;
  /** Empty: up to what exists when the run starts. */
  to: string;
}

export type ReplayChoice = { from: ReplayBound; to?: ReplayBound };

/** A datetime-local value ("2024-05-01T12:30" or with seconds) as epoch ms in the browser's zone; undefined when not one. */
export function localTime(text: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/.test(text)) return undefined;
  const ms = new Date(text).getTime();
  return Number.isFinite(ms) ? ms : undefined;
}

/** Epoch ms as a datetime-local value (local time, to the second). */
export function localInput(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function bound(by: ReplayRow["by"], text: string, which: "from" | "to"): ReplayBound | string {
  const t = text.trim();
  if (by === "offset")
    return t === "" ? `give the offset to ${which === "from" ? "start at" : "end at"}` : { offset: t };
  const ms = localTime(t);
  return ms === undefined ? "choose a date and time" : { time: ms };
}

/** The bounds a row makes, or the problem of each field. */
export function replayChoice(
  row: ReplayRow,
): { ok: true; choice: ReplayChoice } | { ok: false; from?: string; to?: string } {
  const from = bound(row.by, row.from, "from");
  const to = row.to.trim() === "" ? undefined : bound(row.by, row.to, "to");
  const problems: { from?: string; to?: string } = {};
  if (typeof from === "string") problems.from = from;
  if (typeof to === "string") problems.to = to;
  if (typeof from !== "string" && to !== undefined && typeof to !== "string" && "time" in from && "time" in to) {
    if (to.time < from.time) problems.to = "the end is before the start";
  }
  if (problems.from || problems.to) return { ok: false, ...problems };
  return { ok: true, choice: { from: from as ReplayBound, ...(to ? { to: to as ReplayBound } : {}) } };
}
