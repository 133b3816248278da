/** Dates from the API arrive as Dates (superjson); epoch milliseconds come from run figures. */
function toDate(value: Date | number): Date {
  return value instanceof Date ? value : new Date(value);
}

const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
const absolute = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "long" });

/** "3 minutes ago", "yesterday", … for recent times; the time itself for older ones. */
export function formatRelative(value: Date | number, now = Date.now()): string {
  const date = toDate(value);
  const seconds = Math.round((date.getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return "just now";
  if (abs < 3600) return relative.format(Math.round(seconds / 60), "minute");
  if (abs < 86_400) return relative.format(Math.round(seconds / 3600), "hour");
  if (abs < 7 * 86_400) return relative.format(Math.round(seconds / 86_400), "day");
  return formatAbsolute(date);
}

/**
 * The one way a point in time is shown: local time to the second with its zone, "Dec 7, 2026, 5:21:20 AM UTC"; an
 * epoch-milliseconds number (event times, dead letters, watermarks) is read as such. Pair it with formatIso in a title.
 */
export function formatAbsolute(value: Date | number, timeZone?: string): string {
  const date = toDate(value);
  if (Number.isNaN(date.getTime())) return String(value);
  const format = timeZone
    ? new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "long", timeZone })
    : absolute;
  return format.format(date);
}

/** The exact instant, to the millisecond in UTC, for a tooltip under formatAbsolute's text. */
export function formatIso(value: Date | number): string {
  const date = toDate(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toISOString();
}

// Live figures on the canvas: short enough for a node card at 1280×720; the exact value goes in a title.

const compact = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 });

/** 0, 12, 1.2k, 3.4M: a count as a node card shows it (formatCount or toLocaleString gives the exact one). */
export function formatCompact(n: number): string {
  if (!Number.isFinite(n)) return "—";
  // Below 10 a rate keeps one decimal (0.5/s is not 1/s); counts are whole anyway.
  if (Math.abs(n) < 10) return String(Math.round(n * 10) / 10);
  return compact.format(n).toLowerCase().replace("m", "M").replace("b", "B");
}

/** "1.2k/s": records per second. */
export function formatRate(perSec: number): string {
  return `${formatCompact(perSec)}/s`;
}

/** "0.25 ms", "3.4 ms", "120 ms", "1.5 s": a batch latency. */
export function formatLatency(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "—";
  if (ms < 1) return `${Math.round(ms * 100) / 100} ms`;
  if (ms < 10) return `${Math.round(ms * 10) / 10} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${Math.round(ms / 100) / 10} s`;
}

/** "0 s", "45 s", "2 m 10 s", "3 h 05 m": how far behind something is. */
export function formatLag(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "—";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${String(m % 60).padStart(2, "0")} m`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

const BYTE_UNITS = ["B", "kB", "MB", "GB", "TB", "PB"];
const OFFSET_LAG_WORDS = { messages: "msgs", entries: "entries" } as const;

/** "12.4k msgs", "830 entries", "1.2 MB": how far a source is behind, in its system's unit (offset lag). */
export function formatOffsetLag(value: number, unit: "bytes" | "messages" | "entries"): string {
  if (!Number.isFinite(value) || value < 0) return "—";
  if (unit !== "bytes") return `${formatCompact(value)} ${OFFSET_LAG_WORDS[unit]}`;
  let i = 0;
  let v = value;
  while (v >= 1000 && i < BYTE_UNITS.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? Math.round(v) : Math.round(v * 10) / 10} ${BYTE_UNITS[i]}`;
}
