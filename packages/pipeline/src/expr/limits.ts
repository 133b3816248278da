import { ExprFault } from "./errors";

// Hard bounds on what one expression may cost. Checked at compile time (code `limit`) so a hostile or
// accidental expression cannot exhaust memory or the stack of the editor, the API or a worker; the bounds on
// work and output also hold per record at run time.
export const EXPR_LIMITS = {
  /** UTF-8 bytes of expression text. */
  maxSourceBytes: 64 * 1024,
  /** Nesting depth of the syntax tree (parentheses, operators, calls). */
  maxDepth: 256,
  /** Syntax-tree nodes. */
  maxNodes: 10_000,
  /** UTF-8 bytes of one string literal or string parameter value. */
  maxStringBytes: 1024 * 1024,
  /** Items in one `IN (...)` list. */
  maxInItems: 10_000,
  /** Characters of a regular expression written in the expression. */
  maxPatternLength: 1_000,
  /** Characters of a regular expression or LIKE pattern that comes from data at run time. */
  maxDataPatternLength: 256,
  /**
   * Steps (compiled instructions) of one regular expression: `a{1000}` is 1,000 steps although it is 7
   * characters, a 1,000-character literal about as many. Compiling costs about the same per step (some
   * 10 µs at worst), so this also keeps compiling, which happens when the expression is checked, to a few ms.
   */
  maxRegexSteps: 2_000,
  /** Steps of all the regular expressions one expression compiles (each distinct pattern once). */
  maxRegexStepsPerExpression: 10_000,
  /**
   * Pattern steps × text characters for one regular-expression or LIKE match. The engine is linear in the
   * text, but a large ambiguous pattern can keep every step alive at every character; at the slowest rate
   * measured (about 100 ns per unit, capture groups on the fallback NFA) this is under two seconds, and common
   * patterns run far below it. 16 Mi lets a 1 MiB text meet a pattern of up to 16 steps (`[a-z]+@[a-z]+\.com`
   * has 11), and an 8,000-character text any pattern up to the step limit.
   */
  maxMatchWork: 16 * 1024 * 1024,
  /**
   * Work (characters read and written, match work) that folding constants may spend on one expression.
   * Validation folds in the web process, so this is kept to a few milliseconds; a constant sub-expression
   * beyond it is not an error, it is simply left to be evaluated per record.
   */
  maxFoldWork: 1024 * 1024,
  /**
   * What folding may spend on all the expressions of one validation together: a definition can hold thousands of
   * expressions, and each folding within its own allowance would still add up to seconds in the web process.
   */
  maxFoldWorkPerValidation: 16 * 1024 * 1024,
  /**
   * Characters (UTF-16 units) of one string a function or operator builds: `repeat`, `lpad`, `rpad`,
   * `concat`, `||`, `replace`, `regexp_replace`, `to_json` and casts to text of JSON values. 1 MiB is the
   * size of the largest literal, a record-at-a-time value well beyond keys, messages and documents people
   * filter and reshape, while a batch of such values still fits a worker's memory.
   */
  maxStringResult: 1024 * 1024,
} as const;

/** UTF-8 length without allocating (TextEncoder would copy the whole string). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** Fails `what` (a function or operator name) before it builds a string of `length` characters over the limit. */
export function checkResultLength(length: number, what: string): void {
  if (length > EXPR_LIMITS.maxStringResult) {
    throw new ExprFault(
      "limit",
      `${what} would build a string of more than ${EXPR_LIMITS.maxStringResult} characters (1 MiB); shorten its input`,
    );
  }
}

// ---- work of one match, and the fold allowance --------------------------------------------------------

/**
 * Thrown inside a constant fold that would spend more than what is left of the fold allowance. The compiler
 * catches it and leaves that sub-expression to run per record; it never reaches a user.
 */
export class FoldDeferred extends Error {
  override readonly name = "FoldDeferred";
}

/**
 * What folding the constants of one expression may still spend (`maxFoldWork` units), drawn also from the
 * allowance of the validation it is part of, when there is one (see withFoldAllowance).
 */
export class FoldBudget {
  remaining: number;

  constructor(units: number = EXPR_LIMITS.maxFoldWork) {
    this.remaining = units;
  }

  /** Takes `units` if they are left, here and in the surrounding allowance. */
  spend(units: number): boolean {
    const shared = sharedFold !== this ? sharedFold : undefined;
    if (units > this.remaining || (shared !== undefined && units > shared.remaining)) return false;
    this.remaining -= units;
    if (shared !== undefined) shared.remaining -= units;
    return true;
  }
}

// Validation is synchronous, so one allowance can be the active one around it.
let sharedFold: FoldBudget | undefined;

/** Runs `body` (a validation) with every fold inside it drawing on one allowance of `units` as well as its own. */
export function withFoldAllowance<T>(units: number, body: () => T): T {
  const outer = sharedFold;
  sharedFold = new FoldBudget(units);
  try {
    return body();
  } finally {
    sharedFold = outer;
  }
}

// Evaluation is synchronous, so the compiler can make its budget the active one around a fold.
let activeFold: FoldBudget | undefined;

/** Runs `fold` with match work charged to `budget`; throws `FoldDeferred` when the budget runs out. */
export function foldWithin<T>(budget: FoldBudget, fold: () => T): T {
  const outer = activeFold;
  activeFold = budget;
  try {
    return fold();
  } finally {
    activeFold = outer;
  }
}

/**
 * Checks one match of a `steps`-step pattern against `textLength` characters before it runs: over the run-time
 * bound it fails the record (or the compile, for a constant); inside a fold that cannot afford it, it defers.
 */
export function checkMatchWork(steps: number, textLength: number, what: string): void {
  const work = steps * textLength;
  if (work > EXPR_LIMITS.maxMatchWork) {
    const most = Math.floor(EXPR_LIMITS.maxMatchWork / Math.max(steps, 1));
    throw new ExprFault(
      "limit",
      `${what} cannot match a text of ${textLength} characters against a pattern of ${steps} steps (at most ${most} characters with it); shorten the text first, e.g. with left(), or simplify the pattern`,
    );
  }
  if (activeFold !== undefined && !activeFold.spend(work)) throw new FoldDeferred();
}

// ---- compiling regular expressions while an expression is checked -------------------------------------

// Steps the expression being checked or compiled may still compile, and the patterns it has paid for already;
// undefined outside (per-record patterns are bounded one at a time).
let regexStepsLeft: number | undefined;
let regexCharged: Set<string> | undefined;

/** Runs the checking or compiling of one expression with its own allowance of regex steps to compile. */
export function withinExpression<T>(body: () => T): T {
  const outer = regexStepsLeft;
  const outerCharged = regexCharged;
  regexStepsLeft = EXPR_LIMITS.maxRegexStepsPerExpression;
  regexCharged = new Set();
  try {
    return body();
  } finally {
    regexStepsLeft = outer;
    regexCharged = outerCharged;
  }
}

/**
 * Takes `steps` for the pattern `key` from the expression's allowance, once per pattern however often the
 * expression uses it (and whether or not it is cached); false when it cannot pay for another pattern.
 */
export function chargeRegexCompile(key: string, steps: number): boolean {
  if (regexStepsLeft === undefined || regexCharged === undefined) return true;
  if (regexCharged.has(key)) return true;
  if (steps > regexStepsLeft) return false;
  regexStepsLeft -= steps;
  regexCharged.add(key);
  return true;
}
