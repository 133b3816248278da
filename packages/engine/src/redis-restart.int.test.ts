import { combineDigests, DIGEST_KEY, DIGEST_STATE, readStoredDigest } from "@sluice/nodes/sinks/discard-digest";
import { FleetHarness, waitFor } from "@sluice/test-kit/fleet-harness";
import { afterEach, describe, expect, it } from "vitest";
import { PrivateRedis } from "../test/private-redis";

// Redis restarted mid-run (killed, then started again from its append-only file with appendfsync always): the
// workers reconnect, the run recovers, and the final result equals that of a run nobody disturbed.

const START = Date.UTC(2026, 10, 24, 12);

function windowedPipeline() {
  return {
    apiVersion: "sluice/v1",
    kind: "Pipeline",
    metadata: { name: "redis-restart" },
    spec: {
      settings: { parallelism: 2, batchSize: 200, maxOutOfOrder: "2s" },
      nodes: [
        {
          id: "gen",
          type: "source.generator",
          config: { count: 16_000, rate: 2500, seed: 42, startTime: START, maxOutOfOrder: "2s" },
        },
        {
          id: "win",
          type: "transform.window",
          config: {
            key: ["country"],
            window: { tumble: "1s" },
            aggregates: { n: "count(*)", total: "round(sum(amount), 2)" },
          },
        },
        { id: "out", type: "sink.discard", config: {} },
      ],
      edges: [
        { from: "gen", to: "win" },
        { from: "win", to: "out" },
      ],
    },
  };
}

async function digestOf(harness: FleetHarness, redis: import("ioredis").Redis, runId: string, stages: number[]) {
  const digests = [];
  for (const stage of stages) {
    for (let partition = 0; partition < 2; partition++) {
      const raw = await redis.hget(
        harness.keys.taskStore({ runId, stage, partition }, "out", DIGEST_STATE),
        DIGEST_KEY,
      );
      digests.push(readStoredDigest(raw ? JSON.parse(raw) : undefined));
    }
  }
  return combineDigests(digests);
}

let harness: FleetHarness | undefined;
let server: PrivateRedis | undefined;
afterEach(async () => {
  await harness?.close();
  await server?.stop();
});

describe("a Redis restart mid-run", () => {
  it("recovers from the append-only file with the result an undisturbed run gives", async () => {
    server = await PrivateRedis.start({ aof: true });
    harness = new FleetHarness(server.url);
    const worker = harness.spawnWorker("survivor", { REDIS_URL: server.url });
    await worker.ready();

    await harness.startRun("calm", windowedPipeline());
    await harness.waitForStatus("calm", "completed", 60_000);
    const expected = await digestOf(harness, harness.redis, "calm", [1]);
    expect(expected.count).toBeGreaterThan(0);

    await harness.startRun("storm", windowedPipeline());
    await waitFor(async () => ((await harness!.snapshot("storm"))?.nodes.gen?.out ?? 0) > 4000, 30_000);
    await server.crash();
    await new Promise((r) => setTimeout(r, 1500));
    await server.restart();
    const done = await harness.waitForStatus("storm", "completed", 90_000);
    expect(done.nodes.gen?.out).toBe(16_000);
    expect(done.nodes.win?.in).toBe(16_000);
    expect(await digestOf(harness, harness.redis, "storm", [1])).toEqual(expected);
    expect(worker.output.join("\n")).toMatch(/reconnect|ECONNREFUSED|Connection is closed|task failed|lease/i);
  });
});
