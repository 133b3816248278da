import { emptyDefinition, type PipelineDefinition } from "@sluice/pipeline/definition";
import { describe, expect, it } from "vitest";
import { diffDefinitions, diffValues, formatValue, hasSemanticChanges } from "./definition-diff";

function pipeline(build: (def: PipelineDefinition) => void): PipelineDefinition {
  const def = emptyDefinition("diff");
  build(def);
  return def;
}

const base = pipeline((d) => {
  d.spec.nodes.push(
    { id: "gen", type: "source.generator", config: { rate: 10 }, ui: { x: 0, y: 0 } },
    { id: "keep", type: "transform.filter", config: { where: "status = 200" }, ui: { x: 300, y: 0 } },
    { id: "out", type: "sink.console", config: {}, ui: { x: 600, y: 0 } },
  );
  d.spec.edges.push({ from: "gen", to: "keep" }, { from: "keep", to: "out" });
});

describe("diffValues", () => {
  it("reports leaf paths with before and after", () => {
    expect(
      diffValues(
        { where: "a", aggregates: { hits: "count(*)", sum: "sum(x)" }, key: [{ name: "k", expr: "a" }] },
        { where: "b", aggregates: { hits: "count(*)", avg: "avg(x)" }, key: [{ name: "k", expr: "lower(a)" }] },
        "config",
      ),
    ).toEqual([
      { path: "config.where", kind: "changed", before: "a", after: "b" },
      { path: "config.aggregates.sum", kind: "removed", before: "sum(x)", after: undefined },
      { path: "config.aggregates.avg", kind: "added", before: undefined, after: "avg(x)" },
      { path: "config.key[0].expr", kind: "changed", before: "a", after: "lower(a)" },
    ]);
  });

  it("treats arrays of another length as one change, and quotes odd keys", () => {
    expect(diffValues({ key: ["a"] }, { key: ["a", "b"] }, "config")).toEqual([
      { path: "config.key", kind: "changed", before: ["a"], after: ["a", "b"] },
    ]);
    expect(diffValues({ "a b": 1 }, { "a b": 2 }, "config")[0]?.path).toBe('config."a b"');
  });

  it("sees no change in equal values whatever their key order", () => {
    expect(diffValues({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 })).toEqual([]);
  });
});

describe("diffDefinitions", () => {
  it("finds added, removed, changed and moved nodes and edges", () => {
    const next = pipeline((d) => {
      d.spec.nodes.push(
        { id: "gen", type: "source.generator", config: { rate: 10 }, ui: { x: 40, y: 80 } },
        { id: "keep", type: "transform.filter", config: { where: "status = 404" }, ui: { x: 300, y: 0 } },
        { id: "win", type: "transform.window", config: {}, ui: { x: 600, y: 0 } },
      );
      d.spec.edges.push({ from: "gen", to: "keep" }, { from: "keep", to: "win" });
      d.spec.settings.parallelism = 8;
    });
    const diff = diffDefinitions(base, next);
    expect(diff.nodes.map((n) => [n.id, n.kind])).toEqual([
      ["gen", "moved"],
      ["keep", "changed"],
      ["win", "added"],
      ["out", "removed"],
    ]);
    expect(diff.nodes[1]?.changes).toEqual([
      { path: "config.where", kind: "changed", before: "status = 200", after: "status = 404" },
    ]);
    expect(diff.edges.map((e) => [e.key, e.kind])).toEqual([
      ["gen.out->keep.in", "unchanged"],
      ["keep.out->win.in", "added"],
      ["keep.out->out.in", "removed"],
    ]);
    expect(diff.pipeline).toEqual([{ path: "settings.parallelism", kind: "changed", before: 4, after: 8 }]);
    expect(diff.counts).toEqual({ added: 1, removed: 1, changed: 1, moved: 1, edgesAdded: 1, edgesRemoved: 1 });
    expect(hasSemanticChanges(diff)).toBe(true);
  });

  it("counts a type change and a note as changes, a move alone as none", () => {
    const moved = pipeline((d) => {
      d.spec.nodes.push(...base.spec.nodes.map((n) => ({ ...n, ui: { ...n.ui!, x: n.ui!.x + 5 } })));
      d.spec.edges.push(...base.spec.edges);
    });
    expect(hasSemanticChanges(diffDefinitions(base, moved))).toBe(false);

    const retyped = pipeline((d) => {
      d.spec.nodes.push(
        base.spec.nodes[0]!,
        { ...base.spec.nodes[1]!, ui: { x: 300, y: 0, note: "why" } },
        { ...base.spec.nodes[2]!, type: "sink.discard" },
      );
      d.spec.edges.push(...base.spec.edges);
    });
    const diff = diffDefinitions(base, retyped);
    expect(diff.nodes.find((n) => n.id === "keep")?.changes).toEqual([
      { path: "ui.note", kind: "added", before: undefined, after: "why" },
    ]);
    expect(diff.nodes.find((n) => n.id === "out")?.changes).toEqual([
      { path: "type", kind: "changed", before: "sink.console", after: "sink.discard" },
    ]);
  });

  it("finds nothing between a definition and itself", () => {
    const diff = diffDefinitions(base, structuredClone(base));
    expect(diff.nodes.every((n) => n.kind === "unchanged")).toBe(true);
    expect(hasSemanticChanges(diff)).toBe(false);
  });
});

describe("formatValue", () => {
  it("quotes strings, shows absence, and shortens long values", () => {
    expect(formatValue("a")).toBe('"a"');
    expect(formatValue(undefined)).toBe("—");
    expect(formatValue({ a: 1 })).toBe('{"a":1}');
    expect(formatValue("x".repeat(300), 10)).toHaveLength(10);
  });
});
