import { describe, expect, it } from "vitest";
import { emptyDefinition, type PipelineDefinition } from "./definition";
import { diffDefinitions, diffLines, isEmptyDiff } from "./definition-diff";

function clicks(): PipelineDefinition {
  const def = emptyDefinition("clicks");
  def.spec.nodes.push(
    { id: "src", type: "source.generator", config: { rate: 10, fields: { a: 1 } }, ui: { x: 0, y: 0 } },
    { id: "keep", type: "transform.filter", config: { where: "a > 1" } },
    { id: "out", type: "sink.console", config: {} },
  );
  def.spec.edges.push({ from: "src", to: "keep" }, { from: "keep", to: "out" });
  return def;
}

describe("diffDefinitions", () => {
  it("finds no change between a pipeline and itself, whatever the key order, ui blocks or defaults written", () => {
    const a = clicks();
    const b = structuredClone(a);
    b.spec.nodes[0] = {
      ui: { x: 500, y: 20, note: "moved" },
      config: { fields: { a: 1 }, rate: 10 },
      type: "source.generator",
      id: "src",
    };
    b.ui = { viewport: { zoom: 2 } };
    const sparse = JSON.parse(JSON.stringify(b)) as PipelineDefinition;
    (sparse.spec as Partial<PipelineDefinition["spec"]>).settings = undefined;
    (sparse.spec as Partial<PipelineDefinition["spec"]>).parameters = undefined;
    expect(isEmptyDiff(diffDefinitions(a, b))).toBe(true);
    expect(isEmptyDiff(diffDefinitions(a, sparse))).toBe(true);
  });

  it("names added, removed and changed nodes with the config keys that changed, and the edges", () => {
    const a = clicks();
    const b = structuredClone(a);
    b.spec.nodes = b.spec.nodes.filter((n) => n.id !== "keep");
    b.spec.nodes[0]!.config = { rate: 20, fields: { a: 1 } };
    b.spec.nodes.push({ id: "dedupe", type: "transform.dedupe", config: { key: ["a"] } });
    b.spec.edges = [
      { from: "src", to: "dedupe" },
      { from: "dedupe", to: "out" },
    ];
    b.spec.settings.parallelism = 8;
    b.metadata.description = "now deduped";
    const diff = diffDefinitions(a, b);
    expect(diff).toEqual({
      nodes: { added: ["dedupe"], removed: ["keep"], changed: [{ id: "src", keys: ["config.rate"] }] },
      edges: { added: ["src → dedupe", "dedupe → out"], removed: ["src → keep", "keep → out"] },
      settings: ["parallelism"],
      parameters: [],
      alerts: [],
      metadata: ["description"],
    });
    expect(isEmptyDiff(diff)).toBe(false);
    expect(diffLines(diff, a, b)).toEqual([
      "+ node dedupe (transform.dedupe)",
      "- node keep (transform.filter)",
      "~ node src: config.rate",
      "+ edge src → dedupe",
      "+ edge dedupe → out",
      "- edge src → keep",
      "- edge keep → out",
      "~ settings: parallelism",
      "~ metadata: description",
    ]);
  });

  it("sees a changed node type, a port on an edge, a parameter and a label", () => {
    const a = clicks();
    const b = structuredClone(a);
    b.spec.nodes[2]!.type = "sink.file";
    b.spec.edges[1] = { from: "keep", to: "out", fromPort: "rejected" };
    b.spec.parameters.push({ name: "topic", type: "string", default: "clicks" });
    b.metadata.labels = { team: "web" };
    const diff = diffDefinitions(a, b);
    expect(diff.nodes.changed).toEqual([{ id: "out", keys: ["type"] }]);
    expect(diff.edges).toEqual({ added: ["keep.rejected → out"], removed: ["keep → out"] });
    expect(diff.parameters).toEqual(["topic"]);
    expect(diff.metadata).toEqual(["labels"]);
  });
});
