import type { SQLNamespace } from "@codemirror/lang-sql";

// From queries.schema to what the editor completes and what the schema panel inserts.

export interface SchemaTable {
  /** As written in a query: `public.orders`, `shop.orders`, or for files the path inside the files directory. */
  name: string;
  kind: "table" | "view" | "file";
  columns: readonly { name: string; type: string }[];
}

/** `public."Order Lines"` → ["public", "Order Lines"]: dots inside quotes belong to the name. */
export function nameParts(name: string): string[] {
  const parts: string[] = [];
  let part = "";
  let quote: string | null = null;
  for (let i = 0; i < name.length; i++) {
    const ch = name[i]!;
    if (quote !== null) {
      if (ch === quote && name[i + 1] === quote) {
        part += ch;
        i++;
      } else if (ch === quote) quote = null;
      else part += ch;
    } else if (ch === '"' || ch === "`") quote = ch;
    else if (ch === ".") {
      parts.push(part);
      part = "";
    } else part += ch;
  }
  parts.push(part);
  return parts;
}

/** lang-sql reads a dot in a namespace key as a level; a dot in a name is escaped. */
const escapeDots = (name: string) => name.replaceAll(".", "\\.");

/** What a file is called in a query: its path as a string literal, which DuckDB reads as the file. */
function fileLiteral(path: string): string {
  return `'${path.replaceAll("'", "''")}'`;
}

/** What clicking a table in the schema panel inserts. */
export function tableReference(table: SchemaTable): string {
  return table.kind === "file" ? fileLiteral(table.name) : table.name;
}

/** The schema most tables are in (PostgreSQL's `public` when there is one), so they complete without it. */
function mostCommonSchema(tables: readonly SchemaTable[]): string | undefined {
  const counts = new Map<string, number>();
  for (const t of tables) {
    if (t.kind === "file") continue;
    const parts = nameParts(t.name);
    if (parts.length === 2) counts.set(parts[0]!, (counts.get(parts[0]!) ?? 0) + 1);
  }
  if (counts.has("public")) return "public";
  let best: string | undefined;
  for (const [schema, n] of counts) if (best === undefined || n > (counts.get(best) ?? 0)) best = schema;
  return best;
}

/** lang-sql's `schema` and `defaultSchema` options for a source's tables and files. */
export function completionSchema(tables: readonly SchemaTable[]): { schema: SQLNamespace; defaultSchema?: string } {
  const schema: Record<string, SQLNamespace> = {};
  for (const table of tables) {
    const columns = table.columns.map((c) => ({ label: c.name, type: "property", detail: c.type }));
    if (table.kind === "file") {
      schema[escapeDots(table.name)] = {
        self: { label: table.name, apply: fileLiteral(table.name), type: "type", detail: "file" },
        children: columns,
      };
    } else {
      schema[nameParts(table.name).map(escapeDots).join(".")] = columns;
    }
  }
  const defaultSchema = mostCommonSchema(tables);
  return defaultSchema === undefined ? { schema } : { schema, defaultSchema };
}

/** The tables whose name or a column's name contains the filter; with the columns that matched, when only they did. */
export function filterTables(tables: readonly SchemaTable[], filter: string) {
  const needle = filter.trim().toLowerCase();
  if (!needle) return tables.map((table) => ({ table, columnMatch: false }));
  const found: { table: SchemaTable; columnMatch: boolean }[] = [];
  for (const table of tables) {
    if (table.name.toLowerCase().includes(needle)) found.push({ table, columnMatch: false });
    else if (table.columns.some((c) => c.name.toLowerCase().includes(needle))) found.push({ table, columnMatch: true });
  }
  return found;
}
