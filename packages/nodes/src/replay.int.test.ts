import { type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { FleetHarness } from "@sluice/test-kit/fleet-harness";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { catalog } from "./catalog";
import {
  brokerPipeline,
  type CrashingWorker,
  crashReport,
  startCrashingWorker,
  stopChild,
} from "./connectors/messaging/testing/broker-fleet";
import { redisStreamSourceDef } from "./connectors/redis/redis-stream-source.def";
import { redisStreamSourceRuntime } from "./connectors/redis/redis-stream-source.run";
import { uniqueName } from "./connectors/test-servers";
import { type ReplayBound, replayConfig } from "./replay";
import type { ConnectionBundle } from "./runtime-contract";
import { runtimes } from "./runtimes";
import { testContext } from "./testing/operator-harness";

// Bounded replays of the message sources through the real engine: a Redis stream with entries at known ids and a
// NATS stream with messages stored at known times, replayed over [from, to] into a Redis stream — exactly those,
// and the run completes on its own, also when a worker dies in the middle of it.

const REDIS = "redis://127.0.0.1:6379/0";
const NATS = "nats://127.0.0.1:4222";
let redis: Redis;
let nc: NatsConnection;
let jsm: JetStreamManager;
const keys: string[] = [];
const natsStreams: string[] = [];
let fleet: FleetHarness | undefined;
let crashing: CrashingWorker | undefined;

beforeAll(async () => {
  redis = new Redis(REDIS);
  nc = await connect({ servers: NATS });
  jsm = await jetstreamManager(nc);
});
afterEach(async () => {
  stopChild(crashing);
  crashing = undefined;
  await fleet?.close();
  fleet = undefined;
});
afterAll(async () => {
  for (const k of keys) await redis.del(k);
  for (const s of natsStreams) await jsm.streams.delete(s).catch(() => {});
  redis.disconnect();
  await nc.close();
});

const bundle: ConnectionBundle = {
  r: { type: "redis", config: { url: REDIS } },
  n: { type: "nats", config: { servers: NATS } },
};
const never = new AbortController().signal;
const order = (i: number) => JSON.stringify({ id: i, amount: i * 1.5 });
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

function redisKey(label: string): string {
  const k = uniqueName(`sluice-test-replay-${label}`);
  keys.push(k);
  return k;
}

/** Entries `first..first+n-1`, entry i at id `<base + i * step>-<i % 2>` (two entries share each odd/even pair's ms). */
async function produceAt(key: string, base: number, first: number, n: number, step = 1): Promise<void> {
  for (let i = first; i < first + n; i += 1000) {
    const p = redis.pipeline();
    for (let j = i; j < Math.min(first + n, i + 1000); j++) {
      p.xadd(key, `${base + Math.floor(j / 2) * step}-${j % 2}`, "data", order(j));
    }
    await p.exec();
  }
}

async function payloadsOf(key: string): Promise<string[]> {
  const entries = await redis.xrange(key, "-", "+");
  return entries.map(([, fields]) => fields[fields.indexOf("data") + 1]!);
}

async function startFleet(): Promise<FleetHarness> {
  fleet = new FleetHarness();
  await fleet.startInProcess("w1", catalog, runtimes);
  return fleet;
}

function redisReplay(stream: string | string[], from: ReplayBound, to?: ReplayBound) {
  const live = { connection: "r", stream, group: uniqueName("live"), start: "latest" };
  return { type: "source.redis-stream", config: replayConfig("source.redis-stream", live, from, to) };
}

describe("replaying a Redis stream", () => {
  const BASE = 1_700_000_000_000;

  it("reads [from, to] by time and by entry id, exactly, and the run completes by itself", async () => {
    const src = redisKey("src");
    await produceAt(src, BASE, 0, 200, 1000); // entries 2k and 2k+1 at BASE + k seconds
    const f = await startFleet();

    const byTime = redisKey("out-time");
    await f.startRun(
      "by-time",
      brokerPipeline(redisReplay(src, { time: BASE + 10_000 }, { time: BASE + 40_000 }), {
        type: "sink.redis-stream",
        config: { connection: "r", stream: byTime },
      }),
      {},
      bundle,
    );
    const done = await f.waitForStatus("by-time", "completed");
    expect(done.nodes.src).toEqual({ in: 0, out: 62, errors: 0 });
    expect(await payloadsOf(byTime)).toEqual(range(20, 62).map(order));

    const byId = redisKey("out-id");
    await f.startRun(
      "by-id",
      brokerPipeline(redisReplay(src, { offset: `${BASE + 5000}-1` }, { offset: `${BASE + 7000}-0` }), {
        type: "sink.redis-stream",
        config: { connection: "r", stream: byId },
      }),
      {},
      bundle,
    );
    await f.waitForStatus("by-id", "completed");
    expect(await payloadsOf(byId)).toEqual(range(11, 4).map(order));
    // The live pipeline's consumer group is not created or moved by a replay.
    expect(await redis.xinfo("GROUPS", src)).toEqual([]);
  });

  it("ends on every partition, also those with no stream, and with the bound in the future once it passes", async () => {
    const a = redisKey("pa");
    const b = redisKey("pb");
    await produceAt(a, BASE, 0, 100);
    await produceAt(b, BASE, 100, 100);
    const out = redisKey("pout");
    const now = Date.now();
    const f = await startFleet();
    await f.startRun(
      "parts",
      brokerPipeline(
        redisReplay([a, b], { time: BASE }, { time: now + 1500 }),
        { type: "sink.redis-stream", config: { connection: "r", stream: out } },
        { parallelism: 4 },
      ),
      {},
      bundle,
    );
    // An entry added while the bound is still ahead is read too.
    await redis.xadd(a, "*", "data", order(999));
    const done = await f.waitForStatus("parts", "completed");
    expect(Date.now()).toBeGreaterThan(now + 1500);
    expect(done.nodes.src?.out).toBe(201);
    expect((await payloadsOf(out)).sort()).toEqual([...range(0, 200), 999].map(order).sort());
  });

  it("without an end, stops at the last entry when the run started, also after a restart from the offset", async () => {
    const src = redisKey("until-start");
    await produceAt(src, BASE, 0, 10);
    const config = replayConfig("source.redis-stream", { connection: "r", stream: src }, { time: BASE });
    expect(config.until).toBe("start");
    const open = (from: Parameters<typeof redisStreamSourceRuntime.open>[1]) =>
      redisStreamSourceRuntime.open(testContext(redisStreamSourceDef, config, { connections: bundle }) as never, from);
    const first = await open(null);
    await produceAt(src, BASE + 1_000_000, 10, 5); // after the run started: not part of the replay
    const a = await first.read(4, never);
    expect(a.records).toEqual(range(0, 4).map((i) => JSON.parse(order(i))));
    expect(a.end).toBe(false);
    await first.close();
    // A restarted partition reads on from the committed offset and ends at the same entry.
    const again = await open(a.offset);
    const b = await again.read(100, never);
    expect(b.records).toEqual(range(4, 6).map((i) => JSON.parse(order(i))));
    expect(b.end).toBe(true);
    await again.close();
  });

  it("loses and doubles nothing, and still completes, when a worker dies in the middle of a replay", async () => {
    const src = redisKey("crash-src");
    await produceAt(src, BASE, 0, 6000);
    const out = redisKey("crash-out");
    const f = new FleetHarness();
    fleet = f;
    crashing = await startCrashingWorker(f, "sink.redis-stream", 3);
    await f.startRun(
      "crash",
      brokerPipeline(redisReplay(src, { offset: `${BASE + 500}-0` }, { offset: `${BASE + 2499}-1` }), {
        type: "sink.redis-stream",
        config: { connection: "r", stream: out },
      }),
      {},
      bundle,
    );
    expect(await crashing.exited).toBe("SIGKILL");
    const crash = crashReport(crashing);
    expect(crash.written).toBeLessThan(4000);
    await f.startInProcess("survivor", catalog, runtimes);
    const done = await f.waitForStatus("crash", "completed", 60_000);
    expect(done.nodes.out?.in).toBe(4000);
    expect(await payloadsOf(out)).toEqual(range(1000, 4000).map(order));
  });
});

describe("replaying a NATS JetStream stream", () => {
  async function natsStream(label: string): Promise<string> {
    const name = uniqueName(`SLUICE_REPLAY_${label}`).replace(/-/g, "_");
    await jsm.streams.add({ name, subjects: [`${name}.>`] });
    natsStreams.push(name);
    return name;
  }

  async function publish(subject: string, ids: readonly number[]): Promise<void> {
    const js = jetstream(nc);
    for (const i of ids) await js.publish(subject, order(i));
  }

  /** The stream's storage time of its message `seq`. */
  async function storedAt(name: string, seq: number): Promise<number> {
    const msg = await jsm.streams.getMessage(name, { seq });
    if (!msg) throw new Error(`no message ${seq} in ${name}`);
    return msg.time.getTime();
  }

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it("reads the messages stored in [from, to] by time and by sequence, and the run completes", async () => {
    const name = await natsStream("time");
    await publish(`${name}.a`, range(0, 50));
    await sleep(30);
    await publish(`${name}.b`, range(50, 100));
    await sleep(30);
    await publish(`${name}.a`, range(150, 50));
    const from = await storedAt(name, 51);
    const to = await storedAt(name, 150);
    expect(from).toBeGreaterThan(await storedAt(name, 50));
    expect(to).toBeLessThan(await storedAt(name, 151));
    const f = await startFleet();

    const out = redisKey("nats-time");
    const live = { connection: "n", stream: name, consumer: "live-consumer", start: "latest" };
    await f.startRun(
      "nats-time",
      brokerPipeline(
        {
          type: "source.nats-jetstream",
          config: replayConfig("source.nats-jetstream", live, { time: from }, { time: to }),
        },
        { type: "sink.redis-stream", config: { connection: "r", stream: out } },
      ),
      {},
      bundle,
    );
    const done = await f.waitForStatus("nats-time", "completed");
    expect(done.nodes.src?.out).toBe(100);
    expect(await payloadsOf(out)).toEqual(range(50, 100).map(order));

    // By sequence, two subjects over two partitions, up to the last message when the run started.
    const bySeq = redisKey("nats-seq");
    const config = replayConfig(
      "source.nats-jetstream",
      { ...live, subject: [`${name}.a`, `${name}.b`] },
      { offset: "41" },
    );
    await f.startRun(
      "nats-seq",
      brokerPipeline(
        { type: "source.nats-jetstream", config },
        { type: "sink.redis-stream", config: { connection: "r", stream: bySeq } },
        { parallelism: 2 },
      ),
      {},
      bundle,
    );
    await f.waitForStatus("nats-seq", "completed");
    expect((await payloadsOf(bySeq)).sort()).toEqual(range(40, 160).map(order).sort());
    await expect(jsm.consumers.info(name, "live-consumer")).rejects.toThrow();
  });

  it("loses and doubles nothing, and still completes, when a worker dies in the middle of a replay", async () => {
    const name = await natsStream("crash");
    await publish(`${name}.x`, range(0, 3000));
    const out = redisKey("nats-crash");
    const f = new FleetHarness();
    fleet = f;
    crashing = await startCrashingWorker(f, "sink.redis-stream", 3);
    const config = replayConfig(
      "source.nats-jetstream",
      { connection: "n", stream: name },
      { offset: "101" },
      { offset: "2600" },
    );
    await f.startRun(
      "nats-crash",
      brokerPipeline(
        { type: "source.nats-jetstream", config },
        { type: "sink.redis-stream", config: { connection: "r", stream: out } },
      ),
      {},
      bundle,
    );
    expect(await crashing.exited).toBe("SIGKILL");
    expect(crashReport(crashing).written).toBeLessThan(2500);
    await f.startInProcess("survivor", catalog, runtimes);
    const done = await f.waitForStatus("nats-crash", "completed", 60_000);
    expect(done.nodes.out?.in).toBe(2500);
    expect(await payloadsOf(out)).toEqual(range(100, 2500).map(order));
  });
});
