import { createRuntimeRegistry } from "@sluice/nodes/runtime-contract";
import { consoleDef } from "@sluice/nodes/sinks/console.def";
import { consoleRuntime } from "@sluice/nodes/sinks/console.run";
import { generatorDef } from "@sluice/nodes/sources/generator.def";
import { generatorRuntime } from "@sluice/nodes/sources/generator.run";
import { filterDef } from "@sluice/nodes/transforms/filter.def";
import { filterRuntime } from "@sluice/nodes/transforms/filter.run";
import type { RunStartJob } from "@sluice/pipeline/control/protocol";
import { expireRun, requeueRun, runKeys } from "@sluice/pipeline/control/run-state";
import { createCatalog } from "@sluice/pipeline/node-definition";
import { FleetHarness, waitFor } from "@sluice/test-kit/fleet-harness";
import { collectDef, collectRuntime, keyCountDef, keyCountRuntime } from "@sluice/test-kit/test-nodes";
import { afterEach, describe, expect, it } from "vitest";
import { FleetWorker } from "./fleet-worker";

// A finished run's Redis keys are kept for the retention (SLUICE_RUN_RETENTION), then gone, all of them; a run still
// going keeps every key; a restart within the retention takes the run's keys out of it.

const catalog = createCatalog([generatorDef, filterDef, keyCountDef, collectDef, consoleDef]);
const runtimes = createRuntimeRegistry([
  generatorRuntime,
  filterRuntime,
  keyCountRuntime,
  collectRuntime,
  consoleRuntime,
]);

/** Every kind of key a run has: task state, dead letters (status 200 divides by zero), a shuffle, stores, a tail. */
function pipeline(generator: Record<string, unknown>) {
  return {
    apiVersion: "sluice/v1",
    kind: "Pipeline",
    metadata: { name: "retention" },
    spec: {
      settings: { parallelism: 2, batchSize: 200 },
      nodes: [
        { id: "gen", type: "source.generator", config: generator },
        { id: "odd", type: "transform.filter", config: { where: "status / (status - 200) >= 1" } },
        { id: "count", type: "transform.key-count", config: { key: "country" } },
        { id: "out", type: "sink.collect", config: { by: "country" } },
        { id: "show", type: "sink.console", config: {} },
      ],
      edges: [
        { from: "gen", to: "odd" },
        { from: "odd", to: "count" },
        { from: "count", to: "out" },
        { from: "gen", to: "show" },
      ],
    },
  };
}

const RETENTION_MS = 1500;
/** Node figures expire by themselves (node-figures.ts); here soon after the retention. */
const FIGURES_TTL_MS = 6000;

function isFigures(key: string): boolean {
  return /:fig:\d+$/.test(key);
}

let harness: FleetHarness;
let worker: FleetWorker | undefined;
afterEach(async () => {
  await worker?.close();
  worker = undefined;
  await harness?.close();
});

async function startWorker() {
  harness = new FleetHarness();
  worker = new FleetWorker({
    connect: () => harness.connect("worker-w1"),
    prefix: harness.prefix,
    catalog,
    runtimes,
    workerId: "w1",
    leaseMs: 2000,
    runRetentionMs: RETENTION_MS,
    nodeFigures: { ttlMs: FIGURES_TTL_MS },
  });
  await worker.start();
}

/**
 * The keys Redis holds under the run's hash tags: run-level {run}, and each task partition's {run:stage:partition};
 * the run's keys, or only its self-expiring node figures.
 */
async function keysOf(runId: string, which: "run" | "figures" = "run"): Promise<string[]> {
  const found: string[] = [];
  for (const pattern of [`${harness.prefix}:{${runId}}*`, `${harness.prefix}:{${runId}:*`]) {
    let cursor = "0";
    do {
      const [next, keys] = await harness.redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
      cursor = next;
      found.push(...keys);
    } while (cursor !== "0");
  }
  return found.filter((k) => isFigures(k) === (which === "figures")).sort();
}

describe("run retention", () => {
  it("removes every key of a finished run after the retention, and nothing of a run still going", async () => {
    await startWorker();
    await harness.startRun("going", pipeline({ rate: 500, seed: 3 }));
    await harness.startRun("done", pipeline({ count: 3000, rate: 0, seed: 8 }));
    const done = await harness.waitForStatus("done", "completed");
    expect(done.nodes.odd?.errors).toBeGreaterThan(0);
    await waitFor(async () => ((await harness.snapshot("going"))?.nodes.count?.in ?? 0) > 100, 15_000);

    const finished = await keysOf("done");
    // State, dead letters, a shuffle, operator stores, the tail, the meta and the set of finished tasks.
    for (const part of [":state", ":dlq", ":x:", ":s:count:", ":s:out:", ":tail:show", ":meta", ":done"])
      expect(finished.some((k) => k.includes(part))).toBe(true);
    // Everything the run's meta names is what Redis holds of it.
    expect(
      [...(await runKeys(harness.redis, harness.keys, "done"))].filter((k) => finished.includes(k)).sort(),
    ).toEqual(finished);
    // The meta goes first: whoever finds it finds the rest.
    // Read in one transaction, so a loaded machine's delay between reads does not count.
    const ttls = await harness.redis.multi([harness.keys.runMeta("done"), ...finished].map((k) => ["pttl", k])).exec();
    const [metaTtl, ...keyTtls] = (ttls ?? []).map(([, ttl]) => Number(ttl));
    expect(metaTtl).toBeGreaterThan(0);
    expect(metaTtl).toBeLessThanOrEqual(RETENTION_MS);
    for (const ttl of keyTtls) expect(ttl).toBeGreaterThanOrEqual(metaTtl!);

    // The run's node figures expire on their own, never later than their time to live. They are published once a
    // second, so the last second's may still be on its way.
    await waitFor(async () => (await keysOf("done", "figures")).length > 0, 5_000);
    const figures = await keysOf("done", "figures");
    for (const k of figures) expect(await harness.redis.pttl(k)).toBeLessThanOrEqual(FIGURES_TTL_MS);

    await waitFor(
      async () => (await keysOf("done")).length === 0 && (await keysOf("done", "figures")).length === 0,
      20_000,
      () => "for the finished run's keys to go",
    );
    // The running run lost nothing, and nothing of it is set to expire.
    const going = await keysOf("going");
    expect(going.some((k) => k.endsWith(":meta"))).toBe(true);
    expect(going.some((k) => k.includes(":s:count:"))).toBe(true);
    for (const k of going) expect(await harness.redis.pttl(k)).toBe(-1);
    expect((await harness.snapshot("going"))?.status).toBe("running");
    // Once expired, a restart from the last commit is refused.
    expect(await requeueRun(harness.redis, harness.keys, "done", {})).toBe("expired");
  });

  it("takes a finished run's keys out of the retention when it is restarted within it", async () => {
    await startWorker();
    await harness.startRun("again", pipeline({ count: 2000, rate: 0, seed: 5 }));
    await harness.waitForStatus("again", "completed");
    // The worker's last lines about the run reach its log stream a moment after it completes (they are sent every
    // quarter second), so the log stream is left out of the comparison and checked on its own below.
    const notLogs = (ks: string[]) => ks.filter((k) => k !== harness.keys.runLogs("again"));
    const before = notLogs(await keysOf("again"));
    expect(await requeueRun(harness.redis, harness.keys, "again", {})).toBe("requeued");
    // A late expiry (a task, or the reconciler, ending the run again) leaves a requeued run alone.
    expect(await expireRun(harness.redis, harness.keys, "again", RETENTION_MS)).toBe(false);
    await new Promise((r) => setTimeout(r, RETENTION_MS * 2 + 500));
    const after = await keysOf("again");
    expect(notLogs(after)).toEqual(before);
    for (const k of after) expect(await harness.redis.pttl(k)).toBe(-1);
    expect(await harness.redis.hget(harness.keys.runMeta("again"), "status")).toBe("queued");
  });

  it("starts a run whose meta expired again from scratch, deleting what outlived the meta", async () => {
    await startWorker();
    const def = pipeline({ count: 2000, rate: 0, seed: 6 });
    await harness.startRun("over", def);
    const first = await harness.waitForStatus("over", "completed");
    // The meta goes first (see expireRun); the task states with their offsets are still there.
    await harness.redis.del(harness.keys.runMeta("over"));
    const leftover = harness.keys.taskState({ runId: "over", stage: 0, partition: 1 });
    await harness.redis.hset(leftover, "left", "over");
    const job: RunStartJob = { v: 1, action: "start", runId: "over", definition: def, parameters: {}, generation: 2 };
    await harness.control.add("start", job, { jobId: "start-over-g2" });
    const second = await harness.waitForStatus("over", "completed");
    expect(second.nodes).toEqual(first.nodes);
    expect(await harness.redis.hget(harness.keys.runMeta("over"), "gen")).toBe("2");
    expect(await harness.redis.hget(leftover, "left")).toBeNull();
  });
});
