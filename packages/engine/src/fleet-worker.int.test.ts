import { generatorDef } from "@sluice/nodes/sources/generator.def";
import { recordFactory } from "@sluice/nodes/sources/generator.run";
import { FleetHarness, slicePipeline, waitFor } from "@sluice/test-kit/fleet-harness";
import { afterEach, describe, expect, it } from "vitest";

// The worker fleet against real Redis with real worker processes: bounded runs end by themselves with exact
// counts, a SIGKILLed worker's partitions are continued by a new worker from the last commit, and SIGTERM hands
// partitions over promptly.

/** How many of the generator's first `count` records have status 200, computed without the engine. */
function expectedPassing(config: Record<string, unknown>, count: number): number {
  const make = recordFactory(generatorDef.config.parse(config), 0);
  let n = 0;
  for (let i = 0; i < count; i++) if (make(i).status === 200) n++;
  return n;
}

let harness: FleetHarness;
afterEach(async () => {
  await harness?.close();
});

describe("fleet worker", () => {
  it("runs a bounded pipeline to completion with exact per-node counts", async () => {
    harness = new FleetHarness();
    const worker = harness.spawnWorker("w1");
    await worker.ready();
    const config = { count: 20_000, rate: 0, seed: 3 };
    await harness.startRun("bounded", slicePipeline(config));
    const done = await waitFor(
      async () => {
        const s = await harness.snapshot("bounded");
        return s?.status === "completed" ? s : undefined;
      },
      30_000,
      () => worker.output.slice(-20).join("\n"),
    );
    const passing = expectedPassing(config, 20_000);
    expect(done.nodes.gen).toEqual({ in: 0, out: 20_000, errors: 0 });
    expect(done.nodes.keep).toEqual({ in: 20_000, out: passing, errors: 0 });
    expect(done.nodes.out).toEqual({ in: passing, out: 0, errors: 0 });
    expect(done.tasks).toEqual({ total: 4, done: 4 });
    expect(done.delivery).toBe("at-least-once");
    const tail = await harness.redis.xlen(harness.keys.runTail("bounded", "out"));
    expect(tail).toBeGreaterThan(0);
  });

  it("binds the run's parameters into configs and, as typed values, into expressions", async () => {
    harness = new FleetHarness();
    const worker = harness.spawnWorker("params");
    await worker.ready();
    const def = slicePipeline({ count: "{{n}}", rate: 0, seed: 5 }, "amount >= {{min_amount}} AND status = {{wanted}}");
    Object.assign(def.spec, {
      parameters: [
        { name: "n", type: "number", default: 10 },
        { name: "min_amount", type: "number", default: 0 },
        { name: "wanted", type: "number", default: 200 },
      ],
    });
    await harness.startRun("params", def, { n: 5000, min_amount: 250, wanted: 404 });
    const done = await waitFor(
      async () => {
        const s = await harness.snapshot("params");
        return s?.status === "completed" ? s : undefined;
      },
      30_000,
      () => worker.output.slice(-20).join("\n"),
    );
    const make = recordFactory(generatorDef.config.parse({ rate: 0, seed: 5 }), 0);
    let expected = 0;
    for (let i = 0; i < 5000; i++) {
      const r = make(i);
      if ((r.amount as number) >= 250 && r.status === 404) expected++;
    }
    expect(expected).toBeGreaterThan(0);
    expect(done.nodes.gen?.out).toBe(5000);
    expect(done.nodes.keep?.out).toBe(expected);
  });

  it("puts a typed expression parameter's text in its whole filter field, and an integer in a count", async () => {
    harness = new FleetHarness();
    const worker = harness.spawnWorker("typed");
    await worker.ready();
    const def = slicePipeline({ count: "{{n}}", rate: 0, seed: 5 }, "{{keep}}");
    Object.assign(def.spec, {
      parameters: [
        { name: "n", type: "integer", min: 1, default: 10 },
        { name: "keep", type: "expression", default: "true" },
      ],
    });
    await harness.startRun("typed", def, { n: 4000, keep: "amount >= 250 AND status = 404" });
    const done = await waitFor(
      async () => {
        const s = await harness.snapshot("typed");
        return s?.status === "completed" ? s : undefined;
      },
      30_000,
      () => worker.output.slice(-20).join("\n"),
    );
    const make = recordFactory(generatorDef.config.parse({ rate: 0, seed: 5 }), 0);
    let expected = 0;
    for (let i = 0; i < 4000; i++) {
      const r = make(i);
      if ((r.amount as number) >= 250 && r.status === 404) expected++;
    }
    expect(expected).toBeGreaterThan(0);
    expect(done.nodes.gen?.out).toBe(4000);
    expect(done.nodes.keep?.out).toBe(expected);
  });

  it("continues a run from its last commit after the only worker is SIGKILLed", async () => {
    harness = new FleetHarness();
    const first = harness.spawnWorker("doomed");
    await first.ready();
    const count = 9000;
    const config = { count, rate: 1500, seed: 11 };
    await harness.startRun("crash", slicePipeline(config));
    const before = await waitFor(
      async () => {
        const s = await harness.snapshot("crash");
        return (s?.nodes.gen?.out ?? 0) > 1500 ? s : undefined;
      },
      20_000,
      () => first.output.slice(-20).join("\n"),
    );
    first.kill("SIGKILL");
    await first.exited;
    // Nobody holds the partitions now: the committed counts stand still.
    await new Promise((r) => setTimeout(r, 1000));
    const frozen = await harness.snapshot("crash");
    expect(frozen?.status).toBe("running");
    expect(frozen?.nodes.gen?.out).toBeGreaterThanOrEqual(before.nodes.gen?.out ?? 0);
    expect(frozen?.nodes.gen?.out).toBeLessThan(count);

    const second = harness.spawnWorker("rescuer");
    const done = await waitFor(
      async () => {
        const s = await harness.snapshot("crash");
        return s?.status === "completed" ? s : undefined;
      },
      45_000,
      () => second.output.slice(-30).join("\n"),
    );
    const passing = expectedPassing(config, count);
    // Exactly what one uninterrupted run produces: nothing lost, nothing counted twice.
    expect(done.nodes.gen?.out).toBe(count);
    expect(done.nodes.keep).toEqual({ in: count, out: passing, errors: 0 });
    expect(done.nodes.out?.in).toBe(passing);
    expect(second.output.join("\n")).toContain("task leased");
  });

  it("hands its partitions over within 10 s of SIGTERM and exits cleanly", async () => {
    harness = new FleetHarness();
    const leaving = harness.spawnWorker("leaving", { SLUICE_LEASE_TIMEOUT: "30s" });
    await leaving.ready();
    await harness.startRun("handover", slicePipeline({ rate: 2000 }));
    await waitFor(async () => ((await harness.snapshot("handover"))?.nodes.gen?.out ?? 0) > 1000, 20_000);
    const staying = harness.spawnWorker("staying", { SLUICE_LEASE_TIMEOUT: "30s" });
    await staying.ready();
    const sentAt = Date.now();
    leaving.kill("SIGTERM");
    const exit = await leaving.exited;
    expect(exit.code).toBe(0);
    expect(Date.now() - sentAt).toBeLessThan(10_000);
    // With a 30 s lease, only a voluntary hand-over lets the other worker continue this soon.
    const atExit = (await harness.snapshot("handover"))?.nodes.gen?.out ?? 0;
    await waitFor(
      async () => ((await harness.snapshot("handover"))?.nodes.gen?.out ?? 0) > atExit + 2000,
      8_000,
      () => staying.output.slice(-20).join("\n"),
    );
    await harness.stopRun("handover");
    const stopped = await waitFor(async () => {
      const s = await harness.snapshot("handover");
      return s?.status === "stopped" ? s : undefined;
    }, 10_000);
    expect(stopped.nodes.keep?.in).toBe(stopped.nodes.gen?.out);
  });
});
