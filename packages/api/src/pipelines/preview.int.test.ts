import { FleetWorker } from "@sluice/engine/fleet-worker";
import { catalog } from "@sluice/nodes/catalog";
import { runtimes } from "@sluice/nodes/runtimes";
import { emptyDefinition, type PipelineDefinition } from "@sluice/pipeline/definition";
import { type ApiHarness, createApiHarness, rejects } from "@sluice/test-kit/api-harness";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

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

/** generator → map (computing `value`) → console. */
function computing(value: string): PipelineDefinition {
  const def = emptyDefinition("draft");
  def.spec.nodes.push(
    { id: "gen", type: "source.generator", config: { count: 1_000_000, rate: 0 } },
    { id: "calc", type: "transform.map", config: { set: { value } } },
    { id: "out", type: "sink.console", config: {} },
  );
  def.spec.edges.push({ from: "gen", to: "calc" }, { from: "calc", to: "out" });
  return def;
}

function testWorker(id: string, preview?: { timeoutMs: number }): FleetWorker {
  return new FleetWorker({
    connect: () =>
      new Redis(process.env.SLUICE_TEST_REDIS_URL ?? "redis://127.0.0.1:6379", { maxRetriesPerRequest: null }),
    prefix: h.deps.keys.prefix,
    catalog,
    runtimes,
    workerId: id,
    ...(preview ? { preview } : {}),
  });
}

describe("data preview through the API", () => {
  it("says so at once when no worker is running", async () => {
    const { api } = await h.caller((await h.signUp("Early")).cookie);
    const err = await rejects(api.pipelines.preview({ definition: draft("status = 200") }));
    expect(err.code).toBe("PRECONDITION_FAILED");
    expect(err.message).toContain("no worker is running");
  });

  it("returns each node's records from a worker, and the draft's problems without one", async () => {
    const worker = testWorker("previewer");
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
      expect(broken.problems).toEqual(['Node keep: Unknown field "statsu" (line 1, column 1). Did you mean “status”?']);
    } finally {
      await worker.close();
    }
  });

  it("answers a preview stopped at the worker's time limit with a clear 4xx, and the web process stays free", async () => {
    const worker = testWorker("strict", { timeoutMs: 1000 });
    await worker.start();
    try {
      const { api } = await h.caller((await h.signUp("Burner")).cookie);
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 100);
      const started = Date.now();
      const err = await rejects(
        api.pipelines.preview({
          definition: computing("length(regexp_replace(repeat(country, 500000), '[A-Z]', 'x'))"),
          limit: 200,
        }),
      );
      clearInterval(ticker);
      const took = Date.now() - started;
      expect(err.code).toBe("UNPROCESSABLE_CONTENT");
      expect(err.message).toMatch(/^the preview took longer than 1 s and was stopped — .*try fewer records/);
      // Thread start and queueing included, on a busy machine: a safety bound, not a timing.
      expect(took).toBeLessThan(20_000);
      // The API evaluated nothing itself, and the worker (in this process too) never blocked it: the loop kept turning.
      expect(ticks).toBeGreaterThanOrEqual(Math.floor(took / 100 / 3));
    } finally {
      await worker.close();
    }
  });
});
