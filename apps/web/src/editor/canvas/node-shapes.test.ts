import type { PipelineDefinition } from "@sluice/pipeline/definition";
import { type InternalNode, Position } from "@xyflow/react";
import { describe, expect, it } from "vitest";
import { runtime } from "../editor-runtime";
import { createEditorStore } from "../store/editor-store";
import type { EditorFlowNode } from "../store/flow-model";
import { shapeLike } from "./node-shapes";

/** A node as React Flow holds it once measured: `inputs` and `outputs` handles spread down its left and right side. */
function measured(
  id: string,
  type: string,
  inputs: number,
  outputs: number,
  height = 90,
): InternalNode<EditorFlowNode> {
  const side = (kind: "target" | "source", count: number) =>
    Array.from({ length: count }, (_, i) => ({
      id: `${kind}${i}`,
      nodeId: id,
      type: kind,
      position: kind === "target" ? Position.Left : Position.Right,
      x: kind === "target" ? -6 : 218,
      y: ((i + 1) / (count + 1)) * height - 6,
      width: 12,
      height: 12,
    }));
  const user = { id, type: "pipeline" as const, position: { x: 0, y: 0 }, data: { type, config: {}, ui: {} } };
  return {
    ...user,
    measured: { width: 224, height },
    internals: {
      positionAbsolute: { x: 0, y: 0 },
      z: 0,
      userNode: user,
      handleBounds: { target: side("target", inputs), source: side("source", outputs) },
    },
  };
}

describe("shapeLike", () => {
  it("takes the size and handle positions of a node with as many ports, preferring one of the same type", () => {
    const nodes = [
      measured("join1", "transform.join", 2, 1, 120),
      measured("map1", "transform.map", 1, 1, 90),
      measured("filter1", "transform.filter", 1, 1, 94),
    ];
    const shape = shapeLike(nodes, "transform.filter", ["in"], ["out"]);
    expect(shape?.measured).toEqual({ width: 224, height: 94 });
    expect(shape?.handles).toEqual([
      { id: "in", type: "target", position: Position.Left, x: -6, y: 41, width: 12, height: 12 },
      { id: "out", type: "source", position: Position.Right, x: 218, y: 41, width: 12, height: 12 },
    ]);
    // No filter yet: any node with one input and one output will do.
    expect(shapeLike(nodes.slice(0, 2), "transform.filter", ["in"], ["out"])?.measured.height).toBe(90);
  });

  it("renames the handles to the new node's ports in order", () => {
    const shape = shapeLike(
      [measured("join1", "transform.join", 2, 1, 120)],
      "transform.join",
      ["left", "right"],
      ["out"],
    );
    expect(shape?.handles.map((h) => [h.id, h.type, h.y])).toEqual([
      ["left", "target", 34],
      ["right", "target", 74],
      ["out", "source", 54],
    ]);
  });

  it("has no shape when no measured node has that many ports", () => {
    const unmeasured = { ...measured("map1", "transform.map", 1, 1), measured: {} };
    expect(shapeLike([measured("join1", "transform.join", 2, 1)], "transform.map", ["in"], ["out"])).toBeNull();
    expect(shapeLike([unmeasured], "transform.map", ["in"], ["out"])).toBeNull();
  });
});

const definition: PipelineDefinition = {
  apiVersion: "sluice/v1",
  kind: "Pipeline",
  metadata: { name: "shapes" },
  spec: {
    settings: { parallelism: 1, delivery: "exactly-once", batchSize: 100 },
    parameters: [],
    nodes: [
      { id: "gen", type: "source.generator", config: { rate: 10 }, ui: { x: 0, y: 0 } },
      { id: "filter1", type: "transform.filter", config: { where: "true" }, ui: { x: 300, y: 0 } },
    ],
    edges: [{ from: "gen", to: "filter1" }],
  },
};

function editor() {
  const store = createEditorStore(runtime, { id: "p1", name: "shapes", version: { number: 1, definition } });
  const asked: string[] = [];
  store.getState().setNodeShapes((type, inputs, outputs) => {
    asked.push(`${type}:${inputs.join(",")}/${outputs.join(",")}`);
    return {
      measured: { width: 224, height: 90 },
      handles: [
        ...inputs.map((id) => ({ id, type: "target" as const, position: Position.Left, x: -6, y: 39 })),
        ...outputs.map((id) => ({ id, type: "source" as const, position: Position.Right, x: 218, y: 39 })),
      ],
    };
  });
  const node = (id: string) => store.getState().nodes.find((n) => n.id === id);
  return { store, asked, node };
}

describe("nodes added with a shape", () => {
  it("carry the shape for the ports the new node has, so its edge can be drawn at once", () => {
    const { store, asked, node } = editor();
    const id = store.getState().addNode("transform.filter", { x: 600, y: 0 }, { connectFrom: "filter1" });
    expect(asked).toEqual(["transform.filter:in/out"]);
    expect(node(id!)?.measured).toEqual({ width: 224, height: 90 });
    expect(node(id!)?.handles?.map((h) => h.id)).toEqual(["in", "out"]);
    expect(store.getState().edges.map((e) => e.id)).toContain(`filter1.out->${id}.in`);
  });

  it("lose their handles with the next update of the nodes, so React Flow measures later versions itself", () => {
    const { store, node } = editor();
    const id = store.getState().addNode("transform.filter", { x: 600, y: 0 })!;
    // An update that does not touch the nodes keeps them as they are.
    store.getState().showNotice("hello");
    expect(node(id)?.handles).toBeDefined();
    store.getState().setConfigValue(id, "where", "amount > 10");
    expect(node(id)?.handles).toBeUndefined();
    expect(node(id)?.measured).toEqual({ width: 224, height: 90 });
    expect(node(id)?.data.config).toEqual({ where: "amount > 10" });
  });

  it("come back from undo and redo without handles", () => {
    const { store, node } = editor();
    const id = store.getState().addNode("transform.filter", { x: 600, y: 0 })!;
    store.getState().setConfigValue(id, "where", "amount > 10");
    store.getState().undo();
    expect(node(id)?.data.config).not.toEqual({ where: "amount > 10" });
    expect(node(id)?.handles).toBeUndefined();
    store.getState().undo();
    expect(node(id)).toBeUndefined();
    store.getState().redo();
    expect(node(id)).toBeDefined();
    expect(node(id)?.handles).toBeUndefined();
  });

  it("include pasted nodes, and nothing is shaped once the canvas is gone", () => {
    const { store, asked, node } = editor();
    expect(store.getState().copySelection()).toBeNull();
    store.getState().selectAll();
    const count = store.getState().paste(store.getState().copySelection()!, { x: 0, y: 400 });
    expect(count).toBe(2);
    expect(asked).toEqual(["source.generator:/out", "transform.filter:in/out"]);
    const pasted = store.getState().nodes.filter((n) => n.selected);
    expect(pasted.map((n) => n.handles?.length)).toEqual([1, 2]);
    store.getState().setNodeShapes(null);
    const id = store.getState().addNode("transform.map", { x: 900, y: 0 })!;
    expect(node(id)?.measured).toBeUndefined();
    expect(node(id)?.handles).toBeUndefined();
  });
});
