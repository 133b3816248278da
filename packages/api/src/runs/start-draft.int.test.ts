import { emptyDefinition, type PipelineDefinition } from "@sluice/pipeline/definition";
import { type ApiHarness, createApiHarness, rejects } from "@sluice/test-kit/api-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let h: ApiHarness;
beforeAll(async () => {
  h = await createApiHarness("start-draft");
});
afterAll(async () => {
  await h?.close();
});

function slice(where = "status = 200"): PipelineDefinition {
  const def = emptyDefinition("draft-slice");
  def.spec.nodes.push(
    { id: "gen", type: "source.generator", config: { rate: 10 } },
    { id: "keep", type: "transform.filter", config: { where } },
    { id: "out", type: "sink.console", config: {} },
  );
  def.spec.edges.push({ from: "gen", to: "keep" }, { from: "keep", to: "out" });
  return def;
}

async function pipelineWith(def: PipelineDefinition) {
  const { cookie } = await h.signUp("Drafter");
  const { api } = await h.caller(cookie);
  const { id } = await api.pipelines.create({ name: `p-${Math.random()}`, definition: def });
  return { api, id };
}

const versionCount = (pipelineId: string) => h.db.pipelineVersion.count({ where: { pipelineId } });

describe("starting the editor's draft", () => {
  it("refuses a draft with errors, naming node and field, and saves no version and records no run", async () => {
    const { api, id } = await pipelineWith(slice());
    const broken = slice("statsu = 200");
    broken.spec.nodes.push({ id: "loose", type: "sink.console", config: {} });
    const err = await rejects(
      api.runs.start({ pipelineId: id, draft: { baseVersion: 1, definition: broken, message: "try" } }),
    );
    expect(err.code).toBe("BAD_REQUEST");
    expect(err.message).toMatch(/^The draft has \d+ problems? to fix before it can start: /);
    expect(err.message).toContain("node keep config.where");
    expect(err.message).toContain("node loose");
    expect(err.message).toContain('did you mean "status"');
    expect(await versionCount(id)).toBe(1);
    expect((await h.db.pipeline.findUniqueOrThrow({ where: { id } })).latestVersion).toBe(1);
    expect(await h.db.run.count({ where: { pipelineId: id } })).toBe(0);
  });

  it("refuses a draft whose node names a connection the workspace lacks, saving nothing", async () => {
    const { api, id } = await pipelineWith(slice());
    const def = slice();
    def.spec.nodes.push({ id: "db", type: "sink.postgres", config: { connection: "nowhere", table: "t" } });
    def.spec.edges.push({ from: "keep", to: "db" });
    const err = await rejects(api.runs.start({ pipelineId: id, draft: { baseVersion: 1, definition: def } }));
    expect(err.code).toBe("BAD_REQUEST");
    expect(err.message).toContain("node db");
    expect(await versionCount(id)).toBe(1);
  });

  it("saves a valid draft as the next version and runs that version", async () => {
    const { api, id } = await pipelineWith(slice());
    const def = slice("status = 404");
    const started = await api.runs.start({
      pipelineId: id,
      draft: { baseVersion: 1, definition: def, message: "404s" },
    });
    expect(started.version).toBe(2);
    const saved = await h.db.pipelineVersion.findUniqueOrThrow({
      where: { pipelineId_number: { pipelineId: id, number: 2 } },
    });
    expect(saved.message).toBe("404s");
    expect((await api.runs.get({ runId: started.id })).version).toBe(2);
    const job = await h.deps.controlQueue.getJob(`start-${started.id}`);
    expect(job?.data.definition.spec.nodes.find((n: { id: string }) => n.id === "keep")?.config).toEqual({
      where: "status = 404",
    });
  });

  it("refuses a draft for a pipeline that is running without saving it", async () => {
    const { api, id } = await pipelineWith(slice());
    await api.runs.start({ pipelineId: id });
    const err = await rejects(api.runs.start({ pipelineId: id, draft: { baseVersion: 1, definition: slice() } }));
    expect(err.code).toBe("CONFLICT");
    expect(await versionCount(id)).toBe(1);
  });

  it("refuses a stale draft as a conflict and a version together with a draft as bad input", async () => {
    const { api, id } = await pipelineWith(slice());
    await api.pipelines.saveVersion({ id, baseVersion: 1, definition: slice("status = 500") });
    const stale = await rejects(api.runs.start({ pipelineId: id, draft: { baseVersion: 1, definition: slice() } }));
    expect(stale.code).toBe("CONFLICT");
    const both = await rejects(
      api.runs.start({ pipelineId: id, version: 1, draft: { baseVersion: 2, definition: slice() } }),
    );
    expect(both.code).toBe("BAD_REQUEST");
    expect(await versionCount(id)).toBe(2);
    expect(await h.db.run.count({ where: { pipelineId: id } })).toBe(0);
  });
});
