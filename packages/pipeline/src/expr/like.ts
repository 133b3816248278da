import { checkMatchWork } from "./limits";

// SQL LIKE without regular expressions: `%` matches any run of characters, `_` exactly one character (a whole
// code point), and the escape character (default backslash) makes the next `%`, `_` or escape literal.
// Nothing backtracks: the first run between `%` signs is matched at the start, the last at the end, and each one
// in between at its leftmost place (a later place never helps). Runs of plain text are found with indexOf, so
// the common patterns are linear; only a middle run containing `_` is searched position by position, which
// costs text × run length and is bounded like a regular-expression match (`maxMatchWork`).

export type LikeMatcher = (text: string) => boolean;

export type CompiledLike = { ok: true; match: LikeMatcher } | { ok: false; message: string };

/** One run between `%` signs: literal UTF-16 units, with `_` positions marked. */
interface Segment {
  units: string;
  /** Indexes in `units` that are `_` (the placeholder unit there is ignored). */
  wild: readonly number[];
}

export function compileLike(pattern: string, escapeChar: string | null, caseInsensitive: boolean): CompiledLike {
  if (escapeChar !== null && escapeChar.length !== 1) {
    return { ok: false, message: `ESCAPE must be a single character, got '${escapeChar}'` };
  }
  const source = caseInsensitive ? pattern.toLowerCase() : pattern;
  const segments: Segment[] = [];
  let units = "";
  let wild: number[] = [];
  for (let i = 0; i < source.length; i++) {
    const ch = source.charAt(i);
    if (escapeChar !== null && ch === escapeChar) {
      const next = source.charAt(i + 1);
      if (next === "") return { ok: false, message: "LIKE pattern must not end with the escape character" };
      units += next;
      i++;
    } else if (ch === "%") {
      segments.push({ units, wild });
      units = "";
      wild = [];
    } else if (ch === "_") {
      wild.push(units.length);
      units += "_";
    } else {
      units += ch;
    }
  }
  segments.push({ units, wild });
  const match = buildMatcher(segments, caseInsensitive ? "ILIKE" : "LIKE");
  return { ok: true, match: caseInsensitive ? (text) => match(text.toLowerCase()) : match };
}

function buildMatcher(segments: readonly Segment[], what: string): LikeMatcher {
  const [first] = segments;
  if (first === undefined) return () => false;
  const plain = segments.every((s) => s.wild.length === 0);
  // The common shapes get a single string operation.
  if (plain) {
    if (segments.length === 1) {
      const text = first.units;
      return (s) => s === text;
    }
    const last = segments[segments.length - 1];
    if (segments.length === 2 && last !== undefined) {
      const head = first.units;
      const tail = last.units;
      if (tail === "") return (s) => s.startsWith(head);
      if (head === "") return (s) => s.endsWith(tail);
      return (s) => s.length >= head.length + tail.length && s.startsWith(head) && s.endsWith(tail);
    }
    if (segments.length === 3 && first.units === "" && last?.units === "") {
      const middle = segments[1]?.units ?? "";
      return (s) => s.includes(middle);
    }
  }
  // Middle runs with `_` are searched position by position: that is the work to bound.
  let searchSteps = 0;
  for (let i = 1; i < segments.length - 1; i++) {
    const seg = segments[i];
    if (seg !== undefined && seg.wild.length > 0) searchSteps += seg.units.length;
  }
  if (searchSteps === 0) return (s) => matchSegments(s, segments);
  return (s) => {
    checkMatchWork(searchSteps, s.length, what);
    return matchSegments(s, segments);
  };
}

/** End offset of `seg` matched forward from `at`, or -1. `_` takes a whole surrogate pair. */
function matchAt(s: string, at: number, seg: Segment): number {
  let p = at;
  let w = 0;
  const units = seg.units;
  for (let k = 0; k < units.length; k++) {
    if (p >= s.length) return -1;
    if (seg.wild[w] === k) {
      w++;
      p += isPairStart(s, p) ? 2 : 1;
    } else {
      if (s.charCodeAt(p) !== units.charCodeAt(k)) return -1;
      p++;
    }
  }
  return p;
}

/** Start offset of `seg` matched backward so that it ends at `end`, or -1. */
function matchBefore(s: string, end: number, seg: Segment): number {
  let p = end;
  let w = seg.wild.length - 1;
  const units = seg.units;
  for (let k = units.length - 1; k >= 0; k--) {
    if (p <= 0) return -1;
    if (seg.wild[w] === k) {
      w--;
      p -= splitsPair(s, p - 1) ? 2 : 1;
    } else {
      if (s.charCodeAt(p - 1) !== units.charCodeAt(k)) return -1;
      p--;
    }
  }
  return p;
}

function isPairStart(s: string, p: number): boolean {
  const c = s.charCodeAt(p);
  if (c < 0xd800 || c > 0xdbff) return false;
  const d = s.charCodeAt(p + 1);
  return d >= 0xdc00 && d <= 0xdfff;
}

function splitsPair(s: string, p: number): boolean {
  return p > 0 && isPairStart(s, p - 1);
}

/** Leftmost place at or after `from` where `seg` matches and ends by `limit`: its end offset, or -1. */
function findSegment(s: string, from: number, limit: number, seg: Segment): number {
  if (seg.wild.length === 0) {
    const units = seg.units;
    for (let at = s.indexOf(units, from); at >= 0 && at + units.length <= limit; at = s.indexOf(units, at + 1)) {
      if (!splitsPair(s, at)) return at + units.length;
    }
    return -1;
  }
  for (let start = from; start <= limit; start++) {
    if (splitsPair(s, start)) continue;
    const end = matchAt(s, start, seg);
    if (end >= 0 && end <= limit) return end;
  }
  return -1;
}

function matchSegments(s: string, segments: readonly Segment[]): boolean {
  const first = segments[0];
  const last = segments[segments.length - 1];
  if (first === undefined || last === undefined) return false;
  const pos = matchAt(s, 0, first);
  if (pos < 0) return false;
  if (segments.length === 1) return pos === s.length;
  const limit = matchBefore(s, s.length, last);
  if (limit < pos || splitsPair(s, limit)) return false;
  let at = pos;
  for (let i = 1; i < segments.length - 1; i++) {
    const seg = segments[i];
    if (seg === undefined) return false;
    at = findSegment(s, at, limit, seg);
    if (at < 0) return false;
  }
  return true;
}
