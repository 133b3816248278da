import { generatorDef } from "@sluice/nodes/sources/generator.def";
import { recordFactory } from "@sluice/nodes/sources/generator.run";
import { FleetHarness, TEST_WORKER_MAIN, type WorkerProcess, waitFor } from "@sluice/test-kit/fleet-harness";
import { afterEach, describe, expect, it } from "vitest";

// Failover that never hangs, with real worker processes: a worker that handed partitions to a newcomer must still
// take them back when the newcomer dies, and a keyed (stateful) run that loses workers in turn — kill, rebalance,
// kill, new worker — ends with exactly the results of an undisturbed computation.

const WORKER_ENV = { SLUICE_TEST_LEASE_MS: "1500", SLUICE_TEST_JOIN_ON_SIGNAL: "1" };

function countByCountry(generator: Record<string, unknown>) {
  return {
    apiVersion: "sluice/v1",
    kind: "Pipeline",
    metadata: { name: "failover" },
    spec: {
      settings: { parallelism: 4, batchSize: 200 },
      nodes: [
        { id: "gen", type: "source.generator", config: generator },
        { id: "count", type: "transform.key-count", config: { key: "country" } },
        { id: "out", type: "sink.collect", config: { by: "country" } },
      ],
      edges: [
        { from: "gen", to: "count" },
        { from: "count", to: "out" },
      ],
    },
  };
}

/** Records per country of the generator's first `count` records, computed without the engine. */
function expectedCounts(config: Record<string, unknown>, count: number): Record<string, number> {
  const make = recordFactory(generatorDef.config.parse(config), 0);
  const counts: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const country = make(i).country as string;
    counts[country] = (counts[country] ?? 0) + 1;
  }
  return counts;
}

let harness: FleetHarness;
afterEach(async () => {
  await harness?.close();
});

describe("fleet failover", () => {
  it("finishes a keyed run exactly when workers are killed in turn: kill → rebalance → kill → new worker", async () => {
    harness = new FleetHarness();
    const held = async (id: string): Promise<number> => {
      const raw = await harness.redis.get(harness.keys.worker(id));
      return raw ? (JSON.parse(raw) as { partitions: unknown[] }).partitions.length : 0;
    };
    const logs =
      (...ws: WorkerProcess[]) =>
      () =>
        ws.map((w) => w.output.slice(-15).join("\n")).join("\n---\n");
    // Every worker process is loaded up front (that takes seconds); each joins the fleet when its turn comes.
    const spawn = (id: string) => harness.spawnWorker(id, WORKER_ENV, TEST_WORKER_MAIN);
    const w1 = spawn("w1");
    const w2 = spawn("w2");
    const w3 = spawn("w3");
    const w4 = spawn("w4");
    for (const w of [w1, w2, w3, w4]) await waitFor(() => w.output.includes("worker loaded"), 60_000, logs(w));
    const join = async (w: WorkerProcess) => {
      w.kill("SIGUSR2");
      await w.ready();
    };
    const produced = async () => (await harness.snapshot("failover"))?.nodes.gen?.out ?? 0;

    await join(w1);
    const count = 10_000;
    const config = { count, rate: 700, seed: 17 };
    await harness.startRun("failover", countByCountry(config));
    await waitFor(async () => (await held("w1")) === 8, 15_000, logs(w1));

    // A newcomer gets its fair share…
    await join(w2);
    await waitFor(async () => (await held("w2")) === 4 && (await held("w1")) === 4, 20_000, logs(w1, w2));
    // …and dies without handing anything back: the worker that gave them away takes them again.
    w2.kill("SIGKILL");
    await w2.exited;
    await waitFor(async () => (await held("w1")) === 8, 15_000, logs(w1));
    const afterFirstKill = await produced();
    await waitFor(async () => (await produced()) > afterFirstKill + 500, 10_000, logs(w1));

    await join(w3);
    await waitFor(async () => (await held("w3")) === 4, 20_000, logs(w1, w3));
    w1.kill("SIGKILL");
    await w1.exited;
    await join(w4);
    expect(await produced()).toBeLessThan(count);

    const done = await harness.waitForStatus("failover", "completed", 60_000);
    const expected = expectedCounts(config, count);
    expect(done.nodes.gen?.out).toBe(count);
    expect(done.nodes.count?.in).toBe(count);
    expect(done.nodes.count?.out).toBe(Object.keys(expected).length);
    const rows = await harness.store("failover", 1, 4, "out", "rows");
    const counted = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, (v as { count: number }).count]));
    expect(counted).toEqual(expected);
  }, 120_000);
});
