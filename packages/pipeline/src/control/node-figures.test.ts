import { describe, expect, it } from "vitest";
import { createKeys } from "./keys";
import {
  bucketUpperMs,
  figureField,
  figuresView,
  LATENCY_BUCKETS,
  type LatencyHistogram,
  latencyBucket,
  mergeHistogram,
  percentile,
  readNodeFigures,
} from "./node-figures";

function histogramOf(samples: readonly number[]): LatencyHistogram {
  const h: LatencyHistogram = {};
  for (const ms of samples) mergeHistogram(h, { [latencyBucket(ms)]: 1 });
  return h;
}

describe("latency buckets", () => {
  it("puts a latency in the bucket whose bounds hold it, within a fifth of it", () => {
    for (const ms of [0.07, 0.5, 1, 3.3, 12, 250, 9_999, 120_000]) {
      const b = latencyBucket(ms);
      expect(bucketUpperMs(b)).toBeGreaterThanOrEqual(ms);
      expect(bucketUpperMs(b - 1)).toBeLessThan(ms);
      expect(bucketUpperMs(b) / ms).toBeLessThan(1.19);
    }
  });

  it("keeps the smallest and largest latencies in the end buckets", () => {
    expect(latencyBucket(0)).toBe(0);
    expect(latencyBucket(-3)).toBe(0);
    expect(latencyBucket(Number.NaN)).toBe(0);
    expect(latencyBucket(1e12)).toBe(LATENCY_BUCKETS - 1);
  });
});

describe("percentiles", () => {
  it("reads p50 and p99 of one histogram", () => {
    const samples = Array.from({ length: 100 }, (_, i) => i + 1);
    const h = histogramOf(samples);
    const p50 = percentile(h, 0.5)!;
    const p99 = percentile(h, 0.99)!;
    expect(p50).toBeGreaterThanOrEqual(50);
    expect(p50).toBeLessThan(50 * 1.19);
    expect(p99).toBeGreaterThanOrEqual(99);
    expect(p99).toBeLessThan(99 * 1.19);
    expect(percentile(h, 1)).toBe(bucketUpperMs(latencyBucket(100)));
  });

  it("is null for no batches", () => {
    expect(percentile({}, 0.5)).toBeNull();
    expect(percentile({ 3: 0 }, 0.99)).toBeNull();
  });

  it("merges partitions' histograms into the histogram of all their batches", () => {
    const a = Array.from({ length: 300 }, (_, i) => 1 + (i % 7));
    const b = Array.from({ length: 100 }, (_, i) => 40 + i);
    const merged = mergeHistogram(histogramOf(a), histogramOf(b));
    expect(merged).toEqual(histogramOf([...a, ...b]));
    // 300 of the 400 batches took at most 7 ms; the slowest 1 % are from the second partition.
    expect(percentile(merged, 0.75)).toBeLessThan(7 * 1.19);
    expect(percentile(merged, 0.99)).toBeGreaterThanOrEqual(135);
  });
});

describe("readNodeFigures", () => {
  const keys = createKeys("t");
  function fakeRedis(hashes: Record<string, Record<string, string>>) {
    return { hgetall: async (key: string) => hashes[key] ?? {} };
  }

  it("adds counts up over seconds and partitions and keeps the newest second's gauges", async () => {
    const edge = "a.out->b.in";
    const redis = fakeRedis({
      [keys.runFigures("r", 100)]: {
        [figureField.count("a", "in")]: "10",
        [figureField.count("a", "out")]: "8",
        [figureField.latency("a", 20)]: "3",
        [figureField.watermark("a", 0)]: "5000",
        [figureField.watermark("a", 1)]: "4000",
        [figureField.stateKeys("a", 0)]: "7",
        [figureField.edgeSent(edge)]: "8",
        [figureField.edgeBacklog(edge, 0)]: "50",
        [figureField.edgeBackpressured(edge, 0)]: "1",
        [figureField.offsetLag("a", 0, "entries")]: "900",
      },
      [keys.runFigures("r", 101)]: {
        [figureField.count("a", "in")]: "5",
        [figureField.count("a", "err")]: "1",
        [figureField.latency("a", 20)]: "1",
        [figureField.latency("a", 30)]: "1",
        [figureField.watermark("a", 0)]: "6000",
        [figureField.watermark("a", 1)]: "5500",
        [figureField.stateKeys("a", 0)]: "9",
        [figureField.stateKeys("a", 1)]: "2",
        [figureField.inputLag("b", 0)]: "4",
        [figureField.edgeSent(edge)]: "4",
        [figureField.edgeBacklog(edge, 0)]: "3",
        [figureField.edgeBacklog(edge, 1)]: "2",
        [figureField.edgeBackpressured(edge, 0)]: "0",
        [figureField.offsetLag("a", 0, "entries")]: "40",
        [figureField.offsetLag("a", 1, "entries")]: "2",
        "n|a|ol|2|furlongs": "5",
      },
    });
    const f = await readNodeFigures(redis, keys, "r", 100, 102);
    expect(f.nodes.a).toEqual({
      in: 15,
      out: 8,
      err: 1,
      latency: { 20: 4, 30: 1 },
      watermark: 5500,
      stateKeys: 11,
      inputLag: null,
      offsetLag: { value: 42, unit: "entries" },
    });
    expect(f.nodes.b?.offsetLag).toBeNull();
    expect(f.nodes.b?.inputLag).toBe(4);
    expect(f.edges[edge]).toEqual({ sent: 12, backlog: 5, backpressured: true });

    const view = figuresView("r", f, { a: { in: 100, out: 90, errors: 2 } });
    expect(view.sec).toBe(102);
    expect(view.nodes.a).toMatchObject({ inPerSec: 5, outPerSec: 8 / 3, totalIn: 100, totalOut: 90, totalErr: 2 });
    expect(view.nodes.a?.watermarkLagMs).toBe(103_000 - 5500);
    expect(view.nodes.a?.p50Ms).toBe(bucketUpperMs(20));
    expect(view.nodes.a?.p99Ms).toBe(bucketUpperMs(30));
    expect(view.nodes.a).toMatchObject({ offsetLag: 42, offsetLagUnit: "entries" });
    expect(view.nodes.b).toMatchObject({ offsetLag: null, offsetLagUnit: null });
    expect(view.edges[edge]).toEqual({ perSec: 4, backlog: 5, backpressured: true });
  });
});
