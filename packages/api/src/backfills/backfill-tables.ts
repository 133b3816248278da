import { type QualifiedName, quoteIdent, quoteTable } from "@sluice/nodes/connectors/postgres/sql-names";
import type { Client } from "pg";
import type { Comparison } from "./backfill-router.types";

// The SQL of a backfill on the sink's PostgreSQL: the shadow table made like the live one, the order-independent
// comparison of the two, and the swap — one transaction that locks the live table and renames, so a reader sees the
// old table or the new one, never neither and never half. Every name is quoted (sql-names.ts). Server-only.

/** At most this many sample differences each way. */
const SAMPLE_DIFFERENCES = 20;
/** How long the swap waits for the live table's lock before it gives up (the sink's batches hold it briefly). */
const SWAP_LOCK_TIMEOUT = "15s";
const COMPARE_TIMEOUT = "10min";

/** A table name as text that parseTableName reads back: a part holding a dot or a quote is quoted. */
export function tableText(q: QualifiedName): string {
  const part = (s: string) => (/[."]/.test(s) ? quoteIdent(s) : s);
  return q.schema === undefined ? part(q.name) : `${part(q.schema)}.${part(q.name)}`;
}

/** `<name><suffix>` in the same schema, or an Error when PostgreSQL's 63-character limit would cut it. */
export function siblingName(live: { schema: string; name: string }, suffix: string): { schema: string; name: string } {
  const name = `${live.name}${suffix}`;
  if (Buffer.byteLength(name) > 63) {
    throw new Error(
      `the table name "${name}" would be longer than PostgreSQL's 63 bytes: give the live table a shorter name`,
    );
  }
  return { schema: live.schema, name };
}

export interface LiveTable {
  schema: string;
  name: string;
  /** Writable columns in table order (generated ones left out). */
  columns: string[];
  /** Primary-key columns in key order; empty without a primary key. */
  key: string[];
}

/** The table `table` resolves to (through the search path when unqualified), or undefined when there is none. */
export async function describeLive(client: Client, table: string): Promise<LiveTable | undefined> {
  const { rows } = await client.query<{ schema: string; name: string; columns: string[]; key: string[] | null }>(
    `SELECT n.nspname AS schema, c.relname AS name,
            array(SELECT a.attname::text FROM pg_attribute a
                   WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
                   ORDER BY a.attnum) AS columns,
            (SELECT array_agg(a.attname::text ORDER BY k.ord)
               FROM pg_index i
               CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
              WHERE i.indrelid = c.oid AND i.indisprimary) AS key
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.oid = to_regclass($1) AND c.relkind IN ('r', 'p')`,
    [quoteTable(table)],
  );
  const row = rows[0];
  if (!row) return undefined;
  return { schema: row.schema, name: row.name, columns: row.columns, key: row.key ?? [] };
}

export async function tableExists(client: Client, table: QualifiedName): Promise<boolean> {
  const { rows } = await client.query<{ found: boolean }>("SELECT to_regclass($1) IS NOT NULL AS found", [
    quoteTable(table),
  ]);
  return rows[0]?.found === true;
}

/** The shadow table: the live one's columns, defaults, constraints, indexes and comments (LIKE … INCLUDING ALL). */
export async function createShadow(client: Client, live: QualifiedName, shadow: QualifiedName): Promise<void> {
  await client.query(`CREATE TABLE ${quoteTable(shadow)} (LIKE ${quoteTable(live)} INCLUDING ALL)`);
}

export async function dropTable(client: Client, table: QualifiedName): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${quoteTable(table)}`);
}

/** The text of a row of `columns`, as the checksum and EXCEPT see it. */
function rowList(columns: readonly string[], alias?: string): string {
  return columns.map((c) => (alias ? `${alias}.${quoteIdent(c)}` : quoteIdent(c))).join(", ");
}

async function figures(client: Client, table: QualifiedName, columns: readonly string[]) {
  // Order-independent: the sum of a 64-bit hash of each row's text form, as numeric so it cannot overflow.
  const { rows } = await client.query<{ rows: string; checksum: string }>(
    `SELECT count(*)::text AS rows,
            coalesce(sum(hashtextextended(ROW(${rowList(columns, "t")})::text, 0)::numeric), 0)::text AS checksum
       FROM ${quoteTable(table)} t`,
  );
  return { rows: Number(rows[0]!.rows), checksum: rows[0]!.checksum };
}

async function onlyIn(
  client: Client,
  a: QualifiedName,
  b: QualifiedName,
  columns: readonly string[],
): Promise<Record<string, unknown>[]> {
  const list = rowList(columns);
  const { rows } = await client.query<{ row: Record<string, unknown> }>(
    `SELECT to_jsonb(d) AS row FROM (
       SELECT ${list} FROM ${quoteTable(a)} EXCEPT ALL SELECT ${list} FROM ${quoteTable(b)}
     ) d LIMIT ${SAMPLE_DIFFERENCES}`,
  );
  return rows.map((r) => r.row);
}

/**
 * Row counts and checksums of both tables over their columns without `ignore`, and up to 20 rows each way that the
 * other table lacks. Read in one repeatable-read transaction, so the figures of both tables are of one moment.
 */
export async function compareTables(
  client: Client,
  live: LiveTable,
  shadow: QualifiedName,
  ignore: readonly string[],
): Promise<Comparison> {
  const started = performance.now();
  const unknown = ignore.filter((c) => !live.columns.includes(c));
  if (unknown.length > 0) {
    throw new Error(`ignoreColumns: the table has no column ${unknown.map((c) => `"${c}"`).join(", ")}`);
  }
  const columns = live.columns.filter((c) => !ignore.includes(c));
  if (columns.length === 0) throw new Error("ignoreColumns: nothing would be left to compare");
  const liveName = { schema: live.schema, name: live.name };
  await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  try {
    await client.query(`SET LOCAL statement_timeout = '${COMPARE_TIMEOUT}'`);
    const liveFigures = await figures(client, liveName, columns);
    const shadowFigures = await figures(client, shadow, columns);
    const equal = liveFigures.rows === shadowFigures.rows && liveFigures.checksum === shadowFigures.checksum;
    const key = live.key.filter((k) => columns.includes(k));
    const keyOf = (row: Record<string, unknown>) =>
      key.length === live.key.length && key.length > 0 ? Object.fromEntries(key.map((k) => [k, row[k]])) : null;
    const differences = equal
      ? []
      : [
          ...(await onlyIn(client, liveName, shadow, columns)).map((row) => ({
            side: "live" as const,
            key: keyOf(row),
            row,
          })),
          ...(await onlyIn(client, shadow, liveName, columns)).map((row) => ({
            side: "shadow" as const,
            key: keyOf(row),
            row,
          })),
        ];
    await client.query("COMMIT");
    return {
      live: liveFigures,
      shadow: shadowFigures,
      equal,
      columns,
      ignoredColumns: [...ignore],
      key: live.key,
      differences,
      ms: Math.round(performance.now() - started),
      comparedAt: new Date().toISOString(),
    };
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  }
}

/**
 * Swaps the shadow table in, in one transaction: locks the live table (readers and the live sink wait for the
 * moment the renames take), copies the live rows whose primary key the shadow lacks when `keepUnmatched` (rows the
 * live pipeline wrote past the backfill's end), renames live → `previous` and shadow → live. Statements waiting on
 * the live name find the new table when the lock is released (PostgreSQL looks the name up again after the wait).
 * Returns how many live rows were carried over.
 */
export async function swapTables(
  client: Client,
  live: LiveTable,
  shadow: QualifiedName,
  previous: QualifiedName,
  keepUnmatched: boolean,
): Promise<{ carried: number }> {
  const liveName = { schema: live.schema, name: live.name };
  await client.query("BEGIN");
  try {
    await client.query(`SET LOCAL lock_timeout = '${SWAP_LOCK_TIMEOUT}'`);
    await client.query(`LOCK TABLE ${quoteTable(liveName)} IN ACCESS EXCLUSIVE MODE`);
    await client.query(`LOCK TABLE ${quoteTable(shadow)} IN ACCESS EXCLUSIVE MODE`);
    let carried = 0;
    if (keepUnmatched && live.key.length > 0) {
      const list = rowList(live.columns);
      const match = live.key.map((k) => `s.${quoteIdent(k)} = l.${quoteIdent(k)}`).join(" AND ");
      const r = await client.query(
        `INSERT INTO ${quoteTable(shadow)} (${list})
         SELECT ${rowList(live.columns, "l")} FROM ${quoteTable(liveName)} l
          WHERE NOT EXISTS (SELECT 1 FROM ${quoteTable(shadow)} s WHERE ${match})`,
      );
      carried = r.rowCount ?? 0;
    }
    await client.query(`ALTER TABLE ${quoteTable(liveName)} RENAME TO ${quoteIdent(previous.name)}`);
    await client.query(`ALTER TABLE ${quoteTable(shadow)} RENAME TO ${quoteIdent(live.name)}`);
    await client.query("COMMIT");
    return { carried };
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  }
}

/**
 * Drops the table a swap kept. A serial column's sequence belongs to the table it was made for, and the swapped-in
 * table's default (copied by LIKE) still draws from it: such sequences are handed to the live table first, so
 * dropping the old table does not take them along.
 */
export async function dropPrevious(client: Client, previous: QualifiedName, live: QualifiedName): Promise<void> {
  await client.query("BEGIN");
  try {
    const { rows } = await client.query<{ schema: string; sequence: string; column: string }>(
      `SELECT sn.nspname AS schema, s.relname AS sequence, a.attname AS column
         FROM pg_depend d
         JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
         JOIN pg_namespace sn ON sn.oid = s.relnamespace
         JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
        WHERE d.classid = 'pg_class'::regclass AND d.refobjid = to_regclass($1) AND d.deptype = 'a'`,
      [quoteTable(previous)],
    );
    const liveColumns = (await describeLive(client, quoteTable(live)))?.columns ?? [];
    for (const r of rows) {
      if (!liveColumns.includes(r.column)) continue;
      await client.query(
        `ALTER SEQUENCE ${quoteTable({ schema: r.schema, name: r.sequence })} OWNED BY ${quoteTable(live)}.${quoteIdent(r.column)}`,
      );
    }
    await client.query(`DROP TABLE IF EXISTS ${quoteTable(previous)}`);
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  }
}
