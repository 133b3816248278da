import { t } from "../../record-schema";
import { ExprFault } from "../errors";
import { checkResultLength, EXPR_LIMITS } from "../limits";
import {
  compileRegex,
  parseReplacement,
  type Regex,
  type Replacement,
  regexFirst,
  regexReplaceAll,
  regexTest,
  validRegexFlags,
} from "../regex";
import { type ArgInfo, type ArgProblem, defineFunction, defineVariadic, type ScalarFunctionDef } from "./define";

// String functions. Lengths and positions count characters (Unicode code points), 1-based, as in SQL.

const SURROGATE = /[\uD800-\uDFFF]/;

function charLength(s: string): number {
  if (!SURROGATE.test(s)) return s.length;
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Characters [from, to) (0-based, code points). */
function charSlice(s: string, from: number, to?: number): string {
  if (!SURROGATE.test(s)) return s.slice(from, to);
  return Array.from(s).slice(from, to).join("");
}

/** Rejects constant sizes over the limit when the expression is compiled rather than on the first record. */
function constantSizeCheck(index: number) {
  return (args: readonly ArgInfo[]): ArgProblem | undefined => {
    const a = args[index];
    if (a?.constant && typeof a.value === "number" && a.value > EXPR_LIMITS.maxStringResult) {
      return {
        index,
        code: "limit",
        message: `Length ${a.value} is over the limit of ${EXPR_LIMITS.maxStringResult} characters (1 MiB)`,
      };
    }
    return undefined;
  };
}

function trimChars(s: string, chars: string | undefined, start: boolean, end: boolean): string {
  if (chars === undefined) return start && end ? s.trim() : start ? s.trimStart() : s.trimEnd();
  const set = new Set(Array.from(chars));
  const cs = Array.from(s);
  let i = 0;
  let j = cs.length;
  if (start) while (i < j && set.has(cs[i] ?? "")) i++;
  if (end) while (j > i && set.has(cs[j - 1] ?? "")) j--;
  return cs.slice(i, j).join("");
}

function pad(s: string, length: number, fill: string | undefined, left: boolean): string {
  checkResultLength(length, left ? "lpad()" : "rpad()");
  const filler = fill ?? " ";
  const n = charLength(s);
  if (length <= 0) return "";
  if (n >= length) return charSlice(s, 0, length);
  if (filler === "") return s;
  const needed = length - n;
  const fillChars = Array.from(filler);
  const reps = Math.ceil(needed / fillChars.length);
  const padding = charSlice(filler.repeat(reps), 0, needed);
  return left ? padding + s : s + padding;
}

/**
 * A regex argument: compiled once when the pattern (and flags) are constant, otherwise compiled from the
 * record's value through the shared cache, with the shorter limit for patterns that come from data.
 */
function regexArg(name: string, args: readonly ArgInfo[], index: number, flagsIndex?: number) {
  const p = args[index];
  const f = flagsIndex === undefined ? undefined : args[flagsIndex];
  const constantFlags = f === undefined || (f.constant && typeof f.value === "string");
  if (p?.constant && typeof p.value === "string" && constantFlags) {
    const compiled = compileRegex(p.value, typeof f?.value === "string" ? f.value : "");
    if (compiled.ok) {
      const regex = compiled.regex;
      return () => regex;
    }
  }
  // A constant pattern with flags from data was written by the user, so it keeps the longer limit.
  const maxLength = p?.constant ? EXPR_LIMITS.maxPatternLength : EXPR_LIMITS.maxDataPatternLength;
  return (pattern: string, flags?: string): Regex => {
    const compiled = compileRegex(pattern, flags ?? "", maxLength);
    if (!compiled.ok) {
      throw new ExprFault(compiled.code === "limit" ? "limit" : "invalid-argument", `${name}(): ${compiled.message}`);
    }
    return compiled.regex;
  };
}

function checkRegex(index: number, flagsIndex?: number) {
  return (args: readonly ArgInfo[]): ArgProblem | undefined => {
    const f = flagsIndex === undefined ? undefined : args[flagsIndex];
    const flags = f?.constant && typeof f.value === "string" ? f.value : "";
    const p = args[index];
    if (p?.constant && typeof p.value === "string") {
      const compiled = compileRegex(p.value, flags);
      if (!compiled.ok)
        return {
          index: compiled.message.includes("flags") ? (flagsIndex ?? index) : index,
          code: compiled.code,
          message: compiled.message,
        };
    } else if (f?.constant && typeof f.value === "string" && !validRegexFlags(f.value)) {
      return { index: flagsIndex ?? index, message: `Unknown regular expression flags '${f.value}'; use i, m or s` };
    }
    return undefined;
  };
}

/** Occurrences of `search` (not empty) in `s`, without building the pieces. */
function countOccurrences(s: string, search: string): number {
  let count = 0;
  for (let at = s.indexOf(search); at >= 0; at = s.indexOf(search, at + search.length)) count++;
  return count;
}

export const STRING_FUNCTIONS: readonly ScalarFunctionDef[] = [
  defineFunction({
    name: "lower",
    category: "string",
    doc: "The text in lower case.",
    params: ["text: string"],
    returns: t.string,
    impl: (s) => s.toLowerCase(),
  }),
  defineFunction({
    name: "upper",
    category: "string",
    doc: "The text in upper case.",
    params: ["text: string"],
    returns: t.string,
    impl: (s) => s.toUpperCase(),
  }),
  defineFunction({
    name: "initcap",
    category: "string",
    doc: "Each word with its first letter in upper case and the rest in lower case.",
    params: ["text: string"],
    returns: t.string,
    impl: (s) =>
      s.toLowerCase().replace(/(^|[^\p{L}\p{N}])(\p{L})/gu, (_, before: string, c: string) => before + c.toUpperCase()),
  }),
  defineFunction({
    name: "trim",
    category: "string",
    doc: "The text without leading and trailing white space (or without the given characters).",
    params: ["text: string", "characters?: string"],
    returns: t.string,
    impl: (s, chars) => trimChars(s, chars, true, true),
  }),
  defineFunction({
    name: "ltrim",
    category: "string",
    doc: "The text without leading white space (or without the given leading characters).",
    params: ["text: string", "characters?: string"],
    returns: t.string,
    impl: (s, chars) => trimChars(s, chars, true, false),
  }),
  defineFunction({
    name: "rtrim",
    category: "string",
    doc: "The text without trailing white space (or without the given trailing characters).",
    params: ["text: string", "characters?: string"],
    returns: t.string,
    impl: (s, chars) => trimChars(s, chars, false, true),
  }),
  defineFunction({
    name: "substr",
    aliases: ["substring"],
    category: "string",
    doc: "Characters from `start` (1-based), to the end or `length` characters; also `substring(s FROM 2 FOR 3)`.",
    params: ["text: string", "start: int", "length?: int"],
    returns: t.string,
    impl: (s, start, length) => {
      if (length !== undefined && length < 0)
        throw new ExprFault("invalid-argument", "substr length must not be negative");
      // SQL: the window [start, start + length) clipped to the string, so substr('abc', 0, 2) = 'a'.
      const from = Math.max(start, 1) - 1;
      if (length === undefined) return charSlice(s, from);
      const to = start + length - 1;
      return to <= from ? "" : charSlice(s, from, to);
    },
  }),
  defineFunction({
    name: "left",
    category: "string",
    doc: "The first `n` characters (all but the last |n| when n is negative).",
    params: ["text: string", "n: int"],
    returns: t.string,
    impl: (s, n) => (n >= 0 ? charSlice(s, 0, n) : charSlice(s, 0, Math.max(0, charLength(s) + n))),
  }),
  defineFunction({
    name: "right",
    category: "string",
    doc: "The last `n` characters (all but the first |n| when n is negative).",
    params: ["text: string", "n: int"],
    returns: t.string,
    impl: (s, n) => {
      const len = charLength(s);
      return n >= 0 ? charSlice(s, Math.max(0, len - n)) : charSlice(s, Math.min(len, -n));
    },
  }),
  defineVariadic({
    name: "concat",
    category: "string",
    doc: "All arguments as text, joined; NULL arguments are skipped (unlike ||, which gives NULL).",
    rest: "values: text",
    minArgs: 1,
    nulls: "pass",
    returns: t.string,
    nullable: "never",
    impl: (...values) => {
      let length = 0;
      for (const v of values) if (v !== null) length += v.length;
      checkResultLength(length, "concat()");
      let out = "";
      for (const v of values) if (v !== null) out += v;
      return out;
    },
  }),
  defineFunction({
    name: "length",
    aliases: ["char_length", "character_length"],
    category: "string",
    doc: "Number of characters.",
    params: ["text: string"],
    returns: t.int,
    impl: (s) => charLength(s),
  }),
  defineFunction({
    name: "replace",
    category: "string",
    doc: "The text with every occurrence of `search` replaced by `replacement`.",
    params: ["text: string", "search: string", "replacement: string"],
    returns: t.string,
    impl: (s, search, replacement) => {
      if (search === "") return s;
      if (replacement.length > search.length) {
        checkResultLength(s.length + countOccurrences(s, search) * (replacement.length - search.length), "replace()");
      }
      return s.replaceAll(search, () => replacement);
    },
  }),
  defineFunction({
    name: "reverse",
    category: "string",
    doc: "The characters in reverse order.",
    params: ["text: string"],
    returns: t.string,
    impl: (s) => Array.from(s).reverse().join(""),
  }),
  defineFunction({
    name: "repeat",
    category: "string",
    doc: "The text repeated `count` times.",
    params: ["text: string", "count: int"],
    returns: t.string,
    check: constantSizeCheck(1),
    impl: (s, count) => {
      if (count <= 0) return "";
      checkResultLength(s.length * count, "repeat()");
      return s.repeat(count);
    },
  }),
  defineFunction({
    name: "lpad",
    category: "string",
    doc: "The text padded on the left with `fill` (default space) to `length` characters, or cut to it.",
    params: ["text: string", "length: int", "fill?: string"],
    returns: t.string,
    check: constantSizeCheck(1),
    impl: (s, length, fill) => pad(s, length, fill, true),
  }),
  defineFunction({
    name: "rpad",
    category: "string",
    doc: "The text padded on the right with `fill` (default space) to `length` characters, or cut to it.",
    params: ["text: string", "length: int", "fill?: string"],
    returns: t.string,
    check: constantSizeCheck(1),
    impl: (s, length, fill) => pad(s, length, fill, false),
  }),
  defineFunction({
    name: "position",
    category: "string",
    doc: "1-based position of the first occurrence of `search` in `text`, 0 if absent; also `position(search IN text)`.",
    params: ["search: string", "text: string"],
    returns: t.int,
    impl: (search, s) => {
      const at = s.indexOf(search);
      return at < 0 ? 0 : charLength(s.slice(0, at)) + 1;
    },
  }),
  defineFunction({
    name: "starts_with",
    category: "string",
    doc: "Whether the text begins with `prefix`.",
    params: ["text: string", "prefix: string"],
    returns: t.boolean,
    impl: (s, prefix) => s.startsWith(prefix),
  }),
  defineFunction({
    name: "ends_with",
    category: "string",
    doc: "Whether the text ends with `suffix`.",
    params: ["text: string", "suffix: string"],
    returns: t.boolean,
    impl: (s, suffix) => s.endsWith(suffix),
  }),
  defineFunction({
    name: "split",
    category: "string",
    doc: "The text cut at each `delimiter`, as an array of strings ('' splits into characters).",
    params: ["text: string", "delimiter: string"],
    returns: t.array(t.string),
    impl: (s, delimiter) => (delimiter === "" ? Array.from(s) : s.split(delimiter)),
  }),
  defineFunction({
    name: "split_part",
    category: "string",
    doc: "The `n`th (1-based; negative counts from the end) piece of the text cut at `delimiter`; '' if there is none.",
    params: ["text: string", "delimiter: string", "n: int"],
    returns: t.string,
    impl: (s, delimiter, n) => {
      if (n === 0) throw new ExprFault("invalid-argument", "split_part field position must not be zero");
      const parts = delimiter === "" ? [s] : s.split(delimiter);
      return (n > 0 ? parts[n - 1] : parts[parts.length + n]) ?? "";
    },
  }),
  defineFunction({
    name: "regexp_like",
    category: "string",
    doc: "Whether the regular expression (RE2 syntax) matches somewhere in the text. Flags: i (ignore case), m (^ and $ match at line breaks), s (. matches line breaks).",
    params: ["text: string", "pattern: string", "flags?: string"],
    returns: t.boolean,
    check: checkRegex(1, 2),
    prepare: (_ctx, args) => {
      const regex = regexArg("regexp_like", args, 1, 2);
      return (s, pattern, flags) => regexTest(regex(pattern, flags), s, "regexp_like()");
    },
  }),
  defineFunction({
    name: "regexp_match",
    aliases: ["regexp_extract"],
    category: "string",
    doc: "The first match of the regular expression (RE2 syntax), or of its capture group `group`; NULL if it does not match.",
    params: ["text: string", "pattern: string", "group?: int"],
    returns: t.string,
    nullable: "always",
    check: checkRegex(1),
    prepare: (_ctx, args) => {
      const regex = regexArg("regexp_match", args, 1);
      return (s, pattern, group) => regexFirst(regex(pattern), s, group ?? 0, "regexp_match()");
    },
  }),
  defineFunction({
    name: "regexp_replace",
    category: "string",
    doc: "The text with every match of the regular expression (RE2 syntax) replaced; `$1`, `$<name>`, `$&` refer to the match, `$$` is a dollar sign.",
    params: ["text: string", "pattern: string", "replacement: string", "flags?: string"],
    returns: t.string,
    check: checkRegex(1, 3),
    prepare: (_ctx, args) => {
      const regex = regexArg("regexp_replace", args, 1, 3);
      const r = args[2];
      const p = args[1];
      const f = args[3];
      // Read the replacement once when it and the pattern are fixed.
      let fixed: Replacement | undefined;
      const fixedPattern = p?.constant && (f === undefined || f.constant);
      return (s, pattern, replacement, flags) => {
        const compiled = regex(pattern, flags);
        let parts = fixed;
        if (parts === undefined) {
          parts = parseReplacement(replacement, compiled);
          if (fixedPattern && r?.constant) fixed = parts;
        }
        return regexReplaceAll(compiled, s, parts, "regexp_replace()");
      };
    },
  }),
];
