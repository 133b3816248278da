import { createServer } from "node:net";
import { catalog } from "@sluice/nodes/catalog";
import { runtimes } from "@sluice/nodes/runtimes";
import { type RunEvent, readRunEvents, recordRunEvent } from "@sluice/pipeline/control/run-events";
import { pauseRun, requeueRun, resumeRun, runKeys, stopRun } from "@sluice/pipeline/control/run-state";
import { FleetHarness, waitFor } from "@sluice/test-kit/fleet-harness";
import { afterEach, describe, expect, it } from "vitest";

// The run's timeline as the fleet writes it: each transition once, in order, atomic with the status; a retry with
// its error; nothing written after the run has ended; the stream is one of the run's keys, so it expires with it.

let harness: FleetHarness;
afterEach(async () => {
  await harness?.close();
});

function generatorRun(generator: Record<string, unknown>) {
  return {
    apiVersion: "sluice/v1",
    kind: "Pipeline",
    metadata: { name: "timeline" },
    spec: {
      settings: { parallelism: 2, batchSize: 200 },
      nodes: [
        { id: "gen", type: "source.generator", config: generator },
        { id: "out", type: "sink.console", config: {} },
      ],
      edges: [{ from: "gen", to: "out" }],
    },
  };
}

const kinds = (events: RunEvent[]) => events.map((e) => e.kind);

async function events(runId: string): Promise<RunEvent[]> {
  return readRunEvents(harness.redis, harness.keys, runId);
}

describe("run timeline", () => {
  it("records start, pause, resume, stop, restart and completion in order, once each", async () => {
    harness = new FleetHarness();
    await harness.startInProcess("timeline-w1", catalog, runtimes);
    const { redis, keys } = harness;
    await harness.startRun("tl", generatorRun({ count: 6000, rate: 2000 }));
    await waitFor(async () => ((await harness.snapshot("tl"))?.nodes.out?.in ?? 0) > 200, 15_000);
    expect(await pauseRun(redis, keys, "tl")).toEqual({ moved: true, status: "paused" });
    // A transition that does not move the run writes nothing.
    expect((await pauseRun(redis, keys, "tl")).moved).toBe(false);
    expect((await resumeRun(redis, keys, "tl")).moved).toBe(true);
    expect((await stopRun(redis, keys, "tl", 60_000)).status).toBe("stopping");
    // Asked twice while it drains: one request on the timeline.
    await stopRun(redis, keys, "tl", 60_000);
    await harness.waitForStatus("tl", "stopped");
    await harness.restartRun("tl");
    const done = await harness.waitForStatus("tl", "completed", 30_000);
    expect(done.nodes.out?.in).toBe(6000);

    const timeline = await events("tl");
    expect(kinds(timeline)).toEqual([
      "started",
      "paused",
      "resumed",
      "stop-requested",
      "stopped",
      "restarted",
      "completed",
    ]);
    expect(timeline.find((e) => e.kind === "restarted")).toMatchObject({ generation: 2, reset: false });
    const ids = timeline.map((e) => e.id);
    expect([...ids].sort((a, b) => (a < b ? -1 : 1))).toEqual(ids);
    expect(timeline.every((e) => Math.abs(e.at - Date.now()) < 60_000)).toBe(true);
    // An ended run takes no more engine events, and its stream is one of the keys its retention expires.
    expect(await recordRunEvent(redis, keys, "tl", "retry", { error: "late" })).toBe(false);
    expect(await runKeys(redis, keys, "tl")).toContain(keys.runEvents("tl"));
    expect(await redis.pttl(keys.runEvents("tl"))).toBeGreaterThan(0);
  });

  it("records a failure with its error, and a restart with reset", async () => {
    harness = new FleetHarness();
    await harness.startInProcess("timeline-w2", catalog, runtimes);
    const { redis, keys } = harness;
    // A definition the worker cannot plan fails the run, and the failure carries its error.
    await harness.startRun("bad", { apiVersion: "sluice/v1", kind: "Pipeline", metadata: { name: "x" }, spec: {} });
    await harness.waitForStatus("bad", "failed");
    const failed = await events("bad");
    expect(kinds(failed)).toEqual(["failed"]);
    expect(failed[0]?.error).toMatch(/^the pipeline is not valid: /);

    await harness.startRun("again", generatorRun({ count: 400, rate: 4000 }));
    await harness.waitForStatus("again", "completed");
    expect(await requeueRun(redis, keys, "again", {})).toBe("requeued");
    await harness.control.add("restart", { v: 1, action: "restart", runId: "again", reset: true });
    await waitFor(
      async () => (await events("again")).length === 4,
      20_000,
      () => "for the reset run to complete",
    );
    const timeline = await events("again");
    expect(kinds(timeline)).toEqual(["started", "completed", "restarted", "completed"]);
    expect(timeline[2]).toMatchObject({ kind: "restarted", generation: 2, reset: true });
  });

  it("records a partition's retries with their error, and the stop that ends them", async () => {
    harness = new FleetHarness();
    await harness.startInProcess("timeline-w3", catalog, runtimes);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const definition = {
      apiVersion: "sluice/v1",
      kind: "Pipeline",
      metadata: { name: "unreachable" },
      spec: {
        settings: { parallelism: 1 },
        nodes: [
          { id: "events", type: "source.redis-stream", config: { connection: "gone", stream: "events" } },
          { id: "out", type: "sink.console", config: {} },
        ],
        edges: [{ from: "events", to: "out" }],
      },
    };
    await harness.startRun(
      "retrying",
      definition,
      {},
      {
        gone: { type: "redis", config: { url: `redis://127.0.0.1:${port}/0` } },
      },
    );
    const retries = await waitFor(
      async () => {
        const found = (await events("retrying")).filter((e) => e.kind === "retry");
        return found.length >= 2 ? found : undefined;
      },
      20_000,
      () => "for two retries on the timeline",
    );
    expect(retries[0]).toMatchObject({ stage: 0, partition: 0, attempt: 1, worker: "timeline-w3" });
    expect(retries[0]?.error).toMatch(/ECONNREFUSED|connect|refused/i);
    expect(retries[1]?.attempt).toBe(2);
    await stopRun(harness.redis, harness.keys, "retrying", 60_000);
    await harness.waitForStatus("retrying", "stopped", 15_000);
    const all = kinds(await events("retrying"));
    expect(all[0]).toBe("started");
    expect(all.slice(-2)).toEqual(["stop-requested", "stopped"]);
  });

  it("records a worker taking over a partition its last holder died with", async () => {
    harness = new FleetHarness();
    const { redis, keys } = harness;
    // The mark a worker leaves while it holds a partition, as if it had died holding it (partition-crashes.ts).
    await redis.hset(keys.taskState({ runId: "taken", stage: 0, partition: 1 }), "held", "gone-worker");
    await harness.startInProcess("timeline-w4", catalog, runtimes);
    await harness.startRun("taken", generatorRun({ count: 400, rate: 4000 }));
    await harness.waitForStatus("taken", "completed");
    const timeline = await events("taken");
    expect(kinds(timeline)).toEqual(["started", "takeover", "completed"]);
    expect(timeline[1]).toMatchObject({ stage: 0, partition: 1, worker: "timeline-w4", previousWorker: "gone-worker" });
  });
});
