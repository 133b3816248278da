import { ExprFault } from "./errors";
import { checkResultLength, EXPR_LIMITS } from "./limits";
import { formatIsoUtc, parseTimestamp } from "./time";

// Run-time value handling shared by casts, operators and functions: reading record members safely, checking
// values whose type is only known at run time (`any` / `json`), and the conversions CAST performs.

const hasOwn = Object.hasOwn;

/** `object.key` with own-property lookup only: `constructor`, `__proto__` and friends are plain data or NULL. */
export function getMember(object: unknown, key: string): unknown {
  if (object === null || typeof object !== "object" || Array.isArray(object)) return null;
  if (!hasOwn(object, key)) return null;
  const v = (object as Record<string, unknown>)[key];
  return v === undefined ? null : v;
}

/** `array[n]` (1-based; out of range is NULL) or `object['key']`. */
export function getIndex(container: unknown, index: unknown): unknown {
  if (Array.isArray(container)) {
    if (typeof index !== "number" || !Number.isInteger(index) || index < 1 || index > container.length) return null;
    const v: unknown = container[index - 1];
    return v === undefined ? null : v;
  }
  if (typeof index === "string") return getMember(container, index);
  return null;
}

export function runtimeTypeName(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

// Unambiguous on purpose: `\d+\.?\d*` could split a run of digits in n ways, and a backtracking engine tries
// them all on a long numeral followed by junk.
const NUMERIC_TEXT = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

function numberFromText(text: string): number | undefined {
  return NUMERIC_TEXT.test(text) ? Number(text) : undefined;
}

// ---- checks for values typed `any` / `json` -------------------------------------------------------------

export function expectString(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  throw new ExprFault("type", `Expected a string but the value is ${runtimeTypeName(v)}`);
}

export function expectNumber(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === "number") return v;
  if (typeof v === "string") {
    const n = numberFromText(v);
    if (n !== undefined) return n;
    throw new ExprFault("type", `Expected a number but the value is the string '${clip(v)}'`);
  }
  throw new ExprFault("type", `Expected a number but the value is ${runtimeTypeName(v)}`);
}

export function expectInt(v: unknown): unknown {
  const n = expectNumber(v);
  if (n === null || Number.isInteger(n)) return n;
  throw new ExprFault("type", `Expected an integer but the value is ${String(n)}`);
}

export function expectBoolean(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === "boolean") return v;
  throw new ExprFault("type", `Expected a boolean but the value is ${runtimeTypeName(v)}`);
}

export function expectTimestamp(v: unknown, zone: string): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === "number") return v;
  if (typeof v === "string") {
    const ms = parseTimestamp(v, zone);
    if (ms !== undefined) return ms;
    throw new ExprFault("type", `Expected a timestamp but '${clip(v)}' is not one`);
  }
  throw new ExprFault("type", `Expected a timestamp but the value is ${runtimeTypeName(v)}`);
}

export function expectArray(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (Array.isArray(v)) return v;
  throw new ExprFault("type", `Expected an array but the value is ${runtimeTypeName(v)}`);
}

// ---- comparisons of dynamically typed values -----------------------------------------------------------

/** Ordering of two non-null values of the same primitive type; mixed types are an error. */
export function compareDynamic(a: unknown, b: unknown): number {
  const ta = typeof a;
  if (ta === typeof b && (ta === "number" || ta === "string" || ta === "boolean")) {
    return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
  }
  throw new ExprFault("type", `Cannot compare ${runtimeTypeName(a)} with ${runtimeTypeName(b)}`);
}

/** Structural equality of two non-null JSON-like values. Values of different types are unequal. */
export function equalDynamic(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!equalDynamic(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!hasOwn(b, k) || !equalDynamic((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) {
      return false;
    }
  }
  return true;
}

// ---- CAST --------------------------------------------------------------------------------------------

/** How a value is written as text (CAST to STRING, `||`, hash input). Timestamps need the static type. */
export function formatValue(v: unknown, isTimestamp = false): string {
  if (typeof v === "string") return v;
  if (typeof v === "number") return isTimestamp ? formatIsoUtc(v) : String(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  return toJsonText(v);
}

/** JSON text of a value, refused before it is written when it would exceed `maxStringResult`. */
export function toJsonText(v: unknown): string {
  checkResultLength(jsonLength(v, EXPR_LIMITS.maxStringResult), "Writing the value as JSON");
  try {
    return JSON.stringify(v === undefined ? null : v) ?? "null";
  } catch (e) {
    throw new ExprFault("cast", `Value cannot be written as JSON: ${(e as Error).message}`);
  }
}

/** Length of `s` written by JSON.stringify: quotes, and escapes for `"`, `\\`, controls and lone surrogates. */
function jsonStringLength(s: string): number {
  let n = 2;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22 || c === 0x5c || c === 0x08 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d) n += 2;
    else if (c < 0x20) n += 6;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 2;
        i++;
      } else n += 6;
    } else if (c >= 0xdc00 && c <= 0xdfff) n += 6;
    else n += 1;
  }
  return n;
}

/**
 * Length of the JSON text of `v`, counting no further than just past `max` (so a huge value, or a cycle,
 * costs at most `max` steps). Exact for JSON data; other objects are counted as JSON.stringify sees them.
 */
function jsonLength(v: unknown, max: number): number {
  let total = 0;
  const stack: unknown[] = [v];
  while (stack.length > 0 && total <= max) {
    let x = stack.pop();
    if (x !== null && typeof x === "object" && typeof (x as { toJSON?: unknown }).toJSON === "function") {
      x = (x as { toJSON: () => unknown }).toJSON();
    }
    if (typeof x === "string") total += jsonStringLength(x);
    else if (typeof x === "number") total += Number.isFinite(x) ? String(x).length : 4;
    else if (typeof x === "boolean") total += x ? 4 : 5;
    else if (Array.isArray(x)) {
      total += 2 + Math.max(x.length - 1, 0);
      for (let i = x.length - 1; i >= 0; i--) {
        const item: unknown = x[i];
        stack.push(item === undefined || typeof item === "function" || typeof item === "symbol" ? null : item);
      }
    } else if (x !== null && typeof x === "object") {
      let fields = 0;
      for (const [key, value] of Object.entries(x)) {
        if (value === undefined || typeof value === "function" || typeof value === "symbol") continue;
        total += jsonStringLength(key) + 1;
        fields++;
        stack.push(value);
        if (total > max) break;
      }
      total += 2 + Math.max(fields - 1, 0);
    } else total += 4; // null, and what JSON.stringify refuses (bigint) is left to it
  }
  return total;
}

export function castToInt(v: unknown): number {
  let n: number | undefined;
  if (typeof v === "number") n = v;
  else if (typeof v === "boolean") n = v ? 1 : 0;
  else if (typeof v === "string") n = numberFromText(v);
  if (n === undefined || !Number.isFinite(n)) {
    throw new ExprFault("cast", `Cannot cast ${describe(v)} to INT`);
  }
  const i = Math.trunc(n);
  if (!Number.isSafeInteger(i)) throw new ExprFault("cast", `${String(n)} is out of range for INT`);
  return i === 0 ? 0 : i; // no -0
}

export function castToFloat(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string") {
    const n = numberFromText(v);
    if (n !== undefined) return n;
  }
  throw new ExprFault("cast", `Cannot cast ${describe(v)} to FLOAT`);
}

const TRUE_TEXT = new Set(["true", "t", "yes", "y", "on", "1"]);
const FALSE_TEXT = new Set(["false", "f", "no", "n", "off", "0"]);

export function castToBoolean(v: unknown): boolean {
  if (typeof v === "boolean") return v;
  if (typeof v === "number" && !Number.isNaN(v)) return v !== 0;
  if (typeof v === "string") {
    const t = v.trim().toLowerCase();
    if (TRUE_TEXT.has(t)) return true;
    if (FALSE_TEXT.has(t)) return false;
  }
  throw new ExprFault("cast", `Cannot cast ${describe(v)} to BOOLEAN`);
}

export function castToTimestamp(v: unknown, zone: string): number {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string") {
    const ms = parseTimestamp(v, zone);
    if (ms !== undefined) return ms;
  }
  throw new ExprFault("cast", `Cannot cast ${describe(v)} to TIMESTAMP`);
}

function describe(v: unknown): string {
  return typeof v === "string" ? `'${clip(v)}'` : runtimeTypeName(v);
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
