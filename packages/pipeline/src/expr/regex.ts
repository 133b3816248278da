import { EXPR_LIMITS } from "./limits";

// Regular expressions for regexp_* functions. JS regexes backtrack, so a pattern such as `(a+)+$` can take
// exponential time on a short input and stall a worker. Patterns are screened before use: repetition nested
// inside repetition, and alternatives that can start with the same character under repetition (`(a|a)*`),
// are rejected, as are backreferences. The screen is deliberately conservative: a rejected pattern can always
// be rewritten without nesting (`(\d+,)*\d+` → `[\d,]*\d`).

export type CompiledRegex = { ok: true; regex: RegExp } | { ok: false; code: "limit" | "type"; message: string };

const REGEX_FLAGS = /^[ims]*$/;

export function validRegexFlags(flags: string): boolean {
  return REGEX_FLAGS.test(flags);
}

interface Item {
  /** Source of a single-character atom (`a`, `\d`, `[a-z]`, `.`), undefined for groups. */
  atom?: string;
  /** For groups: their alternatives. */
  alternatives?: Item[][];
  repeats: boolean;
}

class Unsafe {
  constructor(readonly message: string) {}
}

/** Why `pattern` is unsafe to run on untrusted input, or undefined when it looks linear enough. */
export function regexHazard(pattern: string, flags = ""): string | undefined {
  try {
    const { items } = parseSequence(pattern, 0, 0);
    checkItems(items, flags.includes("i"));
    return undefined;
  } catch (e) {
    if (e instanceof Unsafe) return e.message;
    throw e;
  }
}

function parseSequence(p: string, start: number, depth: number): { items: Item[][]; end: number } {
  if (depth > 100) throw new Unsafe("regular expression nests groups too deeply");
  const alternatives: Item[][] = [[]];
  let i = start;
  while (i < p.length) {
    const ch = p.charAt(i);
    if (ch === ")") break;
    if (ch === "|") {
      alternatives.push([]);
      i++;
      continue;
    }
    let item: Item;
    if (ch === "(") {
      let j = i + 1;
      if (p.startsWith("?:", j) || p.startsWith("?=", j) || p.startsWith("?!", j)) j += 2;
      else if (p.startsWith("?<=", j) || p.startsWith("?<!", j)) j += 3;
      else if (p.startsWith("?<", j)) j = p.indexOf(">", j) + 1 || p.length;
      const inner = parseSequence(p, j, depth + 1);
      item = { alternatives: inner.items, repeats: false };
      i = inner.end + 1;
    } else if (ch === "[") {
      let j = i + 1;
      if (p.charAt(j) === "^") j++;
      if (p.charAt(j) === "]") j++;
      while (j < p.length && p.charAt(j) !== "]") j += p.charAt(j) === "\\" ? 2 : 1;
      item = { atom: p.slice(i, j + 1), repeats: false };
      i = j + 1;
    } else if (ch === "\\") {
      const next = p.charAt(i + 1);
      if (/[1-9]/.test(next) || next === "k") throw new Unsafe("backreferences are not supported in patterns");
      let j = i + 2;
      if ((next === "p" || next === "P" || next === "u") && p.charAt(j) === "{") j = p.indexOf("}", j) + 1 || p.length;
      else if (next === "u") j += 4;
      else if (next === "x") j += 2;
      else if (next === "c") j += 1;
      item = { atom: p.slice(i, j), repeats: false };
      i = j;
    } else {
      item = { atom: ch, repeats: false };
      i++;
    }
    // quantifier
    const q = p.charAt(i);
    if (q === "*" || q === "+") {
      item.repeats = true;
      i++;
    } else if (q === "?") {
      i++;
    } else if (q === "{") {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(p.slice(i, i + 24));
      if (m) {
        const max = m[2] === undefined ? Number(m[1]) : m[3] === "" ? Number.POSITIVE_INFINITY : Number(m[3]);
        item.repeats = max > 1;
        i += m[0].length;
      }
    }
    if (p.charAt(i) === "?") i++; // lazy
    alternatives[alternatives.length - 1]?.push(item);
  }
  return { items: alternatives, end: i };
}

function containsRepetition(alternatives: readonly (readonly Item[])[]): boolean {
  return alternatives.some((seq) =>
    seq.some((it) => it.repeats || (it.alternatives !== undefined && containsRepetition(it.alternatives))),
  );
}

function checkItems(alternatives: readonly (readonly Item[])[], ignoreCase: boolean): void {
  for (const seq of alternatives) {
    for (const it of seq) {
      if (it.alternatives === undefined) continue;
      if (it.repeats) {
        if (containsRepetition(it.alternatives)) {
          throw new Unsafe("nested repetition such as (a+)+ can take exponential time");
        }
        if (it.alternatives.length > 1 && alternativesOverlap(it.alternatives, ignoreCase)) {
          throw new Unsafe(
            "repeated alternatives that can match the same text, such as (a|a)*, can take exponential time",
          );
        }
      }
      checkItems(it.alternatives, ignoreCase);
    }
  }
}

/** First single-character atom of an alternative, or undefined when it may be empty or starts with a group. */
function firstAtom(seq: readonly Item[]): string | undefined {
  const first = seq[0];
  return first?.atom;
}

function alternativesOverlap(alternatives: readonly (readonly Item[])[], ignoreCase: boolean): boolean {
  const firsts = alternatives.map(firstAtom);
  for (let a = 0; a < firsts.length; a++) {
    for (let b = a + 1; b < firsts.length; b++) {
      if (atomsOverlap(firsts[a], firsts[b], ignoreCase)) return true;
    }
  }
  return false;
}

function isLiteral(atom: string): boolean {
  return atom.length === 1
    ? !".^$".includes(atom)
    : atom.length === 2 && atom.startsWith("\\") && /[^\w]/.test(atom.charAt(1));
}

function atomsOverlap(a: string | undefined, b: string | undefined, ignoreCase: boolean): boolean {
  if (a === undefined || b === undefined) return true;
  const litA = isLiteral(a);
  const litB = isLiteral(b);
  const charOf = (atom: string) => (atom.length === 2 ? atom.charAt(1) : atom);
  if (litA && litB) {
    return ignoreCase ? charOf(a).toLowerCase() === charOf(b).toLowerCase() : charOf(a) === charOf(b);
  }
  // A literal against a class: ask the class. Two classes: assume they overlap.
  if (litA || litB) {
    const [lit, cls] = litA ? [a, b] : [b, a];
    try {
      return new RegExp(`^(?:${cls})$`, ignoreCase ? "iu" : "u").test(charOf(lit));
    } catch {
      return true;
    }
  }
  return true;
}

/** Screens and compiles a pattern written in the expression (up to `maxPatternLength` characters). */
export function compileRegex(
  pattern: string,
  flags: string,
  maxLength: number = EXPR_LIMITS.maxPatternLength,
): CompiledRegex {
  if (pattern.length > maxLength) {
    return { ok: false, code: "limit", message: `Regular expression is longer than ${maxLength} characters` };
  }
  if (!REGEX_FLAGS.test(flags)) {
    return { ok: false, code: "type", message: `Unknown regular expression flags '${flags}'; use i, m or s` };
  }
  let regex: RegExp;
  try {
    regex = new RegExp(pattern, `${flags}u`);
  } catch (e) {
    return { ok: false, code: "type", message: `Invalid regular expression: ${(e as Error).message}` };
  }
  const hazard = regexHazard(pattern, flags);
  if (hazard !== undefined) return { ok: false, code: "limit", message: `Regular expression rejected: ${hazard}` };
  return { ok: true, regex };
}

const dataPatterns = new Map<string, CompiledRegex>();
const DATA_PATTERN_CACHE = 256;

/** For patterns that arrive in records: shorter limit, same screen, cached by text. */
export function compileDataRegex(
  pattern: string,
  flags: string,
  maxLength: number = EXPR_LIMITS.maxDataPatternLength,
): CompiledRegex {
  const key = `${maxLength}/${flags}/${pattern}`;
  let hit = dataPatterns.get(key);
  if (hit === undefined) {
    hit = compileRegex(pattern, flags, maxLength);
    if (dataPatterns.size >= DATA_PATTERN_CACHE) dataPatterns.clear();
    dataPatterns.set(key, hit);
  }
  return hit;
}
