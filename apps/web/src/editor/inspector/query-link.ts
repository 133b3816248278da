import type { PipelineParameter } from "@sluice/pipeline/definition";

// "Query this table / these files" on a sink: the query page opened on what the sink writes, with a first query
// already written. A field bound to a parameter (`{{table}}`) is read as the parameter's current value.

const WHOLE_REF = /^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/;

interface Connection {
  id: string;
  name: string;
  type: string;
}

export interface QueryLink {
  href: string;
  /** "Query this table" or "Query these files". */
  label: string;
}

/** A config value with a whole-field parameter replaced by the parameter's value; undefined when there is none. */
function boundValue(value: unknown, parameters: readonly PipelineParameter[]): string | undefined {
  if (typeof value !== "string" || value === "") return undefined;
  const ref = WHOLE_REF.exec(value)?.[1];
  if (ref === undefined) return value.includes("{{") ? undefined : value;
  const p = parameters.find((x) => x.name === ref);
  return typeof p?.default === "string" && p.default !== "" ? p.default : undefined;
}

/** `public.orders` → `"public"."orders"` (PostgreSQL) or `` `public`.`orders` `` (MariaDB). */
function quotedTable(table: string, quote: '"' | "`"): string {
  return table
    .split(".")
    .map((part) => `${quote}${part.replaceAll(quote, quote + quote)}${quote}`)
    .join(".");
}

const FILE_EXTENSIONS: Record<string, string> = { parquet: "parquet", csv: "csv", jsonl: "jsonl" };

function href(source: string, sql: string): string {
  return `/query?${new URLSearchParams({ source, sql }).toString()}`;
}

/** Where the query page should open for a sink node, or null when the node writes nowhere it can read. */
export function queryLinkFor(
  type: string,
  config: Readonly<Record<string, unknown>>,
  parameters: readonly PipelineParameter[],
  connections: readonly Connection[],
): QueryLink | null {
  if (type === "sink.postgres" || type === "sink.mariadb") {
    const name = boundValue(config.connection, parameters);
    const table = boundValue(config.table, parameters);
    const connection = connections.find((c) => c.name === name);
    if (!connection || !table) return null;
    const quoted = quotedTable(table, type === "sink.postgres" ? '"' : "`");
    return { href: href(connection.id, `select * from ${quoted} limit 100`), label: "Query this table" };
  }
  if (type === "sink.file") {
    const folder = boundValue(config.path, parameters)?.replace(/\/+$/, "");
    const format = typeof config.format === "string" ? config.format : "jsonl";
    const extension = FILE_EXTENSIONS[format];
    if (!folder || !extension) return null;
    const glob = `${folder}/*.${extension}`.replaceAll("'", "''");
    return { href: href("files", `select * from '${glob}' limit 100`), label: "Query these files" };
  }
  return null;
}
