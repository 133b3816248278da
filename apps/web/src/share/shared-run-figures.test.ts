import type { NodeFigureView, RunFiguresView } from "@sluice/pipeline/control/node-figures";
import { describe, expect, it } from "vitest";
import { nodeFigureBadges, runBadges, runTotals } from "./shared-run-figures";

function figure(over: Partial<NodeFigureView> = {}): NodeFigureView {
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

function second(nodes: Record<string, NodeFigureView>): RunFiguresView {
  return { runId: "r1", sec: 1_700_000_000, nodes, edges: {} };
}

describe("nodeFigureBadges", () => {
  it("shows records in and out a second", () => {
    expect(nodeFigureBadges(figure({ inPerSec: 1200, outPerSec: 4.5 }))).toEqual(["1.2k/s in", "4.5/s out"]);
  });

  it("shows errors a second, or the errors so far once they stop", () => {
    expect(nodeFigureBadges(figure({ errPerSec: 3, totalErr: 10 }))).toContain("3/s errors");
    expect(nodeFigureBadges(figure({ totalErr: 10 }))).toContain("10 errors");
    expect(nodeFigureBadges(figure())).toHaveLength(2);
  });

  it("shows watermark lag and how far a source is behind where the node reports them", () => {
    expect(nodeFigureBadges(figure({ watermark: 1, watermarkLagMs: 45_000 }))).toContain("45 s lag");
    expect(nodeFigureBadges(figure({ offsetLag: 12_400, offsetLagUnit: "messages", inputLag: 3 }))).toContain(
      "12.4k msgs behind",
    );
    expect(nodeFigureBadges(figure({ inputLag: 30 }))).toContain("30 behind");
    expect(nodeFigureBadges(figure({ inputLag: 0 }))).toHaveLength(2);
  });
});

describe("runBadges and runTotals", () => {
  const counters = { src: { in: 0, out: 1500, errors: 0 }, sink: { in: 1500, out: 1500, errors: 2 } };

  it("use the newest second when there is one", () => {
    const view = second({ src: figure({ outPerSec: 10, totalOut: 2000 }) });
    expect(runBadges(view, counters)).toEqual({ src: ["0/s in", "10/s out"] });
    expect(runTotals(view, counters)).toEqual({ src: { in: 0, out: 2000, errors: 0 } });
  });

  it("fall back to the run's counters before the first second or after the run", () => {
    expect(runBadges(null, counters)).toEqual({
      src: ["0 in", "1.5k out"],
      sink: ["1.5k in", "1.5k out", "2 errors"],
    });
    expect(runTotals(null, counters)).toEqual(counters);
    expect(runBadges(null, null)).toEqual({});
    expect(runTotals(null, null)).toEqual({});
  });
});
