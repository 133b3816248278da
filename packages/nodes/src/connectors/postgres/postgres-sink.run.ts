import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { DataRecord } from "@sluice/pipeline/record-schema";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { reduceByKey } from "../../newest-wins";
import type { BatchInfo, RuntimeContext, SinkRuntime } from "../../runtime-contract";
import { type FailRecord, RecordRejectedError, type SinkWriter } from "../../runtime-contract";
import { NodeConfigError } from "../../runtime-expressions";
import { planChanges } from "./change-apply";
import { copyLine } from "./copy-text";
import { connect, connectForNode, nodeConnection, nodeDestinations, type Session } from "./pg-client";
import { describeConnectError, isConnectionError, isRecordError, pgErrorText } from "./pg-errors";
import { type PostgresSinkConfig, rowFields, sinkExactlyOnce } from "./postgres-sink.def";
import { quoteIdent, quoteTable } from "./sql-names";
import {
  createOnce,
  createTableSql,
  describeTable,
  hasUniqueKey,
  OFFSETS_TABLE,
  offsetsTableSql,
  type TargetColumn,
  type TargetTable,
} from "./target-table";

// sink.postgres at run time: one session per partition, one transaction per batch. The fast path writes the whole
// batch (COPY or multi-row statements); when the table refuses a record, the batch is rolled back and written
// again with each half under a savepoint, halving until the refused records are found; only they are dead-lettered
// and the rest of the batch is written. Server-only.

/** PostgreSQL takes at most 65,535 parameters per statement. */
const MAX_PARAMETERS = 65_535;
const MAX_ROWS_PER_STATEMENT = 1000;
const COPY_CHUNK_CHARS = 256 * 1024;
/** The target table's name in an upsert that keeps the newest row (its WHERE compares the stored row). */
const NEWEST_ALIAS = "sluice_stored";

interface Item {
  /** Index of the record in the batch. */
  index: number;
  row: Record<string, unknown>;
}

interface Prepared {
  index: number;
  values: (string | null)[];
}

/** Rows that have the same columns: one statement shape. */
interface RowGroup {
  columns: TargetColumn[];
  rows: Prepared[];
}

interface Refused {
  index: number;
  error: string;
}

type Step = { kind: "insert" | "upsert"; group: RowGroup } | { kind: "delete"; rows: Prepared[] };

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}

export class TableWriter {
  private session: Session | undefined;
  private warnedFields = false;
  private readonly exactlyOnce: boolean;
  private readonly keyColumns: TargetColumn[];
  private readonly offsets: string;
  private readonly sinkId: string;

  private constructor(
    private readonly ctx: RuntimeContext<PostgresSinkConfig>,
    session: Session,
    private readonly table: TargetTable,
  ) {
    this.session = session;
    const c = ctx.config;
    this.exactlyOnce = sinkExactlyOnce(c);
    this.keyColumns = c.key.map((k) => table.columns.get(k)!);
    this.offsets = quoteTable({ schema: table.schema, name: OFFSETS_TABLE });
    this.sinkId = `${ctx.runId}/${ctx.nodeId}`;
  }

  static async open(ctx: RuntimeContext<PostgresSinkConfig>): Promise<TableWriter> {
    const c = ctx.config;
    const session = await connectForNode(ctx, { applicationSuffix: ` ${ctx.nodeId}` });
    try {
      let table = await describeTable(session.client, c.table);
      if (!table && c.createTable) {
        const fields = rowFields(c, ctx.inputs.in ?? { fields: [], open: true });
        if (!fields || fields.length === 0) {
          throw new NodeConfigError(
            ctx.nodeId,
            "createTable",
            "cannot create the table: the input's fields are not known",
          );
        }
        await createOnce(session.client, c.table, createTableSql(c.table, fields, c.key)).catch((err) =>
          configError(ctx, err, "createTable", `cannot create table ${c.table}`),
        );
        ctx.log.info("created the table", { table: c.table });
        table = await describeTable(session.client, c.table);
      }
      const conn = nodeConnection(ctx);
      if (!table) {
        throw new NodeConfigError(
          ctx.nodeId,
          "table",
          `table ${c.table} does not exist in database "${conn.database}"; create it, or set createTable: true`,
        );
      }
      c.key.forEach((k, i) => {
        if (!table.columns.has(k)) {
          throw new NodeConfigError(ctx.nodeId, `key.${i}`, `table ${c.table} has no column "${k}"`);
        }
      });
      if (c.newerBy !== undefined && !table.columns.has(c.newerBy)) {
        throw new NodeConfigError(
          ctx.nodeId,
          "newerBy",
          `table ${c.table} has no column "${c.newerBy}" to keep the newest by`,
        );
      }
      if ((c.mode === "upsert" || c.mode === "cdc") && !hasUniqueKey(table, c.key)) {
        throw new NodeConfigError(
          ctx.nodeId,
          "key",
          `table ${c.table} has no primary key or unique index on exactly (${c.key.join(", ")}), which ${c.mode} needs: CREATE UNIQUE INDEX ON ${table.sql} (${c.key.map(quoteIdent).join(", ")})`,
        );
      }
      if (sinkExactlyOnce(c)) {
        await createOnce(session.client, `${table.schema}.${OFFSETS_TABLE}`, offsetsTableSql(table.schema)).catch(
          (err) =>
            configError(ctx, err, "exactlyOnce", `cannot create the progress table ${table.schema}.${OFFSETS_TABLE}`),
        );
      }
      return new TableWriter(ctx, session, table);
    } catch (err) {
      await session.end();
      throw err;
    }
  }

  private async client(): Promise<pg.Client> {
    if (this.session && !this.session.broken) return this.session.client;
    await this.session?.end();
    this.session = undefined;
    const conn = nodeConnection(this.ctx);
    this.session = await connect(conn, nodeDestinations(this.ctx), { applicationSuffix: ` ${this.ctx.nodeId}` });
    return this.session.client;
  }

  private lost(err: unknown): Error {
    const conn = nodeConnection(this.ctx);
    void this.session?.end();
    this.session = undefined;
    return new Error(`lost the connection to PostgreSQL: ${describeConnectError(err, conn).message}`, { cause: err });
  }

  /** Writes the batch; a record the table refuses is dead-lettered through `fail` when given, else thrown. */
  async write(records: readonly DataRecord[], batch: BatchInfo, fail?: FailRecord): Promise<void> {
    if (records.length === 0) return;
    const client = await this.client();
    try {
      await this.writeWith(client, records, batch, fail);
    } catch (err) {
      if (this.session?.broken || isConnectionError(err)) throw this.lost(err);
      throw err;
    }
  }

  private async writeWith(
    client: pg.Client,
    records: readonly DataRecord[],
    batch: BatchInfo,
    fail: FailRecord | undefined,
  ): Promise<void> {
    const { steps, truncate, refused } = this.plan(records);
    const finish = async (all: Refused[]) => {
      if (all.length > 0 && !fail) {
        await client.query("ROLLBACK");
        throw this.rejection(records, all);
      }
      if (this.exactlyOnce && all.length > 0) {
        await client.query(`UPDATE ${this.offsets} SET rejected = $3 WHERE sink_id = $1 AND partition = $2`, [
          this.sinkId,
          this.ctx.partition,
          JSON.stringify(all),
        ]);
      }
      await client.query("COMMIT");
      for (const r of all) fail?.(records[r.index]!, new Error(r.error));
    };

    if (refused.length > 0 && !fail) throw this.rejection(records, refused);
    await client.query("BEGIN");
    try {
      if (!(await this.claim(client, batch, records, fail))) return;
      if (truncate) await client.query(`DELETE FROM ${this.table.sql}`);
      for (const step of steps) await this.apply(client, step, true);
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      if (!isRecordError(err)) throw err;
      return await this.isolate(client, records, batch, fail, steps, truncate, refused, finish);
    }
    await finish(refused);
  }

  /** The batch again, each step halved under savepoints until the refused records are found. */
  private async isolate(
    client: pg.Client,
    records: readonly DataRecord[],
    batch: BatchInfo,
    fail: FailRecord | undefined,
    steps: Step[],
    truncate: boolean,
    refused: Refused[],
    finish: (all: Refused[]) => Promise<void>,
  ): Promise<void> {
    const found: Refused[] = [...refused];
    await client.query("BEGIN");
    try {
      if (!(await this.claim(client, batch, records, fail))) return;
      if (truncate) await client.query(`DELETE FROM ${this.table.sql}`);
      for (const step of steps) await this.bisect(client, step, found);
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      throw err;
    }
    found.sort((a, b) => a.index - b.index);
    await finish(found);
  }

  private async bisect(client: pg.Client, step: Step, found: Refused[]): Promise<void> {
    const rows = step.kind === "delete" ? step.rows : step.group.rows;
    if (rows.length === 0) return;
    await client.query("SAVEPOINT sluice_rows");
    try {
      await this.apply(client, step, false);
      await client.query("RELEASE SAVEPOINT sluice_rows");
      return;
    } catch (err) {
      await client.query("ROLLBACK TO SAVEPOINT sluice_rows");
      await client.query("RELEASE SAVEPOINT sluice_rows");
      if (!isRecordError(err)) throw err;
      if (rows.length === 1) {
        const column = (err as { column?: string }).column;
        found.push({ index: rows[0]!.index, error: `${pgErrorText(err)}${column ? ` (column ${column})` : ""}` });
        return;
      }
    }
    const half = Math.ceil(rows.length / 2);
    for (const part of [rows.slice(0, half), rows.slice(half)]) {
      await this.bisect(
        client,
        step.kind === "delete" ? { kind: "delete", rows: part } : { ...step, group: { ...step.group, rows: part } },
        found,
      );
    }
  }

  private rejection(records: readonly DataRecord[], refused: Refused[]): RecordRejectedError {
    const first = refused[0]!;
    const more = refused.length > 1 ? ` (and ${refused.length - 1} more record(s) of the batch)` : "";
    return new RecordRejectedError(
      first.index,
      records[first.index]!,
      `table ${this.ctx.config.table}: ${first.error}${more} — record ${show(records[first.index])}`,
    );
  }

  /**
   * Exactly-once: takes this batch's place in the progress table, or finds it taken — the batch was written
   * before (then the refused records stored with it are reported again, since the engine's commit of them may be
   * what was lost). A concurrent writer of the same batch waits on the row lock and then finds it taken.
   */
  private async claim(
    client: pg.Client,
    batch: BatchInfo,
    records: readonly DataRecord[],
    fail: FailRecord | undefined,
  ): Promise<boolean> {
    if (!this.exactlyOnce) return true;
    const claimed = await client.query(
      `INSERT INTO ${this.offsets} AS o (sink_id, partition, run_started_at, sequence, batch_id)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (sink_id, partition) DO UPDATE
         SET run_started_at = EXCLUDED.run_started_at, sequence = EXCLUDED.sequence, batch_id = EXCLUDED.batch_id,
             rejected = NULL, written_at = now()
         WHERE o.run_started_at <> EXCLUDED.run_started_at OR o.sequence < EXCLUDED.sequence
       RETURNING 1`,
      [this.sinkId, this.ctx.partition, this.ctx.runStartedAt, batch.sequence, batch.batchId],
    );
    if (claimed.rowCount === 1) return true;
    const { rows } = await client.query<{ rejected: Refused[] | null; batch_id: string }>(
      `SELECT rejected, batch_id FROM ${this.offsets} WHERE sink_id = $1 AND partition = $2`,
      [this.sinkId, this.ctx.partition],
    );
    await client.query("ROLLBACK");
    this.ctx.log.info("batch already written; skipped", { batch: batch.batchId, written: rows[0]?.batch_id });
    for (const r of rows[0]?.rejected ?? []) {
      const record = records[r.index];
      if (record) fail?.(record, new Error(r.error));
    }
    return false;
  }

  /** The batch as statements: rows grouped by the columns they have, deletes, and what cannot be written. */
  private plan(records: readonly DataRecord[]): { steps: Step[]; truncate: boolean; refused: Refused[] } {
    const c = this.ctx.config;
    const refused: Refused[] = [];
    this.warnUnknownFields(records[0]);
    if (c.mode === "insert") {
      const items = records.map((row, index) => ({ index, row }));
      return {
        steps: this.groups(items, refused).map((group) => ({ kind: "insert", group })),
        truncate: false,
        refused,
      };
    }
    if (c.mode === "upsert") {
      // One record per key (one statement cannot update a row twice): the last, or with newerBy the newest.
      const keyed: Item[] = [];
      records.forEach((row, index) => {
        const missing = c.key.find((k) => row[k] === undefined || row[k] === null);
        if (missing !== undefined) {
          refused.push({ index, error: `the record has no value for key column "${missing}"` });
          return;
        }
        keyed.push({ index, row });
      });
      const chosen = reduceByKey(keyed, c.key, c.newerBy);
      const steps = this.groups(chosen, refused).map((group) => ({ kind: "upsert" as const, group }));
      return { steps, truncate: false, refused };
    }
    const changes = planChanges(records, c.key);
    refused.push(...changes.invalid);
    const deletes: Prepared[] = [];
    const upserts: Item[] = [];
    for (const action of changes.actions) {
      if (action.kind === "upsert") upserts.push({ index: action.index, row: action.row });
      else {
        try {
          deletes.push({ index: action.index, values: this.keyColumns.map((col) => col.write(action.row[col.name])) });
        } catch (err) {
          refused.push({ index: action.index, error: err instanceof Error ? err.message : String(err) });
        }
      }
    }
    const steps: Step[] = deletes.length > 0 ? [{ kind: "delete", rows: deletes }] : [];
    for (const group of this.groups(upserts, refused)) steps.push({ kind: "upsert", group });
    return { steps, truncate: changes.truncate, refused };
  }

  private warnUnknownFields(record: DataRecord | undefined): void {
    if (this.warnedFields || !record) return;
    const row = this.ctx.config.mode === "cdc" ? (record.after as Record<string, unknown> | null) : record;
    if (!row || typeof row !== "object") return;
    this.warnedFields = true;
    const unknown = Object.keys(row).filter((k) => !this.table.columns.has(k));
    if (unknown.length > 0) {
      this.ctx.log.warn(`table ${this.ctx.config.table} has no column for some fields; they are not written`, {
        fields: unknown.slice(0, 20),
      });
    }
  }

  /** Converts rows to text by their target column types, grouped by which columns each row has. */
  private groups(items: readonly Item[], refused: Refused[]): RowGroup[] {
    const columns = [...this.table.columns.values()];
    const groups = new Map<string, RowGroup>();
    for (const { index, row } of items) {
      let signature = "";
      const present: TargetColumn[] = [];
      for (let i = 0; i < columns.length; i++) {
        const col = columns[i]!;
        if (row[col.name] !== undefined) {
          present.push(col);
          signature += `${i},`;
        }
      }
      if (present.length === 0) {
        refused.push({ index, error: `none of the record's fields is a column of ${this.ctx.config.table}` });
        continue;
      }
      let values: (string | null)[];
      try {
        values = present.map((col) => col.write(row[col.name]));
      } catch (err) {
        refused.push({ index, error: err instanceof Error ? err.message : String(err) });
        continue;
      }
      let group = groups.get(signature);
      if (!group) {
        group = { columns: present, rows: [] };
        groups.set(signature, group);
      }
      group.rows.push({ index, values });
    }
    return [...groups.values()];
  }

  private async apply(client: pg.Client, step: Step, fast: boolean): Promise<void> {
    const t = this.table.sql;
    if (step.kind === "delete") {
      const key = this.keyColumns;
      const per = Math.max(1, Math.min(MAX_ROWS_PER_STATEMENT, Math.floor(MAX_PARAMETERS / key.length)));
      for (let start = 0; start < step.rows.length; start += per) {
        const chunk = step.rows.slice(start, start + per);
        const values: (string | null)[] = [];
        const tuples = chunk.map((r) => {
          const placeholders = r.values.map((v) => {
            values.push(v);
            return `$${values.length}`;
          });
          return `(${placeholders.join(", ")})`;
        });
        await client.query(
          `DELETE FROM ${t} WHERE (${key.map((k) => quoteIdent(k.name)).join(", ")}) IN (${tuples.join(", ")})`,
          values,
        );
      }
      return;
    }
    const { columns, rows } = step.group;
    const names = columns.map((col) => quoteIdent(col.name)).join(", ");
    if (step.kind === "insert" && fast && rows.length >= this.ctx.config.copyThreshold) {
      await pipeline(Readable.from(copyChunks(rows)), client.query(copyFrom(`COPY ${t} (${names}) FROM STDIN`)));
      return;
    }
    let conflict = "";
    let alias = "";
    if (step.kind === "upsert") {
      const { key, newerBy } = this.ctx.config;
      const updates = columns.filter((col) => !key.includes(col.name));
      // Newest wins: the stored row is replaced only by a greater value of newerBy (or when it has none).
      const newest =
        newerBy !== undefined
          ? ` WHERE ${NEWEST_ALIAS}.${quoteIdent(newerBy)} IS NULL OR ${NEWEST_ALIAS}.${quoteIdent(newerBy)} < EXCLUDED.${quoteIdent(newerBy)}`
          : "";
      if (newerBy !== undefined) alias = ` AS ${NEWEST_ALIAS}`;
      conflict = ` ON CONFLICT (${key.map(quoteIdent).join(", ")}) DO ${
        updates.length === 0
          ? "NOTHING"
          : `UPDATE SET ${updates.map((col) => `${quoteIdent(col.name)} = EXCLUDED.${quoteIdent(col.name)}`).join(", ")}${newest}`
      }`;
    }
    const per = Math.max(1, Math.min(MAX_ROWS_PER_STATEMENT, Math.floor(MAX_PARAMETERS / columns.length)));
    for (let start = 0; start < rows.length; start += per) {
      const chunk = rows.slice(start, start + per);
      const values: (string | null)[] = [];
      const tuples: string[] = [];
      for (const r of chunk) {
        const placeholders: string[] = [];
        for (const v of r.values) {
          values.push(v);
          placeholders.push(`$${values.length}`);
        }
        tuples.push(`(${placeholders.join(", ")})`);
      }
      await client.query(`INSERT INTO ${t}${alias} (${names}) VALUES ${tuples.join(", ")}${conflict}`, values);
    }
  }

  async close(): Promise<void> {
    await this.session?.end();
    this.session = undefined;
  }
}

function* copyChunks(rows: readonly Prepared[]): Generator<string> {
  let chunk = "";
  for (const r of rows) {
    chunk += copyLine(r.values);
    if (chunk.length >= COPY_CHUNK_CHARS) {
      yield chunk;
      chunk = "";
    }
  }
  if (chunk.length > 0) yield chunk;
}

function configError(ctx: RuntimeContext<unknown>, err: unknown, path: string, what: string): never {
  const code = (err as { code?: string } | null)?.code ?? "";
  if (code === "42501" || code.startsWith("42") || code === "3F000") {
    throw new NodeConfigError(ctx.nodeId, path, `${what}: ${pgErrorText(err)}`);
  }
  throw err;
}

export const postgresSinkRuntime: SinkRuntime<PostgresSinkConfig> = {
  kind: "sink",
  type: "sink.postgres",
  async open(ctx): Promise<SinkWriter> {
    const writer = await TableWriter.open(ctx);
    return {
      // Refused records are dead-lettered through `fail`; without one (a direct caller) they are thrown.
      write: (records, batch, fail) => writer.write(records, batch, fail),
      close: () => writer.close(),
    };
  },
};
