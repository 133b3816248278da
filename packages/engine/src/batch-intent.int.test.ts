import { randomBytes } from "node:crypto";
import { createKeys } from "@sluice/pipeline/control/keys";
import { testRedisUrl } from "@sluice/test-kit/fleet-harness";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { ShuffleReader } from "./shuffle-reader";
import { appendShuffleEntries, TEST_SHUFFLE } from "./shuffle-testing";
import { FencedError, TaskState } from "./task-commit";

// A batch whose sinks wrote but whose commit never happened must be rebuilt from exactly the same input by the next
// owner, or a sink that skips "already written" batches would skip records the first attempt never saw.

const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
const keys = createKeys(`t-intent-${randomBytes(4).toString("hex")}`);
const task = { runId: "r1", stage: 1, partition: 0 };

afterAll(async () => {
  const found = await redis.keys(`${keys.prefix}:*`);
  if (found.length > 0) await redis.del(...found);
  await redis.quit();
});

const shuffle = TEST_SHUFFLE;
const append = (producer: number, n: number) => appendShuffleEntries(redis, keys, "r1", producer, n);

describe("batch intent", () => {
  it("reads a replayed batch's shuffle input exactly up to what the first attempt read", async () => {
    const a = await append(0, 3);
    await append(1, 2);
    const reader = new ShuffleReader([shuffle], () => 2, keys, "r1", 0, {});
    const first = await reader.read(redis, 2);
    for (const { upstream, entries } of first) for (const e of entries) reader.advance(upstream, e.id, e.entry);
    const extent = reader.extent();
    expect(Object.values(extent).sort()).toContain(a[1]);

    // Meanwhile more arrived; a new owner starts from the committed (empty) position with the recorded extent.
    await append(0, 4);
    await append(1, 4);
    const again = new ShuffleReader([shuffle], () => 2, keys, "r1", 0, {});
    const bounded = await again.read(redis, 100, extent);
    const count = (b: typeof first) => b.reduce((n, x) => n + x.entries.length, 0);
    expect(count(bounded)).toBe(count(first));
    expect(bounded.map((b) => b.entries.map((e) => e.id))).toEqual(first.map((b) => b.entries.map((e) => e.id)));
    // Unbounded it would have taken everything there is now.
    expect(count(await again.read(redis, 100))).toBe(13);
    // An upstream the batch did not read from gives nothing in the replay.
    const one = Object.fromEntries(Object.entries(extent).slice(0, 1));
    expect((await again.read(redis, 100, one)).length).toBe(1);
  });

  it("keeps the intent for the next batch only, for whoever owns the partition", async () => {
    const owner = await TaskState.acquire(redis, keys, task, "w1");
    expect(owner.pendingIntent()).toBeNull();
    await owner.recordIntent({ seq: 1, sources: { gen: 500 }, upstreams: {} });

    // The worker dies before its commit: the next owner finds what batch 1 read.
    const next = await TaskState.acquire(redis, keys, task, "w2");
    expect(next.pendingIntent()).toEqual({ seq: 1, sources: { gen: 500 }, upstreams: {} });
    // The old owner's lease is gone: it can no longer record anything.
    await expect(owner.recordIntent({ seq: 1, sources: { gen: 9 }, upstreams: {} })).rejects.toBeInstanceOf(
      FencedError,
    );

    // Once batch 1 is committed, its intent is history.
    await next.commit({ set: {}, increments: {}, deadLetters: [] });
    const third = await TaskState.acquire(redis, keys, task, "w3");
    expect(third.pendingIntent()).toBeNull();
  });
});
