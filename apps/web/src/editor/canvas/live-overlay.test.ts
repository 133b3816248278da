import type { NodeFigureView, RunFiguresView } from "@sluice/pipeline/control/node-figures";
import { describe, expect, it } from "vitest";
import {
  edgeFlow,
  edgeWidth,
  type NodeTrack,
  nextOverlay,
  nodeCondition,
  offsetLagGrowing,
  overlayGraph,
  STALL_AFTER_S,
  trackNode,
} from "./live-overlay";

function figure(patch: Partial<NodeFigureView> = {}): NodeFigureView {
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
    ...patch,
  };
}

const ctx = { sec: 100, running: true, hasInput: true, upstreamBusy: true, lagAllowanceMs: 35_000 };

/** Feeds a node's figures second by second from `from`, returning its memory. */
function track(figures: readonly NodeFigureView[], from = 100): NodeTrack {
  let t: NodeTrack | undefined;
  figures.forEach((f, i) => {
    t = trackNode(t, f, from + i);
  });
  return t!;
}

describe("which nodes stand out", () => {
  it("calls a node stalled after 10 quiet seconds while upstream gives out records, and not a second sooner", () => {
    const busy = figure({ inPerSec: 5, outPerSec: 5 });
    const quiet = figure();
    const t = track([busy, ...Array<NodeFigureView>(STALL_AFTER_S).fill(quiet)]);
    expect(t.activeSec).toBe(100);
    expect(nodeCondition(quiet, t, { ...ctx, sec: 100 + STALL_AFTER_S - 1 })).toBeNull();
    expect(nodeCondition(quiet, t, { ...ctx, sec: 100 + STALL_AFTER_S })).toBe("stalled");
  });

  it("does not call stalled a source, a paused run, or a node whose upstream has nothing for it", () => {
    const quiet = figure();
    const t: NodeTrack = { activeSec: 50, errorSec: null, inputLags: [], offsetLags: [] };
    expect(nodeCondition(quiet, t, ctx)).toBe("stalled");
    expect(nodeCondition(quiet, t, { ...ctx, hasInput: false })).toBeNull(); // a finished bounded source
    expect(nodeCondition(quiet, t, { ...ctx, running: false })).toBeNull();
    expect(nodeCondition(quiet, t, { ...ctx, upstreamBusy: false })).toBeNull();
  });

  it("gives a node that just appeared its 10 seconds before it can stall", () => {
    const t = trackNode(undefined, figure(), 100);
    expect(nodeCondition(figure(), t, ctx)).toBeNull();
  });

  it("calls a node failing while it had errors in the last seconds, ahead of stalled", () => {
    const t = track([figure({ errPerSec: 2 }), figure(), figure()], 96);
    expect(t.errorSec).toBe(96);
    expect(nodeCondition(figure(), { ...t, activeSec: 50 }, ctx)).toBe("failing");
    expect(nodeCondition(figure(), t, { ...ctx, sec: 101 })).toBeNull();
  });

  it("calls a node lagging when its watermark trails by more than the allowance", () => {
    const t = track([figure({ inPerSec: 1 })]);
    expect(nodeCondition(figure({ watermarkLagMs: 35_000 }), t, ctx)).toBeNull();
    expect(nodeCondition(figure({ watermarkLagMs: 35_001 }), t, ctx)).toBe("lagging");
  });

  it("calls a node lagging when its input lag grows over the whole window, not when it wavers", () => {
    const growing = [10, 10, 20, 30, 40].map((inputLag) => figure({ inPerSec: 1, inputLag }));
    expect(nodeCondition(growing[4]!, track(growing), { ...ctx, sec: 104 })).toBe("lagging");
    const wavering = [10, 20, 15, 30, 40].map((inputLag) => figure({ inPerSec: 1, inputLag }));
    expect(nodeCondition(wavering[4]!, track(wavering), { ...ctx, sec: 104 })).toBeNull();
    const flat = [20, 20, 20, 20, 20].map((inputLag) => figure({ inPerSec: 1, inputLag }));
    expect(nodeCondition(flat[4]!, track(flat), { ...ctx, sec: 104 })).toBeNull();
    expect(nodeCondition(growing[3]!, track(growing.slice(0, 4)), { ...ctx, sec: 103 })).toBeNull();
  });

  it("calls a source lagging, and colours its offset lag, when it falls further behind its system all window", () => {
    const at = (offsetLag: number | null) => figure({ outPerSec: 1, offsetLag, offsetLagUnit: "messages" });
    const growing = [100, 100, 250, 400, 12_400].map(at);
    const t = track(growing);
    expect(t.offsetLags).toEqual([100, 100, 250, 400, 12_400]);
    expect(offsetLagGrowing(t)).toBe(true);
    expect(nodeCondition(growing[4]!, t, { ...ctx, hasInput: false, sec: 104 })).toBe("lagging");
    // Catching up, or seconds without a figure (kept out of the window), are not growth.
    const catching = track([400, 300, 350, 500, 600].map(at));
    expect(offsetLagGrowing(catching)).toBe(false);
    expect(nodeCondition(at(600), catching, { ...ctx, hasInput: false, sec: 104 })).toBeNull();
    const gaps = track([10, null, 20, null, 30, 40].map(at));
    expect(gaps.offsetLags).toEqual([10, 20, 30, 40]);
    expect(offsetLagGrowing(gaps)).toBe(false);
    expect(offsetLagGrowing(undefined)).toBe(false);
  });

  it("names the nodes of a second: upstream output or an incoming backlog makes a quiet node stalled", () => {
    const graph = overlayGraph(
      [
        { id: "gen.out->f.in", source: "gen", target: "f" },
        { id: "f.out->agg.in", source: "f", target: "agg" },
      ],
      5000,
    );
    expect(graph.lagAllowanceMs).toBe(35_000);
    const quietTracks: Record<string, NodeTrack> = {
      gen: { activeSec: 80, errorSec: null, inputLags: [], offsetLags: [] },
      f: { activeSec: 80, errorSec: null, inputLags: [], offsetLags: [] },
      agg: { activeSec: 80, errorSec: null, inputLags: [], offsetLags: [] },
    };
    const view: RunFiguresView = {
      runId: "r1",
      sec: 100,
      nodes: { gen: figure({ outPerSec: 50 }), f: figure(), agg: figure() },
      edges: { "f.out->agg.in": { perSec: 0, backlog: 120, backpressured: false } },
    };
    const { conditions, tracks } = nextOverlay(quietTracks, view, graph, true);
    expect(conditions).toEqual({ f: "stalled", agg: "stalled" });
    expect(tracks.gen?.activeSec).toBe(100);
    const drained = { ...view, edges: {} };
    expect(nextOverlay(quietTracks, drained, graph, true).conditions).toEqual({ f: "stalled" });
    expect(nextOverlay(quietTracks, view, graph, false).conditions).toEqual({});
  });
});

describe("edge drawing", () => {
  it("thickens the stroke one step per tenfold rate, bounded both ways", () => {
    expect(edgeWidth(0)).toBe(1.5);
    expect(edgeWidth(Number.NaN)).toBe(1.5);
    const w10 = edgeWidth(10);
    const w100 = edgeWidth(100);
    const w1000 = edgeWidth(1000);
    expect(w10).toBeGreaterThan(edgeWidth(1));
    expect(w100).toBeGreaterThan(w10);
    expect(w1000 - w100).toBeCloseTo(w100 - w10, 1);
    expect(edgeWidth(1e9)).toBe(7);
  });

  it("colours an edge by backpressure first, then by a backlog waiting", () => {
    expect(edgeFlow(undefined)).toBe("normal");
    expect(edgeFlow({ perSec: 10, backlog: 0, backpressured: false })).toBe("normal");
    expect(edgeFlow({ perSec: 10, backlog: null, backpressured: false })).toBe("normal");
    expect(edgeFlow({ perSec: 10, backlog: 40, backpressured: false })).toBe("waiting");
    expect(edgeFlow({ perSec: 10, backlog: 40, backpressured: true })).toBe("backpressured");
  });
});
