import { createRuntimeRegistry } from "@sluice/nodes/runtime-contract";
import { generatorDef } from "@sluice/nodes/sources/generator.def";
import { generatorRuntime } from "@sluice/nodes/sources/generator.run";
import { readDeadLetters, readRunMeta } from "@sluice/pipeline/control/run-reader";
import { createCatalog } from "@sluice/pipeline/node-definition";
import { FleetHarness } from "@sluice/test-kit/fleet-harness";
import {
  collectDef,
  collectRuntime,
  rejectAllDef,
  rejectAllError,
  rejectAllRuntime,
} from "@sluice/test-kit/test-nodes";
import { afterEach, describe, expect, it } from "vitest";

// Dead letters are data: none is trimmed, and a partition that reaches its limit fails the run before committing
// the batch that would pass it, so the letters kept and the input not yet committed add up to everything read.

const catalog = createCatalog([generatorDef, rejectAllDef, collectDef]);
const runtimes = createRuntimeRegistry([generatorRuntime, rejectAllRuntime, collectRuntime]);

function rejectingPipeline(count: number, settings: Record<string, unknown>) {
  return {
    apiVersion: "sluice/v1",
    kind: "Pipeline",
    metadata: { name: "letters" },
    spec: {
      settings: { parallelism: 1, ...settings },
      nodes: [
        { id: "gen", type: "source.generator", config: { count, rate: 0, fields: { id: { kind: "sequence" } } } },
        { id: "reject", type: "transform.reject-all", config: {} },
        { id: "out", type: "sink.collect", config: { by: "id" } },
      ],
      edges: [
        { from: "gen", to: "reject" },
        { from: "reject", to: "out" },
      ],
    },
  };
}

let harness: FleetHarness;
afterEach(async () => {
  await harness?.close();
});

describe("dead letters", () => {
  it("keeps every one of 150,000 dead letters in one partition", async () => {
    harness = new FleetHarness();
    await harness.startInProcess("w1", catalog, runtimes);
    await harness.startRun("many", rejectingPipeline(150_000, { batchSize: 50_000 }));
    const done = await harness.waitForStatus("many", "completed", 60_000);
    const dlq = harness.keys.taskDeadLetters({ runId: "many", stage: 0, partition: 0 });
    // The old cap trimmed each partition's stream to about 100,000.
    expect(await harness.redis.xlen(dlq)).toBe(150_000);
    expect(done.nodes.reject?.errors).toBe(150_000);
    const first = await harness.redis.xrange(dlq, "-", "+", "COUNT", 1);
    expect(JSON.parse(first[0]![1][1]!)).toMatchObject({
      nodeId: "reject",
      record: { id: 0 },
      error: rejectAllError.message,
    });
    // What the API lists reads the same stream.
    const meta = await readRunMeta(harness.redis, harness.keys, "many");
    const newest = await readDeadLetters(harness.redis, harness.keys, "many", meta!, 1000);
    expect(newest).toHaveLength(1000);
    expect(newest.every((l) => l.nodeId === "reject")).toBe(true);
  }, 90_000);

  it("fails the run at the limit without committing the batch that would pass it", async () => {
    harness = new FleetHarness();
    await harness.startInProcess("w1", catalog, runtimes);
    await harness.startRun("capped", rejectingPipeline(5000, { batchSize: 300, deadLetterLimit: 1000 }));
    const failed = await harness.waitForStatus("capped", "failed", 30_000);
    expect(failed.error).toContain("partition 0 of stage 0 holds 900 dead letters");
    expect(failed.error).toContain("past the limit of 1,000 (settings.deadLetterLimit)");
    expect(failed.error).toContain("nothing was lost");

    const task = { runId: "capped", stage: 0, partition: 0 };
    const held = await harness.redis.xlen(harness.keys.taskDeadLetters(task));
    expect(held).toBe(900);
    // The source's committed position is exactly past what was dead-lettered: the refused batch is read again.
    const state = await harness.redis.hgetall(harness.keys.taskState(task));
    expect(JSON.parse(state["o:gen"]!)).toBe(held);
    expect(failed.nodes.reject?.errors).toBe(held);
    const ids = (await harness.redis.xrange(harness.keys.taskDeadLetters(task), "-", "+")).map(
      ([, f]) => JSON.parse(f[1]!).record.id as number,
    );
    expect(ids).toEqual(Array.from({ length: 900 }, (_, i) => i));
  }, 60_000);
});
