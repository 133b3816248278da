import { FleetHarness, waitFor } from "@sluice/test-kit/fleet-harness";
import mqtt, { type MqttClient } from "mqtt";
import { afterEach, describe, expect, it } from "vitest";
import { TcpProxy } from "../../../test/tcp-proxy";
import { catalog } from "../../catalog";
import type { ConnectionBundle } from "../../runtime-contract";
import { runtimes } from "../../runtimes";
import { local } from "../../testing/local-destinations";
import {
  brokerPipeline,
  type CrashingWorker,
  deadLetters,
  startCrashingWorker,
  stopChild,
} from "../messaging/testing/broker-fleet";
import { type PrivateServer, privateMosquitto, uniqueName } from "../test-servers";
import { mqttConnectionRuntime } from "./mqtt-connection.run";

// MQTT against the real Mosquitto on 1883 (and a private one with a password file): connection test and discovery,
// and whole runs through the engine, MQTT source → MQTT sink, watched by a subscriber of the output topic — every
// message arriving, duplicates only after a failure, the broker going away and coming back, refused credentials,
// malformed payloads, a worker dying between write and commit.

const BROKER = "mqtt://127.0.0.1:1883";
let fleet: FleetHarness | undefined;
let proxy: TcpProxy | undefined;
let server: PrivateServer | undefined;
let crashing: CrashingWorker | undefined;
const clients: MqttClient[] = [];
/** Client ids of persistent sessions the runs created, removed after each test. */
let sessions: string[] = [];

afterEach(async () => {
  stopChild(crashing);
  crashing = undefined;
  await fleet?.close();
  fleet = undefined;
  await proxy?.close();
  proxy = undefined;
  await server?.stop();
  server = undefined;
  for (const c of clients.splice(0)) await c.endAsync(true).catch(() => {});
  // A clean start with the same client id ends the persistent session.
  for (const clientId of sessions) {
    const c = await mqtt.connectAsync(BROKER, { clientId, clean: true, protocolVersion: 5 });
    await c.endAsync();
  }
  sessions = [];
});

const order = (i: number) => JSON.stringify({ id: i, user: `u${i % 7}`, amount: i * 1.5 });
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
const bundle = (url = BROKER, extra: Record<string, unknown> = {}): ConnectionBundle => ({
  m: { type: "mqtt", config: { url, ...extra } },
});
const never = new AbortController().signal;

async function client(): Promise<MqttClient> {
  const c = await mqtt.connectAsync(BROKER, { protocolVersion: 5 });
  clients.push(c);
  return c;
}

/** A subscriber of `topic` (QoS 1) that keeps every payload it gets. */
async function collector(topic: string): Promise<string[]> {
  const got: string[] = [];
  const c = await client();
  c.on("message", (_t, payload) => got.push(payload.toString()));
  await c.subscribeAsync(topic, { qos: 1 });
  return got;
}

async function publish(topic: string, payloads: readonly string[]): Promise<void> {
  const c = await client();
  for (let i = 0; i < payloads.length; i += 200) {
    await Promise.all(payloads.slice(i, i + 200).map((p) => c.publishAsync(topic, p, { qos: 1 })));
  }
}

function duplicates(got: readonly string[]): string[] {
  const seen = new Set<string>();
  return got.filter((g) => {
    if (seen.has(g)) return true;
    seen.add(g);
    return false;
  });
}

/**
 * Waits until the run's subscriptions are in place: probes are published until one comes out of the pipeline
 * (messages published before the subscription would not reach it).
 */
async function subscribed(topic: string, got: readonly string[]): Promise<void> {
  const c = await client();
  await waitFor(
    async () => {
      if (got.some((g) => g.includes('"probe"'))) return true;
      await c.publishAsync(topic, JSON.stringify({ probe: true }), { qos: 1 });
      return false;
    },
    20_000,
    () => "waiting for the run to subscribe",
  );
}

const data = (got: readonly string[]) => got.filter((g) => !g.includes('"probe"'));

describe("MQTT connection", () => {
  it("says whether it can connect: working, wrong password, no credentials, nothing listening", async () => {
    expect(await mqttConnectionRuntime.test({ url: BROKER } as never, never, local)).toEqual({
      ok: true,
      message: "connected to mqtt 127.0.0.1:1883 (MQTT 5)",
      details: { protocolVersion: "5" },
    });
    server = await privateMosquitto("sluice", "right-pw");
    const url = `mqtt://127.0.0.1:${server.port}`;
    expect(
      await mqttConnectionRuntime.test({ url, username: "sluice", password: "right-pw" } as never, never, local),
    ).toMatchObject({
      ok: true,
    });
    const refused = {
      ok: false,
      problem: "auth-failed",
      message: `mqtt 127.0.0.1:${server.port} refused the user name or password (Connection refused: Not authorized)`,
    };
    expect(
      await mqttConnectionRuntime.test({ url, username: "sluice", password: "wrong" } as never, never, local),
    ).toEqual(refused);
    expect(
      await mqttConnectionRuntime.test(
        { url, username: "sluice", password: "wrong", protocolVersion: "3.1.1" } as never,
        never,
        local,
      ),
    ).toEqual(refused);
    expect(await mqttConnectionRuntime.test({ url } as never, never, local)).toEqual(refused);
    const port = server.port;
    await server.stop();
    server = undefined;
    expect(await mqttConnectionRuntime.test({ url: `mqtt://127.0.0.1:${port}` } as never, never, local)).toEqual({
      ok: false,
      problem: "host-unreachable",
      message: `nothing accepts connections at mqtt 127.0.0.1:${port} (connection refused)`,
    });
  });

  it("discovers the topics it hears, with samples", async () => {
    const prefix = uniqueName("sluice-test/discover");
    const c = await client();
    await c.publishAsync(`${prefix}/a`, order(1), { qos: 1, retain: true });
    await c.publishAsync(`${prefix}/b`, "plain text", { qos: 1, retain: true });
    const found = await mqttConnectionRuntime.discover!(
      { url: BROKER } as never,
      { object: `${prefix}/#`, sample: 5 },
      never,
      local,
    );
    expect(found.objects).toEqual(
      expect.arrayContaining([
        {
          kind: "topic",
          name: `${prefix}/a`,
          fields: expect.arrayContaining([{ name: "id", type: "int", nullable: false }]),
        },
        { kind: "topic", name: `${prefix}/b`, fields: [{ name: "payload", type: "string", nullable: false }] },
      ]),
    );
    expect(found.sample).toEqual(expect.arrayContaining([JSON.parse(order(1)), { payload: "plain text" }]));
    await c.publishAsync(`${prefix}/a`, "", { qos: 1, retain: true });
    await c.publishAsync(`${prefix}/b`, "", { qos: 1, retain: true });
  });
});

describe("MQTT through the engine", () => {
  async function startFleet() {
    fleet = new FleetHarness();
    await fleet.startInProcess("w1", catalog, runtimes);
    return fleet;
  }

  function run(label: string, partitions: number): { runId: string; topic: string; out: string } {
    const runId = uniqueName(label);
    for (let p = 0; p < partitions; p++) sessions.push(`sluice-${runId}-src-${p}`);
    const topic = uniqueName(`sluice-test/${label}`);
    return { runId, topic, out: `${topic}-out` };
  }

  const pipeline = (topic: string, out: string, parallelism = 1) =>
    brokerPipeline(
      { type: "source.mqtt", config: { connection: "m", topic: `${topic}/#` } },
      { type: "sink.mqtt", config: { connection: "m", topic: out } },
      { parallelism },
    );

  it("passes every message exactly once over two partitions sharing the subscription", async () => {
    const { runId, topic, out } = run("copy", 2);
    const got = await collector(out);
    const f = await startFleet();
    await f.startRun(runId, pipeline(topic, out, 2), {}, bundle());
    await subscribed(`${topic}/probe`, got);
    await publish(`${topic}/orders`, range(0, 2000).map(order));
    await waitFor(
      () => data(got).length >= 2000,
      30_000,
      () => `${data(got).length} of 2000`,
    );
    await new Promise((r) => setTimeout(r, 500));
    await f.stopRun(runId);
    const done = await f.waitForStatus(runId, "stopped");
    expect(done.delivery).toBe("at-least-once");
    // No failure, so no duplicate: each message exactly once.
    expect(data(got).sort()).toEqual(range(0, 2000).map(order).sort());
    const snapshot = done.nodes.src!;
    expect(snapshot.out).toBe(got.length);
  });

  it("gets through the broker going away and coming back: every message arrives", async () => {
    const { runId, topic, out } = run("flaky", 1);
    const got = await collector(out);
    proxy = await TcpProxy.start(1883);
    const f = await startFleet();
    await f.startRun(runId, pipeline(topic, out), {}, bundle(`mqtt://127.0.0.1:${proxy.port}`));
    await subscribed(`${topic}/probe`, got);
    await publish(`${topic}/orders`, range(0, 500).map(order));
    await waitFor(() => data(got).length >= 500, 20_000);
    await proxy.cut();
    // The broker queues these in the run's session while it is away.
    await publish(`${topic}/orders`, range(500, 500).map(order));
    await new Promise((r) => setTimeout(r, 1500));
    expect(data(got).length).toBe(500);
    await proxy.resume();
    await waitFor(
      () => new Set(data(got)).size >= 1000,
      30_000,
      () => `${new Set(data(got)).size} of 1000`,
    );
    await f.stopRun(runId);
    await f.waitForStatus(runId, "stopped");
    expect([...new Set(data(got))].sort()).toEqual(range(0, 1000).map(order).sort());
  });

  it("fails the run, saying why, when the broker refuses the password", async () => {
    server = await privateMosquitto("sluice", "right-pw");
    const f = await startFleet();
    const def = brokerPipeline(
      { type: "source.mqtt", config: { connection: "m", topic: "anything" } },
      { type: "sink.discard", config: {} },
    );
    const runId = uniqueName("badpw");
    await f.startRun(
      runId,
      def,
      {},
      bundle(`mqtt://127.0.0.1:${server.port}`, { username: "sluice", password: "wrong-pw" }),
    );
    const failed = await f.waitForStatus(runId, "failed");
    expect(failed.error).toBe(
      `node src connection: "m": mqtt 127.0.0.1:${server.port} refused the user name or password (Connection refused: Not authorized)`,
    );
  });

  it("dead-letters messages it cannot read, with the reason and the topic, and goes on", async () => {
    const { runId, topic, out } = run("bad", 1);
    const got = await collector(out);
    const f = await startFleet();
    await f.startRun(runId, pipeline(topic, out), {}, bundle());
    await subscribed(`${topic}/probe`, got);
    await publish(`${topic}/orders`, [order(1), "{oops", "true", order(2)]);
    await waitFor(() => data(got).length >= 2, 10_000);
    await waitFor(async () => (await f.snapshot(runId))?.nodes.src?.errors === 2, 10_000);
    await f.stopRun(runId);
    await f.waitForStatus(runId, "stopped");
    expect(data(got)).toEqual([order(1), order(2)]);
    const letters = (await deadLetters(f, runId)).sort((a, b) => a.error.localeCompare(b.error));
    expect(letters.map((l) => [l.nodeId, l.error, l.record])).toEqual([
      [
        "src",
        "expected a JSON object but found boolean true",
        { payload: "true", _topic: `${topic}/orders`, _redelivered: false },
      ],
      ["src", expect.stringMatching(/^invalid JSON at line 1 column 2/), expect.objectContaining({ payload: "{oops" })],
    ]);
  });

  it("loses nothing when a worker dies between the sink's write and the commit; only that batch comes twice", async () => {
    const { runId, topic, out } = run("crash", 1);
    const got = await collector(out);
    const f = new FleetHarness();
    fleet = f;
    crashing = await startCrashingWorker(f, "sink.mqtt", 3);
    const def = brokerPipeline(
      { type: "source.mqtt", config: { connection: "m", topic: `${topic}/#`, maxInflight: 300 } },
      { type: "sink.mqtt", config: { connection: "m", topic: out } },
      { batchSize: 200 },
    );
    await f.startRun(runId, def, {}, bundle());
    await subscribed(`${topic}/probe`, got);
    // No more at once than the broker queues for a session while no worker is connected (Mosquitto keeps 1000
    // beyond those in flight, and drops the rest).
    await publish(`${topic}/orders`, range(0, 1000).map(order));
    expect(await crashing.exited).toBe("SIGKILL");
    const crashed = /crashing after writing batch \S+ \((\d+) records\)/.exec(crashing.output.join(""));
    expect(crashed).not.toBeNull();
    const inCrashedBatch = Number(crashed![1]);
    await f.startInProcess("survivor", catalog, runtimes);
    await waitFor(
      () => new Set(data(got)).size >= 1000,
      30_000,
      () => `${new Set(data(got)).size} of 1000`,
    );
    await publish(`${topic}/orders`, range(1000, 1000).map(order));
    await waitFor(
      () => new Set(data(got)).size >= 2000,
      30_000,
      () => `${new Set(data(got)).size} of 2000`,
    );
    await new Promise((r) => setTimeout(r, 500));
    await f.stopRun(runId);
    await f.waitForStatus(runId, "stopped");
    expect([...new Set(data(got))].sort()).toEqual(range(0, 2000).map(order).sort());
    // What the dead worker published but never committed was delivered again: those, and only as many, twice.
    const twice = duplicates(data(got)).length;
    expect(twice).toBeGreaterThan(0);
    expect(twice).toBeLessThanOrEqual(inCrashedBatch);
  });
});
