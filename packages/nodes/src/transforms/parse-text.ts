import { parseTimestamp } from "@sluice/pipeline/expr/time";

// Reading JSON and CSV text and converting the values to declared field types, for transform.parse. Every failure
// is a TextParseError that says what is wrong and where (1-based position in the text), since it becomes the
// dead-letter message.

export class TextParseError extends Error {
  override name = "TextParseError";
  constructor(
    message: string,
    /** 1-based character position in the text, when the fault has one. */
    readonly position?: number,
  ) {
    super(message);
  }
}

export type ParsedType = "string" | "int" | "float" | "boolean" | "timestamp" | "json";

/** `JSON.parse` with an error that always carries the position (V8's messages only sometimes do). */
export function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const at = jsonErrorOffset(text);
    const { line, column } = lineAndColumn(text, at);
    // V8 words its messages differently across versions, some with a position, some quoting the text: keep the gist.
    const reason =
      err instanceof Error
        ? err.message.replace(/ in JSON at position \d+.*$/s, "").replace(/, ".*" is not valid JSON$/s, "")
        : String(err);
    throw new TextParseError(`invalid JSON at line ${line} column ${column} (position ${at + 1}): ${reason}`, at + 1);
  }
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// biome-ignore lint/suspicious/noControlCharactersInRegex: JSON forbids raw control characters in strings
const STRING_CHARS = /(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*/y;

/** The 0-based offset of the first error in text that JSON.parse rejected (a small validating scanner). */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const n = text.length;
  const skip = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c !== 32 && c !== 9 && c !== 10 && c !== 13) break;
      i++;
    }
  };
  const fail = (): never => {
    throw i;
  };
  const value = (depth: number): void => {
    skip();
    if (i >= n || depth > 10_000) fail();
    const c = text[i];
    if (c === "{" || c === "[") {
      const close = c === "{" ? "}" : "]";
      i++;
      skip();
      if (text[i] === close) {
        i++;
        return;
      }
      for (;;) {
        if (c === "{") {
          skip();
          if (text[i] !== '"') fail();
          string();
          skip();
          if (text[i] !== ":") fail();
          i++;
        }
        value(depth + 1);
        skip();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === close) {
          i++;
          return;
        }
        fail();
      }
    }
    if (c === '"') {
      string();
      return;
    }
    for (const literal of ["true", "false", "null"]) {
      if (text.startsWith(literal, i)) {
        i += literal.length;
        return;
      }
    }
    NUMBER.lastIndex = i;
    if (NUMBER.test(text)) i = NUMBER.lastIndex;
    else fail();
  };
  const string = () => {
    i++;
    STRING_CHARS.lastIndex = i;
    STRING_CHARS.test(text);
    i = STRING_CHARS.lastIndex;
    if (text[i] !== '"') fail();
    i++;
  };
  try {
    value(0);
    skip();
    return Math.min(i, n);
  } catch (at) {
    if (typeof at === "number") return Math.min(at, n);
    return n; // stack exhausted on absurd nesting: point at the end
  }
}

/**
 * One CSV record (RFC 4180): cells split on `delimiter`, `quote` around a cell allows delimiters, line breaks and
 * doubled quotes inside it. An unquoted empty cell is NULL; a quoted one (`""`) is the empty string. One trailing
 * line break is ignored; any other unquoted line break is an error, since one text holds one record.
 */
export function parseCsvRecord(text: string, delimiter: string, quote: string): (string | null)[] {
  const d = delimiter.charCodeAt(0);
  const q = quote.charCodeAt(0);
  let end = text.length;
  if (end > 0 && text.charCodeAt(end - 1) === 10) end--;
  if (end > 0 && text.charCodeAt(end - 1) === 13) end--;
  const cells: (string | null)[] = [];
  let i = 0;
  for (;;) {
    if (i < end && text.charCodeAt(i) === q) {
      const open = i;
      let value = "";
      i++;
      for (;;) {
        const j = text.indexOf(quote, i);
        if (j < 0 || j >= end) throw new TextParseError(`the quote at position ${open + 1} is never closed`, open + 1);
        if (j + 1 < end && text.charCodeAt(j + 1) === q) {
          value += text.slice(i, j + 1);
          i = j + 2;
          continue;
        }
        value += text.slice(i, j);
        i = j + 1;
        break;
      }
      cells.push(value);
      if (i >= end) break;
      if (text.charCodeAt(i) !== d) {
        throw new TextParseError(
          `expected ${JSON.stringify(delimiter)} after the closing quote at position ${i}, found ${JSON.stringify(text[i])}`,
          i + 1,
        );
      }
      i++;
      continue;
    }
    let j = i;
    for (; j < end; j++) {
      const c = text.charCodeAt(j);
      if (c === d) break;
      if (c === q) {
        throw new TextParseError(
          `a quote inside an unquoted value at position ${j + 1}; quote the whole value and double the quote`,
          j + 1,
        );
      }
      if (c === 10 || c === 13) {
        throw new TextParseError(
          `a line break outside quotes at position ${j + 1}: the text holds more than one CSV record`,
          j + 1,
        );
      }
    }
    cells.push(j === i ? null : text.slice(i, j));
    if (j >= end) break;
    i = j + 1;
  }
  return cells;
}

const INT_TEXT = /^\s*[+-]?\d+\s*$/;
const NUMBER_TEXT = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;
const TRUE_TEXT = new Set(["true", "t", "yes", "y", "on", "1"]);
const FALSE_TEXT = new Set(["false", "f", "no", "n", "off", "0"]);

function shown(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v);
  if (Array.isArray(v)) return "an array";
  return v !== null && typeof v === "object" ? "an object" : String(v);
}

/**
 * Converts a parsed value (JSON value, or CSV cell text) to a declared type; NULL stays NULL. Numbers and booleans
 * may come as text; nothing is silently truncated or rounded. `fromText` marks CSV cells, where `json` means the cell
 * holds JSON text.
 */
export function convertValue(v: unknown, type: ParsedType, fromText: boolean): unknown {
  if (v === null || v === undefined) return null;
  switch (type) {
    case "string":
      if (typeof v === "string") return v;
      if (typeof v === "number" || typeof v === "boolean") return String(v);
      break;
    case "int":
      if (typeof v === "number" && Number.isSafeInteger(v)) return v;
      if (typeof v === "string" && INT_TEXT.test(v)) {
        const n = Number(v);
        if (Number.isSafeInteger(n)) return n;
      }
      break;
    case "float":
      if (typeof v === "number" && Number.isFinite(v)) return v;
      if (typeof v === "string" && NUMBER_TEXT.test(v)) return Number(v);
      break;
    case "boolean":
      if (typeof v === "boolean") return v;
      if (v === 0 || v === 1) return v === 1;
      if (typeof v === "string") {
        const text = v.trim().toLowerCase();
        if (TRUE_TEXT.has(text)) return true;
        if (FALSE_TEXT.has(text)) return false;
      }
      break;
    case "timestamp":
      if (typeof v === "number" && Number.isFinite(v)) return v;
      if (typeof v === "string") {
        if (NUMBER_TEXT.test(v)) return Number(v);
        const ms = parseTimestamp(v.trim(), "UTC");
        if (ms !== undefined) return ms;
      }
      break;
    case "json":
      return fromText && typeof v === "string" ? parseJsonText(v) : v;
  }
  throw new TextParseError(`expected ${ARTICLE[type]} but found ${shown(v)}`);
}

const ARTICLE: Record<ParsedType, string> = {
  string: "text",
  int: "an integer",
  float: "a number",
  boolean: "a boolean",
  timestamp: "a timestamp (epoch milliseconds or ISO 8601 text)",
  json: "JSON",
};
