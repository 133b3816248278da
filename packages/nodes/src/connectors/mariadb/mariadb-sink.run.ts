import type { DataRecord, DataType, RecordSchema } from "@sluice/pipeline/record-schema";
import { type Connection, type RowDataPacket, raw } from "mysql2/promise";
import type { BatchInfo, RuntimeContext, SinkRuntime } from "../../runtime-contract";
import { type FailRecord, RecordRejectedError, type SinkWriter } from "../../runtime-contract";
import { NodeConfigError } from "../../runtime-expressions";
import { resolveConnection } from "../files/resolve-connection";
import {
  describeMariaDbError,
  isPermanentProblem,
  isRowError,
  isStatementError,
  quoteId,
  quoteTable,
  sqlErrorText,
} from "./mariadb-client";
import { mariadbConnection } from "./mariadb-connection.def";
import type { MariaDbSinkConfig } from "./mariadb-sink.def";
import { ensureProgressRow, lockProgress, SINK_OFFSETS_DDL, saveProgress, sinkTask } from "./mariadb-sink-offsets";
import { openForNode } from "./mariadb-source.run";

// Multi-row INSERT (or INSERT … ON DUPLICATE KEY UPDATE) per batch, in one transaction with the sink's progress row.
// A statement the table refuses because of one row's values is retried row by row, so the good rows are written
// and only the refused ones are dead-lettered.

/** Statements stay well below max_allowed_packet (16 MiB by default). */
const STATEMENT_BYTES = 4 * 1024 * 1024;
const MAX_ROWS_PER_STATEMENT = 5000;
const DEFAULT = raw("DEFAULT");

type ColumnKind = "temporal" | "json" | "other";

interface TableShape {
  columns: Map<string, ColumnKind>;
  uniqueKeys: string[][];
}

async function tableShape(conn: Connection, table: string, database: string): Promise<TableShape | undefined> {
  const dot = table.indexOf(".");
  const schema = dot < 0 ? database : table.slice(0, dot);
  const name = dot < 0 ? table : table.slice(dot + 1);
  const [cols] = await conn.query<RowDataPacket[]>(
    `SELECT COLUMN_NAME AS c, DATA_TYPE AS d FROM information_schema.COLUMNS
      WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
    [schema, name],
  );
  if (cols.length === 0) return undefined;
  // MariaDB's JSON is LONGTEXT with a json_valid() check; MySQL's has its own type.
  const jsonChecked = new Set<string>();
  try {
    const [checks] = await conn.query<RowDataPacket[]>(
      "SELECT CHECK_CLAUSE AS k FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?",
      [schema, name],
    );
    for (const r of checks) {
      const m = /^json_valid\(`((?:[^`]|``)+)`\)$/i.exec(String(r.k).trim());
      if (m) jsonChecked.add(m[1]!.replace(/``/g, "`"));
    }
  } catch {
    // A server without CHECK_CONSTRAINTS has no JSON-as-LONGTEXT columns either.
  }
  const columns = new Map<string, ColumnKind>();
  for (const r of cols) {
    const d = String(r.d).toLowerCase();
    const c = String(r.c);
    columns.set(
      c,
      ["date", "datetime", "timestamp"].includes(d)
        ? "temporal"
        : d === "json" || jsonChecked.has(c)
          ? "json"
          : "other",
    );
  }
  const [idx] = await conn.query<RowDataPacket[]>(
    `SELECT INDEX_NAME AS i, COLUMN_NAME AS c FROM information_schema.STATISTICS
      WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0 ORDER BY INDEX_NAME, SEQ_IN_INDEX`,
    [schema, name],
  );
  const byIndex = new Map<string, string[]>();
  for (const r of idx) byIndex.set(String(r.i), [...(byIndex.get(String(r.i)) ?? []), String(r.c)]);
  return { columns, uniqueKeys: [...byIndex.values()] };
}

function columnType(type: DataType, isKey: boolean): string {
  // Keys need a bounded length; a key of unknown type is kept as text.
  if (isKey && (type.kind === "string" || type.kind === "json" || type.kind === "any")) return "VARCHAR(255)";
  switch (type.kind) {
    case "string":
      return "MEDIUMTEXT";
    case "int":
      return "BIGINT";
    case "float":
      return "DOUBLE";
    case "boolean":
      return "BOOLEAN";
    case "timestamp":
      return "DATETIME(3)";
    case "null":
      return "MEDIUMTEXT";
    default:
      return "JSON";
  }
}

/** CREATE TABLE for the written columns, typed from the input schema. */
function createTableSql(table: string, columns: readonly string[], schema: RecordSchema, key?: readonly string[]) {
  const defs = columns.map((name) => {
    const f = schema.fields.find((x) => x.name === name);
    const isKey = key?.includes(name) ?? false;
    const type = columnType(f?.type ?? { kind: "json" }, isKey);
    return `${quoteId(name)} ${type} ${f && !f.nullable ? "NOT NULL" : isKey ? "NOT NULL" : "NULL"}`;
  });
  if (key && key.length > 0) defs.push(`PRIMARY KEY (${key.map(quoteId).join(", ")})`);
  return `CREATE TABLE IF NOT EXISTS ${quoteTable(table)} (\n  ${defs.join(",\n  ")}\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`;
}

/** A record's value as a statement parameter for a column of `kind`. */
function sqlValue(v: unknown, kind: ColumnKind): unknown {
  if (v === undefined) return DEFAULT;
  if (v === null) return null;
  if (kind === "temporal" && typeof v === "number") return new Date(v);
  if (kind === "json") return JSON.stringify(v);
  if (typeof v === "object" && !(v instanceof Date) && !Buffer.isBuffer(v)) return JSON.stringify(v);
  if (typeof v === "bigint") return v.toString();
  return v;
}

function sameColumns(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

export const mariadbSinkRuntime: SinkRuntime<MariaDbSinkConfig> = {
  kind: "sink",
  type: "sink.mariadb",
  async open(ctx: RuntimeContext<MariaDbSinkConfig>): Promise<SinkWriter> {
    const c = ctx.config;
    const connection = resolveConnection(ctx as RuntimeContext<unknown>, c.connection, mariadbConnection);
    const configError = (path: string, message: string): never => {
      throw new NodeConfigError(ctx.nodeId, path, message);
    };
    const input = ctx.inputs.in ?? { fields: [], open: true };
    let conn: Connection | undefined = await openForNode(ctx, connection, "connection", { readCommitted: true });

    const prepare = async (session: Connection) => {
      let shape = await tableShape(session, c.table, connection.database);
      const wanted = c.columns ?? input.fields.map((f) => f.name);
      if (!shape && c.createTable) {
        await session.query(createTableSql(c.table, wanted, input, c.key));
        shape = await tableShape(session, c.table, connection.database);
      }
      if (!shape) {
        return configError(
          "table",
          `there is no table "${c.table}" in database "${connection.database}"; create it, or turn on Create the table`,
        );
      }
      await session.query(SINK_OFFSETS_DDL);
      // With an open input schema and no column list, every column of the table is written (missing fields: DEFAULT).
      const columns = wanted.length > 0 ? wanted : [...shape.columns.keys()];
      const unknown = columns.filter((col) => !shape.columns.has(col));
      if (unknown.length > 0) {
        configError(
          c.columns ? "columns" : "table",
          `table "${c.table}" has no column ${unknown.map((u) => `"${u}"`).join(", ")}; it has ${[...shape.columns.keys()].join(", ")}`,
        );
      }
      if (c.newerBy !== undefined && !columns.includes(c.newerBy)) {
        configError("newerBy", `"${c.newerBy}" is not among the columns written to table "${c.table}"`);
      }
      if (c.mode === "upsert" && c.key && !shape.uniqueKeys.some((k) => sameColumns(k, c.key!))) {
        configError(
          "key",
          `table "${c.table}" has no primary key or unique index on (${c.key.join(", ")}), which an upsert needs`,
        );
      }
      return { columns, kinds: columns.map((col) => shape.columns.get(col)!) };
    };

    let prepared: Awaited<ReturnType<typeof prepare>>;
    try {
      prepared = await prepare(conn);
    } catch (err) {
      conn.destroy();
      if (err instanceof NodeConfigError) throw err;
      const described = describeMariaDbError(err, connection);
      // The server answered with an error to a CREATE or a look-up: retrying will not change its mind.
      if (isPermanentProblem(described.problem) || isStatementError(err)) configError("table", described.message);
      throw new Error(described.message, { cause: err });
    }
    const { columns, kinds } = prepared;
    const keyColumns = new Set(c.key ?? []);
    const updates = columns.filter((col) => !keyColumns.has(col));
    const insertHead = `INSERT INTO ${quoteTable(c.table)} (${columns.map(quoteId).join(", ")}) VALUES ?`;
    const upsertTail =
      c.mode === "upsert"
        ? ` ON DUPLICATE KEY UPDATE ${upsertAssignments(updates.length > 0 ? updates : [columns[0]!], c.newerBy)}`
        : "";
    const statement = insertHead + upsertTail;
    const row = (r: DataRecord) =>
      columns.map((col, i) => sqlValue(Object.hasOwn(r, col) ? r[col] : undefined, kinds[i]!));

    let progressRow = false;
    const session = async () => {
      conn ??= await openForNode(ctx, connection, "connection", { readCommitted: true });
      return conn;
    };

    /** Writes `rows` (index → row); the ones the table refuses are returned with the server's reason. */
    const insert = async (s: Connection, rows: readonly [number, unknown[]][]): Promise<[number, string][]> => {
      const refused: [number, string][] = [];
      const sample = JSON.stringify(rows.slice(0, 8).map(([, r]) => r)).length / Math.min(rows.length, 8) || 1;
      const perStatement = Math.max(1, Math.min(MAX_ROWS_PER_STATEMENT, Math.floor(STATEMENT_BYTES / sample)));
      for (let i = 0; i < rows.length; i += perStatement) {
        const chunk = rows.slice(i, i + perStatement);
        try {
          await s.query(statement, [chunk.map(([, r]) => r)]);
        } catch (err) {
          if (!isRowError(err)) throw err;
          // InnoDB rolled back only this statement: find the rows at fault one by one.
          for (const [index, r] of chunk) {
            try {
              await s.query(statement, [[r]]);
            } catch (rowErr) {
              if (!isRowError(rowErr)) throw rowErr;
              refused.push([index, sqlErrorText(rowErr)]);
            }
          }
        }
      }
      return refused;
    };

    return {
      async write(records: readonly DataRecord[], batch: BatchInfo, fail?: FailRecord) {
        if (records.length === 0) return;
        const task = sinkTask(ctx);
        const s = await session().catch((err: unknown) => {
          throw new Error(describeMariaDbError(err, connection).message, { cause: err });
        });
        let refused: [number, string][];
        try {
          if (!progressRow) {
            await ensureProgressRow(s, task);
            progressRow = true;
          }
          await s.beginTransaction();
          const before = await lockProgress(s, task, batch.sequence);
          if (before.records === Number.POSITIVE_INFINITY) {
            // A later batch of this partition is already written: this one was too.
            await s.rollback();
            return;
          }
          const skip = Math.min(before.records, records.length);
          const rows: [number, unknown[]][] = [];
          for (let i = skip; i < records.length; i++) rows.push([i, row(records[i]!)]);
          const now = await insert(s, rows);
          refused = [...before.rejected.filter(([i]) => i < skip), ...now];
          if (refused.length > 0 && !fail) {
            // Nothing to hand the refused records to: keep the whole batch uncommitted and say which record.
            await s.rollback();
            const [index, reason] = refused[0]!;
            throw new RecordRejectedError(index, records[index]!, `${c.table}: ${reason}`);
          }
          await saveProgress(s, task, batch, records.length, refused);
          await s.commit();
        } catch (err) {
          if (err instanceof RecordRejectedError) throw err;
          await s.rollback().catch(() => {});
          // A broken session (server gone, connection reset) is replaced on the next attempt.
          conn?.destroy();
          conn = undefined;
          throw new Error(`writing to ${c.table}: ${describeMariaDbError(err, connection).message}`, { cause: err });
        }
        // Only once the rows are committed: a retried attempt would otherwise dead-letter them twice.
        for (const [index, reason] of refused) {
          const record = records[index];
          if (record) fail?.(record, new Error(`${c.table}: ${reason}`));
        }
      },
      async close() {
        await conn?.end().catch(() => conn?.destroy());
        conn = undefined;
      },
    };
  },
};

/**
 * The assignments of ON DUPLICATE KEY UPDATE. With `newerBy`, each one applies only when the incoming value of that
 * column is greater than the stored one (or the stored one is NULL), and that column is assigned last: assignments
 * are evaluated in order and see the columns already assigned.
 */
function upsertAssignments(columns: readonly string[], newerBy: string | undefined): string {
  if (newerBy === undefined) return columns.map((col) => `${quoteId(col)} = VALUES(${quoteId(col)})`).join(", ");
  const v = quoteId(newerBy);
  const newer = `(${v} IS NULL OR ${v} < VALUES(${v}))`;
  const ordered = [...columns.filter((col) => col !== newerBy), newerBy];
  return ordered.map((col) => `${quoteId(col)} = IF(${newer}, VALUES(${quoteId(col)}), ${quoteId(col)})`).join(", ");
}
