import { randomBytes } from "node:crypto";
import { createKeys } from "@sluice/pipeline/control/keys";
import { testRedisUrl } from "@sluice/test-kit/fleet-harness";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { ShuffleReader, type UpstreamBatch } from "./shuffle-reader";
import { appendShuffleEntries, TEST_SHUFFLE } from "./shuffle-testing";

// A consumer partition with nothing to read waits in Redis for the next entry instead of polling; when it wakes it
// also takes what the other producers committed at the same moment, so a paced run costs one batch per burst.

const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
const waiting = redis.duplicate();
const keys = createKeys(`t-reader-${randomBytes(4).toString("hex")}`);

afterAll(async () => {
  const found = await redis.keys(`${keys.prefix}:*`);
  if (found.length > 0) await redis.del(...found);
  await Promise.all([redis.quit(), waiting.quit()]);
});

const shuffle = TEST_SHUFFLE;
const append = (runId: string, producer: number, n: number) => appendShuffleEntries(redis, keys, runId, producer, n);
const streamKey = (runId: string, producer: number) =>
  keys.shuffleStream({ runId, stage: 0, partition: producer }, shuffle.id, 0);

function take(reader: ShuffleReader, batches: UpstreamBatch[]): number {
  let n = 0;
  for (const { upstream, entries } of batches) {
    for (const e of entries) {
      reader.advance(upstream, e.id, e.entry);
      n++;
    }
  }
  return n;
}

describe("shuffle reader", () => {
  it("waits for the next entry, then takes what every producer has", async () => {
    const reader = new ShuffleReader([shuffle], () => 3, keys, "wait", 0, {});
    const started = Date.now();
    const pending = reader.read(redis, 10, undefined, { client: waiting, ms: 2000 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    // One producer's commit wakes the read; the others' land before its reply is handled.
    const appended = Promise.all([append("wait", 0, 1), append("wait", 1, 2), append("wait", 2, 1)]);
    const batches = await pending;
    await appended;
    expect(Date.now() - started).toBeLessThan(1500);
    expect(batches.map((b) => b.upstream.producer)).toEqual([...batches.map((b) => b.upstream.producer)].sort());
    const got = take(reader, batches);
    expect(got).toBeGreaterThanOrEqual(1);
    // Whatever the wake-up did not take is read next, after the positions it moved.
    const rest = take(reader, await reader.read(redis, 10));
    expect(got + rest).toBe(4);
  });

  it("gives nothing once the wait runs out", async () => {
    const reader = new ShuffleReader([shuffle], () => 2, keys, "idle", 0, {});
    const started = Date.now();
    expect(await reader.read(redis, 10, undefined, { client: waiting, ms: 100 })).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
  });

  it("trims only what was committed, in one go for several upstreams", async () => {
    await append("trim", 0, 3);
    await append("trim", 1, 3);
    const reader = new ShuffleReader([shuffle], () => 2, keys, "trim", 0, {});
    expect(take(reader, await reader.read(redis, 2))).toBe(4);
    // Read but not committed: nothing may go.
    await reader.trim(redis);
    expect(await redis.xlen(streamKey("trim", 0))).toBe(3);
    reader.committed();
    expect(reader.pendingTrim).toBe(2);
    // The next batch's positions name only what it moved.
    expect(reader.positions()).toEqual({});
    await reader.trim(redis);
    expect(reader.pendingTrim).toBe(0);
    expect(await redis.xlen(streamKey("trim", 0))).toBe(1);
    expect(await redis.xlen(streamKey("trim", 1))).toBe(1);
  });
});
