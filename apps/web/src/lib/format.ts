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
