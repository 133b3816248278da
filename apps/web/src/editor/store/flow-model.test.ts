import { describe, expect, it } from "vitest";
import { edgeKey, freeSpot, NODE_HEIGHT, NODE_WIDTH, type PipelineFlowNode } from "./flow-model";

const at = (id: string, x: number, y: number) => ({ id, position: { x, y } }) as PipelineFlowNode;

const overlaps = (a: { x: number; y: number }, nodes: readonly PipelineFlowNode[]) =>
  nodes.some((n) => Math.abs(n.position.x - a.x) < NODE_WIDTH && Math.abs(n.position.y - a.y) < NODE_HEIGHT);

describe("freeSpot", () => {
  it("keeps a position nothing overlaps", () => {
    expect(freeSpot({ x: 500, y: 40 }, [at("a", 0, 0)])).toEqual({ x: 500, y: 40 });
  });

  it("moves a node dropped onto another to the nearest free place, not far down", () => {
    const nodes = [at("a", 0, 0), at("b", 0, 132), at("c", 0, 264), at("d", 0, 396)];
    const spot = freeSpot({ x: 10, y: 140 }, nodes);
    expect(overlaps(spot, nodes)).toBe(false);
    // The old rule pushed it down past the whole column (to y 536 and beyond): now it stays near the pointer.
    expect(Math.hypot(spot.x - 10, spot.y - 140)).toBeLessThanOrEqual(NODE_WIDTH + 64);
  });

  it("prefers below to above when both are as near", () => {
    const spot = freeSpot({ x: 0, y: 0 }, [at("a", 0, 0)]);
    expect(spot.x).toBe(0);
    expect(spot.y).toBeGreaterThan(0);
  });
});

describe("edgeKey", () => {
  it("matches the definition module's, default ports filled in", async () => {
    const { edgeKey: original } = await import("@sluice/pipeline/definition");
    for (const e of [
      { from: "a", to: "b" },
      { from: "a", to: "b", fromPort: "out", toPort: "in" },
      { from: "a", to: "b", fromPort: "late", toPort: "left" },
    ]) {
      expect(edgeKey(e)).toBe(original(e));
    }
    expect(edgeKey({ from: "a", to: "b" })).toBe(edgeKey({ from: "a", to: "b", fromPort: "out", toPort: "in" }));
  });
});
