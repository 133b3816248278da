import type { Field } from "@sluice/pipeline/record-schema";
import type pg from "pg";
import { type ColumnType, columnWriter, pgTypeFor } from "./pg-types";
import { quoteIdent, quoteLiteral, quoteTable } from "./sql-names";

// A table a sink writes: its columns with their types (how each value is written), its unique keys, creating it
// from a schema, and the sink's progress table beside it. Server-only.

export interface TargetColumn extends ColumnType {
  notNull: boolean;
  write: (value: unknown) => string | null;
}

export interface TargetTable {
  /** The quoted, schema-qualified name. */
  sql: string;
  schema: string;
  name: string;
  /** Writable columns (generated ones left out), in table order. */
  columns: Map<string, TargetColumn>;
  /** Column sets of the unique indexes ON CONFLICT can use. */
  uniqueKeys: string[][];
}

interface ColumnRow {
  schema: string;
  table: string;
  name: string;
  type: string;
  category: string;
  json: boolean;
  element_category: string | null;
  element_json: boolean | null;
  not_null: boolean;
  generated: boolean;
}

/** The table `table` resolves to (through the search path when unqualified), or undefined when there is none. */
export async function describeTable(client: pg.Client, table: string): Promise<TargetTable | undefined> {
  const { rows } = await client.query<ColumnRow>(
    `SELECT n.nspname AS schema, c.relname AS table, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
            t.typcategory AS category,
            coalesce(t.typname IN ('json', 'jsonb') OR bt.typname IN ('json', 'jsonb'), false) AS json,
            et.typcategory AS element_category, et.typname IN ('json', 'jsonb') AS element_json,
            a.attnotnull AS not_null, a.attgenerated <> '' AS generated
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       JOIN pg_type t ON t.oid = a.atttypid
       LEFT JOIN pg_type bt ON bt.oid = t.typbasetype
       LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
      WHERE c.oid = to_regclass($1)
      ORDER BY a.attnum`,
    [quoteTable(table)],
  );
  const first = rows[0];
  if (!first) return undefined;
  const columns = new Map<string, TargetColumn>();
  for (const r of rows) {
    if (r.generated) continue;
    const type: ColumnType = {
      name: r.name,
      type: r.type,
      category: r.category,
      json: r.json,
      elementCategory: r.element_category ?? undefined,
      elementJson: r.element_json ?? undefined,
    };
    columns.set(r.name, { ...type, notNull: r.not_null, write: columnWriter(type) });
  }
  const unique = await client.query<{ cols: string[] }>(
    `SELECT array_agg(a.attname::text ORDER BY a.attname)::text[] AS cols
       FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
      WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
      GROUP BY i.indexrelid`,
    [quoteTable(table)],
  );
  return {
    sql: quoteTable({ schema: first.schema, name: first.table }),
    schema: first.schema,
    name: first.table,
    columns,
    uniqueKeys: unique.rows.map((r) => r.cols),
  };
}

/** Whether a unique index covers exactly `key` (what ON CONFLICT (key) needs). */
export function hasUniqueKey(table: TargetTable, key: readonly string[]): boolean {
  const wanted = [...key].sort().join("\0");
  return table.uniqueKeys.some((cols) => [...cols].sort().join("\0") === wanted);
}

export function createTableSql(table: string, fields: readonly Field[], key: readonly string[]): string {
  const columns = fields.map((f) => `${quoteIdent(f.name)} ${pgTypeFor(f.type)}`);
  if (key.length > 0) columns.push(`PRIMARY KEY (${key.map(quoteIdent).join(", ")})`);
  return `CREATE TABLE IF NOT EXISTS ${quoteTable(table)} (\n  ${columns.join(",\n  ")}\n)`;
}

/**
 * Runs DDL once however many partitions try at the same time: under a transaction-scoped advisory lock on `name`
 * (sessions that lose the race wait, then find the object there).
 */
export async function createOnce(client: pg.Client, name: string, ddl: string): Promise<void> {
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`sluice:create:${name}`]);
    await client.query(ddl);
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  }
}

export const OFFSETS_TABLE = "sluice_sink_offsets";

/** The progress table of exactly-once sinks, in `schema`: one row per sink and partition. */
export function offsetsTableSql(schema: string): string {
  return `CREATE TABLE IF NOT EXISTS ${quoteTable({ schema, name: OFFSETS_TABLE })} (
  sink_id text NOT NULL,
  partition integer NOT NULL,
  run_started_at bigint NOT NULL,
  sequence bigint NOT NULL,
  batch_id text NOT NULL,
  rejected jsonb,
  written_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (sink_id, partition)
);
COMMENT ON TABLE ${quoteTable({ schema, name: OFFSETS_TABLE })} IS ${quoteLiteral(
    "Sluice: the last batch each exactly-once PostgreSQL sink wrote, per run, node and partition",
  )}`;
}
