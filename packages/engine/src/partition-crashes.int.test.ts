import { randomBytes } from "node:crypto";
import { createKeys } from "@sluice/pipeline/control/keys";
import { testRedisUrl } from "@sluice/test-kit/fleet-harness";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { CRASHES_FIELD, PartitionCrashes, takeoverOf } from "./partition-crashes";
import { defineTaskCommands, TaskState } from "./task-commit";

// Which takeovers count towards a crash loop: only those after an owner died holding the partition while reading,
// with no finished batch in between. A partition that merely shared a dying worker while idle is not counted, and
// one that ended its lease normally is not either.

const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
const keys = createKeys(`t-crashes-${randomBytes(4).toString("hex")}`);
const task = { runId: "r1", stage: 1, partition: 2 };

afterAll(async () => {
  const found = await redis.keys(`${keys.prefix}:*`);
  if (found.length > 0) await redis.del(...found);
  await redis.quit();
});

/** A new owner takes the partition: its lease, and the takeover as it counts it. */
async function lease(worker: string) {
  const state = await TaskState.acquire(redis, keys, task, worker);
  const crashes = new PartitionCrashes(redis, keys, task, state.epoch, worker);
  return { state, crashes, takeover: takeoverOf(state.initial) };
}

describe("partition crash counting", () => {
  it("counts owners that died reading, forgives idle and clean ones, and resets on a commit", async () => {
    const first = await lease("w1");
    expect(first.takeover.crashes).toBe(0);
    await first.crashes.beforeFirstRead(); // …and w1 dies reading.

    const second = await lease("w2");
    expect(second.takeover).toEqual({ crashes: 1, lastWorker: "w1" });
    await second.crashes.beforeFirstRead();
    await second.crashes.idle(); // Nothing to read: w2 dying now is not this partition's doing.

    const third = await lease("w3");
    expect(third.takeover).toEqual({ crashes: 1, lastWorker: "w1" });
    await third.crashes.beforeFirstRead();
    await third.crashes.release(); // The lease ends normally (handed back, finished).

    const fourth = await lease("w4");
    expect(fourth.takeover.crashes).toBe(1);
    await fourth.crashes.beforeFirstRead(); // w4 dies reading: two in a row without a finished batch.

    const fifth = await lease("w5");
    expect(fifth.takeover).toEqual({ crashes: 2, lastWorker: "w4" });
    await fifth.crashes.beforeFirstRead();
    // A finished batch forgives what came before; w5 then dies reading.
    await fifth.state.commit({ set: { [CRASHES_FIELD]: "0" }, increments: {}, deadLetters: [] });

    const sixth = await lease("w6");
    expect(sixth.takeover).toEqual({ crashes: 1, lastWorker: "w5" });
  });

  it("counts a takeover once when the new owner's acquire is sent again after a reconnect", async () => {
    const other = { runId: "r2", stage: 0, partition: 0 };
    const key = keys.taskState(other);
    const first = await TaskState.acquire(redis, keys, other, "a");
    await new PartitionCrashes(redis, keys, other, first.epoch, "a").beforeFirstRead(); // …and a dies reading.
    defineTaskCommands(redis);
    const [epoch] = await redis.sluiceAcquire(key, "b", "lease-b");
    const [again, flat] = await redis.sluiceAcquire(key, "b", "lease-b");
    expect(again).toBe(epoch);
    expect(flat).toContain("crashedBy");
    expect(await redis.hmget(key, CRASHES_FIELD, "crashedBy", "held")).toEqual(["1", "a", null]);
  });

  it("leaves the count alone for an owner whose lease was already taken over", async () => {
    const stale = await lease("old");
    await stale.crashes.beforeFirstRead();
    const current = await lease("new");
    const before = await redis.hget(keys.taskState(task), CRASHES_FIELD);
    // The old owner wakes up and ends its lease: it must not clear the new owner's mark.
    await current.crashes.beforeFirstRead();
    await stale.crashes.release();
    expect(await redis.hget(keys.taskState(task), "held")).toBe("new");
    expect(await redis.hget(keys.taskState(task), CRASHES_FIELD)).toBe(before);
  });
});

describe("suspects on one worker", () => {
  it("lets one suspect read its first batch at a time, so only the one reading is counted again", async () => {
    const held = (id: string, partition: number, suspect: boolean) =>
      new PartitionCrashes(redis, keys, { runId: "r2", stage: 0, partition }, 1, id, suspect);
    const a = held("wq", 0, true);
    const b = held("wq", 1, true);
    const elsewhere = held("other", 2, true);
    const plain = held("wq", 3, false);
    await a.beforeFirstRead();
    let bReading = false;
    const bStarts = b.beforeFirstRead().then(() => {
      bReading = true;
    });
    // A suspect of another worker, and a partition that is not a suspect, do not wait.
    await elsewhere.beforeFirstRead();
    await plain.beforeFirstRead();
    await new Promise((r) => setTimeout(r, 200));
    expect(bReading).toBe(false);
    a.committed();
    await bStarts;
    expect(bReading).toBe(true);
    // A suspect that ends its lease without a commit lets the next one read too.
    const c = held("wq", 4, true);
    const cStarts = c.beforeFirstRead();
    await b.release();
    await cStarts;
    await c.idle();
    await Promise.all([elsewhere.release(), plain.release()]);
  });
});
