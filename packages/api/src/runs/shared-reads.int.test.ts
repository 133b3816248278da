import { randomBytes } from "node:crypto";
import { testRedisUrl } from "@sluice/test-kit/fleet-harness";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { sharedReads } from "./shared-reads";

// Watchers of one run read its keys in the same instant; a web process reads each once and shares the answer.

const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
const key = `test:shared-reads:${randomBytes(6).toString("hex")}`;
afterAll(async () => {
  await redis.del(key);
  redis.disconnect();
});

describe("sharedReads", () => {
  it("answers reads of the same key made together with one read, and reads again after a moment", async () => {
    await redis.hset(key, { in: "1" });
    const shared = sharedReads(redis);
    expect(sharedReads(redis)).toBe(shared);
    const together = await Promise.all(Array.from({ length: 50 }, () => shared.hgetall(key)));
    // One answer object for all of them: one read.
    expect(new Set(together).size).toBe(1);
    expect(together[0]).toEqual({ in: "1" });

    await redis.hset(key, { in: "2" });
    await new Promise((r) => setTimeout(r, 300));
    const later = await shared.hgetall(key);
    expect(later).toEqual({ in: "2" });
    expect(later).not.toBe(together[0]);
  });
});
