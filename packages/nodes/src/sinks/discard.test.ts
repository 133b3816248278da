import type { DataRecord } from "@sluice/pipeline/record-schema";
import { field, type RecordSchema, t } from "@sluice/pipeline/record-schema";
import { afterEach, describe, expect, it, vi } from "vitest";
import { inferNode } from "../testing/infer-harness";
import { type MemoryStateStore, testContext } from "../testing/operator-harness";
import { type DiscardConfig, discardDef } from "./discard.def";
import { discardRuntime } from "./discard.run";
import {
  addToDigest,
  combineDigests,
  combineHistograms,
  DIGEST_KEY,
  DIGEST_STATE,
  digestText,
  EMPTY_DIGEST,
  LATENCY_BOUNDS_MS,
  LATENCY_BUCKETS,
  LATENCY_KEY,
  LATENCY_STATE,
  latencyBucket,
  latencyPercentile,
  readStoredDigest,
  readStoredHistogram,
} from "./discard-digest";

const events: RecordSchema = {
  fields: [field("id", t.int), field("name", t.string), field("ts", t.timestamp)],
  open: false,
  eventTime: "ts",
};

const records: DataRecord[] = Array.from({ length: 500 }, (_, i) => ({ id: i, name: `n${i % 7}`, ts: 1000 + i }));

async function sink(config: unknown, partition = 0, partitions = 1) {
  const ctx = testContext<DiscardConfig>(discardDef, config, { inputs: { in: events }, partition, partitions });
  const writer = await discardRuntime.open(ctx);
  let sequence = 0;
  return {
    ctx,
    write: (batch: readonly DataRecord[], batchId = `run:0:${partition}:${sequence}`) =>
      writer.write(batch, { batchId, sequence: sequence++ }),
    digest: () => readStoredDigest(ctx.stores.get(DIGEST_STATE)?.get(DIGEST_KEY)),
    histogram: () => readStoredHistogram(ctx.stores.get(LATENCY_STATE)?.get(LATENCY_KEY)),
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("sink.discard", () => {
  it("keeps a count and digest that do not depend on partitioning, batching or order", async () => {
    const whole = await sink({});
    await whole.write(records.slice(0, 200));
    await whole.write(records.slice(200));
    const expected = addToDigest(EMPTY_DIGEST, records);
    expect(whole.digest()).toMatchObject(expected);
    expect(expected.count).toBe(500);

    const parts = await Promise.all([0, 1, 2].map((p) => sink({}, p, 3)));
    const shuffled = [...records].reverse();
    for (let i = 0; i < shuffled.length; i += 37) {
      const part = parts[(i / 37) % 3]!;
      await part.write(shuffled.slice(i, i + 37));
    }
    const combined = combineDigests(parts.map((p) => p.digest()));
    expect(digestText(combined)).toBe(digestText(expected));
  });

  it("changes the digest when a record is missing, altered or delivered twice", () => {
    const base = digestText(addToDigest(EMPTY_DIGEST, records));
    expect(digestText(addToDigest(EMPTY_DIGEST, records.slice(1)))).not.toBe(base);
    expect(digestText(addToDigest(EMPTY_DIGEST, [...records, records[0]!]))).not.toBe(base);
    const altered = records.map((r, i) => (i === 42 ? { ...r, name: "other" } : r));
    expect(digestText(addToDigest(EMPTY_DIGEST, altered))).not.toBe(base);
  });

  it("counts a batch once when the same batch is written again without a rollback", async () => {
    const s = await sink({});
    await s.write(records.slice(0, 10), "b1");
    await s.write(records.slice(0, 10), "b1");
    expect(s.digest().count).toBe(10);
    await s.write(records.slice(10, 20), "b2");
    expect(s.digest()).toMatchObject(addToDigest(EMPTY_DIGEST, records.slice(0, 20)));
  });

  it("starts from the committed state after a restart", async () => {
    const first = await sink({});
    await first.write(records.slice(0, 100));
    const committed = first.ctx.stores.get(DIGEST_STATE) as MemoryStateStore;
    const ctx = testContext<DiscardConfig>(discardDef, {}, { inputs: { in: events } });
    (ctx.state(DIGEST_STATE) as MemoryStateStore).set(DIGEST_KEY, committed.get(DIGEST_KEY)!);
    const writer = await discardRuntime.open(ctx);
    await writer.write(records.slice(100), { batchId: "run:0:0:1", sequence: 1 });
    expect(readStoredDigest(ctx.stores.get(DIGEST_STATE)?.get(DIGEST_KEY))).toMatchObject(
      addToDigest(EMPTY_DIGEST, records),
    );
  });

  it("records latency from a time field into log-scale buckets", async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const s = await sink({ latencyField: "ts" });
    await s.write([
      { id: 1, name: "a", ts: 1_000_000 - 50 },
      { id: 2, name: "b", ts: 1_000_000 - 50 },
      { id: 3, name: "c", ts: 1_000_000 - 2000 },
      { id: 4, name: "d", ts: null },
      { id: 5, name: "e", ts: 1_000_000 + 5 },
    ]);
    const h = s.histogram();
    expect(h.missing).toBe(1);
    expect(h.counts[latencyBucket(50)]).toBe(2);
    expect(h.counts[latencyBucket(2000)]).toBe(1);
    expect(h.counts[0]).toBe(1);
    expect(latencyPercentile(h.counts, 0.5)).toBeCloseTo(LATENCY_BOUNDS_MS[latencyBucket(50)]!);
    expect(latencyPercentile(h.counts, 0.99)).toBeGreaterThanOrEqual(2000);
    expect(latencyPercentile(h.counts, 0.99)).toBeLessThan(2000 * 1.13);
  });

  it("slows writes down to the maximum rate", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "performance"] });
    const s = await sink({ maxRate: 1000 });
    let done = false;
    const writing = s.write(records.slice(0, 100)).then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(99);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await writing;
    expect(done).toBe(true);
    expect(s.digest().count).toBe(100);
  });

  it("checks the latency field against the input schema", () => {
    expect(inferNode(discardDef, { latencyField: "tss" }, { in: events }).errors[0]).toMatchObject({
      path: ["latencyField"],
      suggestion: "ts",
    });
    expect(inferNode(discardDef, { latencyField: "name" }, { in: events }).errors[0]).toMatchObject({
      path: ["latencyField"],
      code: "type",
    });
    expect(inferNode(discardDef, { latencyField: "ts" }, { in: events }).errors).toEqual([]);
  });
});

describe("latency buckets", () => {
  it("cover 1 ms to about a minute, 20 per factor of ten", () => {
    expect(LATENCY_BOUNDS_MS[0]).toBe(1);
    expect(LATENCY_BOUNDS_MS[20]).toBeCloseTo(10);
    expect(LATENCY_BOUNDS_MS.at(-1)!).toBeGreaterThan(60_000);
    expect(latencyBucket(-5)).toBe(0);
    expect(latencyBucket(0.5)).toBe(0);
    expect(latencyBucket(1)).toBe(1);
    expect(latencyBucket(10)).toBe(21);
    expect(latencyBucket(1e9)).toBe(LATENCY_BUCKETS - 1);
    for (const ms of [1, 3, 17.5, 99, 100, 1234, 59_999]) {
      const b = latencyBucket(ms);
      expect(ms).toBeLessThan(LATENCY_BOUNDS_MS[b]!);
      expect(ms).toBeGreaterThanOrEqual(LATENCY_BOUNDS_MS[b - 1]! * (1 - 1e-12));
    }
  });

  it("give percentiles of combined partitions", () => {
    const a = { counts: new Array<number>(LATENCY_BUCKETS).fill(0), missing: 1 };
    const b = { counts: new Array<number>(LATENCY_BUCKETS).fill(0), missing: 2 };
    a.counts[latencyBucket(5)] = 98;
    b.counts[latencyBucket(500)] = 2;
    const all = combineHistograms([a, b]);
    expect(all.missing).toBe(3);
    expect(latencyPercentile(all.counts, 0.5)).toBeCloseTo(LATENCY_BOUNDS_MS[latencyBucket(5)]!);
    expect(latencyPercentile(all.counts, 0.98)).toBeCloseTo(LATENCY_BOUNDS_MS[latencyBucket(5)]!);
    expect(latencyPercentile(all.counts, 0.99)).toBeCloseTo(LATENCY_BOUNDS_MS[latencyBucket(500)]!);
    expect(latencyPercentile(new Array<number>(LATENCY_BUCKETS).fill(0), 0.5)).toBeUndefined();
  });
});
