import type { FunctionInfo } from "@sluice/pipeline/expr/compile";
import type { DataType, Field, RecordSchema } from "@sluice/pipeline/record-schema";
import { fieldReference, wordAt } from "./expression-text";

// What the expression editor suggests at the caret: upstream fields (nested ones as paths), functions, keywords and,
// after CAST(x AS, type names. Pure: the component supplies the text, the caret, the schemas and the function list.

export type CompletionKind = "field" | "function" | "keyword" | "type";

export interface Completion {
  kind: CompletionKind;
  /** What the list shows and what the typed text is matched against. */
  label: string;
  /** Replaces the text between the context's `from` and `to`. */
  insert: string;
  /** A field's type or a function's signature. */
  detail: string;
  /** One line of documentation, possibly empty. */
  doc: string;
}

export interface CompletionContext {
  /** The range an accepted completion replaces: the name being typed, whole. */
  from: number;
  to: number;
  /** What has been typed of the name, without quotes. */
  query: string;
  /** Names before a `.`: the suggestions are the fields of that object (`payload.` → payload's fields). */
  path: readonly string[];
  /** Inside a "quoted identifier": only fields can go there. */
  quoted: boolean;
  /** Right after CAST(x AS: only type names make sense. */
  typeName: boolean;
}

const NAME_CHAR = /[\p{L}\p{N}_$]/u;
/** Nested objects are offered as paths this deep, so a wide nested schema cannot flood the list. */
const MAX_DEPTH = 4;
const MAX_FIELDS = 400;

/** Where the caret is in the expression: null inside a string literal or comment, where nothing is completed. */
export function completionContext(source: string, caret: number): CompletionContext | null {
  const at = Math.max(0, Math.min(caret, source.length));
  let state: "code" | "string" | "quoted" | "line-comment" | "block-comment" = "code";
  let quoteStart = -1;
  for (let i = 0; i < at; i++) {
    const c = source[i];
    const next = i + 1 < at ? source[i + 1] : undefined;
    if (state === "code") {
      if (c === "'") state = "string";
      else if (c === '"') {
        state = "quoted";
        quoteStart = i;
      } else if (c === "-" && next === "-") {
        state = "line-comment";
        i++;
      } else if (c === "/" && next === "*") {
        state = "block-comment";
        i++;
      }
    } else if (state === "string") {
      if (c === "'") state = "code"; // '' (an escaped quote) closes and reopens: the state ends up right
    } else if (state === "quoted") {
      if (c === '"') state = "code";
    } else if (state === "line-comment") {
      if (c === "\n") state = "code";
    } else if (c === "*" && next === "/") {
      state = "code";
      i++;
    }
  }
  if (state === "string" || state === "line-comment" || state === "block-comment") return null;
  if (state === "quoted") {
    const to = source[at] === '"' && source[at + 1] !== '"' ? at + 1 : at;
    const path = memberPath(source, quoteStart);
    if (path === null) return null;
    const query = source.slice(quoteStart + 1, at).replace(/""/g, '"');
    return { from: quoteStart, to, query, path, quoted: true, typeName: false };
  }
  const { word, start } = wordAt(source, at);
  // {{parameter}} names are not fields.
  if (source[start - 1] === "{") return null;
  let to = at;
  // Accepting inside a name replaces all of it.
  if (word !== "") while (to < source.length && NAME_CHAR.test(source[to]!)) to++;
  const path = memberPath(source, start);
  if (path === null) return null;
  const typeName = path.length === 0 && /\bas\s+$/i.test(source.slice(0, start));
  return { from: start, to, query: word, path, quoted: false, typeName };
}

/**
 * The names of the member chain that ends just before `start` (`a.b.` → ["a", "b"]); [] when there is no `.`;
 * null when the `.` follows something that is not a name (`f(x).`, `tags[1].`), whose fields are unknown here.
 */
function memberPath(source: string, start: number): string[] | null {
  const path: string[] = [];
  let j = start;
  for (;;) {
    let k = j;
    while (k > 0 && /\s/.test(source[k - 1]!)) k--;
    if (source[k - 1] !== ".") return path;
    k--;
    while (k > 0 && /\s/.test(source[k - 1]!)) k--;
    let s: number;
    let name: string;
    if (source[k - 1] === '"') {
      s = k - 2;
      while (s >= 0) {
        if (source[s] === '"') {
          if (source[s - 1] === '"') s -= 2;
          else break;
        } else s--;
      }
      if (s < 0) return null;
      name = source.slice(s + 1, k - 1).replace(/""/g, '"');
    } else {
      s = k;
      while (s > 0 && NAME_CHAR.test(source[s - 1]!)) s--;
      name = source.slice(s, k);
      if (name === "" || /^\d/.test(name)) return null;
    }
    path.unshift(name);
    j = s;
  }
}

/** The fields of a node's input: its upstream nodes' output schemas, merged by name (the first one wins). */
export function mergeFields(schemas: readonly RecordSchema[]): Field[] {
  const seen = new Set<string>();
  const out: Field[] = [];
  for (const schema of schemas) {
    for (const f of schema.fields) {
      if (seen.has(f.name)) continue;
      seen.add(f.name);
      out.push(f);
    }
  }
  return out;
}

function shortType(type: DataType): string {
  switch (type.kind) {
    case "array":
      return `array<${shortType(type.items)}>`;
    default:
      return type.kind;
  }
}

/** Every field as a completion, the fields of nested objects as dotted paths. */
function fieldCompletions(fields: readonly Field[]): Completion[] {
  const out: Completion[] = [];
  const walk = (list: readonly Field[], names: string[], depth: number) => {
    for (const f of list) {
      if (out.length >= MAX_FIELDS) return;
      const path = [...names, f.name];
      out.push({
        kind: "field",
        label: path.join("."),
        insert: path.map(fieldReference).join("."),
        detail: f.nullable ? `${shortType(f.type)}, nullable` : shortType(f.type),
        doc: f.doc ?? "",
      });
      if (f.type.kind === "object" && depth < MAX_DEPTH) walk(f.type.fields, path, depth + 1);
    }
  };
  walk(fields, [], 1);
  return out;
}

/** The fields of the object at `path`, or [] when the path does not lead to a known object. */
function fieldsAt(fields: readonly Field[], path: readonly string[]): readonly Field[] {
  let list = fields;
  for (const name of path) {
    const f = list.find((x) => x.name === name);
    if (f?.type.kind !== "object") return [];
    list = f.type.fields;
  }
  return list;
}

const KEYWORDS: readonly { word: string; doc: string; insert?: string }[] = [
  { word: "AND", doc: "True when both conditions are true." },
  { word: "OR", doc: "True when either condition is true." },
  { word: "NOT", doc: "Negates a condition (NOT NULL stays NULL)." },
  { word: "IS", doc: "IS [NOT] NULL, IS [NOT] TRUE / FALSE / UNKNOWN, IS [NOT] DISTINCT FROM." },
  { word: "NULL", doc: "The missing value; comparisons with it are NULL, so test with IS NULL." },
  { word: "TRUE", doc: "Boolean true." },
  { word: "FALSE", doc: "Boolean false." },
  { word: "UNKNOWN", doc: "IS [NOT] UNKNOWN tests whether a condition is NULL." },
  { word: "BETWEEN", doc: "x BETWEEN low AND high, both ends included." },
  { word: "IN", doc: "x IN (a, b, c): equal to one of the values." },
  { word: "LIKE", doc: "Pattern match: % is any text, _ one character." },
  { word: "ILIKE", doc: "LIKE, ignoring case." },
  { word: "ESCAPE", doc: "LIKE pattern ESCAPE '!': the character that makes % and _ literal." },
  { word: "CASE", doc: "CASE WHEN condition THEN value … [ELSE value] END." },
  { word: "WHEN", doc: "A branch of CASE: WHEN condition THEN value." },
  { word: "THEN", doc: "The value of a CASE branch." },
  { word: "ELSE", doc: "The value of CASE when no branch matches (NULL without it)." },
  { word: "END", doc: "Closes CASE." },
  { word: "CAST", doc: "CAST(x AS type): converts, and fails the record when it cannot.", insert: "CAST(" },
  { word: "TRY_CAST", doc: "TRY_CAST(x AS type): converts, NULL when it cannot.", insert: "TRY_CAST(" },
  { word: "AS", doc: "CAST(x AS type)." },
  { word: "DISTINCT", doc: "IS [NOT] DISTINCT FROM compares treating NULLs as equal." },
  { word: "FROM", doc: "IS [NOT] DISTINCT FROM." },
  { word: "INTERVAL", doc: "INTERVAL '5' MINUTE: a duration, in milliseconds." },
];

const TYPE_NAMES: readonly { name: string; doc: string }[] = [
  { name: "STRING", doc: "Text (also VARCHAR, TEXT)." },
  { name: "INT", doc: "Whole number; floats are truncated (also INTEGER, BIGINT)." },
  { name: "FLOAT", doc: "Floating-point number (also DOUBLE, REAL)." },
  { name: "BOOLEAN", doc: "true / false; text reads true, t, yes, on, 1 and their opposites." },
  { name: "TIMESTAMP", doc: "Epoch milliseconds; text is read as an ISO date-time." },
  { name: "JSON", doc: "Keeps the value as JSON." },
];

export interface CompletionSources {
  /** The node's input fields (see mergeFields). */
  fields: readonly Field[];
  functions: readonly FunctionInfo[];
  /** Window aggregates (sum, count, …) are offered only where they are allowed. */
  aggregates: boolean;
}

/** Everything that may go at the context, unranked. */
export function completionCandidates(ctx: CompletionContext, sources: CompletionSources): Completion[] {
  if (ctx.typeName) {
    return TYPE_NAMES.map((t) => ({ kind: "type", label: t.name, insert: t.name, detail: "type", doc: t.doc }));
  }
  if (ctx.path.length > 0) return fieldCompletions(fieldsAt(sources.fields, ctx.path));
  const fields = fieldCompletions(sources.fields);
  if (ctx.quoted) return fields;
  const functions: Completion[] = sources.functions
    .filter((f) => sources.aggregates || !f.aggregate)
    .flatMap((f) =>
      [f.name, ...f.aliases].map((name) => ({
        kind: "function" as const,
        label: name,
        insert: `${name}(`,
        detail: name === f.name ? f.signature : `${f.signature} (alias ${name})`,
        doc: f.doc,
      })),
    );
  const keywords: Completion[] = KEYWORDS.map((k) => ({
    kind: "keyword",
    label: k.word,
    insert: k.insert ?? k.word,
    detail: "keyword",
    doc: k.doc,
  }));
  return [...fields, ...functions, ...keywords];
}

const KIND_ORDER: Record<CompletionKind, number> = { field: 0, function: 1, type: 1, keyword: 2 };

/**
 * The candidates that match what was typed (case-insensitively): those whose name starts with it first, then
 * those that contain it; within each, fields before functions before keywords, shallow fields before nested ones,
 * fields in schema order and the rest alphabetically.
 */
export function rankCompletions(candidates: readonly Completion[], query: string, limit = 50): Completion[] {
  const q = query.toLowerCase();
  const scored: { c: Completion; tier: number; depth: number; index: number }[] = [];
  candidates.forEach((c, index) => {
    const label = c.label.toLowerCase();
    // One letter found anywhere in a name matches nearly everything: substrings count from two letters on.
    const tier = label.startsWith(q) ? 0 : q.length > 1 && label.includes(q) ? 1 : -1;
    if (tier < 0) return;
    const depth = c.kind === "field" ? c.label.split(".").length : 0;
    scored.push({ c, tier, depth, index });
  });
  scored.sort(
    (a, b) =>
      a.tier - b.tier ||
      KIND_ORDER[a.c.kind] - KIND_ORDER[b.c.kind] ||
      a.depth - b.depth ||
      (a.c.kind === "function" || a.c.kind === "keyword" ? a.c.label.localeCompare(b.c.label) : a.index - b.index),
  );
  return scored.slice(0, limit).map((s) => s.c);
}

/** The text after accepting a completion, and where the caret goes. A function's `(` is not doubled. */
export function applyCompletion(
  source: string,
  ctx: Pick<CompletionContext, "from" | "to">,
  completion: Completion,
): { text: string; caret: number } {
  let insert = completion.insert;
  if (insert.endsWith("(") && source[ctx.to] === "(") insert = insert.slice(0, -1);
  const text = source.slice(0, ctx.from) + insert + source.slice(ctx.to);
  const caret = ctx.from + insert.length + (insert === completion.insert ? 0 : 1);
  return { text, caret };
}
