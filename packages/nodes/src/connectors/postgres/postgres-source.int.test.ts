import { createTestDatabase, type TestDatabase } from "@sluice/scripts/lib/test-db";
import { FleetHarness, waitFor } from "@sluice/test-kit/fleet-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TcpProxy } from "../../../test/tcp-proxy";
import { catalog } from "../../catalog";
import { replayConfig } from "../../replay";
import { runtimes } from "../../runtimes";
import { readSql } from "./cursor-query";
import { connectionBundle, type PgTarget, pipeline, sql, targetFromUrl } from "./testing/postgres-test-support";

// source.postgres through the real engine, copying tables of the shared test PostgreSQL into others with
// sink.postgres: exact contents for ids, ties with and without a tie-breaker, several partitions, polling through a
// server that goes away and comes back, the settle time, refused credentials and rows that do not fit.

let db: TestDatabase;
let target: PgTarget;
let harness: FleetHarness;

beforeAll(async () => {
  db = await createTestDatabase("pg-source");
  target = targetFromUrl(db.url);
  harness = new FleetHarness();
  await harness.startInProcess("w1", catalog, runtimes);
});

afterAll(async () => {
  await harness?.close();
  await db?.drop();
});

const bundle = () => connectionBundle({ wh: target });

function copyPipeline(source: Record<string, unknown>, into: string, settings: Record<string, unknown> = {}) {
  return pipeline(
    [
      { id: "src", type: "source.postgres", config: { connection: "wh", ...source } },
      { id: "out", type: "sink.postgres", config: { connection: "wh", table: into } },
    ],
    [{ from: "src", to: "out" }],
    settings,
  );
}

/** Rows in one table and not the other (as multisets of `columns`). */
async function difference(a: string, b: string, columns = "*"): Promise<number> {
  const [row] = await sql<{ n: number }>(
    target,
    `SELECT (SELECT count(*) FROM (SELECT ${columns} FROM ${a} EXCEPT ALL SELECT ${columns} FROM ${b}) x)
          + (SELECT count(*) FROM (SELECT ${columns} FROM ${b} EXCEPT ALL SELECT ${columns} FROM ${a}) y) AS n`,
  );
  return row!.n;
}

describe("source.postgres through the engine", () => {
  it("copies a table once by id: every row, every value, with progress", async () => {
    await sql(
      target,
      `CREATE TABLE events (id bigserial PRIMARY KEY, grp int NOT NULL, name text, payload jsonb, tags text[],
                            at timestamptz NOT NULL, price numeric(12,2));
       INSERT INTO events (grp, name, payload, tags, at, price)
       SELECT i % 97, 'name ' || i || E'\\t"quoted"\\n', jsonb_build_object('i', i, 'odd', i % 2 = 1),
              ARRAY['a', 'b' || i], timestamptz '2024-01-01 00:00:00.123456+00' + i * interval '1 second', i / 7.0
         FROM generate_series(1, 12345) i;
       CREATE TABLE events_copy (LIKE events);`,
    );
    await harness.startRun("bounded", copyPipeline({ table: "events", cursor: "id" }, "events_copy"), {}, bundle());
    const done = await harness.waitForStatus("bounded", "completed", 60_000);
    expect(done.nodes.src).toEqual({ in: 0, out: 12_345, errors: 0 });
    expect(done.progress).toEqual({ done: 12_345, total: 12_345 });
    expect(done.delivery).toBe("exactly-once");
    // Timestamps travel as epoch ms: microseconds are cut, everything else is equal.
    expect(await sql(target, "SELECT count(*) AS n FROM events_copy")).toEqual([{ n: 12_345 }]);
    await sql(target, "UPDATE events SET at = date_trunc('milliseconds', at)");
    expect(await difference("events", "events_copy")).toBe(0);
  });

  it("reads rows sharing a cursor value exactly once, across partitions and groups larger than a batch", async () => {
    await sql(
      target,
      `CREATE TABLE ties (id int PRIMARY KEY, grp int NOT NULL, at timestamptz NOT NULL);
       INSERT INTO ties SELECT i, CASE WHEN i <= 25 THEN 0 ELSE i / 10 END,
                               timestamptz '2024-01-01' + (i / 4) * interval '1 microsecond'
         FROM generate_series(1, 1000) i;
       CREATE TABLE ties_by_grp (LIKE ties);
       CREATE TABLE ties_by_time (LIKE ties);`,
    );
    // No tie-breaker, 7 rows per query: batches end before a group of equal values, never inside one.
    await harness.startRun(
      "ties-grp",
      copyPipeline({ table: "ties", cursor: "grp", batchSize: 7, partitionBy: "id" }, "ties_by_grp", {
        parallelism: 3,
      }),
      {},
      bundle(),
    );
    const grp = await harness.waitForStatus("ties-grp", "completed", 60_000);
    expect(grp.nodes.src?.out).toBe(1000);
    // (Microseconds are cut in transit: timestamps are epoch ms.)
    const columns = "id, grp, date_trunc('milliseconds', at)";
    expect(await difference("ties", "ties_by_grp", columns)).toBe(0);

    // A timestamp cursor with microsecond ties, ordered by the primary key as tie-breaker.
    await harness.startRun(
      "ties-time",
      copyPipeline({ table: "ties", cursor: "at", tieBreaker: "id", batchSize: 3 }, "ties_by_time"),
      {},
      bundle(),
    );
    await harness.waitForStatus("ties-time", "completed", 60_000);
    expect(await difference("ties", "ties_by_time", columns)).toBe(0);
  });

  it("keeps polling through a server that goes away and comes back: no row lost or doubled", async () => {
    await sql(target, "CREATE TABLE feed (id bigserial PRIMARY KEY, v text); CREATE TABLE feed_copy (LIKE feed)");
    const add = (n: number) => sql(target, `INSERT INTO feed (v) SELECT 'v' || i FROM generate_series(1, ${n}) i`);
    const copied = async () => (await sql<{ n: number }>(target, "SELECT count(*) AS n FROM feed_copy"))[0]!.n;
    const proxy = await TcpProxy.start(target.port, target.host);
    try {
      const def = pipeline(
        [
          {
            id: "src",
            type: "source.postgres",
            config: {
              connection: "via-proxy",
              table: "feed",
              cursor: "id",
              mode: "polling",
              pollInterval: "100ms",
              batchSize: 50,
            },
          },
          { id: "out", type: "sink.postgres", config: { connection: "wh", table: "feed_copy" } },
        ],
        [{ from: "src", to: "out" }],
      );
      await harness.startRun(
        "polling",
        def,
        {},
        connectionBundle({ wh: target, "via-proxy": { ...target, port: proxy.port } }),
      );
      await add(500);
      await waitFor(async () => (await copied()) === 500, 30_000);
      await proxy.cut();
      await add(300);
      await new Promise((r) => setTimeout(r, 2000));
      expect(await copied()).toBe(500);
      await proxy.resume();
      await add(200);
      await waitFor(async () => (await copied()) === 1000, 60_000);
      await harness.stopRun("polling");
      await harness.waitForStatus("polling", "stopped", 30_000);
      expect(await difference("feed", "feed_copy")).toBe(0);
    } finally {
      await proxy.close();
    }
  });

  it("with a settle time, reads a row only once it has been visible that long", async () => {
    await sql(target, "CREATE TABLE settled (id int PRIMARY KEY); CREATE TABLE settled_copy (LIKE settled)");
    const def = copyPipeline(
      { table: "settled", cursor: "id", mode: "polling", pollInterval: "100ms", settle: "2s" },
      "settled_copy",
    );
    await harness.startRun("settle", def, {}, bundle());
    await waitFor(async () => (await harness.snapshot("settle"))?.status === "running", 10_000);
    await sql(target, "INSERT INTO settled VALUES (1), (2)");
    const insertedAt = Date.now();
    await new Promise((r) => setTimeout(r, 1000));
    expect(await sql(target, "SELECT count(*) AS n FROM settled_copy")).toEqual([{ n: 0 }]);
    await waitFor(
      async () => (await sql<{ n: number }>(target, "SELECT count(*) AS n FROM settled_copy"))[0]!.n === 2,
      20_000,
    );
    expect(Date.now() - insertedAt).toBeGreaterThanOrEqual(2000);
    await harness.stopRun("settle");
    await harness.waitForStatus("settle", "stopped", 30_000);
  });

  it("fails the run with a clear reason for refused credentials, a missing table or column", async () => {
    await sql(target, "CREATE TABLE small (id int PRIMARY KEY); CREATE TABLE small_copy (LIKE small)");
    await harness.startRun(
      "nobody",
      copyPipeline({ table: "small", cursor: "id" }, "small_copy"),
      {},
      connectionBundle({ wh: { ...target, user: "nobody" } }),
    );
    expect((await harness.waitForStatus("nobody", "failed", 30_000)).error).toMatch(
      /^node (src|out) connection: connection "wh": the server refused user "nobody"/,
    );
    await harness.startRun("no-table", copyPipeline({ table: "nowhere", cursor: "id" }, "small_copy"), {}, bundle());
    expect((await harness.waitForStatus("no-table", "failed", 30_000)).error).toBe(
      `node src table: table nowhere does not exist in database "${db.name}"`,
    );
    await harness.startRun(
      "no-column",
      copyPipeline({ table: "small", cursor: "updated_at" }, "small_copy"),
      {},
      bundle(),
    );
    expect((await harness.waitForStatus("no-column", "failed", 30_000)).error).toMatch(
      /^node src cursor: column "updated_at" does not exist in table small/,
    );
  });

  it("skips a row whose value does not fit the declared columns, and goes on with the others", async () => {
    await sql(
      target,
      `CREATE TABLE typed (id int PRIMARY KEY, amount text);
       INSERT INTO typed SELECT i, CASE WHEN i = 42 THEN 'lots' ELSE (i * 2)::text END FROM generate_series(1, 100) i;
       CREATE TABLE typed_copy (id int, amount int);`,
    );
    const def = copyPipeline(
      {
        table: "typed",
        cursor: "id",
        columns: [
          { name: "id", type: "int" },
          { name: "amount", type: "int" },
        ],
      },
      "typed_copy",
    );
    await harness.startRun("typed", def, {}, bundle());
    const done = await harness.waitForStatus("typed", "completed", 30_000);
    expect(done.nodes.src?.out).toBe(99);
    const rows = await sql<{ id: number; amount: number }>(target, "SELECT id, amount FROM typed_copy ORDER BY id");
    expect(rows.length).toBe(99);
    expect(rows.find((r) => r.id === 42)).toBeUndefined();
    expect(rows.every((r) => r.amount === r.id * 2)).toBe(true);
  });
});

describe("a partition's read", () => {
  it("walks the cursor index from its position and stops at the limit, far from the table's end", async () => {
    await sql(
      target,
      `CREATE TABLE walked (id bigint PRIMARY KEY, note text);
       INSERT INTO walked SELECT i, 'note ' || i FROM generate_series(1, 50000) i;
       ANALYZE walked;`,
    );
    const shape = { table: "walked", cursor: "id", partitionBy: "id", partition: 1, partitions: 2 };
    // Planned as a sequential scan of the table and a sort, each batch would cost as much as the table (issue 17).
    const read = readSql(shape, { c: "1000", t: null }, null, 1000);
    const [row] = await sql<{ "QUERY PLAN": unknown }>(target, `EXPLAIN (FORMAT JSON) ${read.text}`, read.values);
    const plan = JSON.stringify(row!["QUERY PLAN"]);
    expect(plan).toContain('"Index Scan"');
    expect(plan).not.toContain('"Seq Scan"');
    expect(plan).not.toContain('"Sort"');
  });
});

describe("source.postgres replayed over a cursor range", () => {
  it("reads exactly the rows of [from, to] by time, over partitions, and ends", async () => {
    await sql(
      target,
      `CREATE TABLE readings (id int PRIMARY KEY, at timestamptz NOT NULL);
       INSERT INTO readings SELECT i, timestamptz '2026-05-01 00:00:00+00' + i * interval '1 second'
         FROM generate_series(1, 5000) i;
       CREATE TABLE readings_hour (LIKE readings);`,
    );
    const live = {
      connection: "wh",
      table: "readings",
      cursor: "at",
      tieBreaker: "id",
      partitionBy: "id",
      mode: "polling",
    };
    const config = replayConfig(
      "source.postgres",
      live,
      { time: Date.parse("2026-05-01T00:10:00Z") },
      { time: Date.parse("2026-05-01T00:40:00Z") },
    );
    await harness.startRun("replay", copyPipeline(config, "readings_hour", { parallelism: 3 }), {}, bundle());
    const done = await harness.waitForStatus("replay", "completed", 30_000);
    expect(done.nodes.src?.out).toBe(1801);
    expect(done.progress).toEqual({ done: 1801, total: 1801 });
    expect(
      await sql(target, "SELECT min(id) AS lo, max(id) AS hi, count(DISTINCT id) AS n FROM readings_hour"),
    ).toEqual([{ lo: 600, hi: 2400, n: 1801 }]);

    // By cursor value, from a value on: up to the last row when the run starts.
    await sql(target, "TRUNCATE readings_hour");
    const byId = replayConfig("source.postgres", { ...live, cursor: "id", tieBreaker: undefined }, { offset: "4990" });
    await harness.startRun("replay-id", copyPipeline(byId, "readings_hour"), {}, bundle());
    await harness.waitForStatus("replay-id", "completed", 30_000);
    expect(await sql(target, "SELECT count(*) AS n FROM readings_hour")).toEqual([{ n: 11 }]);
  });

  it("fails the run at start, naming the field, when a bound does not fit the cursor column", async () => {
    const config = replayConfig(
      "source.postgres",
      { connection: "wh", table: "readings", cursor: "id" },
      { offset: "yesterday" },
    );
    await harness.startRun("bad-bound", copyPipeline(config, "readings_hour"), {}, bundle());
    expect((await harness.waitForStatus("bad-bound", "failed", 30_000)).error).toMatch(
      /cursorFrom.*the cursor bounds do not fit column id: invalid input syntax for type integer: "yesterday"/,
    );
  });
});
