import { FleetWorker } from "@sluice/engine/fleet-worker";
import { catalog } from "@sluice/nodes/catalog";
import { runtimes } from "@sluice/nodes/runtimes";
import { emptyDefinition, type PipelineDefinition } from "@sluice/pipeline/definition";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, createApiHarness, rejects } from "../../test/api-harness";

let h: ApiHarness;
beforeAll(async () => {
  h = await createApiHarness("preview");
});
afterAll(async () => {
  await h?.close();
});

function draft(where: string): PipelineDefinition {
  const def = emptyDefinition("draft");
  def.spec.nodes.push(
    { id: "gen", type: "source.generator", config: { count: 1_000_000, rate: 5 } },
    { id: "keep", type: "transform.filter", config: { where } },
    { id: "out", type: "sink.console", config: {} },
  );
  def.spec.edges.push({ from: "gen", to: "keep" }, { from: "keep", to: "out" });
  return def;
}

describe("data preview through the API", () => {
  it("says so at once when no worker is running", async () => {
    const { api } = await h.caller((await h.signUp("Early")).cookie);
    const err = await rejects(api.pipelines.preview({ definition: draft("status = 200") }));
    expect(err.code).toBe("PRECONDITION_FAILED");
    expect(err.message).toContain("no worker is running");
  });

  it("returns each node's records from a worker, and the draft's problems without one", async () => {
    const worker = new FleetWorker({
      connect: () =>
        new Redis(process.env.SLUICE_TEST_REDIS_URL ?? "redis://127.0.0.1:6379", { maxRetriesPerRequest: null }),
      prefix: h.deps.keys.prefix,
      catalog,
      runtimes,
      workerId: "previewer",
    });
    await worker.start();
    try {
      const { api } = await h.caller((await h.signUp("Previewer")).cookie);
      const result = await api.pipelines.preview({ definition: draft("status = 200"), limit: 30 });
      expect(result.problems).toEqual([]);
      expect(result.nodes.gen?.outputs.out).toHaveLength(30);
      expect(result.nodes.keep?.inputs.in).toHaveLength(30);
      expect(result.nodes.out?.inputs.in?.every((r) => r.status === 200)).toBe(true);
      expect(result.truncated).toBe(true);
      // The console sink was never written: its live tail stays empty.
      const tails = await h.redis.keys(`${h.deps.keys.prefix}:*:tail:*`);
      expect(tails).toEqual([]);

      const broken = await api.pipelines.preview({ definition: draft("statsu = 200") });
      expect(broken.nodes).toEqual({});
      expect(broken.problems[0]).toContain("keep:");
    } finally {
      await worker.close();
    }
  });
});
