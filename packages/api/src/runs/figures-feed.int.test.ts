import { randomBytes } from "node:crypto";
import { createKeys } from "@sluice/pipeline/control/keys";
import { figureField, type RunFiguresView } from "@sluice/pipeline/control/node-figures";
import { testRedisUrl } from "@sluice/test-kit/fleet-harness";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { watchRunFigures } from "./figures-feed";

// One feed per run and web process: many watchers of a run's live figures cost one read a second between them, all
// get the same seconds, one leaving does not end the others, and the feed stops reading when the last one leaves.

const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
const keys = createKeys(`test-feed-${randomBytes(4).toString("hex")}`);

/** The client as the feed sees it, counting its hash reads (run meta, task state, figures). */
function countingReader() {
  const counts = { all: 0, stallNextMs: 0 };
  const reader = {
    hgetall: async (key: string) => {
      counts.all++;
      const stall = counts.stallNextMs;
      counts.stallNextMs = 0;
      if (stall > 0) await new Promise((r) => setTimeout(r, stall));
      return redis.hgetall(key);
    },
    scard: (key: string) => redis.scard(key),
    xlen: (key: string) => redis.xlen(key),
    xrevrange: (key: string, end: string, start: string, count: "COUNT", n: number) =>
      redis.xrevrange(key, end, start, count, n),
  };
  return { reader, counts };
}

async function startRun(runId: string): Promise<void> {
  await redis.hset(keys.runMeta(runId), {
    status: "running",
    desired: "running",
    stages: JSON.stringify([{ index: 0, partitions: 1 }]),
  });
  await redis.hset(keys.taskState({ runId, stage: 0, partition: 0 }), { "n:gen:out": "5", "n:out:in": "5" });
  const now = Math.floor(Date.now() / 1000);
  for (let sec = now - 5; sec <= now + 30; sec++) {
    await redis.hset(keys.runFigures(runId, sec), { [figureField.count("out", "in")]: String(sec % 1000) });
    await redis.pexpire(keys.runFigures(runId, sec), 120_000);
  }
}

/** The seconds of the next `n` views of a watcher, which goes on watching. */
async function take(feed: AsyncGenerator<RunFiguresView>, n: number): Promise<number[]> {
  const secs: number[] = [];
  while (secs.length < n) {
    const next = await feed.next();
    if (next.done) break;
    expect(next.value.nodes.out?.inPerSec).toBe(next.value.sec % 1000);
    secs.push(next.value.sec);
  }
  return secs;
}

beforeAll(async () => {
  await redis.ping();
});
afterAll(async () => {
  const found = await redis.keys(`${keys.prefix}:*`);
  if (found.length > 0) await redis.del(...found);
  redis.disconnect();
});

describe("watchRunFigures", () => {
  it("reads each second once for all its watchers, and hands every watcher the same seconds", async () => {
    const runId = `run-${randomBytes(4).toString("hex")}`;
    await startRun(runId);
    const { reader, counts } = countingReader();
    const watchers = Array.from({ length: 40 }, () => {
      const stop = new AbortController();
      return { stop, feed: watchRunFigures(reader, keys, runId, stop.signal, async () => false) };
    });
    const got = await Promise.all(watchers.map((w) => take(w.feed, 3)));
    // Every watcher saw the same three consecutive seconds.
    for (const secs of got) expect(secs).toEqual(got[0]);
    expect(got[0]).toEqual([got[0]![0]!, got[0]![0]! + 1, got[0]![0]! + 2]);
    // One feed: about one run-meta read a second and one figures read per partition-second, not forty of each.
    expect(counts.all).toBeLessThanOrEqual(4 * 4);
    for (const w of watchers) w.stop.abort();
  });

  it("goes on for the others when one watcher leaves, and stops reading once the last has left", async () => {
    const runId = `run-${randomBytes(4).toString("hex")}`;
    await startRun(runId);
    const { reader, counts } = countingReader();
    const first = new AbortController();
    const second = new AbortController();
    const a = watchRunFigures(reader, keys, runId, first.signal, async () => false);
    const b = watchRunFigures(reader, keys, runId, second.signal, async () => false);
    await Promise.all([take(a, 1), take(b, 1)]);
    first.abort();
    // b still gets the next seconds.
    const later = await take(b, 2);
    expect(later[1]).toBe(later[0]! + 1);
    second.abort();
    await new Promise((r) => setTimeout(r, 1200));
    const after = counts.all;
    await new Promise((r) => setTimeout(r, 2200));
    expect(counts.all).toBe(after);

    // A watcher arriving after everyone left gets a live feed of its own, not the one that stopped.
    const third = new AbortController();
    const c = watchRunFigures(reader, keys, runId, third.signal, async () => false);
    const fresh = await take(c, 2);
    expect(fresh[1]).toBe(fresh[0]! + 1);
    third.abort();
  });

  it("leaves no hole when a read takes longer than a second", async () => {
    const runId = `run-${randomBytes(4).toString("hex")}`;
    await startRun(runId);
    const { reader, counts } = countingReader();
    const stop = new AbortController();
    const feed = watchRunFigures(reader, keys, runId, stop.signal, async () => false);
    const secs = await take(feed, 1);
    // The next pass's first read stalls past the second after it: that pass reads the second it passed over too.
    counts.stallNextMs = 2300;
    secs.push(...(await take(feed, 4)));
    stop.abort();
    expect(secs).toEqual(secs.map((_, i) => secs[0]! + i));
  });

  it("ends every watcher when the run ends", async () => {
    const runId = `run-${randomBytes(4).toString("hex")}`;
    await startRun(runId);
    const { reader } = countingReader();
    const feeds = [0, 1, 2].map(() => watchRunFigures(reader, keys, runId, undefined, async () => false));
    await Promise.all(feeds.map((f) => take(f, 1)));
    await redis.hset(keys.runMeta(runId), "status", "completed");
    const rest = await Promise.all(
      feeds.map(async (f) => {
        const views: RunFiguresView[] = [];
        for await (const v of f) views.push(v);
        return views;
      }),
    );
    // Each ends, after at most the second read with the run's end, the same for all.
    for (const views of rest) {
      expect(views.length).toBeLessThanOrEqual(1);
      expect(views.map((v) => v.sec)).toEqual(rest[0]!.map((v) => v.sec));
    }
  });
});
