import type { DataRecord } from "@sluice/pipeline/record-schema";
import pg from "pg";
import { DestinationRefusedError } from "../../destination-policy";
import { copyWithout, RecordError } from "../../record-fields";
import type { Emit, PortRecord, TransformRuntime } from "../../runtime-contract";
import { NodeConfigError } from "../../runtime-expressions";
import { GroupKey } from "../../stateful/group-key";
import { convertDeclared, type Declared, normaliseDeclared } from "../files/declared-fields";
import { LruCache } from "./lru-cache";
import { clientConfig, nodeConnection, nodeDestinations, pgDestination } from "./pg-client";
import { describeConnectError, isConnectionError } from "./pg-errors";
import { type ColumnType, columnWriter } from "./pg-types";
import type { PostgresLookupConfig } from "./postgres-lookup.def";
import { quoteIdent, quoteTable } from "./sql-names";

// transform.lookup at run time: a batch's distinct uncached keys are read in few queries, joined against the key
// lists passed as arrays (`unnest($1::text[], …) WITH ORDINALITY`), so each answer row says which key it answers.
// Server-only.

type Row = Record<string, unknown>;

interface KeyColumn {
  name: string;
  /** The column's type as SQL, for the cast of the key text. */
  type: string;
  write: (value: unknown) => string | null;
}

const ORDINAL = "__sluice_key";

export const postgresLookupRuntime: TransformRuntime<PostgresLookupConfig> = {
  kind: "transform",
  type: "transform.lookup",
  create(ctx) {
    const c = ctx.config;
    const conn = nodeConnection(ctx);
    const columns = Object.keys(c.key);
    const key = new GroupKey(
      ctx,
      "in",
      columns.map((col) => c.key[col]!),
      "key",
    );
    const declared: Declared[] = normaliseDeclared(c.fields, "json") ?? [];
    const prefix = c.prefix ?? "";
    const cache = new LruCache<Row | null>(c.cache.size, c.cache.ttl);
    let pool: Promise<pg.Pool> | undefined;
    let keyColumns: KeyColumn[] | undefined;

    // The operator contract has no close hook yet: idle connections end themselves after 10 s.
    // The host is resolved and checked once; the pool's connections all go to that address. A refused destination
    // (DestinationRefusedError) fails the run; a name that does not resolve is tried again with the next batch.
    const openPool = async () => {
      const p = new pg.Pool({
        ...clientConfig(conn, await pgDestination(conn, nodeDestinations(ctx)), {
          applicationSuffix: ` ${ctx.nodeId}`,
        }),
        max: 2,
        idleTimeoutMillis: 10_000,
        allowExitOnIdle: true,
      });
      // An idle connection the server drops: the pool replaces it; the next query reports any lasting failure.
      p.on("error", () => {});
      return p;
    };
    const getPool = () => {
      pool ??= openPool().catch((err: unknown) => {
        pool = undefined;
        throw err;
      });
      return pool;
    };

    const query = async <R extends pg.QueryResultRow>(text: string, values: unknown[]) => {
      try {
        return await (await getPool()).query<R>(text, values);
      } catch (err) {
        if (err instanceof DestinationRefusedError) throw err;
        if (isConnectionError(err) || (err as { code?: string }).code === undefined) {
          throw new Error(`cannot look rows up in ${c.table}: ${describeConnectError(err, conn).message}`, {
            cause: err,
          });
        }
        const code = (err as { code?: string }).code;
        if (code === "42P01" || code === "42703" || code === "42501" || code === "28P01" || code === "3D000") {
          throw new NodeConfigError(
            ctx.nodeId,
            code === "42703" ? "fields" : "table",
            `${c.table}: ${(err as Error).message}`,
          );
        }
        throw err;
      }
    };

    const describeKeys = async (): Promise<KeyColumn[]> => {
      if (keyColumns) return keyColumns;
      const { rows } = await query<ColumnType & { json: boolean }>(
        `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, t.typcategory AS category,
                t.typname IN ('json', 'jsonb') AS json
           FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
          WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = ANY($2::text[])`,
        [quoteTable(c.table), columns],
      );
      const byName = new Map(rows.map((r) => [r.name, r]));
      if (rows.length === 0) {
        throw new NodeConfigError(
          ctx.nodeId,
          "table",
          `table ${c.table} does not exist in database "${conn.database}"`,
        );
      }
      keyColumns = columns.map((name) => {
        const col = byName.get(name);
        if (!col) throw new NodeConfigError(ctx.nodeId, `key.${name}`, `table ${c.table} has no column "${name}"`);
        return { name, type: col.type, write: columnWriter(col) };
      });
      return keyColumns;
    };

    /**
     * The rows of `keys` (a miss is null, a row whose values do not fit the declared types an Error), also put in the
     * cache (errors are not cached).
     */
    const fetch = async (keys: readonly { text: string; values: unknown[] }[], now: number) => {
      const cols = await describeKeys();
      const select = declared.map((d) => `t.${quoteIdent(d.name)}`).join(", ");
      const unnest = cols.map((_, i) => `$${i + 1}::text[]`).join(", ");
      const alias = cols.map((_, i) => `k${i}`).join(", ");
      const on = cols.map((col, i) => `t.${quoteIdent(col.name)} = u.k${i}::${col.type}`).join(" AND ");
      const sql = `SELECT DISTINCT ON (u.${ORDINAL}) u.${ORDINAL}, ${select}
        FROM unnest(${unnest}) WITH ORDINALITY AS u(${alias}, ${ORDINAL})
        JOIN ${quoteTable(c.table)} t ON ${on}
        ORDER BY u.${ORDINAL}`;
      const results = new Map<string, Row | null | Error>();
      for (let start = 0; start < keys.length; start += c.batchKeys) {
        const chunk = keys.slice(start, start + c.batchKeys);
        const arrays = cols.map((col, i) => chunk.map((k) => col.write(k.values[i])));
        const { rows } = await query<Row>(sql, arrays);
        const found = new Map<number, Row>();
        for (const row of rows) found.set(Number(row[ORDINAL]) - 1, row);
        chunk.forEach((k, i) => {
          const row = found.get(i);
          if (!row) {
            results.set(k.text, null);
            cache.set(k.text, null, now);
            return;
          }
          try {
            const added: Row = {};
            for (const d of declared) added[`${prefix}${d.name}`] = convertDeclared(d, row[d.name], false);
            results.set(k.text, added);
            cache.set(k.text, added, now);
          } catch (err) {
            results.set(k.text, err instanceof Error ? err : new Error(String(err)));
          }
        });
      }
      return results;
    };

    const addedNames = new Set(declared.map((d) => `${prefix}${d.name}`));
    const input = ctx.inputs.in;
    // Added fields go last (as the schema says): an input field of the same name is taken out first.
    const clash = input === undefined || input.open || input.fields.some((f) => addedNames.has(f.name));
    const base = (record: DataRecord): DataRecord => (clash ? copyWithout(record, addedNames) : { ...record });

    return {
      async processBatch(
        records: readonly PortRecord[],
        emit: Emit,
        fail: (record: DataRecord, error: unknown) => void,
      ) {
        const now = Date.now();
        const keys: ({ text: string; values: unknown[] } | null | Error)[] = new Array(records.length);
        const wanted = new Map<string, { text: string; values: unknown[] }>();
        const results = new Map<string, Row | null | Error>();
        for (let i = 0; i < records.length; i++) {
          try {
            const values = key.values(records[i]!.record);
            if (values.some((v) => v === null)) {
              keys[i] = null;
              continue;
            }
            const text = JSON.stringify(values);
            keys[i] = { text, values };
            if (results.has(text) || wanted.has(text)) continue;
            const hit = cache.get(text, now);
            if (hit) results.set(text, hit.value);
            else wanted.set(text, { text, values });
          } catch (err) {
            keys[i] = err instanceof Error ? err : new Error(String(err));
          }
        }
        if (wanted.size > 0) {
          for (const [text, result] of await fetch([...wanted.values()], now)) results.set(text, result);
        }
        for (let i = 0; i < records.length; i++) {
          const { record } = records[i]!;
          const k = keys[i];
          if (k instanceof Error) {
            fail(record, new RecordError("key", k.message, { cause: k }));
            continue;
          }
          const row = k ? results.get(k.text) : null;
          if (row instanceof Error) {
            fail(record, new RecordError("fields", row.message, { cause: row }));
            continue;
          }
          if (row === undefined || row === null) {
            if (c.onMissing === "drop") continue;
            if (c.onMissing === "error") {
              fail(
                record,
                new RecordError(
                  "key",
                  `no row of ${c.table} has ${columns.map((col, j) => `${col} = ${JSON.stringify(k ? k.values[j] : null)}`).join(" AND ")}`,
                ),
              );
              continue;
            }
            const out = base(record);
            for (const name of addedNames) out[name] = null;
            emit(out);
            continue;
          }
          emit(Object.assign(base(record), row));
        }
      },
    };
  },
};
