import {
  FleetHarness,
  slicePipeline,
  TEST_WORKER_MAIN,
  type WorkerProcess,
  waitFor,
} from "@sluice/test-kit/fleet-harness";
import { afterEach, describe, expect, it } from "vitest";

// A partition whose records kill the worker running it (as running out of memory does) is not handed from worker
// to worker for ever: after the crash limit of takeovers with no finished batch, its run fails with the reason,
// while another run on the same workers goes on to the end.

const WORKER_ENV = { SLUICE_TEST_LEASE_MS: "1500", SLUICE_TEST_JOIN_ON_SIGNAL: "1", SLUICE_TEST_CRASH_LIMIT: "2" };

/** Generator → an operator that kills its process on record `id` → console. */
function poisonPipeline(count: number, id: number) {
  return {
    apiVersion: "sluice/v1",
    kind: "Pipeline",
    metadata: { name: "poison" },
    spec: {
      settings: { parallelism: 2, batchSize: 100 },
      nodes: [
        { id: "gen", type: "source.generator", config: { count, rate: 0, seed: 4 } },
        { id: "bomb", type: "transform.crash-on", config: { id } },
        { id: "out", type: "sink.console", config: { keep: 10 } },
      ],
      edges: [
        { from: "gen", to: "bomb" },
        { from: "bomb", to: "out" },
      ],
    },
  };
}

let harness: FleetHarness;
afterEach(async () => {
  await harness?.close();
});

describe("crash loops", () => {
  it("fails a run whose partition keeps killing its worker, and the fleet and other runs go on", async () => {
    harness = new FleetHarness();
    const logs = (w: WorkerProcess) => () => w.output.slice(-20).join("\n");
    // Loaded up front; each joins the fleet when the one before it has died, as a supervisor would restart it.
    const workers = ["w1", "w2", "w3"].map((id) => harness.spawnWorker(id, WORKER_ENV, TEST_WORKER_MAIN));
    for (const w of workers) await waitFor(() => w.output.includes("worker loaded"), 60_000, logs(w));
    const [w1, w2, w3] = workers as [WorkerProcess, WorkerProcess, WorkerProcess];
    const join = async (w: WorkerProcess) => {
      w.kill("SIGUSR2");
      await w.ready();
    };

    await join(w1);
    const healthyCount = 12_000;
    await harness.startRun("healthy", slicePipeline({ count: healthyCount, rate: 1500, seed: 8 }, "status = 200", 2));
    await waitFor(async () => ((await harness.snapshot("healthy"))?.nodes.gen?.out ?? 0) > 500, 20_000, logs(w1));
    // Record 1001 is in partition 1 (the generator deals records out round-robin), a few batches in.
    await harness.startRun("poison", poisonPipeline(4000, 1001));

    expect((await w1.exited).signal).toBe("SIGKILL");
    await join(w2);
    expect((await w2.exited).signal).toBe("SIGKILL");
    await join(w3);

    const failed = await harness.waitForStatus("poison", "failed", 30_000);
    expect(failed.error).toBe(
      "partition 1 of stage 0 stopped its worker 2 times in a row without finishing a batch (last: worker w2); the " +
        "run was failed to protect the fleet. Look at what nodes gen, bomb, out do with this partition's records (a " +
        "worker running out of memory on large records, a driver that aborts), or lower the pipeline's batch size " +
        "(settings.batchSize, settings.batchBytes).",
    );
    // The partition before the bomb got through its records; the one with the bomb stopped short of it.
    expect(failed.nodes.gen?.out).toBeLessThan(4000);

    // The third worker lives on and finishes the other run, which lost two workers on the way, exactly.
    const done = await harness.waitForStatus("healthy", "completed", 40_000);
    expect(done.nodes.gen?.out).toBe(healthyCount);
    expect(done.nodes.keep?.in).toBe(healthyCount);
    expect(w3.child.exitCode).toBeNull();
    expect(w3.child.signalCode).toBeNull();
  }, 180_000);
});
