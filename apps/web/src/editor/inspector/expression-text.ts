import { tokenize } from "@sluice/pipeline/expr/lexer";

// Pure helpers of the expression editor: syntax highlighting from the language's own lexer, and the word being
// typed (for autocomplete). Display only: what an expression means is decided by the parser and checker.

export type TokenClass =
  | "keyword"
  | "function"
  | "field"
  | "string"
  | "number"
  | "parameter"
  | "operator"
  | "comment"
  | "plain";

export interface Segment {
  text: string;
  kind: TokenClass;
  /** Inside a span an error points at. */
  error: boolean;
}

/** Words the parser treats as keywords (and type names after CAST … AS), shown as such. */
const KEYWORDS = new Set([
  "and",
  "or",
  "not",
  "is",
  "null",
  "true",
  "false",
  "unknown",
  "between",
  "in",
  "like",
  "ilike",
  "escape",
  "case",
  "when",
  "then",
  "else",
  "end",
  "cast",
  "try_cast",
  "as",
  "distinct",
  "from",
  "interval",
]);

export interface ErrorSpan {
  start: number;
  end: number;
}

/**
 * The expression cut into runs of one kind, with the characters under an error flagged. Text the lexer cannot
 * read (after an unterminated string, say) is kept as plain text, so the overlay always matches the input.
 */
export function highlight(source: string, errors: readonly ErrorSpan[] = []): Segment[] {
  const kinds: TokenClass[] = new Array(source.length).fill("plain");
  let lexed = tokenize(source);
  // Where readable text ends: what follows a lexer error stays plain.
  let readable = source.length;
  if (!lexed.ok) {
    readable = lexed.error.at.start;
    lexed = tokenize(source.slice(0, readable));
  }
  const tokens = lexed.ok ? lexed.tokens : [];
  let covered = 0;
  tokens.forEach((t, i) => {
    if (t.kind === "eof") return;
    // Gaps between tokens that are not white space are comments.
    for (let j = covered; j < t.start; j++) if (!/\s/.test(source[j]!)) kinds[j] = "comment";
    covered = t.end;
    let kind: TokenClass;
    switch (t.kind) {
      case "identifier": {
        const next = tokens[i + 1];
        if (next?.kind === "operator" && next.value === "(")
          kind = KEYWORDS.has(t.value.toLowerCase()) ? "keyword" : "function";
        else kind = KEYWORDS.has(t.value.toLowerCase()) ? "keyword" : "field";
        break;
      }
      case "quoted-identifier":
        kind = "field";
        break;
      case "string":
        kind = "string";
        break;
      case "number":
        kind = "number";
        break;
      case "parameter":
        kind = "parameter";
        break;
      default:
        kind = "operator";
    }
    for (let j = t.start; j < t.end; j++) kinds[j] = kind;
  });
  if (lexed.ok) for (let j = covered; j < readable; j++) if (!/\s/.test(source[j]!)) kinds[j] = "comment";
  const flagged = new Array<boolean>(source.length).fill(false);
  for (const e of errors) {
    for (let j = Math.max(0, e.start); j < Math.min(source.length, Math.max(e.end, e.start + 1)); j++)
      flagged[j] = true;
  }
  const segments: Segment[] = [];
  for (let j = 0; j < source.length; j++) {
    const last = segments[segments.length - 1];
    if (last && last.kind === kinds[j] && last.error === flagged[j]) last.text += source[j];
    else segments.push({ text: source[j]!, kind: kinds[j]!, error: flagged[j]! });
  }
  return segments;
}

/** The identifier-like word that ends at `caret` (what autocomplete completes), and where it starts. */
export function wordAt(source: string, caret: number): { word: string; start: number } {
  let start = caret;
  while (start > 0 && /[\p{L}\p{N}_$]/u.test(source[start - 1]!)) start--;
  const word = source.slice(start, caret);
  // A number is not a name being typed.
  if (/^\d/.test(word)) return { word: "", start: caret };
  // Inside a string literal nothing is completed.
  const before = source.slice(0, start);
  const quotes = (before.match(/'/g) ?? []).length;
  if (quotes % 2 === 1) return { word: "", start: caret };
  return { word, start };
}

/** How a field name is written in an expression: as is when it is a plain name, else in double quotes. */
export function fieldReference(name: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !KEYWORDS.has(name.toLowerCase())) return name;
  return `"${name.replace(/"/g, '""')}"`;
}
