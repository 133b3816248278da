import { FleetHarness, waitFor } from "@sluice/test-kit/fleet-harness";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TcpProxy } from "../../../test/tcp-proxy";
import { catalog } from "../../catalog";
import type { ConnectionBundle } from "../../runtime-contract";
import { runtimes } from "../../runtimes";
import { local } from "../../testing/local-destinations";
import { testContext } from "../../testing/operator-harness";
import {
  brokerPipeline,
  type CrashingWorker,
  crashReport,
  deadLetters,
  startCrashingWorker,
  stopChild,
} from "../messaging/testing/broker-fleet";
import { type PrivateServer, privateRedis, uniqueName } from "../test-servers";
import { redisConnectionRuntime } from "./redis-connection.run";
import { redisStreamSinkDef } from "./redis-stream-sink.def";
import { CHUNK, redisStreamSinkRuntime, writtenBatchesKey } from "./redis-stream-sink.run";
import { redisStreamSourceDef } from "./redis-stream-source.def";
import { redisStreamSourceRuntime } from "./redis-stream-source.run";

// Redis Streams against the real Redis on 6379 (and a private one with a password): connection test and discovery,
// the sink's idempotent batches and trimming, and whole runs through the engine — exact contents, the server going
// away and coming back, a refused password, malformed entries, a worker dying between write and commit.

const URL = "redis://127.0.0.1:6379/0";
let redis: Redis;
const streams: string[] = [];
let fleet: FleetHarness | undefined;
let proxy: TcpProxy | undefined;
let server: PrivateServer | undefined;
let crashing: CrashingWorker | undefined;

beforeAll(() => {
  redis = new Redis(URL);
});
afterEach(async () => {
  stopChild(crashing);
  crashing = undefined;
  await fleet?.close();
  fleet = undefined;
  await proxy?.close();
  proxy = undefined;
  await server?.stop();
  server = undefined;
});
afterAll(async () => {
  for (const s of streams) await redis.del(s, writtenBatchesKey(s));
  redis.disconnect();
});

function stream(label: string): string {
  const name = uniqueName(`sluice-test-${label}`);
  streams.push(name);
  return name;
}

const order = (i: number) => JSON.stringify({ id: i, user: `u${i % 7}`, amount: i * 1.5 });

async function produce(key: string, payloads: readonly string[]): Promise<void> {
  for (let i = 0; i < payloads.length; i += 1000) {
    const p = redis.pipeline();
    for (const payload of payloads.slice(i, i + 1000)) p.xadd(key, "*", "data", payload);
    await p.exec();
  }
}

async function payloadsOf(key: string): Promise<string[]> {
  const entries = await redis.xrange(key, "-", "+");
  return entries.map(([, fields]) => fields[fields.indexOf("data") + 1]!);
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
const bundle = (url = URL, extra: Record<string, unknown> = {}): ConnectionBundle => ({
  r: { type: "redis", config: { url, ...extra } },
});
const never = new AbortController().signal;

describe("Redis connection", () => {
  it("says whether it can connect: working, wrong password, no password, nothing listening", async () => {
    expect(await redisConnectionRuntime.test({ url: URL } as never, never, local)).toMatchObject({
      ok: true,
      message: expect.stringMatching(/^connected to redis 127\.0\.0\.1:6379 \(Redis 7\./),
    });
    server = await privateRedis("s3cret-pw");
    const privateUrl = `redis://127.0.0.1:${server.port}`;
    expect(
      await redisConnectionRuntime.test({ url: privateUrl, password: "s3cret-pw" } as never, never, local),
    ).toMatchObject({
      ok: true,
    });
    const wrong = await redisConnectionRuntime.test({ url: privateUrl, password: "wrong" } as never, never, local);
    expect(wrong).toEqual({
      ok: false,
      problem: "auth-failed",
      message: `redis 127.0.0.1:${server.port} refused the user name or password (WRONGPASS)`,
    });
    expect(await redisConnectionRuntime.test({ url: privateUrl } as never, never, local)).toMatchObject({
      ok: false,
      problem: "auth-failed",
      message: expect.stringContaining("requires a password"),
    });
    const port = server.port;
    await server.stop();
    server = undefined;
    expect(await redisConnectionRuntime.test({ url: `redis://127.0.0.1:${port}` } as never, never, local)).toEqual({
      ok: false,
      problem: "host-unreachable",
      message: `nothing accepts connections at redis 127.0.0.1:${port} (connection refused)`,
    });
  });

  it("discovers stream keys and samples the newest entries of one", async () => {
    const key = stream("discover");
    await produce(key, range(1, 30).map(order));
    const all = await redisConnectionRuntime.discover!({ url: URL } as never, {}, never, local);
    expect(all.objects).toContainEqual({ kind: "stream", name: key, rows: 30 });
    const one = await redisConnectionRuntime.discover!({ url: URL } as never, { object: key, sample: 3 }, never, local);
    expect(one.sample).toEqual([28, 29, 30].map((i) => JSON.parse(order(i))));
    expect(one.objects[0]).toMatchObject({
      kind: "stream",
      name: key,
      rows: 30,
      fields: [
        { name: "id", type: "int", nullable: false },
        { name: "user", type: "string", nullable: false },
        { name: "amount", type: "float", nullable: false },
      ],
    });
  });
});

describe("Redis Streams sink", () => {
  it("writes a batch once however often it is written again, and a same-numbered batch of other records too", async () => {
    const out = stream("sink-idem");
    const ctx = testContext(redisStreamSinkDef, { connection: "r", stream: out }, { connections: bundle() });
    const writer = await redisStreamSinkRuntime.open(ctx as never);
    const batch = { batchId: "run:0:0:1", sequence: 1 };
    await writer.write([{ id: 1 }, { id: 2 }], batch);
    await writer.write([{ id: 1 }, { id: 2 }], batch);
    expect(await payloadsOf(out)).toEqual(['{"id":1}', '{"id":2}']);
    // A non-replayable source redelivered other records under the same sequence: written, not skipped.
    await writer.write([{ id: 1 }, { id: 2 }, { id: 3 }], batch);
    expect(await redis.xlen(out)).toBe(5);
    await writer.write([{ id: 4 }], { batchId: "run:0:0:2", sequence: 2 });
    expect(await redis.xlen(out)).toBe(6);
    await writer.close();
  });

  it("completes a batch cut short after some of its chunks, appending only what is missing", async () => {
    const out = stream("sink-resume");
    const writer = await redisStreamSinkRuntime.open(
      testContext(redisStreamSinkDef, { connection: "r", stream: out }, { connections: bundle() }) as never,
    );
    const records = range(0, 1000).map((id) => ({ id }));
    // A crash after the first two chunks of batch 1 (CHUNK entries each) left exactly what writing its first
    // 2 × CHUNK records leaves: the same entries, the same links.
    await writer.write(records.slice(0, 2 * CHUNK), { batchId: "run:0:0:1", sequence: 1 });
    await writer.write(records, { batchId: "run:0:0:1", sequence: 1 });
    await writer.write(records, { batchId: "run:0:0:1", sequence: 1 });
    expect(await payloadsOf(out)).toEqual(records.map((r) => JSON.stringify(r)));
    // The replay carries other records from the third chunk on: those are appended, nothing is skipped.
    const other = records.map((r) => (r.id < 2 * CHUNK ? r : { id: r.id + 5000 }));
    await writer.write(other, { batchId: "run:0:0:1", sequence: 1 });
    expect(await redis.xlen(out)).toBe(2000 - 2 * CHUNK);
    await writer.close();
  });

  it("writes and reads with an ACL user, in another database, and after the server lost its scripts", async () => {
    server = await privateRedis("admin-pw");
    const admin = new Redis({ port: server.port, password: "admin-pw", db: 3 });
    try {
      await admin.call("ACL", "SETUSER", "sluice", "on", ">user-pw", "~*", "&*", "+@all");
      const conn = bundle(`redis://127.0.0.1:${server.port}/3`, { username: "sluice", password: "user-pw" });
      const writer = await redisStreamSinkRuntime.open(
        testContext(redisStreamSinkDef, { connection: "r", stream: "acl-out" }, { connections: conn }) as never,
      );
      await writer.write([{ id: 1 }, { id: 2 }], { batchId: "a:0:0:1", sequence: 1 });
      await admin.script("FLUSH");
      await writer.write([{ id: 3 }], { batchId: "a:0:0:2", sequence: 2 });
      await writer.write([{ id: 3 }], { batchId: "a:0:0:2", sequence: 2 });
      await writer.close();
      expect(await admin.xlen("acl-out")).toBe(3);
      const reader = await redisStreamSourceRuntime.open(
        testContext(redisStreamSourceDef, { connection: "r", stream: "acl-out" }, { connections: conn }) as never,
        null,
      );
      expect((await reader.read(10, never)).records).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
      await reader.close();
      const clients = String(await admin.call("CLIENT", "LIST"));
      expect(clients).toContain("user=sluice");
    } finally {
      admin.disconnect();
    }
  });

  it("trims exactly or approximately, once per batch", async () => {
    const exact = stream("sink-exact");
    const approx = stream("sink-approx");
    const open = (key: string, trim: string) =>
      redisStreamSinkRuntime.open(
        testContext(
          redisStreamSinkDef,
          { connection: "r", stream: key, trim, maxLen: 100 },
          { connections: bundle() },
        ) as never,
      );
    const records = range(0, 1000).map((id) => ({ id }));
    const e = await open(exact, "exact");
    await e.write(records, { batchId: "x:0:0:1", sequence: 1 });
    expect(await redis.xlen(exact)).toBe(100);
    expect((await payloadsOf(exact))[0]).toBe('{"id":900}');
    const a = await open(approx, "approximate");
    await a.write(records, { batchId: "x:0:0:1", sequence: 1 });
    const len = await redis.xlen(approx);
    expect(len).toBeGreaterThanOrEqual(100);
    expect(len).toBeLessThan(1000);
    await e.close();
    await a.close();
  });

  it("writes the record's fields as the entry's fields", async () => {
    const out = stream("sink-fields");
    const writer = await redisStreamSinkRuntime.open(
      testContext(
        redisStreamSinkDef,
        { connection: "r", stream: out, format: "fields" },
        { connections: bundle() },
      ) as never,
    );
    await writer.write([{ sensor: "s1", value: 21.5, tags: ["a"], gone: null }], { batchId: "f:0:0:1", sequence: 1 });
    const entries = await redis.xrange(out, "-", "+");
    expect(entries[0]?.[1]).toEqual(["sensor", "s1", "value", "21.5", "tags", '["a"]']);
    await writer.close();
  });
});

describe("Redis Streams source", () => {
  it("reads entries' own fields, binary payloads, and new entries only", async () => {
    const key = stream("src-formats");
    await redis.xadd(key, "*", "sensor", "s1", "value", "21.5");
    const fields = await redisStreamSourceRuntime.open(
      testContext(
        redisStreamSourceDef,
        {
          connection: "r",
          stream: key,
          format: "fields",
          fields: ["sensor", { name: "value", type: "float" }],
          metadata: true,
        },
        { connections: bundle() },
      ) as never,
      null,
    );
    const batch = await fields.read(10, never);
    expect(batch.records).toEqual([
      { sensor: "s1", value: 21.5, _stream: key, _id: expect.any(String), _time: expect.any(Number) },
    ]);
    expect(batch.offset).toEqual({ [key]: batch.records[0]!._id });
    await fields.close();

    const bin = stream("src-binary");
    await redis.xadd(bin, "*", "data", Buffer.from([0, 255, 1, 128]));
    const bytes = await redisStreamSourceRuntime.open(
      testContext(
        redisStreamSourceDef,
        { connection: "r", stream: bin, format: "bytes-base64" },
        { connections: bundle() },
      ) as never,
      null,
    );
    expect((await bytes.read(10, never)).records).toEqual([{ payload: "AP8BgA==" }]);
    await bytes.close();

    const late = stream("src-latest");
    await produce(late, [order(1)]);
    const latest = await redisStreamSourceRuntime.open(
      testContext(
        redisStreamSourceDef,
        { connection: "r", stream: late, start: "latest" },
        {
          connections: bundle(),
          runStartedAt: Date.now() + 5,
        },
      ) as never,
      null,
    );
    await new Promise((r) => setTimeout(r, 20));
    await produce(late, [order(2)]);
    expect((await latest.read(10, never)).records).toEqual([JSON.parse(order(2))]);
    await latest.close();
  });
});

describe("Redis Streams source reading ahead", () => {
  it("hands out no more than asked, and a reader opened at the committed offset goes on exactly there", async () => {
    const key = stream("src-ahead");
    await produce(key, range(0, 2500).map(order));
    const open = (from: Record<string, string> | null) =>
      redisStreamSourceRuntime.open(
        testContext(redisStreamSourceDef, { connection: "r", stream: key }, { connections: bundle() }) as never,
        from,
      );
    const first = await open(null);
    const a = await first.read(1000, never);
    const b = await first.read(7, never);
    expect([...a.records, ...b.records]).toEqual(range(0, 1007).map((i) => JSON.parse(order(i))));
    const [ids] = await Promise.all([redis.xrange(key, "-", "+", "COUNT", 1007)]);
    expect(b.offset).toEqual({ [key]: ids[1006]![0] });
    await first.close();
    const second = await open(b.offset as Record<string, string>);
    const got: unknown[] = [];
    while (got.length < 1493) got.push(...(await second.read(400, never)).records);
    expect(got).toEqual(range(1007, 1493).map((i) => JSON.parse(order(i))));
    expect((await second.read(400, never)).records).toEqual([]);
    await second.close();
  });
});

describe("Redis Streams source offset lag", () => {
  const open = (key: string, extra: Record<string, unknown> = {}) =>
    redisStreamSourceRuntime.open(
      testContext(redisStreamSourceDef, { connection: "r", stream: key, ...extra }, { connections: bundle() }) as never,
      null,
    );

  it("counts the entries after the committed id exactly, reads or not, and falls to 0 once all are committed", async () => {
    const key = stream("lag-count");
    await produce(key, range(0, 2500).map(order));
    const reader = await open(key);
    expect(await reader.offsetLag!()).toEqual({ value: 2500, unit: "entries" });
    const a = await reader.read(1000, never);
    // Read is not committed: still all of it.
    expect((await reader.offsetLag!())!.value).toBe(2500);
    await reader.committed!(a.offset);
    expect((await reader.offsetLag!())!.value).toBe(1500);
    let last = a;
    const rest: unknown[] = [];
    while (rest.length < 1500) {
      last = await reader.read(1000, never);
      rest.push(...last.records);
    }
    await reader.committed!(last.offset);
    expect(await reader.offsetLag!()).toEqual({ value: 0, unit: "entries" });
    await produce(key, range(2500, 3).map(order));
    expect((await reader.offsetLag!())!.value).toBe(3);
    await reader.close();
  });

  it("counts past 10,000 from whichever side of the position is shorter, and estimates when both are longer", async () => {
    const key = stream("lag-long");
    await produce(key, range(0, 25_000).map(order));
    const ids = (await redis.xrange(key, "-", "+")).map(([id]) => id);
    const reader = await open(key);
    expect((await reader.offsetLag!())!.value).toBe(25_000);
    await reader.committed!({ [key]: ids[2999]! });
    expect((await reader.offsetLag!())!.value).toBe(22_000);
    await reader.committed!({ [key]: ids[19_999]! });
    expect((await reader.offsetLag!())!.value).toBe(5000);
    await reader.committed!({ [key]: ids[12_499]! });
    const estimate = (await reader.offsetLag!())!.value;
    expect(estimate).toBeGreaterThanOrEqual(10_000);
    expect(estimate).toBeLessThanOrEqual(15_000);
    await reader.close();
  });

  it("uses the consumer group's own lag where the server keeps it, and counts where it does not", async () => {
    const key = stream("lag-group");
    await produce(key, range(0, 40).map(order));
    const reader = await open(key, { group: "sluice-lag" });
    // Redis 7.0 added the group's lag; before it, the source always counts.
    const keepsLag = Number(/redis_version:(\d+)/.exec(await redis.info("server"))?.[1]) >= 7;
    const groupLag = async () => {
      const [g] = (await redis.xinfo("GROUPS", key)) as unknown[][];
      return keepsLag ? g![g!.indexOf("lag") + 1] : undefined;
    };
    // The group was created at the start: Redis 7 knows its lag exactly.
    if (keepsLag) expect(await groupLag()).toBe(40);
    expect(await reader.offsetLag!()).toEqual({ value: 40, unit: "entries" });
    const a = await reader.read(15, never);
    await reader.committed!(a.offset);
    // Moved to an id in the middle (XGROUP SETID), the group's lag is unknown to the server: counted instead.
    if (keepsLag) expect(await groupLag()).toBeNull();
    expect((await reader.offsetLag!())!.value).toBe(25);
    const rest: unknown[] = [];
    let b = a;
    while (rest.length < 25) {
      b = await reader.read(100, never);
      rest.push(...b.records);
    }
    await reader.committed!(b.offset);
    if (keepsLag) expect(await groupLag()).toBe(0);
    expect((await reader.offsetLag!())!.value).toBe(0);
    await reader.close();
  });
});

describe("Redis Streams through the engine", () => {
  async function startFleet() {
    fleet = new FleetHarness();
    await fleet.startInProcess("w1", catalog, runtimes);
    return fleet;
  }

  async function untilLength(key: string, n: number, timeoutMs = 30_000) {
    await waitFor(
      async () => (await redis.xlen(key)) >= n,
      timeoutMs,
      () => `waiting for ${n} entries in ${key}`,
    );
  }

  it("copies two streams over two partitions exactly, and moves the consumer group to what was committed", async () => {
    const a = stream("copy-a");
    const b = stream("copy-b");
    const out = stream("copy-out");
    const group = uniqueName("g");
    await produce(a, range(0, 3000).map(order));
    await produce(b, range(3000, 2000).map(order));
    const f = await startFleet();
    const def = brokerPipeline(
      { type: "source.redis-stream", config: { connection: "r", stream: [a, b], group } },
      { type: "sink.redis-stream", config: { connection: "r", stream: out } },
      { parallelism: 2 },
    );
    await f.startRun("copy", def, {}, bundle());
    await untilLength(out, 5000);
    await f.stopRun("copy");
    const done = await f.waitForStatus("copy", "stopped");
    expect(done.delivery).toBe("exactly-once");
    expect(done.nodes.src).toEqual({ in: 0, out: 5000, errors: 0 });
    expect(done.nodes.out).toEqual({ in: 5000, out: 0, errors: 0 });
    expect((await payloadsOf(out)).sort()).toEqual(range(0, 5000).map(order).sort());
    const [lastA] = await redis.xrevrange(a, "+", "-", "COUNT", 1);
    const groups = (await redis.xinfo("GROUPS", a)) as unknown[][];
    const info = groups[0]!;
    expect(info[info.indexOf("last-delivered-id") + 1]).toBe(lastA![0]);
    expect(info[info.indexOf("pending") + 1]).toBe(0);
  });

  it("keeps going while the server goes away and comes back, losing and doubling nothing", async () => {
    const src = stream("flaky-src");
    const out = stream("flaky-out");
    proxy = await TcpProxy.start(6379);
    const f = await startFleet();
    await produce(src, range(0, 1000).map(order));
    const def = brokerPipeline(
      { type: "source.redis-stream", config: { connection: "r", stream: src } },
      { type: "sink.redis-stream", config: { connection: "r", stream: out } },
    );
    await f.startRun("flaky", def, {}, bundle(`redis://127.0.0.1:${proxy.port}/0`));
    await untilLength(out, 1000);
    await proxy.cut();
    await produce(src, range(1000, 1000).map(order));
    await new Promise((r) => setTimeout(r, 1500));
    expect(await redis.xlen(out)).toBe(1000);
    expect((await f.snapshot("flaky"))?.status).toBe("running");
    await proxy.resume();
    await untilLength(out, 2000);
    await new Promise((r) => setTimeout(r, 500));
    await f.stopRun("flaky");
    await f.waitForStatus("flaky", "stopped");
    expect((await payloadsOf(out)).sort()).toEqual(range(0, 2000).map(order).sort());
  });

  it("fails the run, saying why, when the server refuses the password", async () => {
    server = await privateRedis("right-password");
    const f = await startFleet();
    const def = brokerPipeline(
      { type: "source.redis-stream", config: { connection: "r", stream: "anything" } },
      { type: "sink.discard", config: {} },
    );
    await f.startRun("badpw", def, {}, bundle(`redis://127.0.0.1:${server.port}`, { password: "wrong-password" }));
    const failed = await f.waitForStatus("badpw", "failed");
    expect(failed.error).toBe(
      `node src connection: "r": redis 127.0.0.1:${server.port} refused the user name or password (WRONGPASS)`,
    );
    expect(failed.error).not.toContain("wrong-password");
  });

  it("dead-letters entries it cannot read, with the reason and the entry id, and goes on", async () => {
    const src = stream("bad-src");
    const out = stream("bad-out");
    await produce(src, [order(1), "{oops", "42", order(2)]);
    const missing = await redis.xadd(src, "*", "payload", order(3));
    await produce(src, [order(4)]);
    const f = await startFleet();
    const def = brokerPipeline(
      { type: "source.redis-stream", config: { connection: "r", stream: src } },
      { type: "sink.redis-stream", config: { connection: "r", stream: out } },
    );
    await f.startRun("bad", def, {}, bundle());
    await untilLength(out, 3);
    await waitFor(async () => (await f.snapshot("bad"))?.nodes.src?.errors === 3, 10_000);
    await f.stopRun("bad");
    const done = await f.waitForStatus("bad", "stopped");
    expect(done.nodes.src).toEqual({ in: 0, out: 3, errors: 3 });
    expect(await payloadsOf(out)).toEqual([order(1), order(2), order(4)]);
    const letters = (await deadLetters(f, "bad")).sort((x, y) => x.error.localeCompare(y.error));
    expect(letters.map((l) => [l.nodeId, l.error])).toEqual([
      ["src", "expected a JSON object but found number 42"],
      ["src", expect.stringMatching(/^invalid JSON at line 1 column 2 \(position 2\)/)],
      ["src", 'the entry has no field "data"'],
    ]);
    expect(letters[2]!.record).toMatchObject({ fields: ["payload", order(3)], _stream: src, _id: missing });
    expect(letters[1]!.record).toMatchObject({ payload: "{oops", _stream: src });
  });

  it("loses and doubles nothing when a worker dies between the sink's write and the commit", async () => {
    const src = stream("crash-src");
    const out = stream("crash-out");
    await produce(src, range(0, 3000).map(order));
    const f = new FleetHarness();
    fleet = f;
    crashing = await startCrashingWorker(f, "sink.redis-stream", 3);
    const def = brokerPipeline(
      { type: "source.redis-stream", config: { connection: "r", stream: src } },
      { type: "sink.redis-stream", config: { connection: "r", stream: out } },
    );
    await f.startRun("crash", def, {}, bundle());
    expect(await crashing.exited).toBe("SIGKILL");
    // Batch sizes follow the byte budget (a first small read learns the record size), so the worker says what it
    // wrote. Batch 3 is in the stream, but the engine never committed it: it will be read and written again.
    const crash = crashReport(crashing);
    expect(crash.batchId).toBe("crash:0:0:3");
    expect(crash.records).toBeGreaterThan(0);
    expect(crash.written).toBeLessThan(3000);
    expect(await redis.xlen(out)).toBe(crash.written);
    expect((await f.snapshot("crash"))?.nodes.out?.in).toBe(crash.written - crash.records);
    await f.startInProcess("survivor", catalog, runtimes);
    await untilLength(out, 3000);
    await new Promise((r) => setTimeout(r, 500));
    await f.stopRun("crash");
    const done = await f.waitForStatus("crash", "stopped");
    expect(done.nodes.out?.in).toBe(3000);
    expect(await payloadsOf(out)).toEqual(range(0, 3000).map(order));
  });
});
