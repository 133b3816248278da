import type { DataRecord } from "@sluice/pipeline/record-schema";
import type {
  JsonValue,
  RejectedRecord,
  RuntimeContext,
  SourceBatch,
  SourceOffset,
  SourceReader,
  SourceRuntime,
} from "../../runtime-contract";
import { type Declared, normaliseDeclared, pickDeclared } from "../files/declared-fields";
import {
  CURSOR_TEXT,
  type CursorPosition,
  type CursorQueryShape,
  type CursorSql,
  countSql,
  groupSql,
  lastSql,
  maxSql,
  probeSql,
  readSql,
  TIE_TEXT,
} from "./cursor-query";
import { configErrorFor, connectForNode, nodeConnection, type Session } from "./pg-client";
import { describeConnectError, isConnectionError } from "./pg-errors";
import type { PostgresSourceConfig } from "./postgres-source.def";

// The position of source.postgres in one partition: the last row read (cursor and tie-breaker as text), how many
// rows were read, and for a bounded read the last row to read and how many that makes.
export interface QueryOffset {
  after: CursorPosition | null;
  done: number;
  bound?: CursorPosition | null;
  total?: number;
}

function position(value: unknown): CursorPosition | null {
  if (value === null || typeof value !== "object") return null;
  const { c, t } = value as { c?: unknown; t?: unknown };
  return typeof c === "string" ? { c, t: typeof t === "string" ? t : null } : null;
}

function readQueryOffset(offset: SourceOffset | null): QueryOffset | null {
  if (offset === null || typeof offset !== "object" || Array.isArray(offset)) return null;
  const o = offset as Record<string, JsonValue>;
  const done = typeof o.done === "number" && o.done >= 0 ? o.done : 0;
  const read: QueryOffset = { after: position(o.after), done };
  if ("bound" in o) read.bound = position(o.bound);
  if (typeof o.total === "number") read.total = o.total;
  return read;
}

function offsetJson(o: QueryOffset): SourceOffset {
  return {
    after: o.after as unknown as JsonValue,
    done: o.done,
    ...(o.bound !== undefined ? { bound: o.bound as unknown as JsonValue } : {}),
    ...(o.total !== undefined ? { total: o.total } : {}),
  };
}

/** The highest cursor value seen at least `settle` ms ago: rows up to it have had that long to commit. */
class SettleFrontier {
  private readonly samples: { at: number; value: string | null }[] = [];
  constructor(private readonly settleMs: number) {}
  add(at: number, value: string | null): void {
    this.samples.push({ at, value });
  }
  /** undefined: nothing has settled yet; null: settled, and the table was empty then. */
  settled(now: number): string | null | undefined {
    let found: string | null | undefined;
    while (this.samples.length > 0 && this.samples[0]!.at <= now - this.settleMs) {
      found = this.samples.shift()!.value;
    }
    if (found !== undefined) this.samples.unshift({ at: now - this.settleMs, value: found });
    return found;
  }
}

const ENDED: SourceReader = {
  async read() {
    return { records: [], offset: null, end: true };
  },
  async close() {},
};

function shapeOf(
  ctx: RuntimeContext<PostgresSourceConfig>,
  declared: readonly Declared[] | undefined,
): CursorQueryShape {
  const c = ctx.config;
  return {
    table: c.table,
    query: c.query,
    cursor: c.cursor,
    tieBreaker: c.tieBreaker,
    columns: declared?.map((d) => d.name),
    partitionBy: c.partitionBy,
    partition: ctx.partition,
    partitions: ctx.partitions,
    from: c.cursorFrom,
    to: c.cursorTo,
  };
}

function toRecord(row: Record<string, unknown>): DataRecord {
  const out: DataRecord = {};
  for (const key in row) if (key !== CURSOR_TEXT && key !== TIE_TEXT) out[key] = row[key];
  return out;
}

export const postgresSourceRuntime: SourceRuntime<PostgresSourceConfig> = {
  kind: "source",
  type: "source.postgres",
  async open(ctx, from) {
    const c = ctx.config;
    if (c.partitionBy === undefined && ctx.partition !== 0) return ENDED;
    const declared = normaliseDeclared(c.columns, "string");
    const shape = shapeOf(ctx, declared);
    const conn = nodeConnection(ctx);
    const where = `${conn.host}:${conn.port}`;
    const preview = ctx.mode === "preview";
    const bounded = c.mode === "bounded";
    const batchSize = c.batchSize;

    let session: Session = await connectForNode(ctx, { applicationSuffix: ` ${ctx.nodeId}` });
    const run = async (sql: CursorSql) => {
      try {
        return (await session.client.query(sql.text, sql.values)).rows as Record<string, unknown>[];
      } catch (err) {
        if (session.broken || isConnectionError(err)) {
          throw new Error(`lost the connection to PostgreSQL: ${describeConnectError(err, conn).message}`, {
            cause: err,
          });
        }
        throw err;
      }
    };

    try {
      await run(probeSql(shape));
    } catch (err) {
      await session.end();
      const what = c.table !== undefined ? `table ${c.table}` : "the query";
      configErrorFor(ctx, (err as { cause?: unknown }).cause ?? err, {
        "42P01": {
          path: c.table !== undefined ? "table" : "query",
          message: `${c.table !== undefined ? `table ${c.table} does not exist` : (err as Error).message} in database "${conn.database}"`,
        },
        "42703": {
          path: "cursor",
          message: `${(err as Error).message} in ${what} (check cursor, tieBreaker, partitionBy and columns)`,
        },
        "42501": { path: "connection", message: `permission denied: ${(err as Error).message}` },
        "42601": { path: "query", message: `the query does not parse: ${(err as Error).message}` },
        "42883": { path: "query", message: (err as Error).message },
        // A cursor bound PostgreSQL cannot read as the cursor column's type.
        ...Object.fromEntries(
          ["22P02", "22007", "22008", "22003"].map((code) => [
            code,
            {
              path: c.cursorFrom !== undefined ? "cursorFrom" : "cursorTo",
              message: `the cursor bounds do not fit column ${c.cursor}: ${(err as Error).message}`,
            },
          ]),
        ),
      });
    }

    const state: QueryOffset = readQueryOffset(from) ?? { after: null, done: 0 };
    if (bounded && state.bound === undefined) {
      // The bound is part of the position: a replay after a crash ends at the same row as the first attempt.
      const last = await run(lastSql(shape));
      state.bound = last[0]
        ? { c: String(last[0][CURSOR_TEXT]), t: (last[0][TIE_TEXT] as string | undefined) ?? null }
        : null;
      if (state.bound && !preview) {
        const counted = await run(countSql(shape, state.bound));
        state.total = Number(counted[0]?.n ?? 0);
      }
    }
    let ended = bounded && state.bound === null;
    const frontier = !bounded && c.settle > 0 && !preview ? new SettleFrontier(c.settle) : undefined;
    ctx.log.info("reading PostgreSQL", {
      where,
      table: c.table ?? "query",
      mode: c.mode,
      after: state.after?.c ?? null,
    });

    const batch = (records: DataRecord[], rejected: RejectedRecord[], end: boolean): SourceBatch => {
      const progress =
        bounded && state.total !== undefined
          ? { done: Math.min(state.done, state.total), total: state.total }
          : undefined;
      return {
        records,
        offset: offsetJson(state),
        end,
        ...(progress ? { progress } : {}),
        ...(rejected.length > 0 ? { rejected } : {}),
        ...(!end && records.length === 0 ? { idleMs: c.pollInterval } : {}),
      };
    };

    return {
      readAhead: true,
      async read(max): Promise<SourceBatch> {
        if (ended) return batch([], [], true);
        let upTo: CursorPosition | null = bounded ? (state.bound ?? null) : null;
        if (frontier) {
          const now = Date.now();
          const [row] = await run(maxSql(shape));
          frontier.add(now, (row?.[CURSOR_TEXT] as string | null | undefined) ?? null);
          const settled = frontier.settled(now);
          if (settled === undefined || settled === null) return batch([], [], false);
          upTo = { c: settled, t: null };
        }
        const limit = Math.max(1, Math.min(max, batchSize));
        const tie = c.tieBreaker !== undefined;
        let rows = await run(readSql(shape, state.after, upTo, limit));
        let complete = rows.length < limit;
        if (!tie && rows.length === limit) {
          // Never end a batch inside a group of equal cursor values: the rest of the group would be skipped.
          const last = String(rows[rows.length - 1]![CURSOR_TEXT]);
          let cut = rows.length;
          while (cut > 0 && String(rows[cut - 1]![CURSOR_TEXT]) === last) cut--;
          if (cut > 0) rows = rows.slice(0, cut);
          else rows = await run(groupSql(shape, last));
          complete = false;
        }
        const records: DataRecord[] = [];
        const rejected: RejectedRecord[] = [];
        for (const row of rows) {
          const record = toRecord(row);
          if (declared) {
            try {
              records.push(pickDeclared(record, declared, false));
            } catch (err) {
              const error = err instanceof Error ? err.message : String(err);
              rejected.push({ record: { ...record, _cursor: row[CURSOR_TEXT] }, error });
              ctx.log.warn("a row does not fit the declared columns; skipped", { error, cursor: row[CURSOR_TEXT] });
            }
          } else {
            records.push(record);
          }
        }
        const lastRow = rows[rows.length - 1];
        if (lastRow) {
          state.after = { c: String(lastRow[CURSOR_TEXT]), t: tie ? String(lastRow[TIE_TEXT]) : null };
          state.done += rows.length;
        }
        if (bounded && complete) ended = true;
        if (preview && complete) ended = true;
        return batch(records, rejected, ended);
      },
      async close() {
        await session.end();
        session = undefined as unknown as Session;
      },
    };
  },
};
