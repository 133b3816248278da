import { createHash } from "node:crypto";
import type { DataRecord } from "@sluice/pipeline/record-schema";
import type pg from "pg";
import type { JsonValue, RuntimeContext, SourceOffset, SourceReader, SourceRuntime } from "../../runtime-contract";
import { NodeConfigError } from "../../runtime-expressions";
import type { ChangeOp, ChangeRecord } from "./change-record";
import { formatLsn, laterLsn, parseLsn } from "./lsn";
import { clientConfig, connectForNode, nodeConnection, type Session } from "./pg-client";
import { describeConnectError, pgErrorText } from "./pg-errors";
import { PgoutputDecoder, type Relation } from "./pgoutput";
import type { PostgresCdcConfig } from "./postgres-cdc.def";
import { ReplicationStream } from "./replication-stream";
import { quoteIdent, quoteTable } from "./sql-names";

// source.postgres-cdc at run time. Position = the commit LSN of the transaction being read, how many of its changes
// were emitted and whether it is complete, plus `flush`: the end of the last complete transaction, which is what the
// server may forget once committed. Server-only.

export interface ChangePosition {
  /** Commit LSN of the transaction the last emitted change belongs to. */
  txn: bigint;
  /** Changes of that transaction emitted. */
  n: number;
  complete: boolean;
  /** End LSN of the last complete transaction: what to confirm to the server after a commit. */
  flush: bigint;
}

const START: ChangePosition = { txn: 0n, n: 0, complete: true, flush: 0n };

function readChangePosition(offset: SourceOffset | null): ChangePosition | null {
  if (offset === null || typeof offset !== "object" || Array.isArray(offset)) return null;
  const o = offset as Record<string, JsonValue>;
  if (typeof o.lsn !== "string" || typeof o.flush !== "string") return null;
  return {
    txn: parseLsn(o.lsn),
    n: typeof o.n === "number" ? o.n : 0,
    complete: o.complete === true,
    flush: parseLsn(o.flush),
  };
}

function positionJson(p: ChangePosition): SourceOffset {
  return { lsn: formatLsn(p.txn), n: p.n, complete: p.complete, flush: formatLsn(p.flush) };
}

/** The default slot and publication name of a node in a run: `sluice_` and 16 hex digits. */
export function derivedName(runId: string, nodeId: string): string {
  return `sluice_${createHash("sha256").update(`${runId}/${nodeId}`).digest("hex").slice(0, 16)}`;
}

/**
 * WAL bytes the slot still holds for the reader: from its confirmed position to the server's current one (on a
 * standby, the last WAL received). Null when the slot is gone.
 */
const SLOT_LAG_SQL = `SELECT pg_wal_lsn_diff(
    CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() END,
    confirmed_flush_lsn)::float8 AS lag
  FROM pg_replication_slots WHERE slot_name = $1`;

const ENDED: SourceReader = {
  async read() {
    return { records: [], offset: null, end: true };
  },
  async close() {},
};

interface SlotRow {
  plugin: string | null;
  database: string | null;
  active_pid: number | null;
  confirmed: string | null;
  wal_status: string | null;
}

/** What the slot's entry in the source's state says: this generation of the run made or adopted the slot. */
const SLOT_STATE = "slot";

async function prepareServer(
  ctx: RuntimeContext<PostgresCdcConfig>,
  client: pg.Client,
  names: { slot: string; publication: string },
  resuming: boolean,
): Promise<bigint> {
  const c = ctx.config;
  const conn = nodeConnection(ctx);
  const fail = (path: string, message: string): never => {
    throw new NodeConfigError(ctx.nodeId, path, message);
  };
  const { rows: settings } = await client.query<{ wal_level: string; replication: boolean | null }>(
    `SELECT current_setting('wal_level') AS wal_level,
            (SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user) AS replication`,
  );
  const wal = settings[0]!;
  if (wal.wal_level !== "logical") {
    fail(
      "connection",
      `the server at ${conn.host}:${conn.port} has wal_level = ${wal.wal_level}; change data capture needs wal_level = logical: run ALTER SYSTEM SET wal_level = logical (or set it in postgresql.conf) and restart PostgreSQL; it also needs a free replication slot and WAL sender (max_replication_slots, max_wal_senders)`,
    );
  }
  if (wal.replication === false) {
    fail(
      "connection",
      `user "${conn.user}" may not use replication: ALTER ROLE ${quoteIdent(conn.user)} REPLICATION (on managed servers, grant their replication role)`,
    );
  }

  // The tables: they must exist and have a replica identity, or PostgreSQL would refuse UPDATE/DELETE on them.
  const tables: { schema: string; name: string }[] = [];
  for (const [i, table] of c.tables.entries()) {
    const { rows } = await client.query<{ schema: string; name: string; identity: string; has_pk: boolean }>(
      `SELECT n.nspname AS schema, cl.relname AS name, cl.relreplident AS identity,
              EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = cl.oid AND i.indisprimary) AS has_pk
         FROM pg_class cl JOIN pg_namespace n ON n.oid = cl.relnamespace WHERE cl.oid = to_regclass($1)`,
      [quoteTable(table)],
    );
    const found = rows[0];
    if (!found) fail(`tables.${i}`, `table ${table} does not exist in database "${conn.database}"`);
    const t = found!;
    if (t.identity === "n" || (t.identity === "d" && !t.has_pk)) {
      fail(
        `tables.${i}`,
        `table ${table} has no primary key (replica identity): once it is published PostgreSQL refuses UPDATE and DELETE on it; add a primary key, or ALTER TABLE ${quoteTable(table)} REPLICA IDENTITY FULL`,
      );
    }
    tables.push({ schema: t.schema, name: t.name });
  }

  // The publication first: pgoutput looks it up as of each change, so it must predate the slot's first change.
  const pub = quoteIdent(names.publication);
  const { rowCount: pubExists } = await client.query("SELECT 1 FROM pg_publication WHERE pubname = $1", [
    names.publication,
  ]);
  const ddl = async (sql: string) => {
    try {
      await client.query(sql);
    } catch (err) {
      const code = (err as { code?: string }).code ?? "";
      if (code === "42501" || code.startsWith("42") || code === "55000") {
        fail("publication", `${sql.split(" ").slice(0, 3).join(" ")} failed: ${pgErrorText(err)}`);
      }
      throw err;
    }
  };
  if (!pubExists) {
    if (tables.length === 0)
      fail("publication", `publication ${names.publication} does not exist; list the tables to capture`);
    await ddl(`CREATE PUBLICATION ${pub} FOR TABLE ${tables.map((t) => quoteTable(t)).join(", ")}`);
    ctx.log.info("created publication", { publication: names.publication });
  } else if (tables.length > 0) {
    const { rows } = await client.query<{ schema: string; name: string }>(
      "SELECT schemaname AS schema, tablename AS name FROM pg_publication_tables WHERE pubname = $1",
      [names.publication],
    );
    const have = new Set(rows.map((r) => `${r.schema}.${r.name}`));
    const missing = tables.filter((t) => !have.has(`${t.schema}.${t.name}`));
    if (missing.length > 0) {
      await ddl(`ALTER PUBLICATION ${pub} ADD TABLE ${missing.map((t) => quoteTable(t)).join(", ")}`);
      ctx.log.info("added tables to the publication", { publication: names.publication, tables: missing });
    }
  }

  const findSlot = async () =>
    (
      await client.query<SlotRow>(
        `SELECT plugin, database, active_pid, confirmed_flush_lsn::text AS confirmed,
                ${(await serverVersion(client)) >= 130000 ? "wal_status" : "NULL::text AS wal_status"}
           FROM pg_replication_slots WHERE slot_name = $1`,
        [names.slot],
      )
    ).rows[0];
  const store = ctx.state<JsonValue>(SLOT_STATE);
  const known = store.get(names.slot);
  let slot = await findSlot();
  if (slot && resuming === false && known === undefined && c.dropSlotOnReset) {
    if (slot.active_pid !== null)
      throw new Error(`replication slot ${names.slot} is in use by process ${slot.active_pid}; retrying`);
    await client.query("SELECT pg_drop_replication_slot($1)", [names.slot]);
    ctx.log.warn("dropped the replication slot to start afresh (dropSlotOnReset)", { slot: names.slot });
    slot = undefined;
  }
  if (!slot) {
    if (resuming) {
      fail(
        "slot",
        `replication slot ${names.slot} no longer exists (was it dropped?), so the changes since the last commit cannot be read; reset the run to start capturing from now`,
      );
    }
    try {
      const { rows } = await client.query<{ lsn: string }>(
        "SELECT lsn::text AS lsn FROM pg_create_logical_replication_slot($1, 'pgoutput')",
        [names.slot],
      );
      ctx.log.info("created replication slot", { slot: names.slot, at: rows[0]?.lsn });
    } catch (err) {
      const code = (err as { code?: string }).code ?? "";
      if (code === "53400") {
        fail(
          "slot",
          `cannot create replication slot ${names.slot}: ${pgErrorText(err)} — raise max_replication_slots or drop unused slots`,
        );
      }
      if (code === "42501" || code === "55000")
        fail("slot", `cannot create replication slot ${names.slot}: ${pgErrorText(err)}`);
      if (code !== "42710") throw err; // 42710: another partition or process created it meanwhile
    }
    slot = await findSlot();
    if (!slot) throw new Error(`replication slot ${names.slot} vanished right after it was created`);
  } else {
    if (slot.plugin !== "pgoutput" || slot.database !== conn.database) {
      fail(
        "slot",
        `replication slot ${names.slot} exists but ${slot.plugin !== "pgoutput" ? `uses the plugin ${slot.plugin ?? "(physical)"}` : `belongs to database ${slot.database}`}; name another slot`,
      );
    }
    if (slot.wal_status === "lost") {
      fail(
        "slot",
        `replication slot ${names.slot} was invalidated (the server removed WAL it still needed, see max_slot_wal_keep_size); changes were lost: drop it and reset the run`,
      );
    }
    if (slot.active_pid !== null) {
      throw new Error(`replication slot ${names.slot} is in use by process ${slot.active_pid}; retrying`);
    }
  }
  if (known === undefined) store.set(names.slot, { adopted: Date.now(), runStartedAt: ctx.runStartedAt });
  return slot.confirmed ? parseLsn(slot.confirmed) : 0n;
}

async function serverVersion(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
  return Number(rows[0]?.v ?? 0);
}

function opRecord(
  op: ChangeOp,
  relation: Relation,
  before: Record<string, unknown> | null,
  after: Record<string, unknown> | null,
  txn: { lsn: string; xid: number; commitTime: number },
  seq: number,
): DataRecord {
  const record: ChangeRecord = {
    op,
    schema: relation.schema,
    table: relation.name,
    before,
    after,
    lsn: txn.lsn,
    seq,
    xid: txn.xid,
    commit_time: txn.commitTime,
  };
  return record as unknown as DataRecord;
}

export const postgresCdcRuntime: SourceRuntime<PostgresCdcConfig> = {
  kind: "source",
  type: "source.postgres-cdc",
  async open(ctx, from) {
    // One replication stream per slot: partition 0 reads, the others have nothing to read.
    if (ctx.partition !== 0) return ENDED;
    const c = ctx.config;
    const conn = nodeConnection(ctx);
    const names = {
      slot: c.slot ?? derivedName(ctx.runId, ctx.nodeId),
      publication: c.publication ?? derivedName(ctx.runId, ctx.nodeId),
    };
    const committed = readChangePosition(from);
    const admin = await connectForNode(ctx, { applicationSuffix: ` ${ctx.nodeId}` });
    let slotConfirmed: bigint;
    const destination = admin.destination;
    try {
      slotConfirmed = await prepareServer(ctx, admin.client, names, committed !== null);
    } finally {
      await admin.end();
    }

    let position: ChangePosition = committed ?? START;
    const startAt = laterLsn(position.flush, slotConfirmed);
    let stream: ReplicationStream;
    try {
      stream = await ReplicationStream.start(
        clientConfig(conn, destination, { applicationSuffix: ` ${ctx.nodeId} cdc` }),
        names.slot,
        names.publication,
        startAt,
      );
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === "42704") throw new NodeConfigError(ctx.nodeId, "slot", pgErrorText(err));
      throw new Error(`cannot start replication: ${describeConnectError(err, conn).message}`, { cause: err });
    }
    ctx.log.info("capturing changes", { slot: names.slot, publication: names.publication, from: formatLsn(startAt) });

    const decoder = new PgoutputDecoder();
    let txn:
      | { lsn: string; final: bigint; xid: number; commitTime: number; seq: number; skipAll: boolean; skipTo: number }
      | undefined;
    let returned = JSON.stringify(positionJson(position));
    let committedText = returned;

    // A quiet stream: when nothing is buffered, no transaction is half-read and everything read is committed, the
    // server's current position can be confirmed — no change before it is still owed to Sluice.
    stream.onKeepalive = (walEnd) => {
      if (stream.pending === 0 && txn === undefined && returned === committedText) stream.confirm(walEnd);
    };

    // The replication connection cannot run queries while it streams: the lag is asked on a session of its own,
    // opened at the first ask and again after it broke.
    let lagSession: Promise<Session> | undefined;
    let closed = false;
    const slotLag = async (): Promise<number | undefined> => {
      if (closed) return undefined;
      lagSession ??= connectForNode(ctx, { applicationSuffix: ` ${ctx.nodeId} lag` });
      const pending = lagSession;
      try {
        const session = await pending;
        // Closed while it connected: close() may have missed it.
        if (closed) throw new Error("the reader is closed");
        const { rows } = await session.client.query<{ lag: number | null }>(SLOT_LAG_SQL, [names.slot]);
        const lag = rows[0]?.lag;
        return lag === null || lag === undefined ? undefined : Math.max(0, lag);
      } catch (err) {
        if (lagSession === pending) lagSession = undefined;
        await pending.then((s) => s.end()).catch(() => {});
        throw err;
      }
    };

    return {
      async read(max) {
        if (stream.failure) {
          throw new Error(`the replication stream stopped: ${describeConnectError(stream.failure, conn).message}`, {
            cause: stream.failure,
          });
        }
        const records: DataRecord[] = [];
        while (records.length < max) {
          const message = stream.next();
          if (!message) break;
          const m = decoder.decode(message.data);
          switch (m.tag) {
            case "begin": {
              const skipAll = m.finalLsn < position.txn || (m.finalLsn === position.txn && position.complete);
              const skipTo = m.finalLsn === position.txn && !position.complete ? position.n : 0;
              txn = {
                lsn: formatLsn(m.finalLsn),
                final: m.finalLsn,
                xid: m.xid,
                commitTime: m.commitTime,
                seq: 0,
                skipAll,
                skipTo,
              };
              break;
            }
            case "insert":
            case "update":
            case "delete":
            case "truncate": {
              if (!txn) throw new Error("pgoutput: a change outside a transaction");
              const changes: DataRecord[] =
                m.tag === "insert"
                  ? [opRecord("insert", m.relation, null, m.after, txn, 0)]
                  : m.tag === "update"
                    ? [opRecord("update", m.relation, m.before, m.after, txn, 0)]
                    : m.tag === "delete"
                      ? [opRecord("delete", m.relation, m.before, null, txn, 0)]
                      : m.relations.map((r) => opRecord("truncate", r, null, null, txn!, 0));
              for (const change of changes) {
                txn.seq++;
                if (txn.skipAll || txn.seq <= txn.skipTo) continue;
                change.seq = txn.seq;
                records.push(change);
                position = { txn: txn.final, n: txn.seq, complete: false, flush: position.flush };
              }
              break;
            }
            case "commit": {
              if (txn && !txn.skipAll) position = { txn: txn.final, n: txn.seq, complete: true, flush: m.endLsn };
              txn = undefined;
              break;
            }
            default:
              break;
          }
        }
        const offset = positionJson(position);
        if (records.length > 0) returned = JSON.stringify(offset);
        return { records, offset, end: false, ...(records.length === 0 ? { idleMs: 20 } : {}) };
      },
      async committed(offset) {
        const p = readChangePosition(offset);
        if (!p) return;
        committedText = JSON.stringify(positionJson(p));
        stream.confirm(p.flush);
      },
      async offsetLag() {
        const value = await slotLag();
        return value === undefined ? undefined : { value, unit: "bytes" as const };
      },
      async close() {
        closed = true;
        await stream.close();
        const session = lagSession;
        lagSession = undefined;
        await session?.then((s) => s.end()).catch(() => {});
      },
    };
  },
};
