import { NODE_ID_RE } from "@sluice/pipeline/definition";
import { describe, expect, it } from "vitest";
import { CLIPBOARD_KIND, type ClipboardPayload, parseClipboard, planPaste } from "./clipboard";

const payload: ClipboardPayload = {
  kind: CLIPBOARD_KIND,
  nodes: [
    { id: "filter1", type: "transform.filter", config: { where: "status = 200" }, ui: { x: 100, y: 50 } },
    { id: "console1", type: "sink.console", config: {}, ui: { x: 400, y: 50 } },
  ],
  edges: [{ from: "filter1", to: "console1" }],
};

describe("planPaste", () => {
  it("renames taken ids, keeps the edges between the pasted nodes, and puts the group's corner at the point", () => {
    const plan = planPaste(payload, new Set(["filter1"]), new Set(), NODE_ID_RE, { x: 0, y: 0 });
    expect(plan.nodes.map((n) => [n.id, n.ui?.x, n.ui?.y])).toEqual([
      ["filter2", 0, 0],
      ["console1", 300, 0],
    ]);
    expect(plan.edges).toEqual([{ from: "filter2", to: "console1" }]);
    expect(plan.renamed).toEqual(new Map([["filter1", "filter2"]]));
    expect(plan.nodes[0]?.config).toEqual({ where: "status = 200" });
  });

  it("moves a paste that would lie exactly over nodes already there down and right until it is clear", () => {
    const taken = new Set(["filter1", "console1"]);
    // Pasted once at (0, 0) already, and once more 40 px on: a third paste at the same point goes 80 px on.
    const occupied = [
      { x: 0, y: 0 },
      { x: 300, y: 0 },
      { x: 40, y: 40 },
      { x: 340, y: 40 },
    ];
    const plan = planPaste(payload, taken, new Set(), NODE_ID_RE, { x: 0, y: 0 }, occupied);
    expect(plan.nodes.map((n) => [n.ui?.x, n.ui?.y])).toEqual([
      [80, 80],
      [380, 80],
    ]);
  });

  it("leaves a paste where it was asked for when nothing is exactly under it", () => {
    const plan = planPaste(payload, new Set(), new Set(), NODE_ID_RE, { x: 0, y: 0 }, [{ x: 120, y: 30 }]);
    expect(plan.nodes.map((n) => [n.ui?.x, n.ui?.y])).toEqual([
      [0, 0],
      [300, 0],
    ]);
  });
});

describe("parseClipboard", () => {
  it("reads back what a copy wrote, and ignores text that is not a Sluice selection", () => {
    expect(parseClipboard(JSON.stringify(payload))).toEqual(payload);
    expect(parseClipboard("status = 200")).toBeNull();
    expect(parseClipboard(`{"kind": "${CLIPBOARD_KIND}", "nodes": "no"}`)).toBeNull();
  });
});
