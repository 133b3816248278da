import type { HistoryView } from "@sluice/api/history/history-router.types";
import { describe, expect, it } from "vitest";
import {
  alignLines,
  appendLive,
  bucketAt,
  edgeLines,
  momentFigures,
  nodeLines,
  parseAt,
  pointCount,
  rangeEndingNow,
  scrubWindow,
  sinceStart,
} from "./chart-data";

const view: HistoryView = {
  resolution: 10,
  from: 0,
  to: 60_000,
  nodes: {
    gen: {
      t: [10_000, 20_000, 40_000],
      inPerSec: [0, 0, 0],
      outPerSec: [5, 6, 7],
      errPerSec: [0, 1, 0],
      p50Ms: [1, null, 3],
      p99Ms: [2, null, 9],
      watermarkLagMs: [null, null, null],
      stateKeys: [null, null, null],
      inputLag: [null, null, null],
      offsetLag: [1200, null, 0],
    },
  },
  edges: {
    "gen->sink": { t: [20_000, 30_000], perSec: [4, 4], backlog: [10, 12], backpressuredSeconds: [0, 2] },
    "a->b": { t: [10_000], perSec: [1], backlog: [3], backpressuredSeconds: [0] },
  },
  offsetLagUnits: { gen: "entries" },
};

describe("history series as uPlot columns", () => {
  it("puts a node's metrics on its bucket times, in seconds", () => {
    const data = alignLines(nodeLines(view, "gen", ["outPerSec", "p99Ms"]));
    expect(data).toEqual([
      [10, 20, 40],
      [5, 6, 7],
      [2, null, 9],
    ]);
    expect(pointCount(data)).toBe(5);
  });

  it("gives empty lines for a node without figures", () => {
    const lines = nodeLines(view, "missing", ["outPerSec"]);
    expect(lines).toEqual([{ label: "outPerSec", t: [], values: [] }]);
    expect(alignLines(lines)).toEqual([[], []]);
    expect(pointCount(alignLines(lines))).toBe(0);
  });

  it("aligns edges with different times on their union, null where an edge has no bucket", () => {
    const lines = edgeLines(view, "backlog");
    expect(lines.map((l) => l.label)).toEqual(["a->b", "gen->sink"]);
    expect(alignLines(lines)).toEqual([
      [10, 20, 30],
      [3, null, null],
      [null, 10, 12],
    ]);
  });

  it("aligns two runs by time since each one's start", () => {
    const a = { label: "out", t: [100_000, 110_000], values: [1, 2] };
    const b = { label: "out", t: [500_000, 510_000, 520_000], values: [3, 4, 5] };
    const data = alignLines([sinceStart(a, 95_000, "this run"), sinceStart(b, 505_000, "other run")]);
    expect(data).toEqual([
      [-5, 5, 15],
      [null, 1, 2],
      [3, 4, 5],
    ]);
  });

  it("appends live seconds only after the history's last bucket", () => {
    const line = { label: "out", t: [10_000, 20_000], values: [1, 2] };
    const live = [
      { t: 25_000, value: 9 }, // inside the last 10 s bucket: already counted
      { t: 30_000, value: 3 },
      { t: 31_000, value: null },
    ];
    expect(appendLive(line, live, 10_000)).toEqual({
      label: "out",
      t: [10_000, 20_000, 30_000, 31_000],
      values: [1, 2, 3, null],
    });
    expect(appendLive(line, [{ t: 29_000, value: 1 }], 10_000)).toBe(line);
    expect(appendLive({ label: "x", t: [], values: [] }, [{ t: 5_000, value: 1 }], 10_000).t).toEqual([5_000]);
  });
});

describe("ranges", () => {
  it("ends a range at the next whole second", () => {
    expect(rangeEndingNow("live", 1_000_500)).toEqual({ from: 1_001_000 - 900_000, to: 1_001_000 });
    expect(rangeEndingNow("7d", 10_000_000_000).from).toBe(10_000_000_000 - 7 * 86_400_000);
  });

  it("reads ?at= as epoch milliseconds or an ISO time, and nothing else", () => {
    expect(parseAt("1765000000000")).toBe(1_765_000_000_000);
    expect(parseAt("2026-12-07T14:03:10Z")).toBe(Date.UTC(2026, 11, 7, 14, 3, 10));
    expect(parseAt("yesterday")).toBeNull();
    expect(parseAt("")).toBeNull();
    expect(parseAt(null)).toBeNull();
  });

  it("scrubs over the run from its start to its end or now, with the moment clamped into it", () => {
    const run = { startedAt: 100_400, finishedAt: 200_200 };
    expect(scrubWindow(run, 150_000, 999_000)).toEqual({ from: 100_000, to: 201_000, at: 150_000 });
    expect(scrubWindow(run, 50_000, 999_000)?.at).toBe(100_000);
    expect(scrubWindow(run, 900_000, 999_000)?.at).toBe(201_000);
    expect(scrubWindow({ startedAt: 100_000, finishedAt: null }, null, 160_500)).toEqual({
      from: 100_000,
      to: 161_000,
      at: null,
    });
    expect(scrubWindow({ startedAt: null, finishedAt: null }, 5, 10)).toBeNull();
  });

  it("finds the bucket holding a moment", () => {
    const t = [10_000, 20_000, 40_000];
    expect(bucketAt(t, 9_999)).toBeNull();
    expect(bucketAt(t, 10_000)).toBe(0);
    expect(bucketAt(t, 39_999)).toBe(1);
    expect(bucketAt(t, 99_000)).toBe(2);
    expect(bucketAt([], 1)).toBeNull();
  });
});

describe("a moment's figures for the canvas", () => {
  it("takes the bucket holding the moment, and nothing for nodes without one there", () => {
    const f = momentFigures(view, 25_000);
    expect(f.sec).toBe(25);
    expect(f.nodes.gen).toMatchObject({ outPerSec: 6, errPerSec: 1, p99Ms: null, watermark: null });
    expect(f.edges["gen->sink"]).toEqual({ perSec: 4, backlog: 10, backpressured: false });
    // A source's offset lag comes with its unit; a bucket without one shows none.
    expect(momentFigures(view, 12_000).nodes.gen).toMatchObject({ offsetLag: 1200, offsetLagUnit: "entries" });
    expect(f.nodes.gen).toMatchObject({ offsetLag: null, offsetLagUnit: null });
    // a->b's only bucket ended at 20 s.
    expect(f.edges["a->b"]).toBeUndefined();
    expect(momentFigures(view, 35_000).nodes.gen).toBeUndefined();
    expect(momentFigures(view, 35_000).edges["gen->sink"]?.backpressured).toBe(true);
  });

  it("derives the watermark from the bucket's end and its lag", () => {
    const lagged: HistoryView = {
      ...view,
      nodes: { gen: { ...view.nodes.gen!, watermarkLagMs: [1_500, null, null] } },
    };
    expect(momentFigures(lagged, 12_000).nodes.gen).toMatchObject({ watermarkLagMs: 1_500, watermark: 18_500 });
  });
});
