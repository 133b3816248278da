import { createTestDatabase } from "@sluice/scripts/lib/test-db";
import { FleetHarness, waitFor } from "@sluice/test-kit/fleet-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TcpProxy } from "../../../test/tcp-proxy";
import { catalog } from "../../catalog";
import type { SourceOffset, SourceReader } from "../../runtime-contract";
import { runtimes } from "../../runtimes";
import { testContext } from "../../testing/operator-harness";
import { postgresCdcDef } from "./postgres-cdc.def";
import { derivedName, postgresCdcRuntime } from "./postgres-cdc.run";
import {
  connectionBundle,
  type PgTarget,
  type PrivatePostgres,
  pipeline,
  sql,
  startPrivatePostgres,
  targetFromUrl,
} from "./testing/postgres-test-support";

// source.postgres-cdc against a private PostgreSQL with wal_level = logical (started for this file): changes in
// commit order, applied by sink.postgres (mode cdc) to a mirror table that ends identical; a stop and restart, the
// server going away mid-stream, and re-reading from an older committed position lose and repeat nothing.

let server: PrivatePostgres;
let shop: PgTarget;
let harness: FleetHarness;

beforeAll(async () => {
  server = await startPrivatePostgres("cdc");
  await sql(server.target(), "CREATE DATABASE shop");
  await sql(server.target(), "CREATE ROLE app LOGIN REPLICATION PASSWORD 'app-password'");
  shop = server.target("shop");
  harness = new FleetHarness();
  await harness.startInProcess("w1", catalog, runtimes);
}, 120_000);

afterAll(async () => {
  await harness?.close();
  await server?.stop();
});

/** The source table, its mirror and a log of every change record, with a pipeline that fills both. */
async function tables(name: string) {
  await sql(
    shop,
    `CREATE TABLE ${name} (id int PRIMARY KEY, status text NOT NULL, amount numeric(10,2), note text);
     CREATE TABLE ${name}_mirror (LIKE ${name} INCLUDING ALL);
     CREATE TABLE ${name}_log (op text, schema text, "table" text, before jsonb, after jsonb, lsn text, seq int,
                               xid bigint, commit_time timestamptz);`,
  );
}

function cdcPipeline(name: string, connection = "shop") {
  return pipeline(
    [
      { id: "cdc", type: "source.postgres-cdc", config: { connection, tables: [name] } },
      {
        id: "mirror",
        type: "sink.postgres",
        config: { connection: "shop", table: `${name}_mirror`, mode: "cdc", key: ["id"] },
      },
      { id: "log", type: "sink.postgres", config: { connection: "shop", table: `${name}_log` } },
    ],
    [
      { from: "cdc", to: "mirror" },
      { from: "cdc", to: "log" },
    ],
  );
}

async function slotReady(runId: string) {
  const slot = derivedName(runId, "cdc");
  await waitFor(
    async () =>
      (await sql(shop, "SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND active", [slot])).length === 1,
    30_000,
    () => `waiting for slot ${slot}`,
  );
  return slot;
}

async function identical(name: string): Promise<boolean> {
  const [row] = await sql<{ n: number }>(
    shop,
    `SELECT (SELECT count(*) FROM (TABLE ${name} EXCEPT TABLE ${name}_mirror) a)
          + (SELECT count(*) FROM (TABLE ${name}_mirror EXCEPT TABLE ${name}) b) AS n`,
  );
  return row!.n === 0;
}

async function logged(name: string) {
  return sql<{ op: string; id: number; key: number | null; status: string | null; lsn: string; seq: number }>(
    shop,
    `SELECT op, coalesce((after->>'id')::int, (before->>'id')::int) AS id, (before->>'id')::int AS key,
            after->>'status' AS status, lsn, seq
       FROM ${name}_log ORDER BY lsn::pg_lsn, seq`,
  );
}

async function noRepeats(name: string) {
  const [row] = await sql<{ n: number; distinct: number }>(
    shop,
    `SELECT count(*) AS n, count(DISTINCT (lsn, seq)) AS distinct FROM ${name}_log`,
  );
  return row!.n === row!.distinct;
}

describe("source.postgres-cdc through the engine", () => {
  it("emits inserts, updates and deletes in commit order; the mirror ends identical; a restart loses and repeats nothing", async () => {
    await tables("orders");
    await harness.startRun("cdc", cdcPipeline("orders"), {}, connectionBundle({ shop }));
    const slot = await slotReady("cdc");

    await sql(shop, "INSERT INTO orders VALUES (1, 'new', 10, 'a'), (2, 'new', 20, 'b'), (3, 'new', 30, NULL)");
    await sql(shop, "BEGIN; UPDATE orders SET status = 'paid' WHERE id = 1; DELETE FROM orders WHERE id = 2; COMMIT;");
    await sql(shop, "UPDATE orders SET id = 30, status = 'moved' WHERE id = 3");
    await sql(
      shop,
      "BEGIN; INSERT INTO orders VALUES (4, 'tmp', 1, 'x'); UPDATE orders SET status = 'tmp2' WHERE id = 4; DELETE FROM orders WHERE id = 4; COMMIT;",
    );
    // 2500 rows whose 3000-byte notes are stored out of line (TOASTed, uncompressed), then an update that leaves the
    // notes alone: pgoutput marks them unchanged, the change leaves them out and the mirror keeps them.
    await sql(shop, "ALTER TABLE orders ALTER COLUMN note SET STORAGE EXTERNAL");
    await sql(shop, "INSERT INTO orders SELECT i, 'bulk', i, repeat('x', 3000) FROM generate_series(100, 2599) i");
    await sql(shop, "UPDATE orders SET amount = amount + 1 WHERE id BETWEEN 100 AND 199");
    // 3 + 2 + 1 + 3 changes in the first four transactions, 2500 inserts, 100 updates.
    const changes = 9 + 2500 + 100;

    let have = 0;
    await waitFor(
      async () => {
        have = (await logged("orders")).length;
        return have === changes;
      },
      60_000,
      () => `waiting for ${changes} changes, have ${have}`,
    );
    const log = await logged("orders");
    expect(log.slice(0, 10).map((c) => [c.op, c.id, c.key, c.status, c.seq])).toEqual([
      ["insert", 1, null, "new", 1],
      ["insert", 2, null, "new", 2],
      ["insert", 3, null, "new", 3],
      ["update", 1, null, "paid", 1],
      ["delete", 2, 2, null, 2],
      ["update", 30, 3, "moved", 1],
      ["insert", 4, null, "tmp", 1],
      ["update", 4, null, "tmp2", 2],
      ["delete", 4, 4, null, 3],
      ["insert", 100, null, "bulk", 1],
    ]);
    expect(new Set(log.slice(0, 3).map((c) => c.lsn)).size).toBe(1);
    await waitFor(() => identical("orders"), 30_000);
    // Rows 1, 30 and 100–2599.
    expect(await sql(shop, "SELECT count(*) AS n FROM orders_mirror")).toEqual([{ n: 2502 }]);
    expect(
      await sql(
        shop,
        `SELECT count(*) FILTER (WHERE op = 'update' AND NOT after ? 'note') AS untouched,
                count(*) FILTER (WHERE op = 'insert' AND length(after->>'note') = 3000) AS toasted
           FROM orders_log`,
      ),
    ).toEqual([{ untouched: 100, toasted: 2500 }]);

    // Stop, change things while nothing reads, restart: the slot kept the position.
    await harness.stopRun("cdc");
    await harness.waitForStatus("cdc", "stopped", 30_000);
    const [confirmed] = await sql<{ behind: boolean }>(
      shop,
      "SELECT confirmed_flush_lsn >= $2::pg_lsn AS behind FROM pg_replication_slots WHERE slot_name = $1",
      [slot, log[log.length - 1]!.lsn],
    );
    expect(confirmed?.behind).toBe(true);
    await sql(shop, "DELETE FROM orders WHERE id BETWEEN 2000 AND 2099; UPDATE orders SET note = 'later' WHERE id = 1");
    await harness.restartRun("cdc");
    await waitFor(
      async () => (await logged("orders")).length === changes + 101,
      60_000,
      () => `waiting for ${changes + 101} changes`,
    );
    await waitFor(() => identical("orders"), 30_000);
    expect(await noRepeats("orders")).toBe(true);
    // Slots are never dropped by Sluice.
    await harness.stopRun("cdc");
    await harness.waitForStatus("cdc", "stopped", 30_000);
    expect(await sql(shop, "SELECT slot_name FROM pg_replication_slots WHERE slot_name = $1", [slot])).toEqual([
      { slot_name: slot },
    ]);
  });

  it("rides out the server going away mid-stream: nothing lost, nothing repeated", async () => {
    await tables("items");
    const proxy = await TcpProxy.start(server.port);
    try {
      const viaProxy = { ...shop, port: proxy.port };
      await harness.startRun(
        "cdc-flaky",
        cdcPipeline("items", "cdc-conn"),
        {},
        connectionBundle({ shop, "cdc-conn": viaProxy }),
      );
      await slotReady("cdc-flaky");
      const burst = (from: number) =>
        sql(shop, `INSERT INTO items SELECT i, 's', i, NULL FROM generate_series(${from}, ${from + 299}) i`);
      for (let b = 0; b < 5; b++) await burst(b * 300);
      await waitFor(async () => (await logged("items")).length >= 300, 30_000);
      await proxy.cut();
      for (let b = 5; b < 8; b++) await burst(b * 300);
      await sql(shop, "UPDATE items SET status = 'u' WHERE id % 7 = 0");
      await new Promise((r) => setTimeout(r, 2000));
      await proxy.resume();
      await sql(shop, "DELETE FROM items WHERE id % 5 = 0");
      await waitFor(
        () => identical("items"),
        60_000,
        () => "waiting for the mirror",
      );
      const expected = 2400 + Math.ceil(2400 / 7) + 2400 / 5;
      await waitFor(
        async () => (await logged("items")).length === expected,
        30_000,
        () => `waiting for ${expected} changes`,
      );
      expect(await noRepeats("items")).toBe(true);
      await harness.stopRun("cdc-flaky");
      await harness.waitForStatus("cdc-flaky", "stopped", 30_000);
    } finally {
      await proxy.close();
    }
  });

  it("fails with what to set when the server is not set up for logical replication", async () => {
    const db = await createTestDatabase("pg-cdc-replica");
    try {
      const shared = targetFromUrl(db.url);
      await sql(shared, "CREATE TABLE t (id int PRIMARY KEY)");
      await harness.startRun("replica", cdcPipeline("t"), {}, connectionBundle({ shop: shared }));
      const failed = await harness.waitForStatus("replica", "failed", 30_000);
      expect(failed.error).toBe(
        `node cdc connection: the server at ${shared.host}:${shared.port} has wal_level = replica; change data capture needs wal_level = logical: run ALTER SYSTEM SET wal_level = logical (or set it in postgresql.conf) and restart PostgreSQL; it also needs a free replication slot and WAL sender (max_replication_slots, max_wal_senders)`,
      );
    } finally {
      await db.drop();
    }
  });

  it("fails with a clear reason for a refused password or a table without a primary key", async () => {
    await sql(
      shop,
      "CREATE TABLE nokey (v text); CREATE TABLE nokey_mirror (v text PRIMARY KEY); CREATE TABLE nokey_log (op text)",
    );
    await harness.startRun(
      "bad-password",
      cdcPipeline("orders", "as-app"),
      {},
      connectionBundle({ shop, "as-app": { ...shop, user: "app", password: "nope" } }),
    );
    expect((await harness.waitForStatus("bad-password", "failed", 30_000)).error).toBe(
      'node cdc connection: connection "as-app": password authentication failed for user "app" — check the user and password',
    );
    await harness.startRun("no-key", cdcPipeline("nokey"), {}, connectionBundle({ shop }));
    expect((await harness.waitForStatus("no-key", "failed", 30_000)).error).toBe(
      'node cdc tables.0: table nokey has no primary key (replica identity): once it is published PostgreSQL refuses UPDATE and DELETE on it; add a primary key, or ALTER TABLE "nokey" REPLICA IDENTITY FULL',
    );
  });
});

describe("source.postgres-cdc positions", () => {
  async function open(runId: string, from: SourceOffset | null, config: Record<string, unknown> = {}, stores?: object) {
    const ctx = testContext(
      postgresCdcDef,
      { connection: "shop", tables: ["positions"], ...config },
      {
        connections: connectionBundle({ shop }),
        nodeId: "cdc",
      },
    );
    if (stores) Object.assign(ctx, { state: (stores as { state: typeof ctx.state }).state });
    (ctx as { runId: string }).runId = runId;
    return { reader: await postgresCdcRuntime.open(ctx as never, from), ctx };
  }

  async function readAll(reader: SourceReader, want: number, max: number) {
    const records: Record<string, unknown>[] = [];
    let offset: SourceOffset = null;
    await waitFor(
      async () => {
        const batch = await reader.read(Math.min(max, want - records.length), AbortSignal.timeout(5000));
        records.push(...batch.records);
        if (batch.records.length > 0) offset = batch.offset;
        return records.length >= want;
      },
      20_000,
      () => `read ${records.length} of ${want}`,
    );
    return { records, offset };
  }

  const ids = (records: Record<string, unknown>[]) => records.map((r) => (r.after as { id: number }).id);

  it("re-reads exactly what came after an older committed position, also from inside a transaction", async () => {
    await sql(shop, "CREATE TABLE positions (id int PRIMARY KEY, v text)");
    const first = await open("pos", null);
    // Ten transactions of ten rows.
    for (let t = 0; t < 10; t++) {
      await sql(shop, `INSERT INTO positions SELECT i, 'v' FROM generate_series(${t * 10}, ${t * 10 + 9}) i`);
    }
    // 25 changes in batches of 7: the position ends inside the third transaction.
    const a = await readAll(first.reader, 25, 7);
    expect(ids(a.records)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(a.offset).toMatchObject({ n: 5, complete: false });
    await first.reader.committed!(a.offset);
    // 30 more that are never committed: a crash.
    const lost = await readAll(first.reader, 30, 10);
    expect(ids(lost.records)).toEqual(Array.from({ length: 30 }, (_, i) => 25 + i));
    await first.reader.close();

    const second = await open("pos", a.offset, {}, first.ctx);
    const again = await readAll(second.reader, 75, 1000);
    expect(ids(again.records)).toEqual(Array.from({ length: 75 }, (_, i) => 25 + i));
    await second.reader.committed!(again.offset);
    await second.reader.close();
  });

  it("on a reset, continues from the slot — or with dropSlotOnReset starts from the present", async () => {
    // A fresh state (a reset) with the slot of the test above still there: it continues from its position.
    // The slot's position is the end of the last transaction whose commit was confirmed: the last one read above
    // (ids 90–99) was read to its last change but not past its commit, so it comes again.
    await sql(shop, "INSERT INTO positions VALUES (1000, 'while stopped')");
    const continued = await open("pos", null);
    const next = await readAll(continued.reader, 11, 100);
    expect(ids(next.records)).toEqual([90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 1000]);
    await continued.reader.committed!(next.offset);
    await continued.reader.close();

    await sql(shop, "INSERT INTO positions VALUES (1001, 'skipped by the reset')");
    const dropped = await open("pos", null, { dropSlotOnReset: true });
    await sql(shop, "INSERT INTO positions VALUES (1002, 'after the reset')");
    const fresh = await readAll(dropped.reader, 1, 10);
    expect(ids(fresh.records)).toEqual([1002]);
    await dropped.reader.close();
  });

  it("tells its offset lag: WAL bytes past the slot's confirmed position, growing with writes, falling once confirmed", async () => {
    await sql(shop, "CREATE TABLE lagging (id int PRIMARY KEY, v text)");
    const { reader } = await open("lag", null, { tables: ["lagging"] });
    const idle = await reader.offsetLag!();
    expect(idle?.unit).toBe("bytes");
    const lagSessions = async () =>
      Number(
        (await sql(shop, "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE '% cdc lag'"))[0]
          ?.n,
      );
    expect(await lagSessions()).toBe(1);
    await sql(shop, "INSERT INTO lagging SELECT i, repeat('x', 100) FROM generate_series(1, 500) i");
    // The server writes the WAL within its WAL writer's delay (the test server commits asynchronously); what the
    // slot has not confirmed then grows. (Its confirmed position may move into a transaction still being decoded:
    // ReplicationStream confirms a keepalive's WAL end when nothing is owed, so a part of the 500 rows can count as
    // consumed before they arrive.)
    const behind = await waitFor(
      async () => {
        const lag = (await reader.offsetLag!())!;
        return lag.value > idle!.value ? lag : undefined;
      },
      10_000,
      () => "for the slot to fall behind the writes",
    );
    expect(behind.unit).toBe("bytes");

    const read = await readAll(reader, 500, 1000);
    expect(read.records).toHaveLength(500);
    // Read but not committed: the slot still holds it all.
    const held = (await reader.offsetLag!())!;
    expect(held.value).toBeGreaterThanOrEqual(behind.value);
    // The transaction's commit follows its last change: read it too, so the position is a complete transaction.
    const complete = await waitFor(
      async () => {
        const batch = await reader.read(1000, AbortSignal.timeout(5000));
        expect(batch.records).toHaveLength(0);
        return (batch.offset as { complete: boolean }).complete ? batch : undefined;
      },
      10_000,
      () => "for the transaction's commit",
    );
    expect(complete.offset).toMatchObject({ n: 500, complete: true });
    await reader.committed!(complete.offset);
    // WAL is the whole server's: other test files writing meanwhile move its end, so the lag is checked against the
    // slot's own confirmed position rather than against the figure before the commit.
    const slot = derivedName("lag", "cdc");
    const flush = (complete.offset as { flush: string }).flush;
    await waitFor(
      async () =>
        (
          await sql<{ done: boolean }>(
            shop,
            "SELECT confirmed_flush_lsn >= $2::text::pg_lsn AS done FROM pg_replication_slots WHERE slot_name = $1",
            [slot, flush],
          )
        )[0]?.done === true,
      10_000,
      () => `for the slot to confirm what was committed (up to ${flush})`,
    );
    const after = (await reader.offsetLag!())!;
    // Confirmed up to the end of the last transaction read: the slot holds at most what was written since.
    const [wal] = await sql<{ since: number }>(
      shop,
      "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::text::pg_lsn)::float8 AS since",
      [flush],
    );
    expect(after.value).toBeLessThanOrEqual(wal!.since);
    await reader.close();
    // Asked after close: no answer, and no session left open.
    expect(await reader.offsetLag!()).toBeUndefined();
    await waitFor(
      async () => (await lagSessions()) === 0,
      5000,
      () => "for the lag session to close",
    );
  });
});
