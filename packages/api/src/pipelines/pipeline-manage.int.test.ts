import { emptyDefinition } from "@sluice/pipeline/definition";
import { type ApiHarness, createApiHarness, rejects } from "@sluice/test-kit/api-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyName } from "./pipeline-service";

// The pipelines page's procedures beyond create/get/save: version history, rename and duplicate.

let h: ApiHarness;
beforeAll(async () => {
  h = await createApiHarness("pipeline-manage");
});
afterAll(async () => {
  await h?.close();
});

function withSource(name: string, rate = 10) {
  const def = emptyDefinition(name);
  def.spec.nodes.push({ id: "gen", type: "source.generator", config: { rate }, ui: { x: 10, y: 20 } });
  return def;
}

describe("pipelines.versions", () => {
  it("lists versions newest first with message, author and run count, without definitions", async () => {
    const { api } = await h.caller((await h.signUp("Historian")).cookie);
    const { id } = await api.pipelines.create({ name: "history" });
    await api.pipelines.saveVersion({ id, baseVersion: 1, definition: withSource("history"), message: "add a source" });
    await api.pipelines.saveVersion({ id, baseVersion: 2, definition: withSource("history", 20), message: "" });
    const versions = await api.pipelines.versions({ id });
    expect(versions.map((v) => [v.number, v.message, v.author, v.runs])).toEqual([
      [3, "", "Historian", 0],
      [2, "add a source", "Historian", 0],
      [1, "Created", "Historian", 0],
    ]);
    expect(versions[0]).not.toHaveProperty("definition");
    expect(versions[0]!.createdAt.getTime()).toBeGreaterThanOrEqual(versions[2]!.createdAt.getTime());
    expect((await api.pipelines.versions({ id, limit: 1 })).map((v) => v.number)).toEqual([3]);
  });

  it("shows no other workspace's history", async () => {
    const a = await h.caller((await h.signUp("Ann")).cookie);
    const b = await h.caller((await h.signUp("Ben")).cookie);
    const { id } = await a.api.pipelines.create({ name: "private history" });
    expect((await rejects(b.api.pipelines.versions({ id }))).code).toBe("NOT_FOUND");
  });
});

describe("pipelines.rename", () => {
  it("renames without a new version, and refuses a name already taken", async () => {
    const { api } = await h.caller((await h.signUp("Namer")).cookie);
    const { id } = await api.pipelines.create({ name: "old name" });
    await api.pipelines.create({ name: "taken" });
    expect(await api.pipelines.rename({ id, name: "  new name " })).toEqual({ id, name: "new name" });
    const got = await api.pipelines.get({ id });
    expect(got.name).toBe("new name");
    expect(got.latestVersion).toBe(1);
    const taken = await rejects(api.pipelines.rename({ id, name: "taken" }));
    expect(taken.code).toBe("CONFLICT");
    expect(taken.message).toBe('name: a pipeline called "taken" already exists');
    expect((await rejects(api.pipelines.rename({ id, name: " " }))).code).toBe("BAD_REQUEST");
    expect((await api.pipelines.get({ id })).name).toBe("new name");
  });

  it("changes the description only when given", async () => {
    const { api } = await h.caller((await h.signUp("Describer")).cookie);
    const { id } = await api.pipelines.create({ name: "described", description: "first" });
    await api.pipelines.rename({ id, name: "described 2" });
    expect((await api.pipelines.get({ id })).description).toBe("first");
    await api.pipelines.rename({ id, name: "described 2", description: "second" });
    expect((await api.pipelines.get({ id })).description).toBe("second");
  });

  it("is for editors of the pipeline's own workspace", async () => {
    const owner = await h.caller((await h.signUp("Owner")).cookie);
    const other = await h.caller((await h.signUp("Other")).cookie);
    const { id } = await owner.api.pipelines.create({ name: "mine" });
    expect((await rejects(other.api.pipelines.rename({ id, name: "theirs" }))).code).toBe("NOT_FOUND");
    expect((await owner.api.pipelines.get({ id })).name).toBe("mine");
  });
});

describe("pipelines.duplicate", () => {
  it('copies the latest version into "<name> (copy)", then "(copy 2)"', async () => {
    const { api } = await h.caller((await h.signUp("Copier")).cookie);
    const { id } = await api.pipelines.create({ name: "Clicks", description: "counts clicks" });
    await api.pipelines.saveVersion({ id, baseVersion: 1, definition: withSource("clicks", 42), message: "v2" });

    const first = await api.pipelines.duplicate({ id });
    expect(first.name).toBe("Clicks (copy)");
    const copy = await api.pipelines.get({ id: first.id });
    expect(copy.latestVersion).toBe(1);
    expect(copy.description).toBe("counts clicks");
    expect(copy.version.message).toBe('Duplicated from "Clicks" v2');
    expect(copy.version.definition.spec.nodes).toEqual([
      { id: "gen", type: "source.generator", config: { rate: 42 }, ui: { x: 10, y: 20 } },
    ]);
    expect(copy.version.definition.metadata.name).toBe("clicks-copy");

    const second = await api.pipelines.duplicate({ id });
    expect(second.name).toBe("Clicks (copy 2)");
    // The original is untouched.
    const original = await api.pipelines.get({ id });
    expect(original.latestVersion).toBe(2);
    expect(original.version.definition.metadata.name).toBe("clicks");
  });

  it("saves the editor's draft as a copy, each copy under a name of its own, leaving the original as saved", async () => {
    const { api } = await h.caller((await h.signUp("Draftcopier")).cookie);
    const { id } = await api.pipelines.create({ name: "Orders" });
    const draft = withSource("orders", 7);

    const first = await api.pipelines.duplicate({ id, definition: draft });
    const second = await api.pipelines.duplicate({ id, definition: draft });
    expect([first.name, second.name]).toEqual(["Orders (copy)", "Orders (copy 2)"]);
    expect(first.id).not.toBe(second.id);
    for (const made of [first, second]) {
      const copy = await api.pipelines.get({ id: made.id });
      expect(copy.name).toBe(made.name);
      expect(copy.version.definition.spec.nodes).toEqual(draft.spec.nodes);
      expect(copy.version.message).toBe('Saved as a copy of "Orders" (edited from v1)');
    }
    expect((await api.pipelines.get({ id })).version.definition.spec.nodes).toEqual([]);
  });

  it("takes a given name, and refuses it when taken", async () => {
    const { api } = await h.caller((await h.signUp("Namedcopier")).cookie);
    const { id } = await api.pipelines.create({ name: "source pipeline" });
    const named = await api.pipelines.duplicate({ id, name: "my copy" });
    expect((await api.pipelines.get({ id: named.id })).name).toBe("my copy");
    const taken = await rejects(api.pipelines.duplicate({ id, name: "my copy" }));
    expect(taken.code).toBe("CONFLICT");
    expect(await api.pipelines.list({ search: "my copy" })).toHaveLength(1);
  });

  it("cannot copy another workspace's pipeline", async () => {
    const a = await h.caller((await h.signUp("Alma")).cookie);
    const b = await h.caller((await h.signUp("Bert")).cookie);
    const { id } = await a.api.pipelines.create({ name: "not yours" });
    expect((await rejects(b.api.pipelines.duplicate({ id }))).code).toBe("NOT_FOUND");
    expect(await b.api.pipelines.list()).toEqual([]);
  });
});

describe("copyName", () => {
  it("keeps the whole within 100 characters", () => {
    expect(copyName("a", 1)).toBe("a (copy)");
    expect(copyName("a", 3)).toBe("a (copy 3)");
    const long = copyName("x".repeat(100), 12);
    expect(long).toHaveLength(100);
    expect(long.endsWith(" (copy 12)")).toBe(true);
  });
});

describe("pipelines.byName", () => {
  it("finds a pipeline by its name, or by its latest version's metadata name after a rename, in this workspace only", async () => {
    const a = await h.caller((await h.signUp("Finder")).cookie);
    const b = await h.caller((await h.signUp("Other")).cookie);
    const { id } = await a.api.pipelines.create({
      name: "orders",
      definition: withSource("orders"),
      message: "from git",
    });
    expect((await a.api.pipelines.versions({ id })).map((v) => v.message)).toEqual(["from git"]);
    expect((await a.api.pipelines.byName({ name: "orders" }))?.id).toBe(id);

    await a.api.pipelines.rename({ id, name: "Orders (EU)" });
    expect((await a.api.pipelines.byName({ name: "orders" }))?.id).toBe(id);
    expect((await a.api.pipelines.byName({ name: "Orders (EU)" }))?.version.number).toBe(1);
    // Only the latest version counts: once it names itself otherwise, the old metadata name finds nothing.
    await a.api.pipelines.saveVersion({ id, baseVersion: 1, definition: withSource("orders-eu") });
    expect(await a.api.pipelines.byName({ name: "orders" })).toBeNull();
    expect(await b.api.pipelines.byName({ name: "orders-eu" })).toBeNull();

    await a.api.pipelines.create({ name: "Copy one", definition: withSource("twin") });
    await a.api.pipelines.create({ name: "Copy two", definition: withSource("twin") });
    const ambiguous = await rejects(a.api.pipelines.byName({ name: "twin" }));
    expect(ambiguous.code).toBe("CONFLICT");
    expect(ambiguous.message).toBe(
      'name: 2 pipelines have "twin" as their metadata name; rename one so the name says which',
    );
  });
});
