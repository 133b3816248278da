import { createRuntimeRegistry } from "@sluice/nodes/runtime-contract";
import { generatorDef } from "@sluice/nodes/sources/generator.def";
import { generatorRuntime } from "@sluice/nodes/sources/generator.run";
import { filterDef } from "@sluice/nodes/transforms/filter.def";
import { filterRuntime } from "@sluice/nodes/transforms/filter.run";
import { createKeys } from "@sluice/pipeline/control/keys";
import type { RunStartJob } from "@sluice/pipeline/control/protocol";
import { nextGeneration, pauseRun, requeueRun, resumeRun, stopRun } from "@sluice/pipeline/control/run-state";
import { createCatalog } from "@sluice/pipeline/node-definition";
import { FleetHarness, waitFor } from "@sluice/test-kit/fleet-harness";
import {
  collectDef,
  collectRuntime,
  failOnceDef,
  failOnceRuntime,
  keyCountDef,
  keyCountRuntime,
  leakyDef,
  leakyRuntime,
} from "@sluice/test-kit/test-nodes";
import { afterEach, describe, expect, it } from "vitest";

// Run control on the fleet: pause and resume, restart from the last commit, reset, and dead-letter replay.

const catalog = createCatalog([generatorDef, filterDef, keyCountDef, collectDef, failOnceDef, leakyDef]);
const runtimes = createRuntimeRegistry([
  generatorRuntime,
  filterRuntime,
  keyCountRuntime,
  collectRuntime,
  failOnceRuntime,
  leakyRuntime,
]);

function pipeline(
  generator: Record<string, unknown>,
  middle: { id: string; type: string; config: Record<string, unknown> },
) {
  return {
    apiVersion: "sluice/v1",
    kind: "Pipeline",
    metadata: { name: "control" },
    spec: {
      settings: { parallelism: 2, batchSize: 200 },
      nodes: [
        { id: "gen", type: "source.generator", config: generator },
        middle,
        { id: "out", type: "sink.collect", config: { by: middle.type === "transform.key-count" ? "country" : "id" } },
      ],
      edges: [
        { from: "gen", to: middle.id },
        { from: middle.id, to: "out" },
      ],
    },
  };
}

const counter = { id: "count", type: "transform.key-count", config: { key: "country" } };
const sum = (o: Record<string, unknown>) => Object.values(o).reduce((a: number, b) => a + (b as number), 0);

let harness: FleetHarness;
afterEach(async () => {
  await harness?.close();
});

function restart(runId: string, reset = false) {
  return harness.restartRun(runId, reset);
}

describe("run control", () => {
  it("pauses and resumes without losing anything, and completes", async () => {
    harness = new FleetHarness();
    await harness.startInProcess("w1", catalog, runtimes);
    await harness.startRun("pause", pipeline({ count: 20_000, rate: 4000 }, counter));
    await waitFor(async () => ((await harness.snapshot("pause"))?.nodes.count?.in ?? 0) > 500, 15_000);
    expect(await pauseRun(harness.redis, harness.keys, "pause")).toEqual({ moved: true, status: "paused" });
    await new Promise((r) => setTimeout(r, 700)); // tasks notice within their control poll
    const held = (await harness.snapshot("pause"))?.nodes.gen?.out;
    await new Promise((r) => setTimeout(r, 1000));
    expect((await harness.snapshot("pause"))?.nodes.gen?.out).toBe(held);
    expect((await harness.snapshot("pause"))?.status).toBe("paused");
    // Paused is not running: a second pause does not move it.
    expect((await pauseRun(harness.redis, harness.keys, "pause")).moved).toBe(false);
    expect(await resumeRun(harness.redis, harness.keys, "pause")).toEqual({ moved: true, status: "running" });
    const done = await harness.waitForStatus("pause", "completed");
    expect(done.nodes.gen?.out).toBe(20_000);
    expect(done.nodes.count?.in).toBe(20_000);
  });

  it("stops a paused run: its parked tasks wake, drain and the run ends stopped", async () => {
    harness = new FleetHarness();
    await harness.startInProcess("w1", catalog, runtimes);
    await harness.startRun("parked", pipeline({ rate: 3000 }, counter));
    await waitFor(async () => ((await harness.snapshot("parked"))?.nodes.count?.in ?? 0) > 500, 15_000);
    await pauseRun(harness.redis, harness.keys, "parked");
    await new Promise((r) => setTimeout(r, 700));
    const held = (await harness.snapshot("parked"))?.nodes.gen?.out;
    expect(await stopRun(harness.redis, harness.keys, "parked", 60_000)).toEqual({
      status: "stopping",
      stoppedNow: false,
    });
    const stopped = await harness.waitForStatus("parked", "stopped", 15_000);
    // Nothing was read after the pause, and everything read reached the end of the pipeline.
    expect(stopped.nodes.gen?.out).toBe(held);
    expect(stopped.nodes.count?.in).toBe(held);
    // A stopped run cannot be resumed.
    expect(await resumeRun(harness.redis, harness.keys, "parked")).toEqual({ moved: false, status: "stopped" });
  });

  it("restarts a stopped run from its last commit, keeping offsets and keyed state", async () => {
    harness = new FleetHarness();
    await harness.startInProcess("w1", catalog, runtimes);
    await harness.startRun("again", pipeline({ rate: 3000, seed: 4 }, counter));
    await waitFor(async () => ((await harness.snapshot("again"))?.nodes.count?.in ?? 0) > 1000, 15_000);
    await harness.stopRun("again");
    const first = await harness.waitForStatus("again", "stopped");
    const firstCounts = sum(await harness.store("again", 1, 2, "count", "counts"));
    expect(firstCounts).toBe(first.nodes.count?.in);

    await restart("again");
    await harness.waitForStatus("again", "running");
    await waitFor(async () => ((await harness.snapshot("again"))?.nodes.count?.in ?? 0) > firstCounts + 1000, 15_000);
    await harness.stopRun("again");
    const second = await harness.waitForStatus("again", "stopped");
    // Counts went on from where they were (offsets and state kept): nothing read twice, nothing skipped.
    expect(second.nodes.count?.in).toBe(second.nodes.gen?.out);
    expect(sum(await harness.store("again", 1, 2, "count", "counts"))).toBe(second.nodes.count?.in);
    const offsets = await Promise.all(
      [0, 1].map((p) =>
        harness.redis.hget(harness.keys.taskState({ runId: "again", stage: 0, partition: p }), "o:gen"),
      ),
    );
    expect(offsets.reduce((a, o) => a + Number(o), 0)).toBe(second.nodes.gen?.out);
  });

  it("leaves a restart alone that was stopped while it waited for a worker: the run stays stopped", async () => {
    harness = new FleetHarness();
    await harness.startRun("waited", pipeline({ count: 500, rate: 0, seed: 2 }, counter));
    await harness.startInProcess("w1", catalog, runtimes);
    await harness.waitForStatus("waited", "completed");
    expect(await requeueRun(harness.redis, harness.keys, "waited", {})).toBe("requeued");
    // Nothing drains a queued run: the stop ends it at once, and starts its retention.
    expect(await stopRun(harness.redis, harness.keys, "waited", 60_000)).toEqual({
      status: "stopped",
      stoppedNow: true,
    });
    expect(await harness.redis.pttl(harness.keys.runMeta("waited"))).toBeGreaterThan(0);
    const job = await harness.control.add("restart", { v: 1, action: "restart", runId: "waited", reset: false });
    await waitFor(async () => (await job.isCompleted()) || undefined, 15_000);
    expect(await harness.redis.hmget(harness.keys.runMeta("waited"), "status", "gen")).toEqual(["stopped", "1"]);
    // Nor does a restart already past that check begin a generation of it.
    expect(await nextGeneration(harness.redis, harness.keys, "waited", false)).toBe(0);
    expect(await harness.redis.hget(harness.keys.runMeta("waited"), "status")).toBe("stopped");
  });

  it("starts a run over that was stopped before any worker planned it", async () => {
    harness = new FleetHarness();
    expect(await stopRun(harness.redis, harness.keys, "unplanned", 60_000)).toEqual({
      status: "stopped",
      stoppedNow: true,
    });
    expect(await requeueRun(harness.redis, harness.keys, "unplanned", {})).toBe("never-started");
    const def = pipeline({ count: 500, rate: 0, seed: 3 }, counter);
    const job: RunStartJob = {
      v: 1,
      action: "start",
      runId: "unplanned",
      definition: def,
      parameters: {},
      generation: 2,
    };
    await harness.control.add("start", job, { jobId: "start-unplanned-g2" });
    await harness.startInProcess("w1", catalog, runtimes);
    const done = await harness.waitForStatus("unplanned", "completed");
    expect(done.nodes.count?.in).toBe(500);
    expect(await harness.redis.hget(harness.keys.runMeta("unplanned"), "gen")).toBe("2");
  });

  it("resets a finished run to start over, with the same result and not twice the counts", async () => {
    harness = new FleetHarness();
    await harness.startInProcess("w1", catalog, runtimes);
    await harness.startRun("reset", pipeline({ count: 3000, rate: 0, seed: 8 }, counter));
    const first = await harness.waitForStatus("reset", "completed");
    const rows = await harness.store("reset", 1, 2, "out", "rows");
    await restart("reset", true);
    await waitFor(
      async () =>
        (await harness.snapshot("reset"))?.status === "running" ||
        (await harness.snapshot("reset"))?.status === "completed",
      10_000,
    );
    const second = await harness.waitForStatus("reset", "completed");
    expect(second.nodes).toEqual(first.nodes);
    expect(await harness.store("reset", 1, 2, "out", "rows")).toEqual(rows);
    expect(await harness.redis.hget(harness.keys.runMeta("reset"), "gen")).toBe("2");
  });

  it("sends dead letters back where they failed, and they pass on a second try", async () => {
    harness = new FleetHarness();
    await harness.startInProcess("w1", catalog, runtimes);
    await harness.startRun(
      "letters",
      pipeline({ rate: 2000, seed: 6 }, { id: "flaky", type: "transform.fail-once", config: {} }),
    );
    await waitFor(async () => ((await harness.snapshot("letters"))?.nodes.flaky?.errors ?? 0) >= 20, 15_000);
    const keys = createKeys(harness.prefix);
    const dlq = (p: number) => keys.taskDeadLetters({ runId: "letters", stage: 0, partition: p });
    const letters = await harness.redis.xrange(dlq(0), "-", "+", "COUNT", 5);
    expect(letters.length).toBe(5);
    const letter = JSON.parse(letters[0]![1][1]!);
    expect(letter).toMatchObject({
      nodeId: "flaky",
      port: "in",
      error: expect.stringContaining("fails the first time"),
    });
    // Move those five into the replay stream, as the API does.
    for (const [id, fields] of letters) {
      await harness.redis.xadd(keys.taskReplay({ runId: "letters", stage: 0, partition: 0 }), "*", ...fields);
      await harness.redis.xdel(dlq(0), id);
    }
    const replayedIds = letters.map(([, f]) => String(JSON.parse(f[1]!).record.id));
    await waitFor(
      async () => (await harness.redis.xlen(keys.taskReplay({ runId: "letters", stage: 0, partition: 0 }))) === 0,
      10_000,
    );
    await harness.stopRun("letters");
    await harness.waitForStatus("letters", "stopped");
    const rows = await harness.store("letters", 0, 2, "out", "rows");
    for (const id of replayedIds) expect(rows[id]).toMatchObject({ id: Number(id) });
  });
});

describe("secrets in errors", () => {
  it("cuts the run's connection secrets out of dead letters, and fails a run naming a missing connection", async () => {
    harness = new FleetHarness();
    await harness.startInProcess("w1", catalog, runtimes);
    const secret = `pw-${Math.random().toString(36).slice(2)}`;
    const leaky = { id: "leak", type: "transform.leaky", config: { connection: "db" } };
    await harness.startRun(
      "leak",
      pipeline({ count: 50, rate: 0 }, leaky),
      {},
      {
        db: { type: "testdb", config: { host: "db.internal", password: secret }, secrets: ["password"] },
      },
    );
    const done = await harness.waitForStatus("leak", "completed");
    expect(done.nodes.leak?.errors).toBe(50);
    const letters = await harness.redis.xrange(
      harness.keys.taskDeadLetters({ runId: "leak", stage: 0, partition: 0 }),
      "-",
      "+",
    );
    const text = letters.map(([, f]) => f[1]).join("\n");
    expect(text).toContain("[redacted]@db.internal");
    expect(text).not.toContain(secret);

    await harness.startRun("missing", pipeline({ count: 50, rate: 0 }, leaky), {}, {});
    const failed = await harness.waitForStatus("missing", "failed");
    expect(failed.error).toContain('connection "db" is not one of this run\'s connections');
  });
});
