import { catalog } from "@sluice/nodes/catalog";
import { runtimes } from "@sluice/nodes/runtimes";
import { emptyDefinition } from "@sluice/pipeline/definition";
import { createTestDatabase, type TestDatabase } from "@sluice/scripts/lib/test-db";
import { type ApiHarness, createApiHarness, rejects } from "@sluice/test-kit/api-harness";
import { FleetHarness, waitFor } from "@sluice/test-kit/fleet-harness";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Backfills end to end against the local PostgreSQL and Redis with a real worker: a Redis Streams source → map →
// sink.postgres upsert pipeline runs live; a backfill replays [T1, T2] of the stream into the shadow table while the
// live run goes on, reaching neither the pipeline's other sink nor its consumer; the comparison is equal, then
// unequal with a sample difference after a change to the live table; the swap leaves the live name holding the
// shadow's rows plus the live rows it lacked, and a reader looping in its own transactions never sees the table
// missing or empty.

const REDIS_BASE = process.env.SLUICE_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
/** Not Sluice's own database number: the destination policy refuses that one to connections. */
const SOURCE_DB = 7;
const ENTRIES = 100;
const KEYS = 20;
const T0 = 1_700_000_000_000;

let fleet: FleetHarness;
let h: ApiHarness;
let target: TestDatabase;
let source: Redis;
let stream: string;

async function sql<R = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: target.url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as R[];
  } finally {
    await client.end();
  }
}

const count = async (table: string) => (await sql<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0]!.n;

beforeAll(async () => {
  fleet = new FleetHarness();
  h = await createApiHarness("backfills", { prefix: fleet.prefix, secretKey: fleet.secretKey });
  target = await createTestDatabase("backfills-target");
  source = new Redis(`${REDIS_BASE}/${SOURCE_DB}`, { maxRetriesPerRequest: null });
  stream = `${fleet.prefix}:readings`;
  for (let i = 0; i < ENTRIES; i++) {
    await source.xadd(stream, `${T0 + i * 1000}-0`, "data", JSON.stringify({ k: `k${i % KEYS}`, n: i }));
  }
  await sql("CREATE TABLE totals (k text PRIMARY KEY, n bigint NOT NULL, doubled bigint, note text DEFAULT 'x')");
  await sql("CREATE TABLE other_log (k text, n bigint)");
  await fleet.startInProcess("backfills-w1", catalog, runtimes);
});
afterAll(async () => {
  await source?.del(stream).catch(() => {});
  source?.disconnect();
  await fleet?.close();
  await h?.close();
  await target?.drop();
});

describe("a backfill into a shadow table", () => {
  it("fills beside the live run, compares, swaps atomically and drops the old table", async () => {
    const { cookie } = await h.signUp("Filler");
    const { api } = await h.caller(cookie);
    const u = new URL(target.url);
    await api.connections.create({
      name: "warehouse",
      type: "postgres",
      config: {
        host: u.hostname,
        port: Number(u.port || 5432),
        database: target.name,
        user: decodeURIComponent(u.username || "postgres"),
        ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
      },
    });
    await api.connections.create({ name: "events", type: "redis", config: { url: `${REDIS_BASE}/${SOURCE_DB}` } });
    const def = emptyDefinition("totals");
    def.spec.settings.parallelism = 1;
    def.spec.nodes.push(
      {
        id: "src",
        type: "source.redis-stream",
        config: { connection: "events", stream, format: "json", fields: ["k", { name: "n", type: "int" }] },
      },
      { id: "calc", type: "transform.map", config: { set: { doubled: "n * 2" } } },
      {
        id: "out",
        type: "sink.postgres",
        config: { connection: "warehouse", table: "totals", mode: "upsert", key: ["k"] },
      },
      { id: "log", type: "sink.postgres", config: { connection: "warehouse", table: "other_log" } },
    );
    def.spec.edges.push({ from: "src", to: "calc" }, { from: "calc", to: "out" }, { from: "src", to: "log" });
    const { id: pipelineId } = await api.pipelines.create({ name: "Totals", definition: def });

    // The live run reads the whole stream and keeps waiting for more.
    const { id: liveRunId } = await api.runs.start({ pipelineId });
    await waitFor(
      async () => ((await fleet.snapshot(liveRunId))?.nodes.out?.in ?? 0) >= ENTRIES,
      30_000,
      () => "for the live run to write the stream",
    );
    expect(await count("totals")).toBe(KEYS);
    expect(await count("other_log")).toBe(ENTRIES);

    // The plan: the sink, its source and how it replays; the other sink left out.
    const plan = await api.backfills.plan({ pipelineId });
    const out = plan.sinks.find((s) => s.nodeId === "out")!;
    expect(out).toMatchObject({ table: "totals", mode: "upsert", key: ["k"], otherSinks: ["log"] });
    expect(out.sources).toEqual([
      expect.objectContaining({
        nodeId: "src",
        endsByItself: false,
        replay: expect.objectContaining({ by: ["time", "offset"] }),
      }),
    ]);

    // A source neither replayed nor ending by itself is named.
    const unbounded = await rejects(api.backfills.start({ pipelineId, sinkNodeId: "out", replay: {} }));
    expect(unbounded.code).toBe("BAD_REQUEST");
    expect(unbounded.message).toContain('"src"');
    const notSink = await rejects(
      api.backfills.start({ pipelineId, sinkNodeId: "calc", replay: { src: { from: { time: T0 } } } }),
    );
    expect(notSink.code).toBe("BAD_REQUEST");

    // [T1, T2] covers the whole stream: the shadow gets what the live table holds.
    const started = await api.backfills.start({
      pipelineId,
      sinkNodeId: "out",
      replay: { src: { from: { time: T0 }, to: { time: T0 + (ENTRIES - 1) * 1000 } } },
    });
    expect(started).toMatchObject({ shadowTable: "public.totals__g1", generation: 1 });
    // One active backfill per sink.
    const twice = await rejects(
      api.backfills.start({ pipelineId, sinkNodeId: "out", replay: { src: { from: { time: T0 } } } }),
    );
    expect(twice.code).toBe("CONFLICT");

    const filled = await waitFor(
      async () => {
        const b = await api.backfills.get({ id: started.id });
        if (b.state === "FAILED") throw new Error(`backfill failed: ${b.error}`);
        return b.state === "FILLED" ? b : undefined;
      },
      60_000,
      () => "for the backfill to fill",
    );
    expect(filled.sources).toEqual([{ nodeId: "src", read: ENTRIES, fraction: 1 }]);
    expect(filled.written).toBe(ENTRIES);
    expect(filled.fraction).toBe(1);
    expect(await count("totals__g1")).toBe(KEYS);
    // The other sink received nothing of the backfill; the live run still runs.
    expect(await count("other_log")).toBe(ENTRIES);
    expect((await api.runs.get({ runId: liveRunId })).status).not.toMatch(/COMPLETED|FAILED|STOPPED/);
    // The shadow was made like the live table: its default and primary key came along.
    const like = await sql<{ column_default: string | null }>(
      "SELECT column_default FROM information_schema.columns WHERE table_name = 'totals__g1' AND column_name = 'note'",
    );
    expect(like[0]?.column_default).toContain("'x'");

    const same = await api.backfills.compare({ id: started.id });
    expect(same.state).toBe("COMPARED");
    expect(same.comparison).toMatchObject({
      equal: true,
      live: { rows: KEYS },
      shadow: { rows: KEYS },
      differences: [],
      key: ["k"],
    });
    expect(same.comparison!.live.checksum).toBe(same.comparison!.shadow.checksum);

    // A deliberate change to the live table: unequal, and the row shows on both sides by its key.
    await sql("UPDATE totals SET n = -1 WHERE k = 'k3'");
    const changed = await api.backfills.compare({ id: started.id });
    expect(changed.comparison!.equal).toBe(false);
    expect(changed.comparison!.live.checksum).not.toBe(changed.comparison!.shadow.checksum);
    expect(changed.comparison!.differences).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ side: "live", key: { k: "k3" }, row: expect.objectContaining({ n: -1 }) }),
        expect.objectContaining({ side: "shadow", key: { k: "k3" }, row: expect.objectContaining({ n: 83 }) }),
      ]),
    );
    // Ignoring the changed column makes them equal again.
    const ignored = await api.backfills.compare({ id: started.id, ignoreColumns: ["n"] });
    expect(ignored.comparison).toMatchObject({ equal: true, ignoredColumns: ["n"] });
    expect((await rejects(api.backfills.compare({ id: started.id, ignoreColumns: ["nope"] }))).code).toBe(
      "BAD_REQUEST",
    );

    // A row the live pipeline wrote past the backfill's end: carried over by the swap.
    await sql("INSERT INTO totals (k, n, doubled) VALUES ('late', 1000, 2000)");

    // A reader in its own transactions, in a loop, through the swap.
    const reader = new pg.Client({ connectionString: target.url });
    await reader.connect();
    let reading = true;
    const seen: number[] = [];
    const errors: string[] = [];
    const loop = (async () => {
      while (reading) {
        try {
          await reader.query("BEGIN");
          const r = await reader.query<{ n: number }>("SELECT count(*)::int AS n FROM totals");
          await reader.query("COMMIT");
          seen.push(r.rows[0]!.n);
        } catch (err) {
          errors.push((err as Error).message);
          await reader.query("ROLLBACK").catch(() => {});
        }
      }
    })();
    await waitFor(() => seen.length > 5, 5000);
    const swapped = await api.backfills.swap({ id: started.id });
    const after = seen.length;
    await waitFor(() => seen.length > after + 5, 5000);
    reading = false;
    await loop;
    await reader.end();
    expect(errors).toEqual([]);
    expect(Math.min(...seen)).toBeGreaterThanOrEqual(KEYS);
    expect(seen.at(-1)).toBe(KEYS + 1);

    expect(swapped).toMatchObject({ state: "SWAPPED", carried: 1, previousTable: "public.totals__prev_g1" });
    const rows = await sql<{ k: string; n: string }>("SELECT k, n FROM totals ORDER BY k");
    expect(rows).toHaveLength(KEYS + 1);
    expect(rows.find((r) => r.k === "k3")?.n).toBe("83");
    expect(rows.find((r) => r.k === "late")?.n).toBe("1000");
    expect(await count("totals__prev_g1")).toBe(KEYS + 1);
    expect((await sql("SELECT to_regclass('totals__g1') AS t"))[0]).toEqual({ t: null });

    // Swapped: no second swap, no discard; the kept table can be dropped once.
    expect((await rejects(api.backfills.swap({ id: started.id }))).code).toBe("PRECONDITION_FAILED");
    expect((await rejects(api.backfills.discard({ id: started.id }))).code).toBe("PRECONDITION_FAILED");
    const dropped = await api.backfills.dropPrevious({ id: started.id });
    expect(dropped.previousTable).toBeNull();
    expect((await sql("SELECT to_regclass('totals__prev_g1') AS t"))[0]).toEqual({ t: null });

    // A second generation, discarded: its shadow is dropped.
    const second = await api.backfills.start({
      pipelineId,
      sinkNodeId: "out",
      replay: { src: { from: { offset: `${T0}-0` }, to: { offset: `${T0 + 9000}-0` } } },
    });
    expect(second.shadowTable).toBe("public.totals__g2");
    const discarded = await api.backfills.discard({ id: second.id });
    expect(discarded.state).toBe("DISCARDED");
    expect((await sql("SELECT to_regclass('totals__g2') AS t"))[0]).toEqual({ t: null });
    const listed = await api.backfills.list({ pipelineId });
    expect(listed.map((b) => [b.generation, b.state])).toEqual([
      [2, "DISCARDED"],
      [1, "SWAPPED"],
    ]);
    await api.runs.stop({ runId: liveRunId });
  });

  it("refuses a backfill whose live table does not exist, creating nothing", async () => {
    const { cookie } = await h.signUp("Missing");
    const { api } = await h.caller(cookie);
    const u = new URL(target.url);
    await api.connections.create({
      name: "warehouse",
      type: "postgres",
      config: {
        host: u.hostname,
        port: Number(u.port || 5432),
        database: target.name,
        user: decodeURIComponent(u.username || "postgres"),
        ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
      },
    });
    await sql("CREATE TABLE IF NOT EXISTS readings_src (id int PRIMARY KEY, k text)");
    const def = emptyDefinition("missing");
    def.spec.nodes.push(
      { id: "rows", type: "source.postgres", config: { connection: "warehouse", table: "readings_src", cursor: "id" } },
      {
        id: "out",
        type: "sink.postgres",
        config: { connection: "warehouse", table: "nowhere", mode: "upsert", key: ["id"] },
      },
    );
    def.spec.edges.push({ from: "rows", to: "out" });
    const { id: pipelineId } = await api.pipelines.create({ name: "Missing", definition: def });
    // A bounded table read needs no replay; the live table is what is missing.
    const err = await rejects(api.backfills.start({ pipelineId, sinkNodeId: "out" }));
    expect(err.code).toBe("PRECONDITION_FAILED");
    expect(err.message).toContain("nowhere does not exist");
    expect(await h.db.backfill.count({ where: { pipelineId } })).toBe(0);
    expect(await h.db.run.count({ where: { pipelineId } })).toBe(0);
  });
});
