import { z } from "zod";

// Table and column names in PostgreSQL node configs, and how they become SQL: every name is quoted as an identifier
// (so `Orders` stays `Orders` and no name can inject SQL), never spliced as text. Browser-safe.

/** `orders`, `sales.orders`, or with quotes for names holding dots: `"my.schema"."orders"`. */
export const TableName = z
  .string()
  .trim()
  .min(1, "name a table, e.g. orders or sales.orders")
  .max(200)
  .refine((text) => parseTableName(text) !== undefined, {
    message: 'write a table as name or schema.name (quote a part that holds a dot: "my.schema".orders)',
  });

/** A column of the table, exactly as PostgreSQL spells it (case-sensitive). */
export const ColumnName = z
  .string()
  .min(1, "name a column")
  .max(63, "PostgreSQL names are at most 63 characters")
  .refine((name) => !name.includes("\0"), "a column name cannot hold a NUL character");

export interface QualifiedName {
  schema: string | undefined;
  name: string;
}

/** Splits `schema.name` (either part may be double-quoted, with `""` for a quote); undefined when malformed. */
export function parseTableName(text: string): QualifiedName | undefined {
  const parts: string[] = [];
  let i = 0;
  const s = text.trim();
  while (i <= s.length) {
    let part = "";
    if (s[i] === '"') {
      i++;
      for (;;) {
        if (i >= s.length) return undefined;
        if (s[i] === '"') {
          if (s[i + 1] === '"') {
            part += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        part += s[i];
        i++;
      }
    } else {
      const start = i;
      while (i < s.length && s[i] !== ".") {
        if (s[i] === '"') return undefined;
        i++;
      }
      part = s.slice(start, i);
    }
    if (part.length === 0 || part.length > 63 || part.includes("\0")) return undefined;
    parts.push(part);
    if (i === s.length) break;
    if (s[i] !== ".") return undefined;
    i++;
    if (i === s.length) return undefined;
  }
  if (parts.length === 1) return { schema: undefined, name: parts[0]! };
  if (parts.length === 2) return { schema: parts[0], name: parts[1]! };
  return undefined;
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `"schema"."name"`, or `"name"` (found through the search path). */
export function quoteTable(table: string | QualifiedName): string {
  const q = typeof table === "string" ? parseTableName(table) : table;
  if (!q) throw new Error(`"${String(table)}" is not a table name`);
  return q.schema === undefined ? quoteIdent(q.name) : `${quoteIdent(q.schema)}.${quoteIdent(q.name)}`;
}

/** A string literal, for the few statements that take no parameters (replication commands). */
export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** Slot and publication names: lower-case letters, digits and underscores, as replication slots require. */
export const ReplicationName = z
  .string()
  .regex(/^[a-z0-9_]{1,63}$/, "use lower-case letters, digits and _ (at most 63), as replication slot names must");
