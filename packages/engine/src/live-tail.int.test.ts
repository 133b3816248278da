import { randomBytes } from "node:crypto";
import { createKeys } from "@sluice/pipeline/control/keys";
import { readTail } from "@sluice/pipeline/control/run-reader";
import { testRedisUrl } from "@sluice/test-kit/fleet-harness";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { RedisLiveTail } from "./live-tail";

// The tail lists records latest to arrive first, whatever their own times: batches of two partitions, each with
// event times older than the other's, come back in the order they were written, each batch newest-last-first.

const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
const keys = createKeys(`t-tail-${randomBytes(4).toString("hex")}`);

afterAll(async () => {
  const found = await redis.keys(`${keys.prefix}:*`);
  if (found.length > 0) await redis.del(...found);
  await redis.quit();
});

describe("the live tail", () => {
  it("reads back in arrival order, stable within a batch, with each entry's arrival time", async () => {
    const tail = new RedisLiveTail(redis, keys, "r1");
    const before = Date.now();
    // Partition 1 writes first, with later event times than partition 0's batch that arrives after it.
    await tail.append(
      "out",
      1,
      [
        { n: "a", ts: 3000 },
        { n: "b", ts: 4000 },
        { n: "c", ts: 5000 },
      ],
      100,
    );
    await tail.append(
      "out",
      0,
      [
        { n: "d", ts: 1000 },
        { n: "e", ts: 2000 },
      ],
      100,
    );
    const after = Date.now();

    const entries = await readTail(redis, keys, "r1", "out", 10);
    expect(entries.map((e) => (e.record as { n: string }).n)).toEqual(["e", "d", "c", "b", "a"]);
    expect(entries.map((e) => e.partition)).toEqual([0, 0, 1, 1, 1]);
    for (const e of entries) {
      expect(e.arrivedAt).toBe(Number(e.id.split("-")[0]));
      expect(e.arrivedAt).toBeGreaterThanOrEqual(before);
      expect(e.arrivedAt).toBeLessThanOrEqual(after);
    }
    // Arrival times never go up down the list.
    for (let i = 1; i < entries.length; i++)
      expect(entries[i]!.arrivedAt).toBeLessThanOrEqual(entries[i - 1]!.arrivedAt);
  });

  it("keeps only the newest `keep` of a batch", async () => {
    const tail = new RedisLiveTail(redis, keys, "r2");
    await tail.append("out", 0, [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }], 2);
    const entries = await readTail(redis, keys, "r2", "out", 10);
    expect(entries.map((e) => e.record)).toEqual([{ n: 4 }, { n: 3 }]);
  });
});
