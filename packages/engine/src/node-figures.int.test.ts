import {
  createRuntimeRegistry,
  type SinkRuntime,
  type SourceReader,
  type SourceRuntime,
} from "@sluice/nodes/runtime-contract";
import { generatorDef } from "@sluice/nodes/sources/generator.def";
import { generatorRuntime } from "@sluice/nodes/sources/generator.run";
import { filterDef } from "@sluice/nodes/transforms/filter.def";
import { filterRuntime } from "@sluice/nodes/transforms/filter.run";
import { mergeHistogram, type OffsetLag, percentile, readNodeFigures } from "@sluice/pipeline/control/node-figures";
import { createCatalog, defineNode } from "@sluice/pipeline/node-definition";
import { FleetHarness, waitFor } from "@sluice/test-kit/fleet-harness";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { FleetWorker } from "./fleet-worker";

// Node figures of a real two-stage run: the per-second counts add up to the committed totals, batch latencies give
// percentiles, a shuffle edge into a slow stage shows its backlog and backpressure, and the figures expire; a
// source's offset lag is sampled once a second per partition without holding the partition up, and summed per node.

/** A keyed sink (so a shuffle leads to it) that takes its time over every write. */
const slowSinkDef = defineNode({
  type: "sink.slow",
  version: 1,
  kind: "sink",
  title: "Slow sink (test)",
  category: "Test",
  icon: "inbox",
  summary: "test",
  docs: "",
  inputs: [{ name: "in" }],
  outputs: [],
  config: z.strictObject({ key: z.string(), delayMs: z.number() }),
  examples: [],
  delivery: { transactional: true },
  keyBy: (c) => ({ in: [c.key] }),
  infer: () => ({ outputs: {} }),
  summarize: (c) => c.key,
});

const slowSinkRuntime: SinkRuntime<{ key: string; delayMs: number }> = {
  kind: "sink",
  type: "sink.slow",
  async open(ctx) {
    return {
      async write() {
        await new Promise((r) => setTimeout(r, ctx.config.delayMs));
      },
      async close() {},
    };
  },
};

const catalog = createCatalog([generatorDef, filterDef, slowSinkDef]);
const runtimes = createRuntimeRegistry([generatorRuntime, filterRuntime, slowSinkRuntime]);
const EDGE = "ok.out->slow.in";
const FIGURES_TTL_MS = 12_000;

function pipeline(count: number) {
  return {
    apiVersion: "sluice/v1",
    kind: "Pipeline",
    metadata: { name: "figures" },
    spec: {
      settings: { parallelism: 2, batchSize: 100 },
      nodes: [
        { id: "gen", type: "source.generator", config: { count, rate: 0, seed: 4 } },
        { id: "ok", type: "transform.filter", config: { where: "status = 200" } },
        { id: "slow", type: "sink.slow", config: { key: "country", delayMs: 20 } },
      ],
      edges: [
        { from: "gen", to: "ok" },
        { from: "ok", to: "slow" },
      ],
    },
  };
}

let harness: FleetHarness;
let worker: FleetWorker | undefined;
afterEach(async () => {
  await worker?.close();
  worker = undefined;
  await harness?.close();
});

async function figureKeys(runId: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = "0";
  do {
    const [next, keys] = await harness.redis.scan(cursor, "MATCH", `${harness.prefix}:{${runId}}:fig:*`, "COUNT", 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== "0");
  return found;
}

describe("node figures", () => {
  it("publishes per-second rates that add up to the totals, latencies, backlog, and expires them", async () => {
    harness = new FleetHarness();
    worker = new FleetWorker({
      connect: () => harness.connect("worker-w1"),
      prefix: harness.prefix,
      catalog,
      runtimes,
      workerId: "w1",
      leaseMs: 2000,
      runRetentionMs: 1000,
      nodeFigures: { ttlMs: FIGURES_TTL_MS },
    });
    await worker.start();
    const fromSec = Math.floor(Date.now() / 1000);
    await harness.startRun("figs", pipeline(30_000));
    const done = await harness.waitForStatus("figs", "completed", 60_000);
    const toSec = Math.floor(Date.now() / 1000) + 1;

    // The last partitions' figures go out with the publisher's next write.
    const figures = await waitFor(
      async () => {
        const f = await readNodeFigures(harness.redis, harness.keys, "figs", fromSec, toSec);
        const complete = ["gen", "ok", "slow"].every(
          (n) => f.nodes[n]?.in === done.nodes[n]?.in && f.nodes[n]?.out === done.nodes[n]?.out,
        );
        return complete ? f : undefined;
      },
      5000,
      () => "for the figures to add up to the run's totals",
    );
    expect(done.nodes.gen?.out).toBe(30_000);
    expect(figures.nodes.slow?.in).toBeGreaterThan(0);
    expect(figures.nodes.ok?.err).toBe(0);

    // Per second: counts spread over several seconds, each second's sum part of the total.
    const perSecond = await Promise.all(
      Array.from({ length: toSec - fromSec + 1 }, (_, i) =>
        readNodeFigures(harness.redis, harness.keys, "figs", fromSec + i, fromSec + i),
      ),
    );
    const secondsWithSlow = perSecond.filter((s) => (s.nodes.slow?.in ?? 0) > 0);
    expect(secondsWithSlow.length).toBeGreaterThan(1);
    expect(perSecond.reduce((sum, s) => sum + (s.nodes.slow?.in ?? 0), 0)).toBe(done.nodes.slow?.in);

    // Latency of the sink's batches: each took at least its 20 ms write.
    const latency = perSecond.reduce((h, s) => mergeHistogram(h, s.nodes.slow?.latency ?? {}), {});
    const p50 = percentile(latency, 0.5)!;
    const p99 = percentile(latency, 0.99)!;
    expect(p50).toBeGreaterThanOrEqual(20);
    expect(p99).toBeGreaterThanOrEqual(p50);
    expect(percentile(figures.nodes.gen!.latency, 0.5)).toBeGreaterThan(0);

    // The edge into the slow stage carried every record the filter let through, and backed up on the way.
    expect(figures.edges[EDGE]?.sent).toBe(done.nodes.ok?.out);
    expect(perSecond.some((s) => (s.edges[EDGE]?.backlog ?? 0) > 0)).toBe(true);
    expect(perSecond.some((s) => s.edges[EDGE]?.backpressured)).toBe(true);
    // The slow stage's input said how many entries it had yet to read.
    expect(perSecond.some((s) => (s.nodes.slow?.inputLag ?? 0) > 0)).toBe(true);
    expect(perSecond.some((s) => s.nodes.slow?.watermark !== null)).toBe(true);

    // Figures expire by themselves: gone within their time to live, along with the run's retention.
    const keys = await figureKeys("figs");
    expect(keys.length).toBeGreaterThan(1);
    for (const k of keys) expect(await harness.redis.pttl(k)).toBeLessThanOrEqual(FIGURES_TTL_MS);
    await waitFor(
      async () =>
        (await figureKeys("figs")).length === 0 && !(await harness.redis.exists(harness.keys.runMeta("figs"))),
      FIGURES_TTL_MS + 10_000,
      () => "for the run's figures and meta to expire",
    );
  });
});

/** Offset lag asks per partition, and what partition 1's asks do: answer, fail, or never answer. */
const asks = new Map<number, number>();
let partitionOneLag: "answers" | "hangs" = "answers";

/** The generator, with an offset lag: the records its partition has still to emit, in "messages". */
const laggingGenerator: SourceRuntime<never> = {
  kind: "source",
  type: "source.generator",
  async open(ctx, from) {
    const inner: SourceReader = await generatorRuntime.open(ctx as never, from);
    let left: number | undefined;
    const p = ctx.partition;
    return {
      async read(max, signal) {
        const batch = await inner.read(max, signal);
        if (batch.progress) left = batch.progress.total - batch.progress.done;
        return batch;
      },
      async offsetLag(): Promise<OffsetLag | undefined> {
        asks.set(p, (asks.get(p) ?? 0) + 1);
        if (p === 1 && partitionOneLag === "hangs") return new Promise(() => {});
        if (p === 1 && (asks.get(p) ?? 0) % 2 === 0) throw new Error("the broker did not answer");
        return left === undefined ? undefined : { value: left, unit: "messages" };
      },
      close: () => inner.close(),
    };
  },
};

describe("source offset lag in the node figures", () => {
  async function run(runId: string, count: number) {
    harness = new FleetHarness();
    worker = new FleetWorker({
      connect: () => harness.connect("worker-w1"),
      prefix: harness.prefix,
      catalog,
      runtimes: createRuntimeRegistry([laggingGenerator, filterRuntime, slowSinkRuntime]),
      workerId: "w1",
      leaseMs: 2000,
      nodeFigures: { ttlMs: FIGURES_TTL_MS },
    });
    await worker.start();
    asks.clear();
    const fromSec = Math.floor(Date.now() / 1000);
    await harness.startRun(runId, {
      ...pipeline(count),
      spec: {
        ...pipeline(count).spec,
        nodes: pipeline(count).spec.nodes.map((n) =>
          n.id === "gen" ? { ...n, config: { count, rate: 2000, seed: 4 } } : n,
        ),
      },
    });
    const done = await harness.waitForStatus(runId, "completed", 60_000);
    const toSec = Math.floor(Date.now() / 1000) + 1;
    const seconds = async () =>
      Promise.all(
        Array.from({ length: toSec - fromSec + 1 }, (_, i) =>
          readNodeFigures(harness.redis, harness.keys, runId, fromSec + i, fromSec + i),
        ),
      );
    return { done, fromSec, toSec, seconds };
  }

  it("publishes each partition's offset lag once a second, summed over partitions, down to 0 at the end", async () => {
    partitionOneLag = "answers";
    const r = await run("olag", 8000);
    const secs = r.toSec - r.fromSec + 1;
    const perSecond = await waitFor(
      async () => {
        const all = await r.seconds();
        const last = all.findLast((s) => s.nodes.gen?.offsetLag);
        return last?.nodes.gen?.offsetLag?.value === 0 ? all : undefined;
      },
      5000,
      () => "for the source's last offset lag (0) to be published",
    );
    const lags = perSecond.flatMap((s) => (s.nodes.gen?.offsetLag ? [s.nodes.gen.offsetLag] : []));
    expect(lags.every((l) => l.unit === "messages")).toBe(true);
    // While it ran it was behind; over both partitions at once it can be more than either holds (4000).
    expect(Math.max(...lags.map((l) => l.value))).toBeGreaterThan(0);
    expect(Math.max(...lags.map((l) => l.value))).toBeLessThanOrEqual(8000);
    // Only the source reports one.
    expect(perSecond.some((s) => s.nodes.ok?.offsetLag || s.nodes.slow?.offsetLag)).toBe(false);
    // At most once a second per partition (one more for the second the run started in).
    expect(asks.get(0)).toBeGreaterThan(1);
    expect(asks.get(0)).toBeLessThanOrEqual(secs + 1);
    expect(asks.get(1)).toBeLessThanOrEqual(secs + 1);
  });

  it("never waits on a sample: one that never answers is not asked again, and the run goes on", async () => {
    partitionOneLag = "hangs";
    const r = await run("olag-hang", 6000);
    expect(r.done.nodes.gen?.out).toBe(6000);
    expect(asks.get(1)).toBe(1);
    const perSecond = await r.seconds();
    // Partition 0 still reports; its figure alone makes the node's.
    expect(perSecond.some((s) => (s.nodes.gen?.offsetLag?.value ?? 0) > 0)).toBe(true);
  });
});
