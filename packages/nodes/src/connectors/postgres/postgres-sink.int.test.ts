import type { ChildProcess } from "node:child_process";
import { createTestDatabase, type TestDatabase } from "@sluice/scripts/lib/test-db";
import { FleetHarness, waitFor } from "@sluice/test-kit/fleet-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TcpProxy } from "../../../test/tcp-proxy";
import { catalog } from "../../catalog";
import { RecordRejectedError } from "../../runtime-contract";
import { runtimes } from "../../runtimes";
import { generatorDef } from "../../sources/generator.def";
import { recordFactory } from "../../sources/generator.run";
import { testContext } from "../../testing/operator-harness";
import { postgresSinkDef } from "./postgres-sink.def";
import { TableWriter } from "./postgres-sink.run";
import {
  connectionBundle,
  type PgTarget,
  pipeline,
  sql,
  startCrashWorker,
  targetFromUrl,
} from "./testing/postgres-test-support";

// sink.postgres through the real engine (an in-process fleet worker on the shared Redis) into the shared test
// PostgreSQL, each run into its own table: exact contents, upserts, a worker killed between the sink's write and
// the engine's commit, the server going away and coming back, refused credentials, and records the table refuses.

const START = 1_700_000_000_000;

let db: TestDatabase;
let target: PgTarget;
let harness: FleetHarness;

beforeAll(async () => {
  db = await createTestDatabase("pg-sink");
  target = targetFromUrl(db.url);
  harness = new FleetHarness();
  await harness.startInProcess("w1", catalog, runtimes);
});

afterAll(async () => {
  await harness?.close();
  await db?.drop();
});

function generator(count: number, extra: Record<string, unknown> = {}) {
  return { id: "gen", type: "source.generator", config: { count, rate: 0, seed: 11, startTime: START, ...extra } };
}

function expectedRecords(count: number, extra: Record<string, unknown> = {}) {
  const make = recordFactory(
    generatorDef.config.parse({ count, rate: 0, seed: 11, startTime: START, ...extra }),
    START,
  );
  return Array.from({ length: count }, (_, i) => make(i));
}

describe("sink.postgres through the engine", () => {
  it("appends every record exactly once, with COPY, into a table it creates", async () => {
    const def = pipeline(
      [
        generator(20_000),
        {
          id: "out",
          type: "sink.postgres",
          config: { connection: "wh", table: "clicks", createTable: true, key: ["id"] },
        },
      ],
      [{ from: "gen", to: "out" }],
      { parallelism: 2 },
    );
    await harness.startRun("insert", def, {}, connectionBundle({ wh: target }));
    const done = await harness.waitForStatus("insert", "completed", 60_000);
    expect(done.nodes.out).toEqual({ in: 20_000, out: 0, errors: 0 });
    expect(done.delivery).toBe("exactly-once");

    const expected = expectedRecords(20_000);
    const [summary] = await sql<{ n: number; ids: number; amount: number; ts: string }>(
      target,
      "SELECT count(*) AS n, count(DISTINCT id) AS ids, sum(amount)::float8 AS amount, sum((extract(epoch FROM ts) * 1000)::bigint)::text AS ts FROM clicks",
    );
    expect(summary).toEqual({
      n: 20_000,
      ids: 20_000,
      amount: expect.closeTo(
        expected.reduce((s, r) => s + (r.amount as number), 0),
        2,
      ),
      ts: String(expected.reduce((s, r) => s + BigInt(r.ts as number), 0n)),
    });
    const sample = await sql(target, "SELECT * FROM clicks WHERE id IN (0, 12345) ORDER BY id");
    expect(sample).toEqual([expected[0], expected[12345]]);
    const columns = await sql(
      target,
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'clicks' ORDER BY ordinal_position",
    );
    expect(columns).toEqual([
      { column_name: "id", data_type: "bigint" },
      { column_name: "user_id", data_type: "bigint" },
      { column_name: "country", data_type: "text" },
      { column_name: "status", data_type: "bigint" },
      { column_name: "amount", data_type: "double precision" },
      { column_name: "ts", data_type: "timestamp with time zone" },
    ]);
  });

  it("upserts by key: each key's row holds its last record", async () => {
    await sql(
      target,
      "CREATE TABLE per_user (user_id int PRIMARY KEY, country text, amount numeric, hits int DEFAULT 0)",
    );
    await sql(target, "INSERT INTO per_user VALUES (1, 'old', 0, 7)");
    const def = pipeline(
      [
        generator(5000),
        {
          id: "out",
          type: "sink.postgres",
          config: { connection: "wh", table: "per_user", mode: "upsert", key: ["user_id"] },
        },
      ],
      [{ from: "gen", to: "out" }],
    );
    await harness.startRun("upsert", def, {}, connectionBundle({ wh: target }));
    await harness.waitForStatus("upsert", "completed", 60_000);
    const last = new Map<number, Record<string, unknown>>();
    for (const r of expectedRecords(5000)) last.set(r.user_id as number, r);
    const rows = await sql<{ user_id: number; country: string; amount: number; hits: number }>(
      target,
      "SELECT user_id, country, amount, hits FROM per_user ORDER BY user_id",
    );
    expect(rows.length).toBe(last.size);
    for (const row of rows) {
      const r = last.get(row.user_id)!;
      expect(row).toEqual({
        user_id: r.user_id,
        country: r.country,
        amount: r.amount,
        // A column the records lack keeps its value (hits of user 1) or its default.
        hits: row.user_id === 1 ? 7 : 0,
      });
    }
  });

  it("writes each row once when the worker dies between the sink's write and the engine's commit", async () => {
    await sql(
      target,
      "CREATE TABLE crash (id bigint, user_id int, country text, status int, amount float8, ts timestamptz)",
    );
    const fleet = new FleetHarness();
    let child: ChildProcess | undefined;
    try {
      const crashing = await startCrashWorker(fleet, { CRASH_AFTER_SEQUENCE: "4" });
      child = crashing.child;
      const { output, exited } = crashing;

      const def = pipeline(
        [generator(10_000), { id: "out", type: "sink.postgres", config: { connection: "wh", table: "crash" } }],
        [{ from: "gen", to: "out" }],
        { batchSize: 1000 },
      );
      await fleet.startRun("crash", def, {}, connectionBundle({ wh: target }));
      expect(await exited).toBe("SIGKILL");
      expect(output.join("")).toContain("crashing after writing batch crash:0:0:4");
      // Batch 4 is in the table, but the engine never committed it.
      const [before] = await sql<{ n: number }>(target, "SELECT count(*) AS n FROM crash");
      expect(before?.n).toBe(4000);

      await fleet.startInProcess("survivor", catalog, runtimes);
      await fleet.waitForStatus("crash", "completed", 60_000);
      const [after] = await sql(target, "SELECT count(*) AS n, count(DISTINCT id) AS ids, min(id), max(id) FROM crash");
      expect(after).toEqual({ n: 10_000, ids: 10_000, min: 0, max: 9999 });
      const [progress] = await sql(
        target,
        "SELECT sink_id, partition, sequence::int, batch_id FROM sluice_sink_offsets WHERE sink_id = 'crash/out'",
      );
      expect(progress).toEqual({ sink_id: "crash/out", partition: 0, sequence: 10, batch_id: "crash:0:0:10" });
    } finally {
      if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await fleet.close();
    }
  });

  it("waits out a server that goes away and comes back, losing and doubling nothing", async () => {
    await sql(target, "CREATE TABLE flaky (id bigint PRIMARY KEY, amount float8, ts timestamptz)");
    const proxy = await TcpProxy.start(target.port, target.host);
    try {
      const def = pipeline(
        [
          generator(6000, { rate: 1500, fields: { id: { kind: "sequence" }, amount: { kind: "float" } } }),
          { id: "out", type: "sink.postgres", config: { connection: "wh", table: "flaky" } },
        ],
        [{ from: "gen", to: "out" }],
        { batchSize: 200 },
      );
      await harness.startRun("flaky", def, {}, connectionBundle({ wh: { ...target, port: proxy.port } }));
      await waitFor(
        async () => (await sql<{ n: number }>(target, "SELECT count(*) AS n FROM flaky"))[0]!.n >= 1000,
        30_000,
      );
      await proxy.cut();
      const [during] = await sql<{ n: number }>(target, "SELECT count(*) AS n FROM flaky");
      await new Promise((r) => setTimeout(r, 2500));
      const [still] = await sql<{ n: number }>(target, "SELECT count(*) AS n FROM flaky");
      expect(still?.n).toBe(during?.n);
      await proxy.resume();
      const done = await harness.waitForStatus("flaky", "completed", 60_000);
      expect(done.nodes.out?.in).toBe(6000);
      const [after] = await sql(target, "SELECT count(*) AS n, count(DISTINCT id) AS ids FROM flaky");
      expect(after).toEqual({ n: 6000, ids: 6000 });
    } finally {
      await proxy.close();
    }
  });

  it("fails the run with a clear reason when the credentials are refused or the table is missing", async () => {
    const def = (table: string) =>
      pipeline(
        [generator(10), { id: "out", type: "sink.postgres", config: { connection: "wh", table } }],
        [{ from: "gen", to: "out" }],
      );
    await harness.startRun("bad-user", def("clicks"), {}, connectionBundle({ wh: { ...target, user: "nobody" } }));
    const failed = await harness.waitForStatus("bad-user", "failed", 30_000);
    expect(failed.error).toMatch(
      /^node out connection: connection "wh": the server refused user "nobody": .*role "nobody" does not exist/,
    );

    await harness.startRun("no-table", def("missing_table"), {}, connectionBundle({ wh: target }));
    const missing = await harness.waitForStatus("no-table", "failed", 30_000);
    expect(missing.error).toBe(
      `node out table: table missing_table does not exist in database "${db.name}"; create it, or set createTable: true`,
    );
  });
});

describe("sink.postgres: records the table refuses", () => {
  const records = Array.from({ length: 10 }, (_, i) => ({ id: i, amount: i * 10, note: `n${i}` }));
  records[3] = { id: 3, amount: 500, note: "too much" };
  records[7] = { id: 7, amount: "abc" as unknown as number, note: "not a number" };

  async function writer(table: string) {
    await sql(
      target,
      `CREATE TABLE ${table} (id int PRIMARY KEY, amount int CHECK (amount < 100), note text NOT NULL)`,
    );
    const ctx = testContext(
      postgresSinkDef,
      { connection: "wh", table },
      { connections: connectionBundle({ wh: target }), nodeId: table },
    );
    return TableWriter.open(ctx as never);
  }

  it("finds the refused records by halving the batch, names them, and writes nothing of the batch", async () => {
    const w = await writer("refused_throw");
    try {
      const error = await w.write(records, { batchId: "r:0:0:1", sequence: 1 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RecordRejectedError);
      expect((error as RecordRejectedError).index).toBe(3);
      expect((error as Error).message).toBe(
        'record 4 of the batch was refused: table refused_throw: new row for relation "refused_throw" violates check constraint "refused_throw_amount_check" — Failing row contains (3, 500, too much). (and 1 more record(s) of the batch) — record {"id":3,"amount":500,"note":"too much"}',
      );
      expect(await sql(target, "SELECT count(*)::int AS n FROM refused_throw")).toEqual([{ n: 0 }]);
    } finally {
      await w.close();
    }
  });

  it("with a way to dead-letter, writes the rest once and reports the refused records again on a replay", async () => {
    const w = await writer("refused_fail");
    try {
      const failed: { record: unknown; error: string }[] = [];
      const fail = (record: unknown, error: unknown) => failed.push({ record, error: (error as Error).message });
      await w.write(records, { batchId: "r:0:0:1", sequence: 1 }, fail);
      expect(failed.map((f) => f.record)).toEqual([records[3], records[7]]);
      expect(failed[0]!.error).toMatch(/violates check constraint "refused_fail_amount_check"/);
      expect(failed[1]!.error).toMatch(/invalid input syntax for type integer: "abc"/);
      const ids = async () =>
        (await sql<{ id: number }>(target, "SELECT id FROM refused_fail ORDER BY id")).map((r) => r.id);
      expect(await ids()).toEqual([0, 1, 2, 4, 5, 6, 8, 9]);

      // The engine replays the batch after a crash: nothing is written twice, the refused records are reported again.
      failed.length = 0;
      await w.write(records, { batchId: "r:0:0:1", sequence: 1 }, fail);
      expect(await ids()).toEqual([0, 1, 2, 4, 5, 6, 8, 9]);
      expect(failed.map((f) => f.record)).toEqual([records[3], records[7]]);
    } finally {
      await w.close();
    }
  });
});

describe("sink.postgres: upsert keeping the newest row", () => {
  const T = Date.UTC(2026, 4, 1);
  /** The batch layer's rows: newer than the speed layer's for even keys, older for odd ones. */
  const batchLayer = Array.from({ length: 200 }, (_, k) => ({
    account: k,
    balance: k * 10,
    updated_at: T + (k % 2 === 0 ? 2000 : 1000),
    layer: "batch",
  }));
  /** The speed layer's: each key twice in one batch, its newest record first. */
  const speedLayer = Array.from({ length: 200 }, (_, k) => [
    { account: k, balance: k * 10 + 1, updated_at: T + (k % 2 === 0 ? 1500 : 2500), layer: "speed" },
    { account: k, balance: -1, updated_at: T + 500, layer: "stale" },
  ]).flat();

  async function writerFor(table: string, nodeId: string) {
    const ctx = testContext(
      postgresSinkDef,
      { connection: "wh", table, mode: "upsert", key: ["account"], newerBy: "updated_at" },
      { connections: connectionBundle({ wh: target }), nodeId },
    );
    return TableWriter.open(ctx as never);
  }

  async function rows(table: string) {
    return sql<{ account: number; balance: number; layer: string }>(
      target,
      `SELECT account, balance, layer FROM ${table} ORDER BY account`,
    );
  }

  it("ends with the newest row per key whichever layer writes first, and a replay changes nothing", async () => {
    const tables = ["serving_batch_first", "serving_speed_first"];
    for (const table of tables) {
      await sql(
        target,
        `CREATE TABLE ${table} (account int PRIMARY KEY, balance bigint, updated_at timestamptz, layer text);
         INSERT INTO ${table} VALUES (0, 999, NULL, 'unversioned'), (1, 999, '2030-01-01Z', 'future')`,
      );
    }
    const order = { serving_batch_first: [batchLayer, speedLayer], serving_speed_first: [speedLayer, batchLayer] };
    for (const table of tables) {
      const [first, second] = order[table as keyof typeof order];
      const a = await writerFor(table, `${table}-a`);
      const b = await writerFor(table, `${table}-b`);
      try {
        await a.write(first!, { batchId: "a:0:0:1", sequence: 1 });
        await b.write(second!, { batchId: "b:0:0:1", sequence: 1 });
        // Either layer replaying its batch (after a crash, or a backfill run again) changes nothing.
        await a.write(first!, { batchId: "a:0:0:1", sequence: 1 });
      } finally {
        await a.close();
        await b.close();
      }
    }
    const expected = Array.from({ length: 200 }, (_, k) =>
      k === 1
        ? { account: 1, balance: 999, layer: "future" }
        : k % 2 === 0
          ? { account: k, balance: k * 10, layer: "batch" }
          : { account: k, balance: k * 10 + 1, layer: "speed" },
    );
    expect(await rows("serving_batch_first")).toEqual(expected);
    expect(await rows("serving_speed_first")).toEqual(expected);
  });

  it("fails the run at start when the table has no such column", async () => {
    await sql(target, "CREATE TABLE serving_no_column (account int PRIMARY KEY, balance bigint)");
    const error = await writerFor("serving_no_column", "no-column").catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      /table serving_no_column has no column "updated_at" to keep the newest by/,
    );
  });
});
