import type { NodeFigureView, RunFiguresView } from "@sluice/pipeline/control/node-figures";
import { describe, expect, it } from "vitest";
import { pipelineSecond, sparkline } from "./pipeline-figures";

function node(over: Partial<NodeFigureView>): NodeFigureView {
  return {
    inPerSec: 0,
    outPerSec: 0,
    errPerSec: 0,
    totalIn: 0,
    totalOut: 0,
    totalErr: 0,
    p50Ms: null,
    p99Ms: null,
    watermark: null,
    watermarkLagMs: null,
    stateKeys: null,
    inputLag: null,
    offsetLag: null,
    offsetLagUnit: null,
    ...over,
  };
}

const ends = { sourceIds: ["gen"], sinkIds: ["pg", "file"] };

function second(sec: number, genOut: number): RunFiguresView {
  return {
    runId: "r",
    sec,
    nodes: {
      gen: node({ outPerSec: genOut, inputLag: 40 }),
      win: node({ inPerSec: genOut, outPerSec: 3, watermarkLagMs: 2500 }),
      pg: node({ inPerSec: 3 }),
      file: node({ inPerSec: 2 }),
    },
    edges: { "gen->win": { perSec: genOut, backlog: 10, backpressured: false } },
  };
}

describe("pipeline tile figures", () => {
  it("counts records in at the sources and out at the sinks, with the worst lag and what waits", () => {
    expect(pipelineSecond(second(100, 900), ends)).toEqual({ inPerSec: 900, outPerSec: 5, lagMs: 2500, backlog: 50 });
  });

  it("says nothing of lag or backlog when no node does", () => {
    const quiet: RunFiguresView = { runId: "r", sec: 1, nodes: { gen: node({ outPerSec: 1 }) }, edges: {} };
    expect(pipelineSecond(quiet, ends)).toEqual({ inPerSec: 1, outPerSec: 0, lagMs: null, backlog: null });
  });

  it("draws a line for in and one for out, a point a second", () => {
    expect(sparkline([second(100, 10), second(101, 20)], ends)).toEqual([
      [100, 101],
      [10, 20],
      [5, 5],
    ]);
  });
});
