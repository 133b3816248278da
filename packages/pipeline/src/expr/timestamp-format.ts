import { daysInMonth, fromFields, MS_PER_HOUR, MS_PER_MINUTE, wallClock } from "./time";

// Date-time patterns in the Java/Flink style people already write: `yyyy-MM-dd HH:mm:ss.SSS`, `dd MMM yyyy`,
// `EEE, d MMM yyyy HH:mm:ss Z`. Letters are pattern fields, text in '…' is literal ('' is a quote), and any
// other character stands for itself. A pattern is parsed once, when the expression is compiled.

type FieldLetter = "y" | "M" | "d" | "H" | "h" | "m" | "s" | "S" | "a" | "E" | "X" | "Z" | "D";

export type FormatToken = { kind: "field"; letter: FieldLetter; count: number } | { kind: "literal"; text: string };

export type CompiledFormat = { ok: true; tokens: FormatToken[] } | { ok: false; message: string };

const LETTERS = new Set<string>(["y", "M", "d", "H", "h", "m", "s", "S", "a", "E", "X", "Z", "D"]);

const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];
const WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

const MAX_FORMAT_LENGTH = 200;

export function compileFormat(pattern: string): CompiledFormat {
  if (pattern.length > MAX_FORMAT_LENGTH) {
    return { ok: false, message: `Date-time pattern is longer than ${MAX_FORMAT_LENGTH} characters` };
  }
  const tokens: FormatToken[] = [];
  let literal = "";
  const flush = () => {
    if (literal) tokens.push({ kind: "literal", text: literal });
    literal = "";
  };
  let i = 0;
  while (i < pattern.length) {
    const ch = pattern.charAt(i);
    if (ch === "'") {
      if (pattern.charAt(i + 1) === "'") {
        literal += "'";
        i += 2;
        continue;
      }
      let j = i + 1;
      for (;;) {
        if (j >= pattern.length) return { ok: false, message: "Unterminated quoted text in date-time pattern" };
        if (pattern.charAt(j) === "'") {
          if (pattern.charAt(j + 1) === "'") {
            literal += "'";
            j += 2;
            continue;
          }
          break;
        }
        literal += pattern.charAt(j);
        j++;
      }
      i = j + 1;
      continue;
    }
    if (/[A-Za-z]/.test(ch)) {
      if (!LETTERS.has(ch)) {
        return {
          ok: false,
          message: `Unknown date-time pattern letter '${ch}'; put literal text in single quotes`,
        };
      }
      let j = i;
      while (pattern.charAt(j) === ch) j++;
      flush();
      tokens.push({ kind: "field", letter: ch as FieldLetter, count: j - i });
      i = j;
      continue;
    }
    literal += ch;
    i++;
  }
  flush();
  return { ok: true, tokens };
}

function pad(n: number, width: number): string {
  const s = String(Math.abs(n)).padStart(width, "0");
  return n < 0 ? `-${s}` : s;
}

function formatOffset(offset: number, style: "X" | "XX" | "XXX" | "Z"): string {
  if (offset === 0 && style !== "Z") return "Z";
  const sign = offset < 0 ? "-" : "+";
  const minutes = Math.round(Math.abs(offset) / MS_PER_MINUTE);
  const hh = pad(Math.floor(minutes / 60), 2);
  const mm = pad(minutes % 60, 2);
  if (style === "X") return `${sign}${hh}${minutes % 60 === 0 ? "" : mm}`;
  return style === "XXX" ? `${sign}${hh}:${mm}` : `${sign}${hh}${mm}`;
}

export function formatTimestamp(ms: number, tokens: readonly FormatToken[], zone: string): string {
  const w = wallClock(ms, zone);
  let out = "";
  for (const t of tokens) {
    if (t.kind === "literal") {
      out += t.text;
      continue;
    }
    const n = t.count;
    switch (t.letter) {
      case "y":
        out += n === 2 ? pad(((w.year % 100) + 100) % 100, 2) : pad(w.year, n);
        break;
      case "M":
        out += n >= 4 ? MONTHS[w.month - 1] : n === 3 ? MONTHS[w.month - 1]?.slice(0, 3) : pad(w.month, n);
        break;
      case "d":
        out += pad(w.day, n);
        break;
      case "D":
        out += pad(w.dayOfYear, n);
        break;
      case "H":
        out += pad(w.hour, n);
        break;
      case "h":
        out += pad(w.hour % 12 === 0 ? 12 : w.hour % 12, n);
        break;
      case "m":
        out += pad(w.minute, n);
        break;
      case "s":
        out += pad(w.second, n);
        break;
      case "S":
        out += pad(w.millisecond, 3).padEnd(n, "0").slice(0, n);
        break;
      case "a":
        out += w.hour < 12 ? "AM" : "PM";
        break;
      case "E": {
        const name = WEEKDAYS[w.isoDayOfWeek - 1] ?? "";
        out += n >= 4 ? name : name.slice(0, 3);
        break;
      }
      case "X":
        out += formatOffset(w.offset, n === 1 ? "X" : n === 2 ? "XX" : "XXX");
        break;
      case "Z":
        out += formatOffset(w.offset, "Z");
        break;
    }
  }
  return out;
}

function matchName(text: string, at: number, names: readonly string[]): { index: number; end: number } | undefined {
  const rest = text.slice(at, at + 12).toLowerCase();
  // Full names first so "June" is not read as "Jun" + "e".
  for (const [index, name] of names.entries()) {
    if (rest.startsWith(name.toLowerCase())) return { index, end: at + name.length };
  }
  for (const [index, name] of names.entries()) {
    if (rest.startsWith(name.slice(0, 3).toLowerCase())) return { index, end: at + 3 };
  }
  return undefined;
}

/** Reads `text` with a compiled pattern; undefined when it does not match or names an impossible time. */
export function parseWithFormat(text: string, tokens: readonly FormatToken[], zone: string): number | undefined {
  if (text.length > MAX_FORMAT_LENGTH) return undefined;
  const f = { year: 1970, month: 1, day: 1, hour: 0, minute: 0, second: 0, millisecond: 0 };
  let dayOfYear: number | undefined;
  let pm: boolean | undefined;
  let twelveHour = false;
  let offset: number | undefined;
  let i = 0;
  const digits = (min: number, max: number): number | undefined => {
    let j = i;
    while (j < text.length && j - i < max && text.charCodeAt(j) >= 48 && text.charCodeAt(j) <= 57) j++;
    if (j - i < min) return undefined;
    const value = Number(text.slice(i, j));
    i = j;
    return value;
  };
  for (const t of tokens) {
    if (t.kind === "literal") {
      if (!text.startsWith(t.text, i)) return undefined;
      i += t.text.length;
      continue;
    }
    const n = t.count;
    // Two or more letters mean exactly that many digits, so `yyyyMMdd` can be read without separators.
    const fixed = (width: number) => digits(width, width);
    const loose = () => digits(1, 2);
    let v: number | undefined;
    switch (t.letter) {
      case "y":
        if (n === 2) {
          v = fixed(2);
          if (v !== undefined) f.year = 2000 + v;
        } else {
          v = n === 1 ? digits(1, 9) : fixed(n);
          if (v !== undefined) f.year = v;
        }
        break;
      case "M":
        if (n >= 3) {
          const m = matchName(text, i, MONTHS);
          if (m) {
            f.month = m.index + 1;
            i = m.end;
            v = f.month;
          }
        } else {
          v = n === 1 ? loose() : fixed(n);
          if (v !== undefined) f.month = v;
        }
        break;
      case "d":
        v = n === 1 ? loose() : fixed(n);
        if (v !== undefined) f.day = v;
        break;
      case "D":
        v = n === 1 ? digits(1, 3) : fixed(n);
        dayOfYear = v;
        break;
      case "H":
      case "h":
        v = n === 1 ? loose() : fixed(n);
        if (v !== undefined) f.hour = v;
        twelveHour = twelveHour || t.letter === "h";
        break;
      case "m":
        v = n === 1 ? loose() : fixed(n);
        if (v !== undefined) f.minute = v;
        break;
      case "s":
        v = n === 1 ? loose() : fixed(n);
        if (v !== undefined) f.second = v;
        break;
      case "S": {
        const start = i;
        v = fixed(n);
        if (v !== undefined) f.millisecond = Number(text.slice(start, start + 3).padEnd(3, "0"));
        break;
      }
      case "a": {
        const word = text.slice(i, i + 2).toUpperCase();
        if (word === "AM" || word === "PM") {
          pm = word === "PM";
          i += 2;
          v = 0;
        }
        break;
      }
      case "E": {
        const d = matchName(text, i, WEEKDAYS);
        if (d) {
          i = d.end;
          v = 0;
        }
        break;
      }
      case "X":
      case "Z": {
        const m = /^(?:Z|([+-])(\d{2}):?(\d{2})?)/.exec(text.slice(i, i + 6));
        if (m) {
          const size = Number(m[2] ?? 0) * MS_PER_HOUR + Number(m[3] ?? 0) * MS_PER_MINUTE;
          offset = m[1] === "-" ? -size : size;
          i += m[0].length;
          v = 0;
        }
        break;
      }
    }
    if (v === undefined) return undefined;
  }
  if (i !== text.length) return undefined;
  if (twelveHour) {
    if (f.hour < 1 || f.hour > 12) return undefined;
    if (pm !== undefined) f.hour = (f.hour % 12) + (pm ? 12 : 0);
  } else if (pm !== undefined && f.hour <= 12) {
    f.hour = (f.hour % 12) + (pm ? 12 : 0);
  }
  if (dayOfYear !== undefined) {
    const leap = daysInMonth(f.year, 2) === 29;
    if (dayOfYear < 1 || dayOfYear > (leap ? 366 : 365)) return undefined;
    let left = dayOfYear;
    f.month = 1;
    while (left > daysInMonth(f.year, f.month)) {
      left -= daysInMonth(f.year, f.month);
      f.month++;
    }
    f.day = left;
  }
  if (f.month < 1 || f.month > 12 || f.day < 1 || f.day > daysInMonth(f.year, f.month)) return undefined;
  if (f.hour > 23 || f.minute > 59 || f.second > 59) return undefined;
  return fromFields(f, zone, offset);
}
