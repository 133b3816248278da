import { field, t } from "@sluice/pipeline/record-schema";
import { FleetHarness, waitFor } from "@sluice/test-kit/fleet-harness";
import amqp, { type Channel, type ChannelModel } from "amqplib";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TcpProxy } from "../../../test/tcp-proxy";
import { catalog } from "../../catalog";
import type { ConnectionBundle, SourceBatch } from "../../runtime-contract";
import { runtimes } from "../../runtimes";
import { local } from "../../testing/local-destinations";
import { testContext } from "../../testing/operator-harness";
import {
  brokerPipeline,
  type CrashingWorker,
  deadLetters,
  startCrashingWorker,
  stopChild,
} from "../messaging/testing/broker-fleet";
import { uniqueName } from "../test-servers";
import { rabbitmqConnectionRuntime } from "./rabbitmq-connection.run";
import { rabbitmqSinkDef } from "./rabbitmq-sink.def";
import { rabbitmqSinkRuntime } from "./rabbitmq-sink.run";
import { rabbitmqSourceDef } from "./rabbitmq-source.def";
import { rabbitmqSourceRuntime } from "./rabbitmq-source.run";

// RabbitMQ against the real broker on 5672 (guest/guest): connection test and discovery, the sink's confirms and
// routing, and whole runs through the engine, queue → queue — every message arriving, duplicates only after a
// failure, the broker going away and coming back, a refused password, malformed payloads, a worker dying between
// write and commit.

const URL = "amqp://127.0.0.1:5672/";
let model: ChannelModel;
let ch: Channel;
const queues: string[] = [];
const exchanges: string[] = [];
let fleet: FleetHarness | undefined;
let proxy: TcpProxy | undefined;
let crashing: CrashingWorker | undefined;

beforeAll(async () => {
  model = await amqp.connect("amqp://guest:guest@127.0.0.1:5672");
  ch = await model.createChannel();
});
afterEach(async () => {
  stopChild(crashing);
  crashing = undefined;
  await fleet?.close();
  fleet = undefined;
  await proxy?.close();
  proxy = undefined;
});
afterAll(async () => {
  for (const q of queues) await ch.deleteQueue(q).catch(() => {});
  for (const e of exchanges) await ch.deleteExchange(e).catch(() => {});
  await model.close();
});

async function queue(label: string): Promise<string> {
  const name = uniqueName(`sluice-test-${label}`);
  await ch.assertQueue(name, { durable: false });
  queues.push(name);
  return name;
}

const order = (i: number) => JSON.stringify({ id: i, user: `u${i % 7}`, amount: i * 1.5 });
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

function send(q: string, payloads: readonly string[]): void {
  for (const p of payloads) ch.sendToQueue(q, Buffer.from(p));
}

async function depth(q: string): Promise<number> {
  return (await ch.checkQueue(q)).messageCount;
}

/** Takes every message out of a queue (acknowledged): their payloads, in order. */
async function drain(q: string): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const m = await ch.get(q, { noAck: true });
    if (!m) return out;
    out.push(m.content.toString());
  }
}

function duplicates(got: readonly string[]): number {
  return got.length - new Set(got).size;
}

const bundle = (url = URL, password = "guest"): ConnectionBundle => ({
  q: { type: "rabbitmq", config: { url, username: "guest", password } },
});
const never = new AbortController().signal;

describe("RabbitMQ connection", () => {
  it("says whether it can connect: working, wrong password, unknown virtual host, nothing listening", async () => {
    expect(await rabbitmqConnectionRuntime.test({ url: URL, password: "guest" } as never, never, local)).toMatchObject({
      ok: true,
      message: expect.stringMatching(/^connected to rabbitmq 127\.0\.0\.1:5672 vhost \/ \(RabbitMQ 3\./),
    });
    expect(
      await rabbitmqConnectionRuntime.test({ url: URL, password: "wrongpassword" } as never, never, local),
    ).toEqual({
      ok: false,
      problem: "auth-failed",
      message: "rabbitmq 127.0.0.1:5672 vhost / refused the user name or password (ACCESS_REFUSED)",
    });
    expect(
      await rabbitmqConnectionRuntime.test(
        { url: "amqp://127.0.0.1:5672/no-such-vhost", password: "guest" } as never,
        never,
        local,
      ),
    ).toEqual({
      ok: false,
      problem: "permission",
      message:
        "rabbitmq 127.0.0.1:5672 vhost no-such-vhost: the virtual host does not exist, or the user may not use it",
    });
    expect(
      await rabbitmqConnectionRuntime.test({ url: "amqp://127.0.0.1:1/", password: "guest" } as never, never, local),
    ).toEqual({
      ok: false,
      problem: "host-unreachable",
      message: "nothing accepts connections at rabbitmq 127.0.0.1:1 vhost / (connection refused)",
    });
  });

  it("samples a queue and puts the messages back", async () => {
    const q = await queue("discover");
    send(q, range(1, 5).map(order));
    await waitFor(async () => (await depth(q)) === 5, 5000);
    const found = await rabbitmqConnectionRuntime.discover!(
      { url: URL, password: "guest" } as never,
      { object: q, sample: 3 },
      never,
      local,
    );
    expect(found.objects).toEqual([
      {
        kind: "queue",
        name: q,
        rows: 5,
        fields: [
          { name: "id", type: "int", nullable: false },
          { name: "user", type: "string", nullable: false },
          { name: "amount", type: "float", nullable: false },
        ],
      },
    ]);
    expect(found.sample).toEqual([1, 2, 3].map((i) => JSON.parse(order(i))));
    expect((await drain(q)).sort()).toEqual(range(1, 5).map(order).sort());
  });
});

describe("RabbitMQ sink", () => {
  it("routes by an expression per record, and fails a batch no queue takes instead of dropping it", async () => {
    const exchange = uniqueName("sluice-test-x");
    exchanges.push(exchange);
    await ch.assertExchange(exchange, "topic", { durable: false });
    const de = await queue("route-de");
    await ch.bindQueue(de, exchange, "orders.de");
    const ctx = testContext(
      rabbitmqSinkDef,
      { connection: "q", exchange, routingKeyExpression: "'orders.' || LOWER(country)" },
      // What the engine hands a sink: the schema of the records arriving at its input.
      {
        connections: bundle(),
        inputs: { in: { fields: [field("id", t.int), field("country", t.string)], open: false } },
      },
    );
    const writer = await rabbitmqSinkRuntime.open(ctx as never);
    await writer.write([{ id: 1, country: "DE" }], { batchId: "r:0:0:1", sequence: 1 });
    await waitFor(async () => (await depth(de)) === 1, 5000);
    await expect(
      writer.write(
        [
          { id: 2, country: "DE" },
          { id: 3, country: "FR" },
        ],
        { batchId: "r:0:0:2", sequence: 2 },
      ),
    ).rejects.toThrow(
      `1 of 2 messages were returned by rabbitmq 127.0.0.1:5672 vhost /: no queue is bound to exchange "${exchange}" for their routing key`,
    );
    // Written again (the engine retries): the confirmed message is not published twice.
    await ch.bindQueue(de, exchange, "orders.fr");
    await writer.write(
      [
        { id: 2, country: "DE" },
        { id: 3, country: "FR" },
      ],
      { batchId: "r:0:0:2", sequence: 2 },
    );
    await waitFor(async () => (await depth(de)) === 3, 5000);
    const got = await drain(de);
    expect(got).toEqual(['{"id":1,"country":"DE"}', '{"id":2,"country":"DE"}', '{"id":3,"country":"FR"}']);
    await writer.close();
  });

  it("fails a write while the broker is away, reconnects for the next one, and closes without hanging", async () => {
    const q = await queue("sink-away");
    const p = await TcpProxy.start(5672);
    proxy = p;
    const open = () =>
      rabbitmqSinkRuntime.open(
        testContext(
          rabbitmqSinkDef,
          { connection: "q", routingKey: q },
          { connections: bundle(`amqp://127.0.0.1:${p.port}/`) },
        ) as never,
      );
    const writer = await open();
    await writer.write([{ id: 1 }], { batchId: "a:0:0:1", sequence: 1 });
    await p.cut();
    // Whether the lost connection was noticed yet or not, the write fails (and the engine retries it).
    await expect(writer.write([{ id: 2 }], { batchId: "a:0:0:2", sequence: 2 })).rejects.toThrow(
      /rabbitmq 127\.0\.0\.1:\d+ vhost \//,
    );
    await p.resume();
    await writer.write([{ id: 2 }], { batchId: "a:0:0:2", sequence: 2 });
    await waitFor(async () => (await depth(q)) === 2, 5000);
    expect(await drain(q)).toEqual(['{"id":1}', '{"id":2}']);
    // The broker goes away just as the writer closes: amqplib's own close would wait for ever for the broker's
    // answer (the connection's "close" event comes after the close began); the writer's close still returns.
    const other = await open();
    await other.write([{ id: 3 }], { batchId: "a:0:0:3", sequence: 3 });
    const cut = p.cut();
    await other.close();
    await cut;
    await writer.close();
    expect(await drain(q)).toEqual(['{"id":3}']);
  });

  it("fails the run at start when the queue or the exchange does not exist", async () => {
    fleet = new FleetHarness();
    await fleet.startInProcess("w1", catalog, runtimes);
    await fleet.startRun(
      "noqueue",
      brokerPipeline(
        { type: "source.rabbitmq", config: { connection: "q", queue: "sluice-no-such-queue" } },
        { type: "sink.discard", config: {} },
      ),
      {},
      bundle(),
    );
    expect((await fleet.waitForStatus("noqueue", "failed")).error).toBe(
      'node src queue: there is no queue "sluice-no-such-queue" on rabbitmq 127.0.0.1:5672 vhost /',
    );
    await fleet.startRun(
      "noexchange",
      brokerPipeline(
        { type: "source.generator", config: { count: 5 } },
        { type: "sink.rabbitmq", config: { connection: "q", exchange: "sluice-no-such-exchange", routingKey: "x" } },
      ),
      {},
      bundle(),
    );
    expect((await fleet.waitForStatus("noexchange", "failed")).error).toBe(
      'node out exchange: there is no exchange "sluice-no-such-exchange" on rabbitmq 127.0.0.1:5672 vhost /',
    );
  });
});

describe("RabbitMQ source offset lag", () => {
  it("counts the queue's ready messages once and each partition's unacknowledged ones, down to 0 when committed", async () => {
    const q = await queue("lag");
    send(q, range(0, 300).map(order));
    await waitFor(
      async () => (await depth(q)) === 300,
      5000,
      () => "for 300 messages in the queue",
    );
    const open = (partition: number) =>
      rabbitmqSourceRuntime.open(
        testContext(
          rabbitmqSourceDef,
          { connection: "q", queue: q, prefetch: 100 },
          { connections: bundle(), partition, partitions: 2 },
        ) as never,
        null,
      );
    const readers = [await open(0), await open(1)];
    const lags = async () => Promise.all(readers.map(async (r) => (await r.offsetLag!())!));
    // Both prefetched 100; partition 0 also counts the 100 still ready. Nothing is lost from the sum.
    const settled = await waitFor(
      async () => {
        const l = await lags();
        return l[1]!.value === 100 && l[0]!.value === 200 ? l : undefined;
      },
      5000,
      () => "for both partitions to take their prefetch",
    );
    expect(settled.map((l) => l.unit)).toEqual(["messages", "messages"]);

    // Each partition reads its prefetch: read, not committed, the sum is still all of them.
    const first = await Promise.all(readers.map((r) => r.read(1000, AbortSignal.timeout(1000))));
    expect(first.map((b) => b.records.length)).toEqual([100, 100]);
    expect((await lags()).reduce((n, l) => n + l.value, 0)).toBe(300);
    const got = first.flatMap((b) => b.records);
    const commit = (i: number, b: SourceBatch) => readers[i]!.committed!(b.offset);
    await Promise.all(first.map((b, i) => commit(i, b)));
    await waitFor(
      async () => {
        for (const [i, r] of readers.entries()) {
          const b = await r.read(1000, AbortSignal.timeout(1000));
          got.push(...b.records);
          if (b.records.length > 0) await commit(i, b);
        }
        return got.length >= 300;
      },
      10_000,
      () => `read ${got.length} of 300`,
    );
    expect(got).toHaveLength(300);
    await waitFor(
      async () => (await lags()).every((l) => l.value === 0),
      5000,
      () => "for every acknowledgement",
    );
    for (const r of readers) await r.close();
    expect(await readers[0]!.offsetLag!()).toBeUndefined();
  });
});

describe("RabbitMQ through the engine", () => {
  async function startFleet() {
    fleet = new FleetHarness();
    await fleet.startInProcess("w1", catalog, runtimes);
    return fleet;
  }

  const pipeline = (from: string, to: string, settings: { parallelism?: number; batchSize?: number } = {}) =>
    brokerPipeline(
      { type: "source.rabbitmq", config: { connection: "q", queue: from } },
      { type: "sink.rabbitmq", config: { connection: "q", routingKey: to } },
      settings,
    );

  async function until(q: string, n: number, received: string[], timeoutMs = 30_000) {
    await waitFor(
      async () => {
        received.push(...(await drain(q)));
        return new Set(received).size >= n;
      },
      timeoutMs,
      () => `${new Set(received).size} of ${n} in ${q}`,
    );
  }

  it("passes every message exactly once over two competing partitions", async () => {
    const from = await queue("copy-in");
    const to = await queue("copy-out");
    send(from, range(0, 3000).map(order));
    const f = await startFleet();
    await f.startRun("copy", pipeline(from, to, { parallelism: 2 }), {}, bundle());
    const got: string[] = [];
    await until(to, 3000, got);
    await new Promise((r) => setTimeout(r, 300));
    got.push(...(await drain(to)));
    await f.stopRun("copy");
    const done = await f.waitForStatus("copy", "stopped");
    expect(done.delivery).toBe("at-least-once");
    expect(done.nodes.src).toEqual({ in: 0, out: 3000, errors: 0 });
    // No failure, so no duplicate, and everything acknowledged.
    expect(got.sort()).toEqual(range(0, 3000).map(order).sort());
    expect(await depth(from)).toBe(0);
  });

  it("gets through the broker going away and coming back: every message arrives", async () => {
    const from = await queue("flaky-in");
    const to = await queue("flaky-out");
    proxy = await TcpProxy.start(5672);
    const f = await startFleet();
    send(from, range(0, 1000).map(order));
    await f.startRun("flaky", pipeline(from, to), {}, bundle(`amqp://127.0.0.1:${proxy.port}/`));
    const got: string[] = [];
    await until(to, 1000, got);
    await proxy.cut();
    send(from, range(1000, 1000).map(order));
    await new Promise((r) => setTimeout(r, 1500));
    expect(await depth(to)).toBe(0);
    await proxy.resume();
    await until(to, 2000, got);
    await f.stopRun("flaky");
    await f.waitForStatus("flaky", "stopped");
    expect([...new Set(got)].sort()).toEqual(range(0, 2000).map(order).sort());
    expect(await depth(from)).toBe(0);
  });

  it("fails the run, saying why, when the broker refuses the password", async () => {
    const from = await queue("badpw");
    const f = await startFleet();
    await f.startRun("badpw", pipeline(from, from), {}, bundle(URL, "wrongpassword"));
    const failed = await f.waitForStatus("badpw", "failed");
    expect(failed.error).toBe(
      'node src connection: "q": rabbitmq 127.0.0.1:5672 vhost / refused the user name or password (ACCESS_REFUSED)',
    );
  });

  it("dead-letters messages it cannot read, with the reason and the routing key, and goes on", async () => {
    const from = await queue("bad-in");
    const to = await queue("bad-out");
    send(from, [order(1), "{oops", '"text"', order(2)]);
    const f = await startFleet();
    await f.startRun("bad", pipeline(from, to), {}, bundle());
    const got: string[] = [];
    await until(to, 2, got);
    await waitFor(async () => (await f.snapshot("bad"))?.nodes.src?.errors === 2, 10_000);
    await f.stopRun("bad");
    await f.waitForStatus("bad", "stopped");
    expect(got).toEqual([order(1), order(2)]);
    const letters = (await deadLetters(f, "bad")).sort((a, b) => a.error.localeCompare(b.error));
    expect(letters.map((l) => [l.nodeId, l.error, l.record])).toEqual([
      [
        "src",
        "expected a JSON object but found string text",
        { payload: '"text"', _exchange: "", _routing_key: from, _redelivered: false, _message_id: null },
      ],
      ["src", expect.stringMatching(/^invalid JSON at line 1 column 2/), expect.objectContaining({ payload: "{oops" })],
    ]);
    // Dead letters are acknowledged with their batch: nothing is left to come back.
    expect(await depth(from)).toBe(0);
  });

  it("loses nothing when a worker dies between the sink's write and the commit; only that batch comes twice", async () => {
    const from = await queue("crash-in");
    const to = await queue("crash-out");
    send(from, range(0, 3000).map(order));
    const f = new FleetHarness();
    fleet = f;
    crashing = await startCrashingWorker(f, "sink.rabbitmq", 3);
    await f.startRun("crash", pipeline(from, to, { batchSize: 500 }), {}, bundle());
    expect(await crashing.exited).toBe("SIGKILL");
    const crashed = /crashing after writing batch \S+ \((\d+) records\)/.exec(crashing.output.join(""));
    expect(crashed).not.toBeNull();
    const inCrashedBatch = Number(crashed![1]);
    await f.startInProcess("survivor", catalog, runtimes);
    const got: string[] = [];
    await until(to, 3000, got);
    await new Promise((r) => setTimeout(r, 500));
    got.push(...(await drain(to)));
    await f.stopRun("crash");
    await f.waitForStatus("crash", "stopped");
    expect([...new Set(got)].sort()).toEqual(range(0, 3000).map(order).sort());
    expect(duplicates(got)).toBeGreaterThan(0);
    expect(duplicates(got)).toBeLessThanOrEqual(inCrashedBatch);
    expect(await depth(from)).toBe(0);
  });
});
