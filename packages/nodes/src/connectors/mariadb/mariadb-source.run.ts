import type { DataRecord } from "@sluice/pipeline/record-schema";
import type { Connection, RowDataPacket } from "mysql2/promise";
import { DestinationRefusedError } from "../../destination-policy";
import type {
  RejectedRecord,
  RuntimeContext,
  SourceBatch,
  SourceOffset,
  SourceReader,
  SourceRuntime,
} from "../../runtime-contract";
import { NodeConfigError } from "../../runtime-expressions";
import { type Declared, normaliseDeclared, pickDeclared } from "../files/declared-fields";
import { resolveConnection } from "../files/resolve-connection";
import {
  describeMariaDbError,
  isPermanentProblem,
  openSession,
  quoteId,
  quoteTable,
  recordValue,
  sqlErrorText,
} from "./mariadb-client";
import type { MariaDbConnectionConfig } from "./mariadb-connection.def";
import { mariadbConnection } from "./mariadb-connection.def";
import type { MariaDbSourceConfig } from "./mariadb-source.def";

// Incremental reads by cursor: each read asks for the rows after the last (cursor, tie-breaker) pair, in that order.
// The position is the pair as the server's exact text, plus (bounded mode) the upper bound noted when the partition
// first started and the counts for the progress bar.

const CURSOR = "__sluice_cursor";
const TIE = "__sluice_tie";

export interface MariaDbSourceOffset {
  /** Last cursor value read, as text; null before the first row. */
  c: string | null;
  /** Last tie-breaker value read, as text. */
  t: string | null;
  /** Bounded mode: the highest cursor value when the partition started (null: the table was empty). */
  hi?: string | null;
  /** Rows read so far, and (bounded) rows to read in all. */
  n: number;
  total?: number;
}

function readMariaDbOffset(from: SourceOffset | null): MariaDbSourceOffset | null {
  if (from === null || typeof from !== "object" || Array.isArray(from)) return null;
  const o = from as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === "string" ? v : null);
  return {
    c: text(o.c),
    t: text(o.t),
    ...("hi" in o ? { hi: text(o.hi) } : {}),
    n: typeof o.n === "number" ? o.n : 0,
    ...(typeof o.total === "number" ? { total: o.total } : {}),
  };
}

type ParamKind = "integer" | "decimal" | "text";

function paramKind(dataType: string): ParamKind {
  const t = dataType.toLowerCase();
  if (["tinyint", "smallint", "mediumint", "int", "integer", "bigint", "year"].includes(t)) return "integer";
  if (["decimal", "numeric", "float", "double", "real"].includes(t)) return "decimal";
  return "text";
}

/** A cursor value as a query parameter of the column's kind, so comparisons stay exact and use the index. */
function param(kind: ParamKind, text: string): unknown {
  if (kind === "integer") return BigInt(text);
  return text;
}

function placeholder(kind: ParamKind): string {
  return kind === "decimal" ? "CAST(? AS DECIMAL(65,30))" : "?";
}

interface Plan {
  table: string;
  cursor: string;
  cursorKind: ParamKind;
  tie: string | undefined;
  tieKind: ParamKind;
  select: string;
  filters: string[];
  filterParams: unknown[];
}

/** The WHERE clause that selects rows after `offset` (and up to the bound), with its parameters. */
function afterClause(plan: Plan, offset: MariaDbSourceOffset): { sql: string; params: unknown[] } {
  const parts = [...plan.filters];
  const params = [...plan.filterParams];
  const c = quoteId(plan.cursor);
  const pc = placeholder(plan.cursorKind);
  parts.push(`${c} IS NOT NULL`);
  if (offset.c !== null) {
    if (plan.tie !== undefined && offset.t !== null) {
      // c >= :c AND (c > :c OR tie > :t): a range on the cursor's index, then the seam.
      const pt = placeholder(plan.tieKind);
      parts.push(`${c} >= ${pc} AND (${c} > ${pc} OR ${quoteId(plan.tie)} > ${pt})`);
      params.push(param(plan.cursorKind, offset.c), param(plan.cursorKind, offset.c), param(plan.tieKind, offset.t));
    } else {
      parts.push(`${c} > ${pc}`);
      params.push(param(plan.cursorKind, offset.c));
    }
  }
  if (offset.hi !== undefined && offset.hi !== null) {
    parts.push(`${c} <= ${pc}`);
    params.push(param(plan.cursorKind, offset.hi));
  }
  return { sql: parts.map((p) => `(${p})`).join(" AND "), params };
}

function fail(ctx: RuntimeContext<unknown>, path: string, message: string): never {
  throw new NodeConfigError(ctx.nodeId, path, message);
}

async function columnTypes(conn: Connection, table: string, database: string): Promise<Map<string, string>> {
  const dot = table.indexOf(".");
  const schema = dot < 0 ? database : table.slice(0, dot);
  const name = dot < 0 ? table : table.slice(dot + 1);
  const [rows] = await conn.query<RowDataPacket[]>(
    "SELECT COLUMN_NAME AS c, DATA_TYPE AS d FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
    [schema, name],
  );
  return new Map(rows.map((r) => [String(r.c), String(r.d)]));
}

/** Opens a session; a refused password or a missing database fails the run, an unreachable server is retried. */
export async function openForNode(
  ctx: RuntimeContext<{ connection: string }>,
  connection: MariaDbConnectionConfig,
  field = "connection",
  options: { readCommitted?: boolean } = {},
): Promise<Connection> {
  try {
    return await openSession(connection, ctx.services.destinations.for(ctx.config.connection), options);
  } catch (err) {
    // A refused destination fails the run, whether it opens now or reconnects in the middle of a batch.
    if (err instanceof DestinationRefusedError) {
      throw new DestinationRefusedError(`node ${ctx.nodeId} ${field}: ${err.message}`);
    }
    const described = describeMariaDbError(err, connection);
    if (isPermanentProblem(described.problem)) fail(ctx, field, described.message);
    throw new Error(described.message, { cause: err });
  }
}

export const mariadbSourceRuntime: SourceRuntime<MariaDbSourceConfig> = {
  kind: "source",
  type: "source.mariadb",
  async open(ctx, from): Promise<SourceReader> {
    const c = ctx.config;
    const connection = resolveConnection(ctx as RuntimeContext<unknown>, c.connection, mariadbConnection);
    // Without a split column only the first partition reads.
    if (ctx.partition > 0 && c.partitionColumn === undefined) {
      return {
        async read() {
          return { records: [], offset: null, end: true };
        },
        async close() {},
      };
    }
    let conn: Connection | undefined = await openForNode(ctx, connection);
    const types = await columnTypes(conn, c.table, connection.database);
    if (types.size === 0) {
      conn.destroy();
      fail(
        ctx,
        "table",
        `there is no table "${c.table}" in database "${connection.database}" (or the user may not see it)`,
      );
    }
    const missing = [c.cursor, c.tiebreaker, c.partitionColumn].filter(
      (col): col is string => col !== undefined && !types.has(col),
    );
    const declared: Declared[] | undefined = normaliseDeclared(c.columns, "json");
    for (const d of declared ?? []) if (!types.has(d.name)) missing.push(d.name);
    if (missing.length > 0) {
      conn.destroy();
      fail(
        ctx,
        "columns",
        `table "${c.table}" has no column ${missing.map((m) => `"${m}"`).join(", ")}; it has ${[...types.keys()].join(", ")}`,
      );
    }

    const filters: string[] = [];
    const filterParams: unknown[] = [];
    if (c.where !== undefined && c.where.trim() !== "") filters.push(c.where);
    if (c.partitionColumn !== undefined) {
      filters.push(`MOD(CRC32(${quoteId(c.partitionColumn)}), ?) = ?`);
      filterParams.push(ctx.partitions, ctx.partition);
    }
    const columns = declared ? declared.map((d) => quoteId(d.name)).join(", ") : "*";
    const plan: Plan = {
      table: quoteTable(c.table),
      cursor: c.cursor,
      cursorKind: paramKind(types.get(c.cursor)!),
      tie: c.tiebreaker,
      tieKind: c.tiebreaker !== undefined ? paramKind(types.get(c.tiebreaker)!) : "text",
      select: [
        columns,
        `CAST(${quoteId(c.cursor)} AS CHAR) AS ${CURSOR}`,
        ...(c.tiebreaker !== undefined ? [`CAST(${quoteId(c.tiebreaker)} AS CHAR) AS ${TIE}`] : []),
      ].join(", "),
      filters,
      filterParams,
    };
    const order = [c.cursor, ...(c.tiebreaker !== undefined ? [c.tiebreaker] : [])].map(quoteId).join(", ");

    const session = async (): Promise<Connection> => {
      conn ??= await openForNode(ctx, connection);
      return conn;
    };
    const query = async <T extends RowDataPacket[]>(sql: string, params: unknown[]): Promise<T> => {
      try {
        const [rows] = await (await session()).query<T>(sql, params);
        return rows;
      } catch (err) {
        // The server went away or the session broke: start a new one on the next attempt.
        conn?.destroy();
        conn = undefined;
        throw new Error(`reading ${c.table}: ${sqlErrorText(err)}`, { cause: err });
      }
    };

    let offset = readMariaDbOffset(from) ?? { c: null, t: null, n: 0 };
    if (c.mode === "bounded" && offset.hi === undefined) {
      const where = afterClause(plan, { c: null, t: null, n: 0 });
      const [row] = await query<RowDataPacket[]>(
        `SELECT CAST(MAX(${quoteId(c.cursor)}) AS CHAR) AS hi, COUNT(*) AS n FROM ${plan.table} WHERE ${where.sql}`,
        where.params,
      );
      offset = { ...offset, hi: row?.hi ?? null, total: Number(row?.n ?? 0) };
    }
    const ended = () => c.mode === "bounded" && (offset.hi === null || offset.hi === undefined);
    const pollMs = ctx.mode === "preview" ? 0 : c.pollInterval;

    return {
      readAhead: true,
      async read(max): Promise<SourceBatch> {
        if (ended()) return { records: [], offset: offset as unknown as SourceOffset, end: true };
        const where = afterClause(plan, offset);
        const rows = await query<RowDataPacket[]>(
          `SELECT ${plan.select} FROM ${plan.table} WHERE ${where.sql} ORDER BY ${order} LIMIT ?`,
          [...where.params, Math.max(1, max)],
        );
        const records: DataRecord[] = [];
        const rejected: RejectedRecord[] = [];
        for (const row of rows) {
          const raw: DataRecord = {};
          for (const key in row) if (key !== CURSOR && key !== TIE) raw[key] = recordValue(row[key]);
          try {
            records.push(declared ? pickDeclared(raw, declared, true) : raw);
          } catch (err) {
            const error = err instanceof Error ? err.message : String(err);
            rejected.push({ record: { table: c.table, cursor: row[CURSOR], row: raw }, error });
            ctx.log.warn("row refused", { table: c.table, cursor: row[CURSOR], error });
          }
        }
        const last = rows.at(-1);
        if (last) {
          offset = {
            ...offset,
            c: String(last[CURSOR]),
            t: c.tiebreaker !== undefined ? String(last[TIE]) : null,
            n: offset.n + rows.length,
          };
        }
        const end = c.mode === "bounded" && rows.length < max;
        return {
          records,
          offset: offset as unknown as SourceOffset,
          end,
          ...(rejected.length > 0 ? { rejected } : {}),
          ...(rows.length === 0 && !end ? { idleMs: pollMs } : {}),
          ...(offset.total !== undefined
            ? { progress: { done: offset.n, total: Math.max(offset.total, offset.n) } }
            : {}),
        };
      },
      async close() {
        await conn?.end().catch(() => conn?.destroy());
        conn = undefined;
      },
    };
  },
};
