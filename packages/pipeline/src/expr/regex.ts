import { RE2JS, RE2JSException, RE2JSSyntaxException } from "re2js";
import { chargeRegexCompile, checkMatchWork, checkResultLength, EXPR_LIMITS } from "./limits";

// Regular expressions for the regexp_* functions run on RE2 (re2js, a pure-JS port that works in the browser
// and in Node): matching time grows linearly with the text, whatever the pattern, so no pattern can make it
// backtrack. The price is RE2 syntax: no backreferences and no lookaround. What is left to bound is the size
// of the pattern (its steps, see `maxRegexSteps`) and steps × text per match (`maxMatchWork`), both checked
// before anything runs.

/** A compiled pattern and its size in steps, which sets what one match may cost. */
export interface Regex {
  readonly engine: RE2JS;
  readonly steps: number;
}

export type CompiledRegex = { ok: true; regex: Regex } | { ok: false; code: "limit" | "type"; message: string };

const FLAG_BITS: Readonly<Record<string, number>> = {
  i: RE2JS.CASE_INSENSITIVE,
  m: RE2JS.MULTILINE,
  s: RE2JS.DOTALL,
};

export function validRegexFlags(flags: string): boolean {
  for (const f of flags) if (FLAG_BITS[f] === undefined) return false;
  return true;
}

// Compiled patterns are immutable and reusable, so constants (compiled when the expression is checked and
// again when it is compiled) and patterns that come from data share one cache. Each entry keeps its estimated
// size, which an expression pays whether or not the pattern was compiled for it.
const compiled = new Map<string, { estimate: number; result: CompiledRegex }>();
const CACHE_SIZE = 128;

/** Compiles a pattern of at most `maxLength` characters with flags from `i`, `m`, `s`. */
export function compileRegex(
  pattern: string,
  flags: string,
  maxLength: number = EXPR_LIMITS.maxPatternLength,
): CompiledRegex {
  if (pattern.length > maxLength) {
    return { ok: false, code: "limit", message: `Regular expression is longer than ${maxLength} characters` };
  }
  if (!validRegexFlags(flags)) {
    return { ok: false, code: "type", message: `Unknown regular expression flags '${flags}'; use i, m or s` };
  }
  const key = `${flags}/${pattern}`;
  const hit = compiled.get(key);
  const estimate = hit?.estimate ?? estimateSteps(pattern);
  if (hit === undefined && estimate > EXPR_LIMITS.maxRegexSteps) return tooLarge(estimate);
  if (!chargeRegexCompile(key, estimate)) {
    return {
      ok: false,
      code: "limit",
      message: `The expression's regular expressions have more than ${EXPR_LIMITS.maxRegexStepsPerExpression} steps together; use fewer or smaller patterns`,
    };
  }
  if (hit !== undefined) return hit.result;
  const result = compileUncached(pattern, flags);
  if (compiled.size >= CACHE_SIZE) compiled.clear();
  compiled.set(key, { estimate, result });
  return result;
}

function tooLarge(steps: number): CompiledRegex {
  const max = EXPR_LIMITS.maxRegexSteps;
  return {
    ok: false,
    code: "limit",
    message: `Regular expression is too large: about ${steps} steps, more than ${max}; use smaller repeat counts such as {n}`,
  };
}

/**
 * Compiles a pattern whose estimated size is within the limit: the size is read from the text first, since
 * compiling is what costs and `a{1000}` repeated fits in 1,000 characters.
 */
function compileUncached(pattern: string, flags: string): CompiledRegex {
  let bits = 0;
  for (const f of flags) bits |= FLAG_BITS[f] ?? 0;
  let engine: RE2JS;
  try {
    engine = RE2JS.compile(pattern, bits);
  } catch (e) {
    if (e instanceof RE2JSSyntaxException) return { ok: false, code: "type", message: syntaxMessage(e) };
    if (e instanceof RE2JSException) return { ok: false, code: "type", message: `Invalid regular expression` };
    throw e;
  }
  const steps = engine.programSize();
  if (steps > EXPR_LIMITS.maxRegexSteps) return tooLarge(steps);
  return { ok: true, regex: { engine, steps } };
}

/** RE2's complaint in words that say what to write instead. */
function syntaxMessage(e: RE2JSSyntaxException): string {
  const bit = e.input ?? "";
  if (/^\\[1-9]/.test(bit) || bit.startsWith("\\k")) {
    return `Regular expression uses the backreference ${bit}, which is not supported: patterns run on a linear-time engine (RE2 syntax) that cannot refer back to a group; capture the parts with regexp_match and compare them instead`;
  }
  if (bit.startsWith("(?=") || bit.startsWith("(?!") || bit.startsWith("(?<=") || bit.startsWith("(?<!")) {
    const behind = bit.startsWith("(?<");
    const kind = behind ? "lookbehind" : "lookahead";
    return `Regular expression uses ${kind} ${bit.slice(0, behind ? 4 : 3)}…), which is not supported: patterns run on a linear-time engine (RE2 syntax) without lookaround; match the surrounding text too, or test it with a second regexp_like`;
  }
  if (bit.startsWith("\\u")) {
    return `Invalid regular expression: write a code point as \\x{00E9}, not ${bit}`;
  }
  if (e.error === "invalid repeat count") {
    return `Invalid regular expression: repeat count ${bit} is too large (at most 1000, nested repeats multiplied)`;
  }
  return `Invalid regular expression: ${e.error}${bit === "" ? "" : ` in ${bit}`}`;
}

/**
 * An upper estimate of the compiled size, read from the text: atoms count one, a group its alternatives, and a
 * counted repeat multiplies what it repeats. Close to RE2's own count, without compiling.
 */
function estimateSteps(p: string): number {
  interface Frame {
    /** Finished alternatives and their count. */
    alternatives: number;
    count: number;
    /** The alternative being read, and its last item (what a quantifier applies to). */
    sequence: number;
    last: number;
  }
  const open = (): Frame => ({ alternatives: 0, count: 0, sequence: 0, last: 0 });
  const stack: Frame[] = [];
  let f = open();
  const item = (size: number) => {
    f.sequence += size;
    f.last = size;
  };
  const close = (frame: Frame) => frame.alternatives + frame.sequence + frame.count;
  let i = 0;
  while (i < p.length) {
    const ch = p.charAt(i);
    if (ch === "\\") {
      const next = p.charAt(i + 1);
      if (next === "Q") {
        const end = p.indexOf("\\E", i + 2);
        const stop = end < 0 ? p.length : end;
        f.sequence += stop - (i + 2);
        f.last = 1;
        i = end < 0 ? p.length : end + 2;
        continue;
      }
      let j = i + 2;
      if ((next === "p" || next === "P" || next === "x") && p.charAt(j) === "{") {
        const end = p.indexOf("}", j);
        j = end < 0 ? p.length : end + 1;
      } else if (next === "p" || next === "P") j += 1;
      else if (next === "x") j += 2;
      item(1);
      i = j;
    } else if (ch === "[") {
      let j = i + 1;
      if (p.charAt(j) === "^") j++;
      if (p.charAt(j) === "]") j++;
      while (j < p.length && p.charAt(j) !== "]") {
        if (p.charAt(j) === "\\") j += 2;
        else if (p.startsWith("[:", j)) {
          const end = p.indexOf(":]", j + 2);
          j = end < 0 ? j + 1 : end + 2;
        } else j++;
      }
      item(1);
      i = j + 1;
    } else if (ch === "(") {
      let j = i + 1;
      if (p.charAt(j) === "?") {
        let k = j + 1;
        while (k < p.length && !":)>".includes(p.charAt(k))) k++;
        if (p.charAt(k) === ")") {
          i = k + 1; // (?i): flags only
          continue;
        }
        j = k + 1;
      }
      stack.push(f);
      f = open();
      i = j;
      continue;
    } else if (ch === ")") {
      const group = close(f) + 2;
      f = stack.pop() ?? open();
      item(group);
      i++;
    } else if (ch === "|") {
      f.alternatives += f.sequence;
      f.count++;
      f.sequence = 0;
      f.last = 0;
      i++;
      continue;
    } else {
      item(1);
      i++;
    }
    // A quantifier on the item just read.
    const q = p.charAt(i);
    if (q === "*" || q === "+" || q === "?") {
      f.sequence += 2;
      i++;
    } else if (q === "{") {
      const m = /^\{(\d{1,6})(,(\d{0,6}))?\}/.exec(p.slice(i, i + 16));
      if (m) {
        const min = Number(m[1]);
        const max = m[2] === undefined ? min : m[3] === "" ? min + 1 : Number(m[3]);
        const times = Math.max(min, max, 1);
        f.sequence += f.last * (times - 1) + Math.max(max - min, 0) + 2;
        f.last *= times;
        i += m[0].length;
      }
    }
    if (p.charAt(i) === "?") i++; // lazy
  }
  let total = close(f);
  while (stack.length > 0) {
    f = stack.pop() ?? open();
    total += close(f) + 2;
  }
  return total + 3;
}

// ---- matching ----------------------------------------------------------------------------------------

/** Whether the pattern matches somewhere in `text`. `what` names the function in errors. */
export function regexTest(regex: Regex, text: string, what: string): boolean {
  checkMatchWork(regex.steps, text.length, what);
  return regex.engine.test(text);
}

/** The first match's group `group` (0 = the whole match), or null. */
export function regexFirst(regex: Regex, text: string, group: number, what: string): string | null {
  checkMatchWork(regex.steps, text.length, what);
  const m = regex.engine.exec(text);
  if (m === null) return null;
  const v: unknown = m[group];
  return typeof v === "string" ? v : null;
}

/** A replacement text read once: literal text and group numbers, in order. */
export type Replacement = readonly (string | number)[];

/**
 * `$$`, `$&`, `$1`…`$99` and `$<name>` as JavaScript reads them: `$12` is group 12 if there are that many,
 * else group 1 and a literal 2; `$0`, missing groups and unknown names stay as written.
 */
export function parseReplacement(text: string, regex: Regex): Replacement {
  if (!text.includes("$")) return [text];
  const groups = regex.engine.groupCount();
  const names = regex.engine.namedGroups();
  const out: (string | number)[] = [];
  let literal = "";
  let i = 0;
  while (i < text.length) {
    const ch = text.charAt(i);
    const next = text.charAt(i + 1);
    let group: number | undefined;
    let width = 0;
    if (ch !== "$") {
      literal += ch;
      i++;
      continue;
    }
    if (next === "$") {
      literal += "$";
      i += 2;
      continue;
    }
    if (next === "&") [group, width] = [0, 2];
    else if (next >= "0" && next <= "9") {
      const two = Number(text.slice(i + 1, i + 3));
      const one = Number(next);
      if (/^\d\d$/.test(text.slice(i + 1, i + 3)) && two >= 1 && two <= groups) [group, width] = [two, 3];
      else if (one >= 1 && one <= groups) [group, width] = [one, 2];
    } else if (next === "<") {
      const end = text.indexOf(">", i + 2);
      const name = end < 0 ? undefined : text.slice(i + 2, end);
      if (name !== undefined && Object.hasOwn(names, name)) [group, width] = [names[name] as number, end - i + 1];
    }
    if (group === undefined) {
      literal += ch;
      i++;
      continue;
    }
    if (literal !== "") out.push(literal);
    literal = "";
    out.push(group);
    i += width;
  }
  if (literal !== "") out.push(literal);
  return out;
}

/** `text` with every match replaced; the result's size is checked before each piece is built. */
export function regexReplaceAll(regex: Regex, text: string, replacement: Replacement, what: string): string {
  checkMatchWork(regex.steps, text.length, what);
  const m = regex.engine.matcher(text);
  let out = "";
  let last = 0;
  while (m.find()) {
    const start = m.start();
    let size = out.length + (start - last);
    for (const part of replacement) {
      if (typeof part === "string") size += part.length;
      else if (m.start(part) >= 0) size += m.end(part) - m.start(part);
    }
    checkResultLength(size, what);
    out += text.slice(last, start);
    for (const part of replacement) out += typeof part === "string" ? part : (m.group(part) ?? "");
    last = m.end();
  }
  checkResultLength(out.length + (text.length - last), what);
  return out + text.slice(last);
}

// ---- for libraries that build their own RegExp -------------------------------------------------------

/**
 * A RegExp stand-in for a library that takes one, such as ajv's `code.regExp` for JSON Schema `pattern`: RE2
 * syntax, linear time and the same limits as the regexp_* functions. Throws for a pattern it cannot take; the
 * flags (ajv passes `u`) are ignored, since RE2 always reads code points.
 */
export const linearRegExp = Object.assign(
  (pattern: string, _flags?: string) => {
    const c = compileRegex(pattern, "");
    if (!c.ok) throw new Error(c.message);
    const regex = c.regex;
    return {
      test: (text: string) => regexTest(regex, text, "The pattern"),
      // ajv shares compiled patterns by their text form.
      toString: () => `/${pattern}/`,
    };
  },
  { code: "linearRegExp" },
);
