import { emptyDefinition } from "@sluice/pipeline/definition";
import { type ApiHarness, createApiHarness, rejects } from "@sluice/test-kit/api-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let h: ApiHarness;
beforeAll(async () => {
  h = await createApiHarness("pipelines");
});
afterAll(async () => {
  await h?.close();
});

function withSource(name: string) {
  const def = emptyDefinition(name);
  def.spec.nodes.push({ id: "gen", type: "source.generator", config: { rate: 10 }, ui: { x: 10, y: 20 } });
  return def;
}

describe("pipelines", () => {
  it("creates a pipeline with version 1 and lists it", async () => {
    const { cookie } = await h.signUp("Owner");
    const { api } = await h.caller(cookie);
    const { id } = await api.pipelines.create({ name: "Clicks per minute" });
    const got = await api.pipelines.get({ id });
    expect(got.latestVersion).toBe(1);
    expect(got.version.definition.metadata.name).toBe("clicks-per-minute");
    expect(got.version.definition.spec.nodes).toEqual([]);
    const list = await api.pipelines.list({ search: "clicks" });
    expect(list.map((p) => p.name)).toEqual(["Clicks per minute"]);
    expect(await api.pipelines.list({ search: "nothing like it" })).toEqual([]);
  });

  it("keeps every workspace's pipelines to itself", async () => {
    const a = await h.caller((await h.signUp("Alice")).cookie);
    const b = await h.caller((await h.signUp("Bob")).cookie);
    const { id } = await a.api.pipelines.create({ name: "secret" });
    expect((await rejects(b.api.pipelines.get({ id }))).code).toBe("NOT_FOUND");
    expect((await rejects(b.api.pipelines.saveVersion({ id, baseVersion: 1, definition: withSource("x") }))).code).toBe(
      "NOT_FOUND",
    );
    expect((await rejects(b.api.pipelines.delete({ id }))).code).toBe("NOT_FOUND");
    expect(await b.api.pipelines.list()).toEqual([]);
    expect((await a.api.pipelines.get({ id })).name).toBe("secret");
  });

  it("saves immutable versions and refuses a save based on a stale version", async () => {
    const { api } = await h.caller((await h.signUp("Editor")).cookie);
    const { id } = await api.pipelines.create({ name: "versions" });
    const first = await api.pipelines.saveVersion({
      id,
      baseVersion: 1,
      definition: withSource("versions"),
      message: "add a source",
    });
    expect(first.number).toBe(2);
    // A second editor still on version 1 must not overwrite version 2 silently.
    const stale = await rejects(
      api.pipelines.saveVersion({ id, baseVersion: 1, definition: emptyDefinition("versions") }),
    );
    expect(stale.code).toBe("CONFLICT");
    expect(stale.message).toContain("version 2 was saved after the version 1 you edited");
    const latest = await api.pipelines.get({ id });
    expect(latest.latestVersion).toBe(2);
    expect(latest.version.message).toBe("add a source");
    expect(latest.version.definition.spec.nodes[0]?.ui).toEqual({ x: 10, y: 20 });
    expect((await api.pipelines.get({ id, version: 1 })).version.definition.spec.nodes).toEqual([]);
    expect(await h.db.pipelineVersion.count({ where: { pipelineId: id } })).toBe(2);
  });

  it("rejects a malformed definition with its path and keeps the old version", async () => {
    const { api } = await h.caller((await h.signUp("Careless")).cookie);
    const { id } = await api.pipelines.create({ name: "strict" });
    const bad = { ...emptyDefinition("strict"), spec: { nodes: [{ id: "1 bad", type: "source.generator" }] } };
    const err = await rejects(api.pipelines.saveVersion({ id, baseVersion: 1, definition: bad as never }));
    expect(err.code).toBe("BAD_REQUEST");
    expect(err.message).toContain("definition.spec.nodes.0.id");
    expect((await api.pipelines.get({ id })).latestVersion).toBe(1);
  });

  it("refuses duplicate names in one workspace, and deletes with all versions", async () => {
    const { api } = await h.caller((await h.signUp("Tidy")).cookie);
    const { id } = await api.pipelines.create({ name: "unique" });
    expect((await rejects(api.pipelines.create({ name: "unique" }))).code).toBe("CONFLICT");
    await api.pipelines.delete({ id });
    expect(await h.db.pipelineVersion.count({ where: { pipelineId: id } })).toBe(0);
    expect((await rejects(api.pipelines.get({ id }))).code).toBe("NOT_FOUND");
  });

  it("lets viewers look but not change anything", async () => {
    const { cookie } = await h.signUp("Viewer");
    const me = await (await h.caller(cookie)).api.auth.me();
    await h.db.membership.updateMany({ where: { userId: me!.user.id }, data: { role: "VIEWER" } });
    const { api } = await h.caller(cookie);
    expect(await api.pipelines.list()).toEqual([]);
    expect((await rejects(api.pipelines.create({ name: "nope" }))).code).toBe("FORBIDDEN");
  });
});
