import { ExprFault } from "./errors";

// Calendar arithmetic on epoch milliseconds in IANA time zones. Offsets come from Intl (so DST rules are the
// platform's tz database, in Node and in browsers); everything else is integer arithmetic, with no Date
// objects per call. Wall-clock times that do not exist (spring forward) move forward by the gap; times that
// occur twice (fall back) resolve to the earlier instant, like Temporal's "compatible" disambiguation.

export const MS_PER_MINUTE = 60_000;
export const MS_PER_HOUR = 3_600_000;
export const MS_PER_DAY = 86_400_000;

/** Largest |epoch ms| a JS Date can represent. */
const MAX_EPOCH_MS = 8.64e15;

const UTC_NAMES = new Set(["UTC", "Etc/UTC", "GMT", "Etc/GMT", "Z", "utc"]);

function isUtc(zone: string): boolean {
  return UTC_NAMES.has(zone);
}

// ---- civil calendar (proleptic Gregorian), days counted from 1970-01-01 ---------------------------------

/** Days since 1970-01-01 of a calendar date. */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const shiftedMonth = month > 2 ? month - 3 : month + 9; // March = 0, so the leap day ends the year
  const dayOfYear = Math.floor((153 * shiftedMonth + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

export interface CivilDate {
  year: number;
  month: number;
  day: number;
}

/** Calendar date of a day count; writes into `out` so hot paths allocate nothing. */
export function civilFromDays(days: number, out: CivilDate): CivilDate {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  out.day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  out.month = mp < 10 ? mp + 3 : mp - 9;
  out.year = yearOfEra + era * 400 + (out.month <= 2 ? 1 : 0);
  return out;
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  return month === 2 ? (isLeapYear(year) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
}

// ---- time zones --------------------------------------------------------------------------------------

const formatters = new Map<string, Intl.DateTimeFormat>();
const zoneValidity = new Map<string, boolean>();
const offsetCaches = new Map<string, Map<number, number>>();
const OFFSET_BUCKET_MS = 15 * MS_PER_MINUTE;
const OFFSET_CACHE_SIZE = 4096;
const MAX_ZONES_CACHED = 512;

function formatterFor(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      era: "short",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    if (formatters.size >= MAX_ZONES_CACHED) formatters.clear();
    formatters.set(zone, f);
  }
  return f;
}

/** Whether `zone` is an IANA zone name the platform knows. Cached; never throws. */
export function isValidTimeZone(zone: string): boolean {
  if (isUtc(zone)) return true;
  const known = zoneValidity.get(zone);
  if (known !== undefined) return known;
  let valid = zone.length > 0 && zone.length <= 64;
  if (valid) {
    try {
      formatterFor(zone);
    } catch {
      valid = false;
    }
  }
  if (zoneValidity.size >= MAX_ZONES_CACHED) zoneValidity.clear();
  zoneValidity.set(zone, valid);
  return valid;
}

/** Zone names for "did you mean" (empty where the platform cannot list them). */
export function knownTimeZones(): readonly string[] {
  const intl = Intl as { supportedValuesOf?: (key: string) => string[] };
  try {
    return intl.supportedValuesOf ? intl.supportedValuesOf("timeZone") : [];
  } catch {
    return [];
  }
}

export function checkTimeZone(zone: string): void {
  if (!isValidTimeZone(zone)) throw new ExprFault("invalid-argument", `Unknown time zone '${zone}'`);
}

function computeOffset(ms: number, zone: string): number {
  let year = 0;
  let month = 1;
  let day = 1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let bc = false;
  for (const part of formatterFor(zone).formatToParts(ms)) {
    switch (part.type) {
      case "year":
        year = Number(part.value);
        break;
      case "month":
        month = Number(part.value);
        break;
      case "day":
        day = Number(part.value);
        break;
      case "hour":
        hour = Number(part.value) % 24;
        break;
      case "minute":
        minute = Number(part.value);
        break;
      case "second":
        second = Number(part.value);
        break;
      case "era":
        bc = part.value === "BC" || part.value === "B";
        break;
    }
  }
  if (bc) year = 1 - year;
  const wall =
    daysFromCivil(year, month, day) * MS_PER_DAY + hour * MS_PER_HOUR + minute * MS_PER_MINUTE + second * 1000;
  return wall - Math.floor(ms / 1000) * 1000;
}

/** Milliseconds to add to UTC to get wall-clock time in `zone` at instant `ms`. Zone must be valid. */
export function zoneOffset(ms: number, zone: string): number {
  if (isUtc(zone)) return 0;
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_EPOCH_MS)
    throw new ExprFault("domain", `Timestamp ${ms} is out of range`);
  let cache = offsetCaches.get(zone);
  if (cache === undefined) {
    if (offsetCaches.size >= MAX_ZONES_CACHED) offsetCaches.clear();
    cache = new Map();
    offsetCaches.set(zone, cache);
  }
  const bucket = Math.floor(ms / OFFSET_BUCKET_MS);
  const hit = cache.get(bucket);
  if (hit !== undefined) return hit;
  // A 15-minute bucket has one offset if its two ends agree (zones change offset at most once in 15 minutes).
  const start = bucket * OFFSET_BUCKET_MS;
  const first = computeOffset(start, zone);
  const last = computeOffset(start + OFFSET_BUCKET_MS - 1, zone);
  if (first !== last) return computeOffset(ms, zone);
  if (cache.size >= OFFSET_CACHE_SIZE) cache.clear();
  cache.set(bucket, first);
  return first;
}

/** The instant at which the wall clock in `zone` shows `wall` (wall-clock time expressed as epoch ms). */
export function fromWallTime(wall: number, zone: string): number {
  if (isUtc(zone)) return wall;
  const before = zoneOffset(wall - MS_PER_DAY, zone);
  const after = zoneOffset(wall + MS_PER_DAY, zone);
  const early = wall - before;
  if (before === after) return early;
  const late = wall - after;
  const earlyValid = zoneOffset(early, zone) === before;
  const lateValid = zoneOffset(late, zone) === after;
  if (earlyValid && lateValid) return Math.min(early, late);
  if (lateValid) return late;
  // In a gap (or only the early reading is valid): the pre-transition offset moves the time forward.
  return early;
}

// ---- wall-clock fields -------------------------------------------------------------------------------

const scratch: CivilDate = { year: 0, month: 0, day: 0 };

export const TRUNC_UNITS = [
  "millisecond",
  "second",
  "minute",
  "hour",
  "day",
  "week",
  "month",
  "quarter",
  "year",
] as const;
export type TruncUnit = (typeof TRUNC_UNITS)[number];

export function isTruncUnit(unit: string): unit is TruncUnit {
  return (TRUNC_UNITS as readonly string[]).includes(unit);
}

/** Start of the `unit` containing `ms`, on the wall clock of `zone`. Weeks start on Monday (ISO). */
export function truncateTimestamp(unit: TruncUnit, ms: number, zone: string): number {
  const offset = zoneOffset(ms, zone);
  const wall = ms + offset;
  switch (unit) {
    case "millisecond":
      return ms;
    // Within the hour, subtract the wall-clock remainder so the result keeps this reading's offset (right
    // inside a repeated hour at fall-back).
    case "second":
      return ms - mod(wall, 1000);
    case "minute":
      return ms - mod(wall, MS_PER_MINUTE);
    case "hour":
      return ms - mod(wall, MS_PER_HOUR);
    default:
      break;
  }
  const days = Math.floor(wall / MS_PER_DAY);
  let startDay: number;
  if (unit === "day") startDay = days;
  else if (unit === "week") startDay = days - isoDayOfWeek(days) + 1;
  else {
    const c = civilFromDays(days, scratch);
    if (unit === "month") startDay = daysFromCivil(c.year, c.month, 1);
    else if (unit === "quarter") startDay = daysFromCivil(c.year, c.month - ((c.month - 1) % 3), 1);
    else startDay = daysFromCivil(c.year, 1, 1);
  }
  return fromWallTime(startDay * MS_PER_DAY, zone);
}

export const EXTRACT_FIELDS = [
  "year",
  "quarter",
  "month",
  "week",
  "day",
  "hour",
  "minute",
  "second",
  "millisecond",
  "dow",
  "isodow",
  "doy",
  "epoch",
] as const;
export type ExtractField = (typeof EXTRACT_FIELDS)[number];

export function isExtractField(field: string): field is ExtractField {
  return (EXTRACT_FIELDS as readonly string[]).includes(field);
}

/** One wall-clock field of `ms` in `zone`. `dow` is 0 = Sunday; `isodow` 1 = Monday; `epoch` is seconds. */
export function extractField(field: ExtractField, ms: number, zone: string): number {
  if (field === "epoch") return ms / 1000;
  const wall = ms + zoneOffset(ms, zone);
  const days = Math.floor(wall / MS_PER_DAY);
  const inDay = wall - days * MS_PER_DAY;
  switch (field) {
    case "hour":
      return Math.floor(inDay / MS_PER_HOUR);
    case "minute":
      return Math.floor(inDay / MS_PER_MINUTE) % 60;
    case "second":
      return Math.floor(inDay / 1000) % 60;
    case "millisecond":
      return inDay % 1000;
    case "dow":
      return isoDayOfWeek(days) % 7;
    case "isodow":
      return isoDayOfWeek(days);
    case "week":
      return isoWeek(days);
    default:
      break;
  }
  const c = civilFromDays(days, scratch);
  switch (field) {
    case "year":
      return c.year;
    case "quarter":
      return Math.floor((c.month - 1) / 3) + 1;
    case "month":
      return c.month;
    case "day":
      return c.day;
    default:
      return days - daysFromCivil(c.year, 1, 1) + 1; // doy
  }
}

/** 1 = Monday ... 7 = Sunday; 1970-01-01 was a Thursday. */
export function isoDayOfWeek(days: number): number {
  return mod(days + 3, 7) + 1;
}

function isoWeek(days: number): number {
  const thursday = days - isoDayOfWeek(days) + 4; // the ISO year is the year of the week's Thursday
  const year = civilFromDays(thursday, scratch).year;
  return Math.floor((thursday - daysFromCivil(year, 1, 1)) / 7) + 1;
}

export function mod(a: number, b: number): number {
  const r = a % b;
  return r < 0 ? r + b : r;
}

/** Wall-clock fields of `ms` in `zone`, for formatting. Allocates; not for per-field hot paths. */
export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
  isoDayOfWeek: number;
  dayOfYear: number;
  /** Offset from UTC in milliseconds. */
  offset: number;
}

export function wallClock(ms: number, zone: string): WallClock {
  const offset = zoneOffset(ms, zone);
  const wall = ms + offset;
  const days = Math.floor(wall / MS_PER_DAY);
  const inDay = wall - days * MS_PER_DAY;
  const c = civilFromDays(days, { year: 0, month: 0, day: 0 });
  return {
    year: c.year,
    month: c.month,
    day: c.day,
    hour: Math.floor(inDay / MS_PER_HOUR),
    minute: Math.floor(inDay / MS_PER_MINUTE) % 60,
    second: Math.floor(inDay / 1000) % 60,
    millisecond: inDay % 1000,
    isoDayOfWeek: isoDayOfWeek(days),
    dayOfYear: days - daysFromCivil(c.year, 1, 1) + 1,
    offset,
  };
}

/** Epoch ms of wall-clock fields in `zone`, or with an explicit UTC offset (ms) when given. */
export function fromFields(
  f: { year: number; month: number; day: number; hour: number; minute: number; second: number; millisecond: number },
  zone: string,
  offset?: number,
): number {
  const wall =
    daysFromCivil(f.year, f.month, f.day) * MS_PER_DAY +
    f.hour * MS_PER_HOUR +
    f.minute * MS_PER_MINUTE +
    f.second * 1000 +
    f.millisecond;
  return offset === undefined ? fromWallTime(wall, zone) : wall - offset;
}

// ---- ISO / SQL timestamp text ------------------------------------------------------------------------

const TIMESTAMP_RE =
  /^\s*([+-]?\d{4,6})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(?:(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)\s*)?$/;

/**
 * Parses `2024-01-02`, `2024-01-02 03:04`, `2024-01-02T03:04:05.123`, optionally followed by `Z` or an offset
 * like `+01:00`. Without an offset the text is wall-clock time in `zone`. Undefined when it is not a valid
 * timestamp (including impossible dates such as February 30).
 */
export function parseTimestamp(text: string, zone: string): number | undefined {
  if (text.length > 64) return undefined;
  const m = TIMESTAMP_RE.exec(text);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const millisecond = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, "0"));
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const offset = m[8] === undefined ? undefined : parseOffset(m[8]);
  const ms = fromFields({ year, month, day, hour, minute, second, millisecond }, zone, offset);
  return Math.abs(ms) <= MAX_EPOCH_MS ? ms : undefined;
}

/** `Z`, `UTC`, `+01`, `+0130`, `-05:00` to milliseconds. */
function parseOffset(text: string): number | undefined {
  if (text === "Z" || text === "z" || text === "UTC") return 0;
  const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(text);
  if (!m) return undefined;
  const hours = Number(m[2]);
  const minutes = m[3] === undefined ? 0 : Number(m[3]);
  if (hours > 18 || minutes > 59) return undefined;
  return (m[1] === "-" ? -1 : 1) * (hours * MS_PER_HOUR + minutes * MS_PER_MINUTE);
}

/** ISO 8601 in UTC with milliseconds, e.g. `2024-01-02T03:04:05.000Z`: how timestamps become strings. */
export function formatIsoUtc(ms: number): string {
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_EPOCH_MS) {
    throw new ExprFault("domain", `Timestamp ${ms} is out of range`);
  }
  return new Date(ms).toISOString();
}
