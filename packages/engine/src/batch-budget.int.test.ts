import { createRuntimeRegistry, type SinkRuntime } from "@sluice/nodes/runtime-contract";
import { generatorDef } from "@sluice/nodes/sources/generator.def";
import { generatorRuntime } from "@sluice/nodes/sources/generator.run";
import { createCatalog, defineNode } from "@sluice/pipeline/node-definition";
import { FleetHarness } from "@sluice/test-kit/fleet-harness";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";

// A batch has a byte budget beside its record count: large records make small batches, and a generator whose
// records would be too large is refused before it runs.

/** Sizes of the batches each sink was handed, by run (the worker runs in this process). */
const written = new Map<string, number[]>();

const batchSizesDef = defineNode({
  type: "sink.batch-sizes",
  version: 1,
  kind: "sink",
  title: "Batch sizes (test)",
  category: "Test",
  icon: "inbox",
  summary: "test",
  docs: "",
  inputs: [{ name: "in" }],
  outputs: [],
  config: z.strictObject({}),
  examples: [],
  delivery: {},
  infer: () => ({ outputs: {} }),
  summarize: () => "",
});

const batchSizesRuntime: SinkRuntime<Record<string, never>> = {
  kind: "sink",
  type: "sink.batch-sizes",
  async open(ctx) {
    return {
      async write(records) {
        written.set(ctx.runId, [...(written.get(ctx.runId) ?? []), records.length]);
      },
      async close() {},
    };
  },
};

const catalog = createCatalog([generatorDef, batchSizesDef]);
const runtimes = createRuntimeRegistry([generatorRuntime, batchSizesRuntime]);

const textFields = (n: number) =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`t${i}`, { kind: "string", length: 4096 }]));

function pipeline(generator: Record<string, unknown>, settings: Record<string, unknown> = {}) {
  return {
    apiVersion: "sluice/v1",
    kind: "Pipeline",
    metadata: { name: "budget" },
    spec: {
      settings: { parallelism: 1, batchSize: 1000, ...settings },
      nodes: [
        { id: "gen", type: "source.generator", config: generator },
        { id: "out", type: "sink.batch-sizes", config: {} },
      ],
      edges: [{ from: "gen", to: "out" }],
    },
  };
}

let harness: FleetHarness;
afterEach(async () => {
  await harness?.close();
});

describe("batch byte budget", () => {
  it("refuses the generator that ran a worker out of memory, saying which field", async () => {
    harness = new FleetHarness();
    await harness.startInProcess("w1", catalog, runtimes);
    await harness.startRun("bomb", pipeline({ rate: 0, fields: textFields(200) }));
    const failed = await harness.waitForStatus("bomb", "failed");
    expect(failed.error).toContain("fields");
    expect(failed.error).toContain("records of about 802 KiB each, over the 256 KiB a generated record may have");
    expect(written.get("bomb")).toBeUndefined();
  });

  it("cuts batches of large records by bytes, not by the record count", async () => {
    harness = new FleetHarness();
    await harness.startInProcess("w1", catalog, runtimes);
    // Just under the bound: 60 text fields of 4,096 characters, about 241 KiB a record.
    await harness.startRun("large", pipeline({ count: 120, rate: 0, fields: textFields(60) }));
    await harness.waitForStatus("large", "completed");
    const sizes = written.get("large") ?? [];
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(120);
    // 4 MiB (the default budget) holds 17 such records; without the budget all 120 went in one batch.
    expect(Math.max(...sizes)).toBe(17);
    const state = await harness.redis.hgetall(harness.keys.taskState({ runId: "large", stage: 0, partition: 0 }));
    expect(Number(state.seq)).toBeGreaterThanOrEqual(8);

    // A smaller budget makes smaller batches.
    await harness.startRun("small", pipeline({ count: 40, rate: 0, fields: textFields(60) }, { batchBytes: 1 << 20 }));
    await harness.waitForStatus("small", "completed");
    expect(Math.max(...(written.get("small") ?? []))).toBe(4);
  });
});
