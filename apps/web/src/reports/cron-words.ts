// A cron pattern in words for the reports list ("daily at 06:00"), and the presets the form offers. Patterns this does
// not know are shown as they are. Pure, browser-safe.

export const CRON_PRESETS = [
  { label: "Hourly", pattern: "0 * * * *" },
  { label: "Daily at 06:00", pattern: "0 6 * * *" },
  { label: "Weekly on Monday", pattern: "0 6 * * 1" },
] as const;

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const NUMBER = /^\d{1,2}$/;

const two = (n: string) => n.padStart(2, "0");

export function cronWords(pattern: string): string {
  const fields = pattern.trim().split(/\s+/);
  if (fields.length === 6) {
    if (fields.every((f) => f === "*")) return "every second";
    const [sec, ...rest] = fields;
    if (sec === "0") return cronWords(rest.join(" "));
    return `cron ${pattern.trim()}`;
  }
  if (fields.length !== 5) return `cron ${pattern.trim()}`;
  const [minute, hour, day, month, weekday] = fields as [string, string, string, string, string];
  if (fields.every((f) => f === "*")) return "every minute";
  const every = /^\*\/(\d+)$/.exec(minute);
  if (every && hour === "*" && day === "*" && month === "*" && weekday === "*") return `every ${every[1]} minutes`;
  if (NUMBER.test(minute) && hour === "*" && day === "*" && month === "*" && weekday === "*") {
    return `hourly at :${two(minute)}`;
  }
  if (!NUMBER.test(minute) || !NUMBER.test(hour) || month !== "*") return `cron ${pattern.trim()}`;
  const at = `${two(hour)}:${two(minute)}`;
  if (day === "*" && weekday === "*") return `daily at ${at}`;
  if (day === "*" && /^[0-7]$/.test(weekday)) return `weekly on ${DAYS[Number(weekday)]} at ${at}`;
  if (day === "*" && weekday === "1-5") return `weekdays at ${at}`;
  if (NUMBER.test(day) && weekday === "*") return `monthly on day ${Number(day)} at ${at}`;
  return `cron ${pattern.trim()}`;
}

/** A time as the report's zone reads it: "Mon 8 Dec, 06:00". */
export function formatInZone(value: Date | string, timeZone: string): string {
  try {
    return new Intl.DateTimeFormat("en-GB", {
      timeZone,
      weekday: "short",
      day: "numeric",
      month: "short",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    }).format(new Date(value));
  } catch {
    return new Date(value).toISOString();
  }
}
