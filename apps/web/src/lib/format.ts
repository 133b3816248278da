// Without a tRPC transformer, Dates cross the wire as ISO strings even though the router's types say Date.

export function asDate(value: Date | string | number): Date {
  return value instanceof Date ? value : new Date(value);
}

const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
const absolute = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "short" });

/** "3 minutes ago", "yesterday", … for recent times; a date for older ones. */
export function formatRelative(value: Date | string | number, now = Date.now()): string {
  const date = asDate(value);
  const seconds = Math.round((date.getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return "just now";
  if (abs < 3600) return relative.format(Math.round(seconds / 60), "minute");
  if (abs < 86_400) return relative.format(Math.round(seconds / 3600), "hour");
  if (abs < 7 * 86_400) return relative.format(Math.round(seconds / 86_400), "day");
  return absolute.format(date);
}

export function formatAbsolute(value: Date | string | number): string {
  return absolute.format(asDate(value));
}
