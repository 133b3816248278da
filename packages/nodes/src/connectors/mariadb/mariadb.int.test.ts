import type { DataRecord } from "@sluice/pipeline/record-schema";
import { field, type RecordSchema, t } from "@sluice/pipeline/record-schema";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SourceOffset, SourceReader } from "../../runtime-contract";
import { RecordRejectedError, type SinkWriter, type SourceBatch } from "../../runtime-contract";
import { NodeConfigError } from "../../runtime-expressions";
import { local } from "../../testing/local-destinations";
import { testContext } from "../../testing/operator-harness";
import { mariadbConnectionRuntime } from "./mariadb-connection.run";
import { mariadbSinkDef } from "./mariadb-sink.def";
import { mariadbSinkRuntime } from "./mariadb-sink.run";
import { mariadbSourceDef } from "./mariadb-source.def";
import { mariadbSourceRuntime } from "./mariadb-source.run";
import { createTestMariaDb, type TestMariaDb } from "./mariadb-test-db";

// The MariaDB connection, source and sink against the real local server, each test in tables of its own.

let db: TestMariaDb;
const never = new AbortController().signal;

beforeAll(async () => {
  db = await createTestMariaDb();
});
afterAll(async () => {
  await db?.drop();
});

const bundle = () => ({ shop: { type: "mariadb", config: db.config as unknown as Record<string, unknown> } });

async function openSource(
  config: Record<string, unknown>,
  from: SourceOffset | null = null,
  partition = 0,
  partitions = 1,
) {
  const ctx = testContext(
    mariadbSourceDef,
    { connection: "shop", ...config },
    {
      connections: bundle(),
      partition,
      partitions,
    },
  );
  return mariadbSourceRuntime.open(ctx as never, from);
}

async function readAll(reader: SourceReader, max = 7) {
  const records: DataRecord[] = [];
  let offset: SourceOffset = null;
  for (let i = 0; i < 10_000; i++) {
    const batch = (await reader.read(max, never)) as SourceBatch;
    records.push(...batch.records);
    offset = batch.offset;
    if (batch.end || (batch.records.length === 0 && batch.idleMs !== undefined)) break;
  }
  return { records, offset };
}

const events: RecordSchema = {
  fields: [field("id", t.int), field("name", t.string), field("amount", t.float, true), field("ts", t.timestamp)],
  open: false,
};

async function openSink(config: Record<string, unknown>, input: RecordSchema = events, runStartedAt = 1) {
  // Each table gets its own node id, so the tests' progress rows stay apart.
  const ctx = testContext(
    mariadbSinkDef,
    { connection: "shop", ...config },
    {
      connections: bundle(),
      inputs: { in: input },
      runStartedAt,
      nodeId: `sink-${String(config.table)}`,
    },
  );
  return (await mariadbSinkRuntime.open(ctx as never)) as SinkWriter;
}

describe("mariadb connection", () => {
  it("says what works and what does not, in words", async () => {
    const ok = await mariadbConnectionRuntime.test(db.config, never, local);
    expect(ok).toMatchObject({ ok: true });
    expect(ok.message).toMatch(/connected to MariaDB .* database "sluice_t_/);

    const badPassword = await mariadbConnectionRuntime.test({ ...db.config, password: "wrong-password" }, never, local);
    expect(badPassword).toMatchObject({ ok: false, problem: "auth-failed" });
    expect(badPassword.message).toMatch(/refused the user name or password/);
    expect(badPassword.message).not.toContain("wrong-password");

    const noDb = await mariadbConnectionRuntime.test({ ...db.config, database: "sluice_t_missing" }, never, local);
    expect(noDb).toMatchObject({ ok: false, problem: "not-found", message: expect.stringContaining("does not exist") });

    const closed = await mariadbConnectionRuntime.test({ ...db.config, port: 1 }, never, local);
    expect(closed).toMatchObject({ ok: false, problem: "host-unreachable" });
  });

  it("discovers tables with their columns and samples rows", async () => {
    await db.query(
      "CREATE TABLE disc (id INT PRIMARY KEY, label VARCHAR(20) NOT NULL, at DATETIME(3), flag TINYINT(1))",
    );
    await db.query("INSERT INTO disc VALUES (1, 'a', '2024-01-02 03:04:05.678', 1), (2, 'b', NULL, 0)");
    const found = await mariadbConnectionRuntime.discover!(db.config, { object: "disc", sample: 5 }, never, local);
    expect(found.objects).toEqual([
      {
        kind: "table",
        name: "disc",
        rows: expect.any(Number),
        fields: [
          { name: "id", type: "int", nullable: false },
          { name: "label", type: "string", nullable: false },
          { name: "at", type: "timestamp", nullable: true },
          { name: "flag", type: "boolean", nullable: true },
        ],
      },
    ]);
    expect(found.sample).toEqual([
      { id: 1, label: "a", at: Date.UTC(2024, 0, 2, 3, 4, 5, 678), flag: 1 },
      { id: 2, label: "b", at: null, flag: 0 },
    ]);
  });
});

describe("source.mariadb", () => {
  it("reads a snapshot in cursor order across seams of equal cursor values, and replays from any position", async () => {
    await db.query(
      "CREATE TABLE src1 (id INT PRIMARY KEY, updated_at DATETIME(6) NOT NULL, amount DECIMAL(10,2), doc TEXT, KEY (updated_at, id))",
    );
    const rows: unknown[][] = [];
    for (let i = 1; i <= 50; i++) {
      // Five rows share each timestamp, which differ in microseconds only.
      rows.push([
        i,
        `2024-05-01 10:00:00.${String(100_000 + Math.floor((i - 1) / 5)).slice(1)}`,
        i * 1.5,
        `{"n":${i}}`,
      ]);
    }
    await db.query("INSERT INTO src1 VALUES ?", [rows]);
    const config = {
      table: "src1",
      cursor: "updated_at",
      tiebreaker: "id",
      columns: [
        "id",
        { name: "amount", type: "float" },
        { name: "doc", type: "json" },
        { name: "updated_at", type: "timestamp" },
      ],
    };
    const reader = await openSource(config);
    const first = await reader.read(12, never);
    expect(first.records.map((r) => r.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(first.records[0]).toEqual({
      id: 1,
      amount: 1.5,
      doc: { n: 1 },
      updated_at: Date.UTC(2024, 4, 1, 10, 0, 0, 0),
    });
    expect(first.progress).toEqual({ done: 12, total: 50 });
    // Rows added after the start are beyond the snapshot's bound.
    await db.query("INSERT INTO src1 VALUES (51, '2030-01-01', 1, '{}')");
    const rest = await readAll(reader, 9);
    expect(rest.records.map((r) => r.id)).toEqual(Array.from({ length: 38 }, (_, i) => i + 13));
    await reader.close();

    // From the position after the first batch, the same rows again.
    const again = await readAll(await openSource(config, first.offset), 100);
    expect(again.records.map((r) => r.id)).toEqual(Array.from({ length: 38 }, (_, i) => i + 13));
  });

  it("polls for new rows, keeps exact big integer cursors, and splits rows over partitions", async () => {
    await db.query("CREATE TABLE src2 (id BIGINT PRIMARY KEY, v VARCHAR(10))");
    const base = 9_007_199_254_740_990n;
    await db.query("INSERT INTO src2 VALUES ?", [[0, 1, 2].map((i) => [base + BigInt(i), `v${i}`])]);
    const reader = await openSource({ table: "src2", cursor: "id", mode: "polling", pollInterval: "50ms" });
    const a = await readAll(reader, 100);
    expect(a.records.map((r) => r.v)).toEqual(["v0", "v1", "v2"]);
    expect(a.records[2]?.id).toBe("9007199254740992");
    const idle = await reader.read(100, never);
    expect(idle).toMatchObject({ records: [], end: false, idleMs: 50 });
    await db.query("INSERT INTO src2 VALUES (?, 'v3'), (?, 'v4')", [base + 3n, base + 4n]);
    const b = await reader.read(100, never);
    expect(b.records.map((r) => r.v)).toEqual(["v3", "v4"]);
    await reader.close();

    await db.query("CREATE TABLE src3 (id INT PRIMARY KEY)");
    await db.query("INSERT INTO src3 VALUES ?", [Array.from({ length: 100 }, (_, i) => [i + 1])]);
    const seen: number[] = [];
    for (let p = 0; p < 3; p++) {
      const part = await readAll(
        await openSource({ table: "src3", cursor: "id", partitionColumn: "id" }, null, p, 3),
        10,
      );
      expect(part.records.length).toBeGreaterThan(10);
      seen.push(...part.records.map((r) => r.id as number));
    }
    expect(seen.sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    // Without a split column only the first partition reads.
    const second = await readAll(await openSource({ table: "src3", cursor: "id" }, null, 1, 3));
    expect(second.records).toEqual([]);
  });

  it("refuses a row whose value does not fit its declared type, naming it, and reads on", async () => {
    await db.query("CREATE TABLE src4 (id INT PRIMARY KEY, qty VARCHAR(10))");
    await db.query("INSERT INTO src4 VALUES (1, '5'), (2, 'five'), (3, '7')");
    const reader = await openSource({ table: "src4", cursor: "id", columns: ["id", { name: "qty", type: "int" }] });
    const batch = (await reader.read(10, never)) as SourceBatch;
    expect(batch.records).toEqual([
      { id: 1, qty: 5 },
      { id: 3, qty: 7 },
    ]);
    expect(batch.rejected).toEqual([
      {
        record: { table: "src4", cursor: "2", row: { id: 2, qty: "five" } },
        error: expect.stringContaining('field "qty"'),
      },
    ]);
    expect(batch.end).toBe(true);
  });

  it("fails the run with a clear reason for a refused password, a missing table or column", async () => {
    const bad = testContext(
      mariadbSourceDef,
      { connection: "shop", table: "src1", cursor: "id" },
      {
        connections: { shop: { type: "mariadb", config: { ...db.config, password: "nope" } } },
      },
    );
    await expect(mariadbSourceRuntime.open(bad as never, null)).rejects.toThrow(
      expect.objectContaining({
        name: "NodeConfigError",
        message: expect.stringMatching(/refused the user name or password/),
      }),
    );
    await expect(openSource({ table: "nope", cursor: "id" })).rejects.toThrow(/there is no table "nope"/);
    await expect(openSource({ table: "src1", cursor: "created" })).rejects.toThrow(NodeConfigError);
    await expect(openSource({ table: "src1", cursor: "created" })).rejects.toThrow(/no column "created"/);
  });
});

describe("sink.mariadb", () => {
  const recs = (from: number, n: number): DataRecord[] =>
    Array.from({ length: n }, (_, i) => ({
      id: from + i,
      name: `n${from + i}`,
      amount: (from + i) / 4,
      ts: Date.UTC(2024, 0, 1) + (from + i) * 1000,
    }));

  it("creates the table, inserts each batch once, and writes only the new records of a replay that grew", async () => {
    const sink = await openSink({ table: "out1", createTable: true, key: ["id"] });
    await sink.write(recs(1, 100), { batchId: "run-a:0:0:1", sequence: 1 });
    // The same batch again (a crash before the engine's commit): nothing more.
    await sink.write(recs(1, 100), { batchId: "run-a:0:0:1", sequence: 1 });
    // The replay of the next batch read more than the attempt that crashed: only the rest is new.
    await sink.write(recs(101, 10), { batchId: "run-a:0:0:2", sequence: 2 });
    await sink.write(recs(101, 30), { batchId: "run-a:0:0:2", sequence: 2 });
    // An older batch than the last written one: already in.
    await sink.write(recs(1, 5), { batchId: "run-a:0:0:1", sequence: 1 });
    await sink.close();
    const [count] = await db.query<{ n: number; s: number }[]>("SELECT COUNT(*) AS n, SUM(id) AS s FROM out1");
    expect(count).toEqual({ n: 130, s: (130 * 131) / 2 });
    const [row] = await db.query<Record<string, unknown>[]>("SELECT * FROM out1 WHERE id = 7");
    expect(row).toEqual({ id: 7, name: "n7", amount: 1.75, ts: new Date(Date.UTC(2024, 0, 1) + 7000) });
    const progress = await db.query<Record<string, unknown>[]>(
      "SELECT sink_id, `partition`, run_started_at, sequence, batch_id, records FROM sluice_sink_offsets",
    );
    expect(progress).toEqual([
      {
        sink_id: "test-run/sink-out1",
        partition: 0,
        run_started_at: 1,
        sequence: 2,
        batch_id: "run-a:0:0:2",
        records: 30,
      },
    ]);
    // The run started over (same id, new start time): its batches are new.
    const again = await openSink({ table: "out1", key: ["id"], mode: "upsert" }, events, 2);
    await again.write(recs(1, 3), { batchId: "run-a:0:0:1", sequence: 1 });
    await again.close();
    const [after] = await db.query<{ n: number }[]>("SELECT COUNT(*) AS n FROM out1");
    expect(after?.n).toBe(130);
  });

  it("upserts keeping the newest row per key, whichever writer comes first and in whatever order within a batch", async () => {
    const schema: RecordSchema = {
      fields: [field("k", t.string), field("v", t.int), field("at", t.int), field("layer", t.string)],
      open: false,
    };
    const batchLayer = [
      { k: "a", v: 1, at: 20, layer: "batch" },
      { k: "b", v: 2, at: 10, layer: "batch" },
      { k: "c", v: 3, at: 5, layer: "batch" },
    ];
    // The speed layer's newest record of a key comes first in its batch.
    const speedLayer = [
      { k: "a", v: 11, at: 15, layer: "speed" },
      { k: "b", v: 12, at: 30, layer: "speed" },
      { k: "b", v: -1, at: 1, layer: "stale" },
      { k: "n", v: 14, at: 1, layer: "speed" },
    ];
    for (const [table, first, second] of [
      ["newest1", batchLayer, speedLayer],
      ["newest2", speedLayer, batchLayer],
    ] as const) {
      await db.query(`CREATE TABLE ${table} (k VARCHAR(10) PRIMARY KEY, v BIGINT, at BIGINT, layer VARCHAR(20))`);
      await db.query(`INSERT INTO ${table} VALUES ('c', 99, NULL, 'unversioned')`);
      const a = await openSink({ table, mode: "upsert", key: ["k"], newerBy: "at" }, schema);
      await a.write([...first], { batchId: "a:0:0:1", sequence: 1 });
      await a.close();
      const b = await openSink({ table, mode: "upsert", key: ["k"], newerBy: "at" }, schema, 2);
      await b.write([...second], { batchId: "b:0:0:1", sequence: 1 });
      await b.close();
      expect(await db.query(`SELECT k, v, at, layer FROM ${table} ORDER BY k`)).toEqual([
        { k: "a", v: 1, at: 20, layer: "batch" },
        { k: "b", v: 12, at: 30, layer: "speed" },
        { k: "c", v: 3, at: 5, layer: "batch" },
        { k: "n", v: 14, at: 1, layer: "speed" },
      ]);
    }
  });

  it("upserts by key", async () => {
    await db.query("CREATE TABLE out2 (k VARCHAR(10) PRIMARY KEY, total BIGINT NOT NULL, seen INT DEFAULT 7)");
    const schema: RecordSchema = { fields: [field("k", t.string), field("total", t.int)], open: false };
    const sink = await openSink({ table: "out2", mode: "upsert", key: ["k"] }, schema);
    await sink.write(
      [
        { k: "a", total: 1 },
        { k: "b", total: 2 },
      ],
      { batchId: "r:0:0:1", sequence: 1 },
    );
    await sink.write(
      [
        { k: "a", total: 10 },
        { k: "c", total: 3 },
      ],
      { batchId: "r:0:0:2", sequence: 2 },
    );
    await sink.close();
    expect(await db.query("SELECT * FROM out2 ORDER BY k")).toEqual([
      { k: "a", total: 10, seen: 7 },
      { k: "b", total: 2, seen: 7 },
      { k: "c", total: 3, seen: 7 },
    ]);
  });

  it("writes the good records of a batch and hands the refused ones over once, with the server's reason", async () => {
    await db.query("CREATE TABLE out3 (id INT PRIMARY KEY, code VARCHAR(3) NOT NULL)");
    const schema: RecordSchema = { fields: [field("id", t.int), field("code", t.string)], open: false };
    const sink = await openSink({ table: "out3" }, schema);
    const batch = [
      { id: 1, code: "ok" },
      { id: 2, code: "far too long" },
      { id: 3, code: null },
      { id: 4, code: "yes" },
    ];
    const failed: { record: DataRecord; error: string }[] = [];
    const fail = (record: DataRecord, error: unknown) => failed.push({ record, error: (error as Error).message });
    await sink.write(batch, { batchId: "r3:0:0:1", sequence: 1 }, fail);
    expect(await db.query("SELECT id FROM out3 ORDER BY id")).toEqual([{ id: 1 }, { id: 4 }]);
    expect(failed).toEqual([
      { record: batch[1], error: expect.stringMatching(/out3: Data too long for column 'code'/) },
      { record: batch[2], error: expect.stringMatching(/out3: Column 'code' cannot be null/) },
    ]);
    // A replay of the same batch (the engine's commit was lost): the refused records are handed over again, since
    // the dead letters of the lost attempt were never committed; nothing is written twice.
    failed.length = 0;
    await sink.write(batch, { batchId: "r3:0:0:1", sequence: 1 }, fail);
    expect(failed.map((f) => f.record.id)).toEqual([2, 3]);
    expect(await db.query("SELECT COUNT(*) AS n FROM out3")).toEqual([{ n: 2 }]);
    // Without a way to dead-letter (today's engine), the batch stays unwritten and the error names the record.
    await expect(sink.write([{ id: 9, code: "toolong" }], { batchId: "r3:0:0:2", sequence: 2 })).rejects.toThrow(
      RecordRejectedError,
    );
    expect(await db.query("SELECT COUNT(*) AS n FROM out3")).toEqual([{ n: 2 }]);
    await sink.close();
  });

  it("refuses to start without the table, an upsert key index or a column, naming them", async () => {
    await expect(openSink({ table: "missing" })).rejects.toThrow(/there is no table "missing".*Create the table/);
    await db.query("CREATE TABLE out4 (id INT, name TEXT)");
    await expect(openSink({ table: "out4", mode: "upsert", key: ["id"], columns: ["id", "name"] })).rejects.toThrow(
      /no primary key or unique index on \(id\)/,
    );
    await expect(openSink({ table: "out4" })).rejects.toThrow(/table "out4" has no column "amount", "ts"/);
    const ctx = testContext(
      mariadbSinkDef,
      { connection: "shop", table: "out4" },
      {
        connections: { shop: { type: "mariadb", config: { ...db.config, password: "nope" } } },
        inputs: { in: events },
      },
    );
    await expect(mariadbSinkRuntime.open(ctx as never)).rejects.toThrow(NodeConfigError);
  });
});
