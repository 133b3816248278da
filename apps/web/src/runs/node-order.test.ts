import { describe, expect, it } from "vitest";
import { pipelineOrder } from "./node-order";

const nodes = (...ids: string[]) => ids.map((id) => ({ id }));

describe("pipelineOrder", () => {
  it("puts every node after the nodes that feed it, whatever order they were written in", () => {
    const order = pipelineOrder({
      nodes: nodes("out", "keep", "gen"),
      edges: [
        { from: "keep", to: "out" },
        { from: "gen", to: "keep" },
      ],
    });
    expect(order).toEqual(["gen", "keep", "out"]);
  });

  it("breaks ties by the order in the definition, not by when a node became free", () => {
    // a → c, b → d: Kahn's queue would give a, b, c, d; the definition lists d before c.
    const order = pipelineOrder({
      nodes: nodes("a", "b", "d", "c"),
      edges: [
        { from: "a", to: "c" },
        { from: "b", to: "d" },
      ],
    });
    expect(order).toEqual(["a", "b", "d", "c"]);
  });

  it("lists a node nothing reaches, and a join after both of its inputs", () => {
    const order = pipelineOrder({
      nodes: nodes("join", "left", "idle", "right", "sink"),
      edges: [
        { from: "left", to: "join" },
        { from: "right", to: "join" },
        { from: "join", to: "sink" },
      ],
    });
    expect(order).toEqual(["left", "idle", "right", "join", "sink"]);
  });

  it("keeps nodes on a cycle, in definition order, and ignores edges to unknown nodes", () => {
    const order = pipelineOrder({
      nodes: nodes("src", "x", "y"),
      edges: [
        { from: "x", to: "y" },
        { from: "y", to: "x" },
        { from: "src", to: "gone" },
      ],
    });
    expect(order).toEqual(["src", "x", "y"]);
  });
});
