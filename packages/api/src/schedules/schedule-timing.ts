import { getNextMillis } from "bullmq";
import { fieldError } from "./field-error";

// When a schedule fires, read with BullMQ's own cron parser so that what the API accepts is exactly what the job
// scheduler will run. Server-only (bullmq).

export interface Timing {
  pattern: string;
  timeZone: string;
}

/** The canonical IANA name of a time zone ("europe/berlin" → "Europe/Berlin"), or null if it is unknown. */
function canonicalTimeZone(zone: string): string | null {
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

/** The first fire strictly after `after`, or null if the pattern never fires again. Throws on a bad pattern or zone. */
function nextMillis(timing: Timing, after: number): number | null {
  return getNextMillis(after, { pattern: timing.pattern, tz: timing.timeZone }) ?? null;
}

/**
 * Checks a pattern and time zone, returning the timing to store (zone in its canonical spelling). Errors name the
 * field: `timeZone: unknown time zone "Mars/Olympus" …`, `pattern: …`.
 */
export function checkTiming(timing: Timing, now = Date.now()): Timing {
  const timeZone = canonicalTimeZone(timing.timeZone);
  if (!timeZone) {
    throw fieldError(
      "timeZone",
      `unknown time zone "${timing.timeZone}": use an IANA name such as "UTC" or "Europe/Berlin"`,
      timing.timeZone,
    );
  }
  const checked = { pattern: timing.pattern, timeZone };
  let next: number | null;
  try {
    next = nextMillis(checked, now);
  } catch (err) {
    // cron-parser rejects a zone luxon cannot load with "CronDate: unhandled timestamp".
    if (/CronDate/.test((err as Error).message)) {
      throw fieldError("timeZone", `time zone "${timeZone}" cannot be used for schedules`, timing.timeZone);
    }
    throw fieldError(
      "pattern",
      `"${timing.pattern}" is not a cron pattern (${(err as Error).message}): use 5 fields (minute hour ` +
        'day-of-month month day-of-week) or 6 with seconds first, e.g. "0 3 * * *" for 03:00 every day',
      timing.pattern,
    );
  }
  if (next === null) throw fieldError("pattern", `"${timing.pattern}" never fires`, timing.pattern);
  return checked;
}

/** For display: when the schedule fires next, or null if it cannot (bad stored data, no future fire). */
export function nextFireAt(timing: Timing, after = Date.now()): Date | null {
  try {
    const next = nextMillis(timing, after);
    return next === null ? null : new Date(next);
  } catch {
    return null;
  }
}
