import { createRuntimeRegistry } from "@sluice/nodes/runtime-contract";
import { consoleDef } from "@sluice/nodes/sinks/console.def";
import { consoleRuntime } from "@sluice/nodes/sinks/console.run";
import { generatorDef } from "@sluice/nodes/sources/generator.def";
import { generatorRuntime, recordFactory } from "@sluice/nodes/sources/generator.run";
import { filterDef } from "@sluice/nodes/transforms/filter.def";
import { filterRuntime } from "@sluice/nodes/transforms/filter.run";
import { PreviewResult, QUEUE_PREVIEW } from "@sluice/pipeline/control/protocol";
import { createCatalog } from "@sluice/pipeline/node-definition";
import { FleetHarness, waitFor } from "@sluice/test-kit/fleet-harness";
import { PREVIEW_TEST_NODES } from "@sluice/test-kit/preview-test-nodes";
import {
  asyncEnrichDef,
  asyncEnrichRuntime,
  collectDef,
  collectRuntime,
  keyCountDef,
  keyCountRuntime,
} from "@sluice/test-kit/test-nodes";
import { Job, Queue } from "bullmq";
import { afterEach, describe, expect, it } from "vitest";

// Multi-stage runs in this process: records cross stages through shuffle streams in Redis, keyed operators keep
// state in stores committed with each batch, watermarks and end of input propagate, and stop drains in order.

const catalog = createCatalog([generatorDef, filterDef, consoleDef, keyCountDef, collectDef, asyncEnrichDef]);
const runtimes = createRuntimeRegistry([
  generatorRuntime,
  filterRuntime,
  consoleRuntime,
  keyCountRuntime,
  collectRuntime,
  asyncEnrichRuntime,
]);

function countByCountry(generator: Record<string, unknown>, parallelism = 4) {
  return {
    apiVersion: "sluice/v1",
    kind: "Pipeline",
    metadata: { name: "count-by-country" },
    spec: {
      settings: { parallelism, batchSize: 500 },
      nodes: [
        { id: "gen", type: "source.generator", config: generator },
        { id: "ok", type: "transform.filter", config: { where: "status = 200" } },
        { id: "count", type: "transform.key-count", config: { key: "country" } },
        { id: "out", type: "sink.collect", config: { by: "country" } },
      ],
      edges: [
        { from: "gen", to: "ok" },
        { from: "ok", to: "count" },
        { from: "count", to: "out" },
      ],
    },
  };
}

function expectedCounts(config: Record<string, unknown>, count: number): Record<string, number> {
  const make = recordFactory(generatorDef.config.parse(config), 0);
  const counts: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const r = make(i);
    if (r.status === 200) counts[r.country as string] = (counts[r.country as string] ?? 0) + 1;
  }
  return counts;
}

let harness: FleetHarness;
afterEach(async () => {
  await harness?.close();
});

describe("multi-stage runs", () => {
  it("shuffles by key, keeps keyed state, and flushes it when the input ends", async () => {
    harness = new FleetHarness();
    await harness.startInProcess("w1", catalog, runtimes);
    const config = { count: 30_000, rate: 0, seed: 21 };
    await harness.startRun("keyed", countByCountry(config));
    const done = await harness.waitForStatus("keyed", "completed");
    const expected = expectedCounts(config, 30_000);
    const passed = Object.values(expected).reduce((a, b) => a + b, 0);
    expect(done.tasks).toEqual({ total: 8, done: 8 });
    expect(done.nodes.gen?.out).toBe(30_000);
    expect(done.nodes.ok?.out).toBe(passed);
    expect(done.nodes.count?.in).toBe(passed);
    expect(done.nodes.count?.out).toBe(Object.keys(expected).length);
    const rows = await harness.store("keyed", 1, 4, "out", "rows");
    expect(Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, (v as { count: number }).count]))).toEqual(
      expected,
    );
    // Every key was counted in exactly one partition.
    const perPartition = await Promise.all(
      [0, 1, 2, 3].map((p) =>
        harness
          .store("keyed", 1, 1, "count", "counts")
          .then(() =>
            harness.redis.hlen(harness.keys.taskStore({ runId: "keyed", stage: 1, partition: p }, "count", "counts")),
          ),
      ),
    );
    expect(perPartition.reduce((a, b) => a + b, 0)).toBe(Object.keys(expected).length);
    // Consumed shuffle entries were trimmed.
    const leftover = await harness.redis.xlen(
      harness.keys.shuffleStream({ runId: "keyed", stage: 0, partition: 0 }, 0, 0),
    );
    expect(leftover).toBe(0);
  });

  it("carries watermarks across the shuffle, up to the end of input", async () => {
    harness = new FleetHarness();
    await harness.startInProcess("w1", catalog, runtimes);
    await harness.startRun("marks", countByCountry({ count: 5000, rate: 5000, seed: 2 }, 2));
    await harness.waitForStatus("marks", "completed");
    for (const p of [0, 1]) {
      const marks = await harness.redis.hgetall(
        harness.keys.taskStore({ runId: "marks", stage: 1, partition: p }, "count", "watermarks"),
      );
      expect(Number(marks.advances)).toBeGreaterThan(2);
    }
    const state = await harness.redis.hgetall(harness.keys.taskState({ runId: "marks", stage: 1, partition: 0 }));
    expect(Number(state.wm)).toBe(8.64e15);
  });

  it("shares one run's partitions between two workers with the same exact result", async () => {
    harness = new FleetHarness();
    await harness.startInProcess("w1", catalog, runtimes);
    await harness.startInProcess("w2", catalog, runtimes);
    const config = { count: 20_000, rate: 0, seed: 9 };
    await harness.startRun("shared", countByCountry(config));
    await harness.waitForStatus("shared", "completed");
    const rows = await harness.store("shared", 1, 4, "out", "rows");
    expect(Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, (v as { count: number }).count]))).toEqual(
      expectedCounts(config, 20_000),
    );
  });

  it("gives a worker that joins a busy fleet its share of the partitions, losing nothing", async () => {
    harness = new FleetHarness();
    const w1 = await harness.startInProcess("w1", catalog, runtimes);
    const w2 = await harness.startInProcess("w2", catalog, runtimes);
    await harness.startRun("grow", countByCountry({ rate: 4000 }, 3));
    await waitFor(() => w1.tasks.length + w2.tasks.length === 6, 15_000);
    const w3 = await harness.startInProcess("w3", catalog, runtimes);
    await waitFor(
      () => w3.tasks.length >= 1 && w1.tasks.length + w2.tasks.length + w3.tasks.length === 6,
      25_000,
      () => `held: ${w1.tasks.length}/${w2.tasks.length}/${w3.tasks.length}`,
    );
    expect(Math.max(w1.tasks.length, w2.tasks.length, w3.tasks.length)).toBeLessThanOrEqual(3);
    await harness.stopRun("grow");
    const stopped = await harness.waitForStatus("grow", "stopped");
    expect(stopped.nodes.count?.in).toBe(stopped.nodes.ok?.out);
    const counts = await harness.store("grow", 1, 3, "count", "counts");
    expect(Object.values(counts).reduce((a: number, b) => a + (b as number), 0)).toBe(stopped.nodes.count?.in);
  });

  it("awaits operators that work in batches (lookups), dead-lettering only the records they fail", async () => {
    harness = new FleetHarness();
    await harness.startInProcess("w1", catalog, runtimes);
    const def = {
      apiVersion: "sluice/v1",
      kind: "Pipeline",
      metadata: { name: "enrich" },
      spec: {
        settings: { parallelism: 2, batchSize: 300 },
        nodes: [
          { id: "gen", type: "source.generator", config: { count: 3000, rate: 0 } },
          { id: "enrich", type: "transform.async-enrich", config: {} },
          { id: "out", type: "sink.collect", config: { by: "id" } },
        ],
        edges: [
          { from: "gen", to: "enrich" },
          { from: "enrich", to: "out" },
        ],
      },
    };
    await harness.startRun("enrich", def);
    const done = await harness.waitForStatus("enrich", "completed");
    expect(done.nodes.enrich).toEqual({ in: 3000, out: 2700, errors: 300 });
    const rows = await harness.store("enrich", 0, 2, "out", "rows");
    expect(Object.keys(rows)).toHaveLength(2700);
    expect(Object.values(rows).every((r) => (r as { enriched: boolean }).enriched)).toBe(true);
    const letters = await Promise.all(
      [0, 1].map((partition) =>
        harness.redis.xlen(harness.keys.taskDeadLetters({ runId: "enrich", stage: 0, partition })),
      ),
    );
    expect(letters[0]! + letters[1]!).toBe(300);
  });

  it("drains in stage order when stopped: everything shuffled is consumed first", async () => {
    harness = new FleetHarness();
    await harness.startInProcess("w1", catalog, runtimes);
    await harness.startRun("drain", countByCountry({ rate: 3000 }));
    await waitFor(async () => ((await harness.snapshot("drain"))?.nodes.count?.in ?? 0) > 1000, 20_000);
    await harness.stopRun("drain");
    const stopped = await harness.waitForStatus("drain", "stopped");
    expect(stopped.nodes.count?.in).toBe(stopped.nodes.ok?.out);
    // Keyed state is kept for a restart; nothing was flushed as if the input had ended.
    expect(stopped.nodes.count?.out ?? 0).toBe(0);
    const counts = await harness.store("drain", 1, 4, "count", "counts");
    expect(Object.values(counts).reduce((a: number, b) => a + (b as number), 0)).toBe(stopped.nodes.count?.in);
  });
});

describe("data preview through the fleet", () => {
  it("answers a preview job from a worker, in memory, leaving Redis without run state", async () => {
    harness = new FleetHarness();
    // Previews run in threads, which load these node types by module.
    await harness.startInProcess("w1", catalog, runtimes, 2000, PREVIEW_TEST_NODES);
    const queue = new Queue(QUEUE_PREVIEW, { connection: harness.connect("preview"), prefix: harness.keys.bullPrefix });
    try {
      const job = await queue.add("preview", {
        v: 1,
        definition: countByCountry({ count: 1000, rate: 1 }),
        parameters: {},
        limit: 25,
        timeoutMs: 5000,
      });
      const deadline = Date.now() + 15_000;
      let result: PreviewResult | undefined;
      while (!result && Date.now() < deadline) {
        // State before the job: a job read just before it completed carries no result yet.
        const completed = (await queue.getJobState(job.id!)) === "completed";
        const current = await Job.fromId(queue, job.id!);
        if (completed) result = PreviewResult.parse(current!.returnvalue);
        else await new Promise((r) => setTimeout(r, 50));
      }
      expect(result?.problems).toEqual([]);
      expect(result?.nodes.gen?.outputs.out).toHaveLength(25);
      expect(result?.nodes.count?.counts.in).toBe(result?.nodes.ok?.counts.out);
      expect(result?.nodes.out?.counts.in).toBeGreaterThan(0);
      // Nothing of a run was created: no run meta, no partition state.
      const keys = await harness.redis.keys(`${harness.prefix}:*`);
      const runKeys = keys.filter((k) => !k.includes(":{bull}:") && !k.includes(":{workers}"));
      expect(runKeys).toEqual([]);
    } finally {
      await queue.close();
    }
  });
});
