import { figureField, type LatencyHistogram, mergeHistogram, percentile } from "@sluice/pipeline/control/node-figures";
import { emptyDefinition } from "@sluice/pipeline/definition";
import { type ApiHarness, createApiHarness, rejects } from "@sluice/test-kit/api-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emptyBucket } from "./figure-buckets";
import { MAX_LISTED_RUNS } from "./history-query";
import { DEFAULT_HISTORY_RETENTION_MS } from "./history-retention";
import { rollUpHistory } from "./history-rollup";
import { deleteExpiredBuckets, readBuckets, upsertBuckets } from "./history-store";

// The history roll-up against real PostgreSQL and Redis: per-second figures are written as workers publish them,
// rolled into 10 s, 1 min and 1 h buckets, and read back through runs.history and pipelines.history.

let h: ApiHarness;
beforeAll(async () => {
  h = await createApiHarness("history");
});
afterAll(async () => {
  await h?.close();
});

const EDGE = "gen.out->out.in";

/** A second's figures as the publisher writes them: two partitions' worth. */
interface Second {
  in: number;
  err: number;
  latency: LatencyHistogram;
  stateKeys: number;
  watermark: number;
  backlog: number;
  backpressured: boolean;
  /** The source's offset lag in each of its two partitions. */
  offsetLag: [number, number];
}

/** A deterministic, uneven second `i` (no randomness: a failure must reproduce). */
function secondAt(sec: number, i: number): Second {
  return {
    in: (i * 7) % 23,
    err: i % 5 === 0 ? 1 : 0,
    latency: { [20 + (i % 30)]: 1 + (i % 3), [60 + (i % 7)]: i % 11 === 0 ? 1 : 0 },
    stateKeys: 100 + i,
    watermark: (sec - 3 - (i % 4)) * 1000,
    backlog: i % 9,
    backpressured: i % 6 === 0,
    offsetLag: [1000 - 10 * i, i],
  };
}

async function publish(runId: string, sec: number, s: Second): Promise<void> {
  const key = h.deps.keys.runFigures(runId, sec);
  const fields: Record<string, string> = {
    [figureField.count("out", "in")]: String(s.in),
    [figureField.count("out", "err")]: String(s.err),
    [figureField.stateKeys("out", 0)]: String(s.stateKeys - 40),
    [figureField.stateKeys("out", 1)]: "40",
    [figureField.watermark("out", 0)]: String(s.watermark),
    [figureField.watermark("out", 1)]: String(s.watermark + 500),
    [figureField.edgeSent(EDGE)]: String(s.in),
    [figureField.edgeBacklog(EDGE, 0)]: String(s.backlog),
    [figureField.edgeBackpressured(EDGE, 1)]: s.backpressured ? "1" : "0",
    [figureField.offsetLag("gen", 0, "entries")]: String(s.offsetLag[0]),
    [figureField.offsetLag("gen", 1, "entries")]: String(s.offsetLag[1]),
  };
  for (const [bucket, n] of Object.entries(s.latency)) {
    if (n > 0) fields[figureField.latency("out", Number(bucket))] = String(n);
  }
  await h.redis.hset(key, fields);
  await h.redis.pexpire(key, 600_000);
}

interface Fixture {
  cookie: string;
  pipelineId: string;
  runId: string;
  /** Minute-aligned unix second the run started at. */
  base: number;
  seconds: Second[];
}

/** A running run with `count` seconds of figures from a minute-aligned start three minutes ago. */
async function runWithFigures(name: string, count: number): Promise<Fixture> {
  const def = emptyDefinition(name);
  def.spec.nodes.push(
    { id: "gen", type: "source.generator", config: { rate: 10 } },
    { id: "out", type: "sink.console", config: {} },
  );
  def.spec.edges.push({ from: "gen", to: "out" });
  const { cookie } = await h.signUp("Historian");
  const { api } = await h.caller(cookie);
  const { id: pipelineId } = await api.pipelines.create({ name, definition: def });
  const { id: runId } = await api.runs.start({ pipelineId });
  let base = Math.floor(Date.now() / 60_000) * 60 - 180;
  // Keep the seconds within one hour, so the hour bucket is one.
  if (Math.floor(base / 3600) !== Math.floor((base + count - 1) / 3600)) base -= 120;
  await h.db.run.update({ where: { id: runId }, data: { status: "RUNNING", startedAt: new Date(base * 1000) } });
  const seconds: Second[] = [];
  for (let i = 0; i < count; i++) {
    const s = secondAt(base + i, i);
    seconds.push(s);
    await publish(runId, base + i, s);
  }
  return { cookie, pipelineId, runId, base, seconds };
}

const deps = (nowSec: number) => ({
  db: h.db,
  redis: h.redis,
  keys: h.deps.keys,
  retention: DEFAULT_HISTORY_RETENTION_MS,
  now: () => nowSec * 1000,
});

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/** Node "out"'s figures in each stored bucket of the run at a resolution, with the bucket's start. */
async function rows(runId: string, resolution: 10 | 60 | 3600) {
  const buckets = await readBuckets(h.db, [runId], resolution, 0, 2 ** 31);
  return buckets.map((b) => ({ start: b.start, ...b.nodes.get("out")!, edge: b.edges.get(EDGE)! }));
}

describe("history roll-up", () => {
  it("rolls complete seconds into 10 s, 1 min and 1 h buckets that add up to the seconds, once", async () => {
    const f = await runWithFigures("rollup", 80);
    // At base+45 the buckets up to base+40 are complete and settled: four of them.
    expect(await rollUpHistory(deps(f.base + 45))).toBeGreaterThanOrEqual(4);
    const first = await rows(f.runId, 10);
    expect(first.map((r) => r.start)).toEqual([f.base, f.base + 10, f.base + 20, f.base + 30]);
    expect(first.map((r) => r.recordsIn)).toEqual(
      [0, 10, 20, 30].map((o) => sum(f.seconds.slice(o, o + 10).map((s) => s.in))),
    );
    // Once more at the same moment: nothing new to roll, nothing changes.
    await rollUpHistory(deps(f.base + 45));
    expect(await rows(f.runId, 10)).toEqual(first);

    await rollUpHistory(deps(f.base + 95));
    // A lost cursor (a crash between the writes and the cursor) rolls the same seconds again: upserts, not adds.
    await h.db.runHistoryCursor.delete({ where: { runId: f.runId } });
    await rollUpHistory(deps(f.base + 95));

    const tens = await rows(f.runId, 10);
    expect(tens).toHaveLength(8);
    expect(sum(tens.map((r) => r.recordsIn))).toBe(sum(f.seconds.map((s) => s.in)));
    expect(sum(tens.map((r) => r.errors))).toBe(sum(f.seconds.map((s) => s.err)));

    const minutes = await rows(f.runId, 60);
    expect(minutes.map((r) => r.start)).toEqual([f.base, f.base + 60]);
    expect(minutes.map((r) => r.recordsIn)).toEqual([
      sum(f.seconds.slice(0, 60).map((s) => s.in)),
      sum(f.seconds.slice(60).map((s) => s.in)),
    ]);
    // Gauges: the largest state of the seconds (summed over partitions), the largest watermark lag.
    expect(minutes[0]!.maxStateKeys).toBe(100 + 59);
    const lags = f.seconds.slice(0, 60).map((s, i) => (f.base + i + 1) * 1000 - s.watermark);
    expect(minutes[0]!.maxWatermarkLagMs).toBe(Math.max(...lags));

    const hours = await rows(f.runId, 3600);
    expect(hours).toHaveLength(1);
    expect(hours[0]!.recordsIn).toBe(sum(f.seconds.map((s) => s.in)));

    // The merged histogram of the hour is the histogram of all the seconds.
    const all: LatencyHistogram = {};
    for (const s of f.seconds)
      mergeHistogram(all, Object.fromEntries(Object.entries(s.latency).filter(([, n]) => n > 0)));
    const [hour] = await readBuckets(h.db, [f.runId], 3600, f.base - 3600, f.base + 3600);
    expect(hour!.nodes.get("out")!.latency).toEqual(all);
    expect(percentile(hour!.nodes.get("out")!.latency, 0.99)).toBe(percentile(all, 0.99));

    expect(minutes.map((r) => r.edge.sent)).toEqual(minutes.map((r) => r.recordsIn));
    expect(minutes[0]!.edge.backpressuredSeconds).toBe(f.seconds.slice(0, 60).filter((s) => s.backpressured).length);
    expect(minutes[0]!.edge.maxBacklog).toBe(8);
    // The newest watermark of the hour: the lower of the two partitions' in the last second.
    expect(hours[0]!.watermark).toBe(f.seconds[79]!.watermark);
  });

  it("counts once when two web processes roll up at the same moment", async () => {
    const f = await runWithFigures("concurrent", 60);
    await Promise.all([rollUpHistory(deps(f.base + 65)), rollUpHistory(deps(f.base + 65))]);
    const total = sum(f.seconds.map((s) => s.in));
    expect(sum((await rows(f.runId, 10)).map((r) => r.recordsIn))).toBe(total);
    expect((await rows(f.runId, 60)).map((r) => r.recordsIn)).toEqual([total]);
  });

  it("deletes buckets past their resolution's retention and keeps the rest", async () => {
    const f = await runWithFigures("retention", 20);
    await rollUpHistory(deps(f.base + 25));
    const old = emptyBucket(f.base - 2 * 86_400);
    old.nodes.set("out", {
      recordsIn: 5,
      recordsOut: 5,
      errors: 0,
      latency: {},
      watermark: null,
      maxWatermarkLagMs: null,
      maxStateKeys: null,
      maxInputLag: null,
      maxOffsetLag: null,
      offsetLagUnit: null,
    });
    await upsertBuckets(h.db, f.runId, 10, [old]);
    await upsertBuckets(h.db, f.runId, 60, [old]);
    expect(await rows(f.runId, 10)).toHaveLength(3);
    await deleteExpiredBuckets(h.db, DEFAULT_HISTORY_RETENTION_MS, (f.base + 25) * 1000);
    // Two days old: past 10 s's day, within 1 min's 30 days.
    expect((await rows(f.runId, 10)).map((r) => r.start)).toEqual([f.base, f.base + 10]);
    expect((await rows(f.runId, 60)).map((r) => r.start)).toEqual([f.base - 2 * 86_400, f.base]);
  });
});

describe("a roll-up pass out of time", () => {
  it("stops before the runs it did not reach, which the next pass rolls up", async () => {
    const f = await runWithFigures("late", 20);
    expect(await rollUpHistory({ ...deps(f.base + 35), passBudgetMs: -1 })).toBe(0);
    expect(await h.db.runHistoryCursor.count({ where: { runId: f.runId } })).toBe(0);
    expect(await rollUpHistory(deps(f.base + 35))).toBeGreaterThanOrEqual(2);
    expect(await rows(f.runId, 10)).toHaveLength(2);
  });
});

describe("runs.history and pipelines.history", () => {
  it("picks the finest resolution that keeps the points bounded, and gives rates per second", async () => {
    const f = await runWithFigures("query", 60);
    await rollUpHistory(deps(f.base + 65));
    const { api } = await h.caller(f.cookie);
    const now = Date.now();

    const recent = await api.runs.history({ runId: f.runId, from: f.base * 1000, to: now });
    expect(recent.resolution).toBe(10);
    const out = recent.nodes.out!;
    expect(out.t).toEqual([0, 10, 20, 30, 40, 50].map((o) => (f.base + o) * 1000));
    expect(out.inPerSec[0]).toBe(sum(f.seconds.slice(0, 10).map((s) => s.in)) / 10);
    expect(out.stateKeys[5]).toBe(159);
    expect(recent.edges[EDGE]!.perSec).toEqual(out.inPerSec);
    // The source's offset lag, summed over its partitions, at its largest in each bucket (its first second here).
    expect(recent.nodes.gen!.offsetLag).toEqual([0, 10, 20, 30, 40, 50].map((i) => 1000 - 9 * i));
    expect(recent.offsetLagUnits).toEqual({ gen: "entries" });
    expect(out.offsetLag).toEqual([null, null, null, null, null, null]);

    const day = await api.runs.history({ runId: f.runId, from: now - 86_400_000, to: now });
    expect(day.resolution).toBe(60);
    expect(day.nodes.out!.inPerSec).toEqual([sum(f.seconds.map((s) => s.in)) / 60]);
    expect(day.nodes.gen!.offsetLag).toEqual([1000]);
    expect(day.offsetLagUnits).toEqual({ gen: "entries" });
    const week = await api.runs.history({ runId: f.runId, from: now - 7 * 86_400_000, to: now });
    expect(week.resolution).toBe(3600);
    expect(week.nodes.out!.t).toHaveLength(1);

    // Asked for, a resolution is kept unless the points would be too many.
    const asked = await api.runs.history({ runId: f.runId, from: now - 86_400_000, to: now, resolution: 10 });
    expect(asked.resolution).toBe(10);
    const tooMany = await rejects(
      api.runs.history({ runId: f.runId, from: now - 7 * 86_400_000, to: now, resolution: 10 }),
    );
    expect(tooMany.code).toBe("BAD_REQUEST");
    expect(tooMany.message).toMatch(/10 s resolution gives 60480 points/);
    const backwards = await rejects(api.runs.history({ runId: f.runId, from: now, to: now - 1000 }));
    expect(backwards.code).toBe("BAD_REQUEST");
    expect(backwards.message).toMatch(/the end of the range must be after its start/);
    const tooLong = await rejects(api.pipelines.history({ pipelineId: f.pipelineId, from: 0, to: now }));
    expect(tooLong.message).toMatch(/a history range spans at most 400 days/);

    const pipeline = await api.pipelines.history({ pipelineId: f.pipelineId, from: f.base * 1000, to: now });
    expect(pipeline.runs.map((r) => r.id)).toEqual([f.runId]);
    expect(pipeline.nodes.out).toEqual(out);
    expect(pipeline.nodes.gen!.offsetLag).toEqual(recent.nodes.gen!.offsetLag);
    expect(pipeline.offsetLagUnits).toEqual({ gen: "entries" });
  });

  it("adds up every run of a pipeline, and lists the newest when more runs than MAX_LISTED_RUNS cover the range", async () => {
    const f = await runWithFigures("many", 30);
    await rollUpHistory(deps(f.base + 45));
    const run = await h.db.run.findUniqueOrThrow({ where: { id: f.runId } });
    // MAX_LISTED_RUNS more runs, started after the first; the newest has the same figures as the first.
    await h.db.run.createMany({
      data: Array.from({ length: MAX_LISTED_RUNS }, (_, i) => ({
        workspaceId: run.workspaceId,
        pipelineId: run.pipelineId,
        versionId: run.versionId,
        startedById: run.startedById,
        status: "COMPLETED" as const,
        startedAt: new Date((f.base + 1) * 1000 + i),
        finishedAt: new Date((f.base + 30) * 1000),
      })),
    });
    const newest = await h.db.run.findFirstOrThrow({
      where: { pipelineId: run.pipelineId },
      orderBy: { startedAt: "desc" },
    });
    await h.db.$executeRaw`
      INSERT INTO "RunFigureBucket" ("runId", "resolution", "bucketStart", "figures")
      SELECT ${newest.id}, "resolution", "bucketStart", "figures" FROM "RunFigureBucket" WHERE "runId" = ${f.runId}`;
    const { api } = await h.caller(f.cookie);
    const now = Date.now();
    const one = await api.runs.history({ runId: f.runId, from: f.base * 1000, to: now });
    const all = await api.pipelines.history({ pipelineId: f.pipelineId, from: f.base * 1000, to: now });
    expect(all.truncated).toBe(true);
    expect(all.runs).toHaveLength(MAX_LISTED_RUNS);
    expect(all.runs.at(-1)!.id).toBe(newest.id);
    expect(all.runs.map((r) => r.id)).not.toContain(f.runId);
    // The first run is not listed but still counted: the series are both runs' figures.
    expect(one.nodes.out!.inPerSec).toHaveLength(3);
    expect(all.nodes.out!.t).toEqual(one.nodes.out!.t);
    expect(all.nodes.out!.inPerSec).toEqual(one.nodes.out!.inPerSec.map((x) => x * 2));

    const few = await api.pipelines.history({ pipelineId: f.pipelineId, from: now - 1000, to: now });
    expect(few.truncated).toBe(false);
  }, 120_000);

  it("shows a run's history only inside its workspace", async () => {
    const f = await runWithFigures("private", 10);
    const stranger = await h.caller((await h.signUp("Stranger")).cookie);
    const now = Date.now();
    expect((await rejects(stranger.api.runs.history({ runId: f.runId, from: now - 60_000, to: now }))).code).toBe(
      "NOT_FOUND",
    );
    expect(
      (await rejects(stranger.api.pipelines.history({ pipelineId: f.pipelineId, from: now - 60_000, to: now }))).code,
    ).toBe("NOT_FOUND");
  });
});
