import { emptyDefinition, type PipelineDefinition } from "@sluice/pipeline/definition";
import { describe, expect, it } from "vitest";
import { diffVersions, isEmptyDiff } from "./version-diff";

function v2(): PipelineDefinition {
  const def = emptyDefinition("orders");
  def.spec.nodes.push(
    { id: "gen", type: "source.generator", config: { count: 100 }, ui: { x: 0, y: 0 } },
    { id: "keep", type: "transform.filter", config: { where: "status = 200" }, ui: { x: 200, y: 0 } },
    { id: "calc", type: "transform.map", config: { set: { total: "amount * 2", tax: "amount * 0.2" } } },
    { id: "out", type: "sink.console", config: {} },
  );
  def.spec.edges.push({ from: "gen", to: "keep" }, { from: "keep", to: "calc" }, { from: "calc", to: "out" });
  return def;
}

describe("diffVersions", () => {
  it("finds nothing between a version and itself, even with nodes moved", () => {
    const moved = v2();
    moved.spec.nodes[0]!.ui = { x: 500, y: 300 };
    expect(isEmptyDiff(diffVersions(v2(), moved))).toBe(true);
  });

  it("lists added and removed nodes and edges, changed config leaves by path, and settings", () => {
    const after = v2();
    after.spec.nodes = after.spec.nodes.filter((n) => n.id !== "out");
    after.spec.edges = after.spec.edges.filter((e) => e.to !== "out");
    after.spec.nodes.push({ id: "db", type: "sink.discard", config: {} });
    after.spec.edges.push({ from: "keep", to: "db", fromPort: "out" });
    after.spec.nodes[1]!.config = { where: "status = 500" };
    after.spec.nodes[2]!.config = { set: { total: "amount * 3", tax: "amount * 0.2" } };
    after.spec.settings.parallelism = 8;

    const d = diffVersions(v2(), after);
    expect(d.addedNodes).toEqual([{ id: "db", type: "sink.discard" }]);
    expect(d.removedNodes).toEqual([{ id: "out", type: "sink.console" }]);
    expect(d.addedEdges).toEqual(["keep → db"]);
    expect(d.removedEdges).toEqual(["calc → out"]);
    expect(d.changedNodes).toEqual([
      {
        id: "keep",
        type: "transform.filter",
        fields: [{ path: "where", before: "status = 200", after: "status = 500" }],
      },
      { id: "calc", type: "transform.map", fields: [{ path: "set.total", before: "amount * 2", after: "amount * 3" }] },
    ]);
    expect(d.settings).toEqual([{ path: "parallelism", before: v2().spec.settings.parallelism, after: 8 }]);
    expect(isEmptyDiff(d)).toBe(false);
  });

  it("notes a node whose type changed under the same id", () => {
    const after = v2();
    after.spec.nodes[3] = { id: "out", type: "sink.discard", config: {} };
    expect(diffVersions(v2(), after).changedNodes).toEqual([
      { id: "out", type: "sink.discard", typeBefore: "sink.console", fields: [] },
    ]);
  });
});
