import { describe, expect, it } from "vitest";
import { decodeBucket, encodeBucket } from "./bucket-codec";
import { emptyBucket } from "./figure-buckets";
import { pickResolution } from "./history-query";
import { DEFAULT_HISTORY_RETENTION, DEFAULT_HISTORY_RETENTION_MS, parseHistoryRetention } from "./history-retention";

describe("bucket codec", () => {
  it("gives back every node's and edge's figures, large and absent ones included", () => {
    const b = emptyBucket(1_765_000_000);
    b.nodes.set("orders", {
      recordsIn: 2 ** 40 + 3,
      recordsOut: 0,
      errors: 7,
      latency: { 0: 1, 41: 300, 99: 2 ** 33 },
      watermark: 1_765_000_000 * 1000 - 86_400_000,
      maxWatermarkLagMs: 86_400_000,
      maxStateKeys: null,
      maxInputLag: 12,
      maxOffsetLag: 2 ** 45 + 1,
      offsetLagUnit: "bytes",
    });
    b.nodes.set("sink_é", {
      recordsIn: 1,
      recordsOut: 1,
      errors: 0,
      latency: {},
      watermark: 1_765_000_000 * 1000 + 15_000,
      maxWatermarkLagMs: null,
      maxStateKeys: 0,
      maxInputLag: null,
      maxOffsetLag: null,
      offsetLagUnit: null,
    });
    b.edges.set("orders.out->sink_é.in", { sent: 129, maxBacklog: null, backpressuredSeconds: 10 });
    b.edges.set("a.out->b.in", { sent: 0, maxBacklog: 5_000_000, backpressuredSeconds: 0 });
    b.nodes.set("stream", { ...b.nodes.get("sink_é")!, maxStateKeys: null, maxOffsetLag: 0, offsetLagUnit: "entries" });
    const bytes = encodeBucket(b);
    expect(decodeBucket(b.start, bytes)).toEqual(b);
    // Small figures take a few bytes each: here, mostly the ids.
    expect(bytes.length).toBeLessThan(140);
  });

  it("still reads buckets written before offset lag was kept (format 1), as having none", () => {
    // Written by the format 1 encoder: a source, an aggregate with state and input lag, and the edge between them.
    const old = Buffer.from("AQIDc3JjALAJAAIUAx8BA6hG3AsDYWdnsAkoAgAMKAcBD3NyYy5vdXQtPmFnZy5pbrAJAQED", "base64");
    const b = decodeBucket(1_700_000_000, old);
    expect(b.nodes.get("src")).toEqual({
      recordsIn: 0,
      recordsOut: 1200,
      errors: 0,
      latency: { 20: 3, 31: 1 },
      watermark: 1_700_000_004_500,
      maxWatermarkLagMs: 1500,
      maxStateKeys: null,
      maxInputLag: null,
      maxOffsetLag: null,
      offsetLagUnit: null,
    });
    expect(b.nodes.get("agg")).toMatchObject({
      recordsIn: 1200,
      maxStateKeys: 40,
      maxInputLag: 7,
      maxOffsetLag: null,
      offsetLagUnit: null,
    });
    expect(b.edges.get("src.out->agg.in")).toEqual({ sent: 1200, maxBacklog: 3, backpressuredSeconds: 1 });
    // Written again, it is format 2 and reads back the same.
    const again = encodeBucket(b);
    expect(again[0]).toBe(2);
    expect(decodeBucket(b.start, again)).toEqual(b);
  });

  it("refuses a format it does not know", () => {
    expect(() => decodeBucket(10, Buffer.from([3, 0, 0]))).toThrow(/format 3/);
  });

  it("refuses a truncated bucket instead of inventing figures", () => {
    const b = emptyBucket(10);
    b.edges.set("x.out->y.in", { sent: 1_000_000, maxBacklog: 1, backpressuredSeconds: 0 });
    const bytes = encodeBucket(b);
    expect(() => decodeBucket(10, bytes.subarray(0, bytes.length - 2))).toThrow(/ends/);
  });
});

describe("history resolution", () => {
  const now = 1_765_000_000_000;
  const r = DEFAULT_HISTORY_RETENTION_MS;

  it("reads the default retention", () => {
    expect(parseHistoryRetention(DEFAULT_HISTORY_RETENTION)).toEqual(DEFAULT_HISTORY_RETENTION_MS);
  });

  it("takes the finest resolution with at most 2,000 points that retention still holds", () => {
    expect(pickResolution(now - 15 * 60_000, now, now, r)).toBe(10);
    expect(pickResolution(now - 5 * 3_600_000, now, now, r)).toBe(10);
    expect(pickResolution(now - 6 * 3_600_000, now, now, r)).toBe(60);
    expect(pickResolution(now - 7 * 86_400_000, now, now, r)).toBe(3600);
    // Two hours from two days ago: few points, but the 10 s buckets of then are gone.
    expect(pickResolution(now - 2 * 86_400_000, now - 2 * 86_400_000 + 7_200_000, now, r)).toBe(60);
    expect(pickResolution(now - 3 * 365 * 86_400_000, now, now, r)).toBe(3600);
  });
});
