import { t } from "../../record-schema";
import { ExprFault } from "../errors";
import { numericResult } from "../type-rules";
import { type ArgInfo, defineFunction, type ScalarFunctionDef } from "./define";

const sameAsX = { text: "same type as x", of: (args: readonly ArgInfo[]) => numericResult(args[0]?.type) };

/** Whole-number result of floor/ceil; -0 becomes 0 so results print and compare as people expect. */
function whole(n: number): number {
  return n === 0 ? 0 : n;
}

/** Decides a near-tie from the shortest decimal text of |x|, which is what the user wrote or sees. */
function decimalRoundsUp(abs: number, digits: number): boolean | undefined {
  const text = String(abs);
  if (text.includes("e")) return undefined;
  const dot = text.indexOf(".");
  if (dot < 0) return false;
  const next = text.charCodeAt(dot + 1 + digits);
  return next >= 53; // '5'..'9'
}

/**
 * SQL ROUND: half away from zero, on the decimal value (round(1.005, 2) = 1.01 although the double 1.005 is a
 * hair below). Pure arithmetic except for the rare near-tie, which consults the decimal text.
 */
export function roundHalfAway(x: number, digits: number): number {
  if (!Number.isFinite(x) || digits > 15) return x;
  const sign = x < 0 ? -1 : 1;
  const abs = Math.abs(x);
  if (digits >= 0) {
    const p = 10 ** digits;
    const y = abs * p;
    if (y >= 2 ** 52) return x; // already whole at this scale
    let r = Math.floor(y);
    const f = y - r;
    if (Math.abs(f - 0.5) < 1e-7) {
      const up = decimalRoundsUp(abs, digits);
      if (up === undefined ? f >= 0.5 : up) r += 1;
    } else if (f > 0.5) r += 1;
    return whole((sign * r) / p);
  }
  const p = 10 ** -digits;
  if (!Number.isFinite(p)) return 0;
  return whole(sign * Math.floor(abs / p + 0.5) * p);
}

/** Truncation toward zero at `digits` decimals, on the decimal value like ROUND. */
export function truncateDigits(x: number, digits: number): number {
  if (!Number.isFinite(x) || digits > 15) return x;
  if (digits < 0) {
    const p = 10 ** -digits;
    return Number.isFinite(p) ? whole(Math.trunc(x / p) * p) : 0;
  }
  const text = String(x);
  const dot = text.indexOf(".");
  if (!text.includes("e")) return dot < 0 ? x : whole(Number(text.slice(0, digits === 0 ? dot : dot + 1 + digits)));
  const p = 10 ** digits;
  return whole(Math.trunc(x * p) / p);
}

function domain(ok: boolean, message: string): void {
  if (!ok) throw new ExprFault("domain", message);
}

export const MATH_FUNCTIONS: readonly ScalarFunctionDef[] = [
  defineFunction({
    name: "abs",
    category: "math",
    doc: "Absolute value.",
    params: ["x: number"],
    returns: sameAsX,
    impl: (x) => Math.abs(x),
  }),
  defineFunction({
    name: "round",
    category: "math",
    doc: "x rounded to `digits` decimals (default 0; negative rounds to tens, hundreds...), halves away from zero.",
    params: ["x: number", "digits?: int"],
    returns: sameAsX,
    impl: (x, digits) => roundHalfAway(x, digits ?? 0),
  }),
  defineFunction({
    name: "trunc",
    aliases: ["truncate"],
    category: "math",
    doc: "x cut toward zero at `digits` decimals (default 0).",
    params: ["x: number", "digits?: int"],
    returns: sameAsX,
    impl: (x, digits) => truncateDigits(x, digits ?? 0),
  }),
  defineFunction({
    name: "floor",
    category: "math",
    doc: "Largest integer not greater than x.",
    params: ["x: number"],
    returns: t.int,
    impl: (x) => whole(Math.floor(x)),
  }),
  defineFunction({
    name: "ceil",
    aliases: ["ceiling"],
    category: "math",
    doc: "Smallest integer not less than x.",
    params: ["x: number"],
    returns: t.int,
    impl: (x) => whole(Math.ceil(x)),
  }),
  defineFunction({
    name: "sign",
    category: "math",
    doc: "-1, 0 or 1 by the sign of x.",
    params: ["x: number"],
    returns: t.int,
    impl: (x) => whole(Math.sign(x)),
  }),
  defineFunction({
    name: "mod",
    category: "math",
    doc: "Remainder of a / b with the sign of a (like %); b = 0 fails the record.",
    params: ["a: number", "b: number"],
    returns: {
      text: "int if both are int, else float",
      of: (args) => (args.every((a) => a.type.kind === "int") ? t.int : t.float),
    },
    impl: (a, b) => {
      if (b === 0) throw new ExprFault("division-by-zero", "Division by zero in mod()");
      return whole(a % b);
    },
  }),
  defineFunction({
    name: "power",
    aliases: ["pow"],
    category: "math",
    doc: "x raised to the power y.",
    params: ["x: number", "y: number"],
    returns: t.float,
    impl: (x, y) => {
      const r = x ** y;
      domain(!Number.isNaN(r), `power(${x}, ${y}) is not a real number`);
      return r;
    },
  }),
  defineFunction({
    name: "sqrt",
    category: "math",
    doc: "Square root; a negative x fails the record.",
    params: ["x: number"],
    returns: t.float,
    impl: (x) => {
      domain(x >= 0, `Cannot take the square root of a negative number (${x})`);
      return Math.sqrt(x);
    },
  }),
  defineFunction({
    name: "exp",
    category: "math",
    doc: "e raised to the power x.",
    params: ["x: number"],
    returns: t.float,
    impl: (x) => Math.exp(x),
  }),
  defineFunction({
    name: "ln",
    category: "math",
    doc: "Natural logarithm; x must be positive.",
    params: ["x: number"],
    returns: t.float,
    impl: (x) => {
      domain(x > 0, `Cannot take the logarithm of ${x}`);
      return Math.log(x);
    },
  }),
  defineFunction({
    name: "log10",
    category: "math",
    doc: "Base-10 logarithm; x must be positive.",
    params: ["x: number"],
    returns: t.float,
    impl: (x) => {
      domain(x > 0, `Cannot take the logarithm of ${x}`);
      return Math.log10(x);
    },
  }),
];
