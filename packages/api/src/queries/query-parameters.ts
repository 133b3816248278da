// Parameters of a query: the SQL names one as `{{name}}`, its declaration gives its type, and the value is sent as a
// bind value of the engine's own protocol — never written into the SQL text. The scanner skips string literals,
// quoted identifiers, dollar-quoted strings and comments, so `'{{x}}'` stays text. Pure: the query page imports it
// too, to show an input per parameter while the SQL is typed.

export const PARAMETER_TYPES = ["timestamp", "number", "text"] as const;
export type ParameterType = (typeof PARAMETER_TYPES)[number];

export const PARAMETER_NAME = /^[a-z_][a-z0-9_]*$/;

export interface ParameterDeclaration {
  name: string;
  type: ParameterType;
  label?: string;
  /** Used when the run gives no value; timestamps may be relative: "now", "now-1h", "now-7d". */
  default?: string | number | null;
}

export type ParameterValue = string | number | null;

/** A bind value as the runtimes take it: timestamps are Date objects, bound as the engine's instant type. */
export type BindValue = string | number | Date | null;

/** SQL dialects with their quoting rules and bind placeholders. */
export type SqlDialect = "postgresql" | "mysql" | "duckdb";

/** Bad parameters: which one and why. The services answer it as a 400. */
export class ParameterError extends Error {
  override name = "ParameterError";
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(message);
  }
}

export interface PlaceholderAt {
  name: string;
  /** Offsets of `{{` and just past `}}` in the SQL. */
  start: number;
  end: number;
}

const PLACEHOLDER = /\{\{\s*([^{}\s]*)\s*\}\}/y;
const DOLLAR_TAG = /\$([A-Za-z_][A-Za-z0-9_]*)?\$/y;

/** Where the literal, identifier or comment that starts at `i` ends, or -1 when none starts there. */
function skipQuoted(sql: string, i: number, dialect: SqlDialect): number {
  const ch = sql[i]!;
  const next = sql[i + 1];
  const mysql = dialect === "mysql";
  // Line comments: `--` (MySQL wants a space after it) and, in MySQL, `#`.
  if (ch === "-" && next === "-" && (!mysql || /[\s]/.test(sql[i + 2] ?? " "))) {
    const end = sql.indexOf("\n", i);
    return end < 0 ? sql.length : end + 1;
  }
  if (mysql && ch === "#") {
    const end = sql.indexOf("\n", i);
    return end < 0 ? sql.length : end + 1;
  }
  // Block comments; PostgreSQL and DuckDB nest them.
  if (ch === "/" && next === "*") {
    if (mysql) {
      const end = sql.indexOf("*/", i + 2);
      return end < 0 ? sql.length : end + 2;
    }
    let depth = 0;
    let j = i;
    while (j < sql.length) {
      if (sql.startsWith("/*", j)) {
        depth++;
        j += 2;
      } else if (sql.startsWith("*/", j)) {
        depth--;
        j += 2;
        if (depth === 0) return j;
      } else j++;
    }
    return sql.length;
  }
  if (ch === "'" || ch === '"' || (mysql && ch === "`")) {
    // MySQL strings take backslash escapes; so do PostgreSQL's E'…' strings.
    const backslash =
      (mysql && ch !== "`") || (ch === "'" && !mysql && /[eE]/.test(sql[i - 1] ?? "") && !/\w/.test(sql[i - 2] ?? ""));
    let j = i + 1;
    while (j < sql.length) {
      if (backslash && sql[j] === "\\") j += 2;
      else if (sql[j] === ch) {
        if (sql[j + 1] === ch)
          j += 2; // a doubled quote is one quote
        else return j + 1;
      } else j++;
    }
    return sql.length;
  }
  if (!mysql && ch === "$") {
    // Not `$1`: a dollar quote is `$$` or `$tag$`, and not inside an identifier (`a$b$`).
    if (/[\w$]/.test(sql[i - 1] ?? "")) return -1;
    DOLLAR_TAG.lastIndex = i;
    const tag = DOLLAR_TAG.exec(sql);
    if (!tag) return -1;
    const end = sql.indexOf(tag[0], i + tag[0].length);
    return end < 0 ? sql.length : end + tag[0].length;
  }
  return -1;
}

/** The `{{name}}` placeholders in `sql` outside literals, identifiers and comments, in order (repeats included). */
export function findPlaceholders(sql: string, dialect: SqlDialect): PlaceholderAt[] {
  const found: PlaceholderAt[] = [];
  let i = 0;
  while (i < sql.length) {
    const skipped = skipQuoted(sql, i, dialect);
    if (skipped > i) {
      i = skipped;
      continue;
    }
    if (sql[i] === "{" && sql[i + 1] === "{") {
      PLACEHOLDER.lastIndex = i;
      const m = PLACEHOLDER.exec(sql);
      if (m) {
        const name = m[1]!;
        if (!PARAMETER_NAME.test(name)) {
          throw new ParameterError(
            name,
            `"${m[0]}" is not a parameter: a parameter's name is lower-case letters, digits and "_", not starting with a digit`,
          );
        }
        found.push({ name, start: i, end: i + m[0].length });
        i += m[0].length;
        continue;
      }
    }
    i++;
  }
  return found;
}

/** The distinct parameter names `sql` uses, in order of first use. */
export function parameterNames(sql: string, dialect: SqlDialect): string[] {
  return [...new Set(findPlaceholders(sql, dialect).map((p) => p.name))];
}

const RELATIVE = /^now(?:\s*([+-])\s*(\d+)\s*(s|m|h|d|w))?$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
/** An instant with its zone: `2026-01-01T00:00:00Z`, `…+02:00`; seconds and fractions optional. */
const ISO_INSTANT = /^\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d{1,9})?)?(?:Z|[+-]\d\d:?\d\d)$/i;

/** A timestamp value: an ISO instant, or "now" with an optional offset ("now-1h", "now-15m", "now-7d"). */
export function parseInstant(text: string, now: Date = new Date()): Date | undefined {
  const trimmed = text.trim();
  const rel = RELATIVE.exec(trimmed);
  if (rel) {
    const offset = rel[1] ? Number(rel[2]) * UNIT_MS[rel[3]!]! * (rel[1] === "-" ? -1 : 1) : 0;
    return new Date(now.getTime() + offset);
  }
  if (!ISO_INSTANT.test(trimmed)) return undefined;
  const date = new Date(trimmed);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function typed(decl: ParameterDeclaration, value: string | number, now: Date): BindValue {
  switch (decl.type) {
    case "timestamp": {
      const date = typeof value === "string" ? parseInstant(value, now) : undefined;
      if (!date) {
        throw new ParameterError(
          decl.name,
          `parameter "${decl.name}": ${JSON.stringify(value)} is not a time: give an ISO instant with its zone (2026-01-01T00:00:00Z) or a relative one (now, now-1h, now-7d)`,
        );
      }
      return date;
    }
    case "number": {
      const n = typeof value === "number" ? value : value.trim() === "" ? Number.NaN : Number(value);
      if (!Number.isFinite(n)) {
        throw new ParameterError(decl.name, `parameter "${decl.name}": ${JSON.stringify(value)} is not a number`);
      }
      return n;
    }
    case "text":
      return String(value);
  }
}

export interface BoundQuery {
  /** The SQL with each placeholder replaced by the dialect's bind placeholder. */
  sql: string;
  /** The bind values in placeholder order ($1, $2, … or each `?`). */
  params: BindValue[];
}

/**
 * Rewrites `{{name}}` placeholders to bind placeholders (`$n` for PostgreSQL and DuckDB, a repeated name reusing its
 * number; `?` for MySQL/MariaDB, repeated in order) and gives the values, each typed by its declaration. A value
 * absent or null takes the declaration's default. A placeholder without a declaration, or without a value and
 * default, is a ParameterError naming it.
 */
export function bindParameters(
  sql: string,
  dialect: SqlDialect,
  declarations: readonly ParameterDeclaration[],
  values: Readonly<Record<string, ParameterValue | undefined>> = {},
  now: Date = new Date(),
): BoundQuery {
  const placeholders = findPlaceholders(sql, dialect);
  if (placeholders.length === 0) return { sql, params: [] };
  const byName = new Map(declarations.map((d) => [d.name, d]));
  const resolved = new Map<string, BindValue>();
  const boundValue = (name: string): BindValue => {
    const known = resolved.get(name);
    if (known !== undefined) return known;
    const decl = byName.get(name);
    if (!decl) {
      throw new ParameterError(name, `{{${name}}} is not a declared parameter: declare it with a type, or remove it`);
    }
    const given = values[name] ?? decl.default ?? null;
    if (given === null) {
      throw new ParameterError(name, `parameter "${name}" has no value and no default`);
    }
    const value = typed(decl, given, now);
    resolved.set(name, value);
    return value;
  };

  const params: BindValue[] = [];
  const numbers = new Map<string, number>();
  let out = "";
  let last = 0;
  for (const p of placeholders) {
    const value = boundValue(p.name);
    let marker: string;
    if (dialect === "mysql") {
      params.push(value);
      marker = "?";
    } else {
      let n = numbers.get(p.name);
      if (n === undefined) {
        params.push(value);
        n = params.length;
        numbers.set(p.name, n);
      }
      // PostgreSQL would infer a bare $n from its context (as `timestamp` beside a timestamp column, dropping the
      // zone): an instant is cast to the type that keeps it one.
      marker = dialect === "postgresql" && value instanceof Date ? `$${n}::timestamptz` : `$${n}`;
    }
    // Spaces around the marker keep it from running into a neighbouring word (`x>{{a}}` stays `x> $1 `).
    out += `${sql.slice(last, p.start)} ${marker} `;
    last = p.end;
  }
  out += sql.slice(last);
  return { sql: out, params };
}
