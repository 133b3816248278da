import { AckPolicy, DeliverPolicy, type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { FleetHarness, waitFor } from "@sluice/test-kit/fleet-harness";
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
import { type PrivateServer, privateNats, uniqueName } from "../test-servers";
import { natsConnectionRuntime } from "./nats-connection.run";
import { natsSinkDef } from "./nats-sink.def";
import { natsSinkRuntime } from "./nats-sink.run";
import { natsSourceDef } from "./nats-source.def";
import { natsSourceRuntime } from "./nats-source.run";

// NATS JetStream against the real server on 4222 (and a private one that requires a password): connection test
// and discovery, the sink's duplicate detection, and whole runs through the engine — exact contents over two
// partitions, the server going away and coming back, refused credentials, malformed messages, a worker dying
// between write and commit.

const SERVER = "nats://127.0.0.1:4222";
let nc: NatsConnection;
let jsm: JetStreamManager;
const streams: string[] = [];
let fleet: FleetHarness | undefined;
let proxy: TcpProxy | undefined;
let server: PrivateServer | undefined;
let crashing: CrashingWorker | undefined;

beforeAll(async () => {
  nc = await connect({ servers: SERVER });
  jsm = await jetstreamManager(nc);
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
  for (const s of streams) await jsm.streams.delete(s).catch(() => {});
  await nc.close();
});

/** A stream of its own capturing `<name>.>`; returns its name (also the subject prefix). */
async function stream(label: string): Promise<string> {
  const name = uniqueName(`SLUICE_${label}`).replace(/-/g, "_");
  await jsm.streams.add({ name, subjects: [`${name}.>`] });
  streams.push(name);
  return name;
}

const order = (i: number) => JSON.stringify({ id: i, user: `u${i % 7}`, amount: i * 1.5 });
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

async function publish(subject: string, payloads: readonly string[]): Promise<void> {
  const js = jetstream(nc);
  for (let i = 0; i < payloads.length; i += 500) {
    await Promise.all(payloads.slice(i, i + 500).map((p) => js.publish(subject, p)));
  }
}

async function count(name: string): Promise<number> {
  return (await jsm.streams.info(name)).state.messages;
}

/** Every message of a stream, in order, as text. */
async function contents(name: string): Promise<string[]> {
  const n = await count(name);
  if (n === 0) return [];
  const consumer = await jetstream(nc).consumers.get(name, { deliver_policy: DeliverPolicy.All });
  const out: string[] = [];
  while (out.length < n) {
    const messages = await consumer.fetch({ max_messages: Math.min(1000, n - out.length), expires: 2000 });
    for await (const m of messages) out.push(m.string());
  }
  return out;
}

const bundle = (servers = SERVER, extra: Record<string, unknown> = {}): ConnectionBundle => ({
  n: { type: "nats", config: { servers, ...extra } },
});
const never = new AbortController().signal;

describe("NATS connection", () => {
  it("says whether it can connect: working, wrong password, wrong token, nothing listening", async () => {
    expect(await natsConnectionRuntime.test({ servers: SERVER } as never, never, local)).toMatchObject({
      ok: true,
      message: expect.stringMatching(
        /^connected to nats 127\.0\.0\.1:4222 \(NATS 2\.\d+\.\d+\); JetStream has \d+ streams?/,
      ),
    });
    server = await privateNats("sluice", "right-pw");
    const url = `nats://127.0.0.1:${server.port}`;
    expect(
      await natsConnectionRuntime.test({ servers: url, user: "sluice", password: "right-pw" } as never, never, local),
    ).toMatchObject({
      ok: true,
    });
    const refused = {
      ok: false,
      problem: "auth-failed",
      message: `nats 127.0.0.1:${server.port} refused the credentials (Authorization Violation)`,
    };
    expect(
      await natsConnectionRuntime.test({ servers: url, user: "sluice", password: "wrong" } as never, never, local),
    ).toEqual(refused);
    expect(await natsConnectionRuntime.test({ servers: url, token: "not-a-token" } as never, never, local)).toEqual(
      refused,
    );
    const port = server.port;
    await server.stop();
    server = undefined;
    expect(
      await natsConnectionRuntime.test({ servers: `nats://127.0.0.1:${port}` } as never, never, local),
    ).toMatchObject({
      ok: false,
      problem: "host-unreachable",
    });
  });

  it("discovers streams with their subjects and samples the newest messages of one", async () => {
    const name = await stream("DISCOVER");
    await publish(`${name}.orders`, range(1, 20).map(order));
    const all = await natsConnectionRuntime.discover!({ servers: SERVER } as never, {}, never, local);
    expect(all.objects).toContainEqual({ kind: "stream", name, rows: 20 });
    expect(all.objects).toContainEqual({ kind: "subject", name: `${name}/${name}.>` });
    const one = await natsConnectionRuntime.discover!(
      { servers: SERVER } as never,
      { object: name, sample: 3 },
      never,
      local,
    );
    expect(one.sample).toEqual([18, 19, 20].map((i) => JSON.parse(order(i))));
    expect(one.objects[0]).toMatchObject({ kind: "stream", name, rows: 20 });
  });
});

describe("NATS JetStream sink", () => {
  it("publishes a batch written twice once, within the stream's duplicate window", async () => {
    const name = await stream("SINK");
    const ctx = testContext(natsSinkDef, { connection: "n", subject: `${name}.out` }, { connections: bundle() });
    const writer = await natsSinkRuntime.open(ctx as never);
    const batch = { batchId: "run:0:0:1", sequence: 1 };
    await writer.write([{ id: 1 }, { id: 2 }], batch);
    await writer.write([{ id: 1 }, { id: 2 }], batch);
    expect(await contents(name)).toEqual(['{"id":1}', '{"id":2}']);
    // Other records under the same batch id (a non-replayable source's redelivery): published, not dropped.
    await writer.write([{ id: 2 }, { id: 3 }], batch);
    expect(await contents(name)).toEqual(['{"id":1}', '{"id":2}', '{"id":2}', '{"id":3}']);
    await writer.close();
  });

  it("fails the run at start when no stream captures the subject", async () => {
    fleet = new FleetHarness();
    await fleet.startInProcess("w1", catalog, runtimes);
    const def = brokerPipeline(
      { type: "source.generator", config: { count: 10 } },
      { type: "sink.nats-jetstream", config: { connection: "n", subject: uniqueName("nowhere") } },
    );
    await fleet.startRun("nostream", def, {}, bundle());
    const failed = await fleet.waitForStatus("nostream", "failed");
    expect(failed.error).toMatch(
      /^node out subject: no stream on nats 127\.0\.0\.1:4222 captures the subject "nowhere-/,
    );
  });
});

describe("NATS JetStream source offset lag", () => {
  it("counts the messages not acknowledged yet, delivered or not, and falls to 0 once all are committed", async () => {
    const name = await stream("lag");
    await publish(`${name}.a`, range(0, 300).map(order));
    const reader = await natsSourceRuntime.open(
      testContext(
        natsSourceDef,
        { connection: "n", stream: name },
        { connections: bundle(), runStartedAt: Date.now() },
      ) as never,
      null,
    );
    // Prefetched or still on the server: none of it is committed.
    expect(await reader.offsetLag!()).toEqual({ value: 300, unit: "messages" });
    const got: unknown[] = [];
    let batch = await reader.read(100, never);
    got.push(...batch.records);
    await reader.committed!(batch.offset);
    const left = 300 - got.length;
    expect(left).toBeLessThan(300);
    await waitFor(
      async () => (await reader.offsetLag!())!.value === left,
      5000,
      () => "for the first acknowledgement",
    );
    while (got.length < 300) {
      batch = await reader.read(1000, never);
      got.push(...batch.records);
    }
    expect((await reader.offsetLag!())!.value).toBe(left);
    await reader.committed!(batch.offset);
    await waitFor(
      async () => (await reader.offsetLag!())!.value === 0,
      5000,
      () => "for every acknowledgement",
    );
    await publish(`${name}.a`, range(300, 5).map(order));
    await waitFor(
      async () => (await reader.offsetLag!())!.value === 5,
      5000,
      () => "for 5 new messages",
    );
    await reader.close();
  });
});

describe("NATS JetStream through the engine", () => {
  async function startFleet() {
    fleet = new FleetHarness();
    await fleet.startInProcess("w1", catalog, runtimes);
    return fleet;
  }

  async function until(name: string, n: number, timeoutMs = 30_000) {
    await waitFor(
      async () => (await count(name)) >= n,
      timeoutMs,
      () => `waiting for ${n} messages in ${name}`,
    );
  }

  it("copies two subjects over two partitions exactly, acknowledging what was committed", async () => {
    const src = await stream("COPY");
    const out = await stream("COPY_OUT");
    await publish(`${src}.eu`, range(0, 2000).map(order));
    await publish(`${src}.us`, range(2000, 1500).map(order));
    const f = await startFleet();
    const consumer = uniqueName("copy");
    const def = brokerPipeline(
      {
        type: "source.nats-jetstream",
        config: { connection: "n", stream: src, subject: [`${src}.eu`, `${src}.us`], consumer },
      },
      { type: "sink.nats-jetstream", config: { connection: "n", subject: `${out}.all` } },
      { parallelism: 2 },
    );
    await f.startRun("copy", def, {}, bundle());
    await until(out, 3500);
    await new Promise((r) => setTimeout(r, 300));
    await f.stopRun("copy");
    const done = await f.waitForStatus("copy", "stopped");
    expect(done.delivery).toBe("exactly-once");
    expect(done.nodes.src).toEqual({ in: 0, out: 3500, errors: 0 });
    expect((await contents(out)).sort()).toEqual(range(0, 3500).map(order).sort());
    // Each consumer's acknowledgements stand at the last message of its subject.
    const eu = await jsm.consumers.info(src, `${consumer}-1`);
    expect(eu.config.ack_policy).toBe(AckPolicy.All);
    expect(eu.ack_floor.stream_seq).toBe(2000);
    expect(eu.num_ack_pending).toBe(0);
    expect((await jsm.consumers.info(src, `${consumer}-2`)).ack_floor.stream_seq).toBe(3500);
  });

  it("gets through the server going away and coming back, losing and doubling nothing", async () => {
    const src = await stream("FLAKY");
    const out = await stream("FLAKY_OUT");
    proxy = await TcpProxy.start(4222);
    const f = await startFleet();
    await publish(`${src}.in`, range(0, 1000).map(order));
    const def = brokerPipeline(
      { type: "source.nats-jetstream", config: { connection: "n", stream: src } },
      { type: "sink.nats-jetstream", config: { connection: "n", subject: `${out}.all` } },
    );
    await f.startRun("flaky", def, {}, bundle(`nats://127.0.0.1:${proxy.port}`));
    await until(out, 1000);
    await proxy.cut();
    await publish(`${src}.in`, range(1000, 1000).map(order));
    await new Promise((r) => setTimeout(r, 1500));
    expect(await count(out)).toBe(1000);
    await proxy.resume();
    await until(out, 2000);
    await new Promise((r) => setTimeout(r, 500));
    await f.stopRun("flaky");
    await f.waitForStatus("flaky", "stopped");
    expect((await contents(out)).sort()).toEqual(range(0, 2000).map(order).sort());
  });

  it("fails the run, saying why, when the server refuses the credentials", async () => {
    server = await privateNats("sluice", "right-pw");
    const f = await startFleet();
    const def = brokerPipeline(
      { type: "source.nats-jetstream", config: { connection: "n", stream: "ANY" } },
      { type: "sink.discard", config: {} },
    );
    await f.startRun("badtoken", def, {}, bundle(`nats://127.0.0.1:${server.port}`, { token: "bad-token" }));
    const failed = await f.waitForStatus("badtoken", "failed");
    expect(failed.error).toBe(
      `node src connection: "n": nats 127.0.0.1:${server.port} refused the credentials (Authorization Violation)`,
    );
  });

  it("fails the run at start when the stream does not exist", async () => {
    const f = await startFleet();
    const def = brokerPipeline(
      { type: "source.nats-jetstream", config: { connection: "n", stream: "SLUICE_NO_SUCH_STREAM" } },
      { type: "sink.discard", config: {} },
    );
    await f.startRun("nostream", def, {}, bundle());
    const failed = await f.waitForStatus("nostream", "failed");
    expect(failed.error).toBe('node src stream: there is no stream "SLUICE_NO_SUCH_STREAM" on nats 127.0.0.1:4222');
  });

  it("dead-letters messages it cannot read, with the reason, the subject and the sequence, and goes on", async () => {
    const src = await stream("BAD");
    const out = await stream("BAD_OUT");
    await publish(`${src}.in`, [order(1), "{oops", "[1,2]", order(2)]);
    const f = await startFleet();
    const def = brokerPipeline(
      { type: "source.nats-jetstream", config: { connection: "n", stream: src } },
      { type: "sink.nats-jetstream", config: { connection: "n", subject: `${out}.all` } },
    );
    await f.startRun("bad", def, {}, bundle());
    await until(out, 2);
    await waitFor(async () => (await f.snapshot("bad"))?.nodes.src?.errors === 2, 10_000);
    await f.stopRun("bad");
    const done = await f.waitForStatus("bad", "stopped");
    expect(done.nodes.src).toEqual({ in: 0, out: 2, errors: 2 });
    expect(await contents(out)).toEqual([order(1), order(2)]);
    const letters = (await deadLetters(f, "bad")).sort((a, b) => a.error.localeCompare(b.error));
    expect(letters.map((l) => [l.nodeId, l.error, l.record])).toEqual([
      [
        "src",
        "expected a JSON object but found an array",
        { payload: "[1,2]", _subject: `${src}.in`, _seq: 3, _time: expect.any(Number) },
      ],
      [
        "src",
        expect.stringMatching(/^invalid JSON at line 1 column 2/),
        expect.objectContaining({ payload: "{oops", _seq: 2 }),
      ],
    ]);
  });

  it("loses and doubles nothing when a worker dies between the sink's write and the commit", async () => {
    const src = await stream("CRASH");
    const out = await stream("CRASH_OUT");
    await publish(`${src}.in`, range(0, 3000).map(order));
    const f = new FleetHarness();
    fleet = f;
    crashing = await startCrashingWorker(f, "sink.nats-jetstream", 3);
    const def = brokerPipeline(
      { type: "source.nats-jetstream", config: { connection: "n", stream: src } },
      { type: "sink.nats-jetstream", config: { connection: "n", subject: `${out}.all` } },
    );
    await f.startRun("crash", def, {}, bundle());
    expect(await crashing.exited).toBe("SIGKILL");
    // Batch sizes follow the byte budget (a first small read learns the record size), so the worker says what it
    // wrote: batch 3 is in the stream, but the engine never committed it.
    const crash = crashReport(crashing);
    expect(crash.batchId).toBe("crash:0:0:3");
    expect(crash.records).toBeGreaterThan(0);
    expect(crash.written).toBeLessThan(3000);
    expect(await count(out)).toBe(crash.written);
    expect((await f.snapshot("crash"))?.nodes.out?.in).toBe(crash.written - crash.records);
    await f.startInProcess("survivor", catalog, runtimes);
    await until(out, 3000);
    await new Promise((r) => setTimeout(r, 500));
    await f.stopRun("crash");
    const done = await f.waitForStatus("crash", "stopped");
    expect(done.nodes.out?.in).toBe(3000);
    // The replayed batch 3 was published again under the same ids, and the stream dropped the copies.
    expect(await contents(out)).toEqual(range(0, 3000).map(order));
  });
});
