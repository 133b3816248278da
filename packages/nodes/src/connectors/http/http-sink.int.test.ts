import { FleetWorker } from "@sluice/engine/fleet-worker";
import { recordingLogger } from "@sluice/log/logger";
import type { DataRecord } from "@sluice/pipeline/record-schema";
import { FleetHarness } from "@sluice/test-kit/fleet-harness";
import { afterEach, describe, expect, it } from "vitest";
import { catalog } from "../../catalog";
import { PermanentConnectorError, type SinkWriter } from "../../runtime-contract";
import { runtimes } from "../../runtimes";
import { local, localDestinations } from "../../testing/local-destinations";
import { testContext } from "../../testing/operator-harness";
import { httpConnectionRuntime } from "./http-connection.run";
import { httpSinkDef } from "./http-sink.def";
import { httpSinkRuntime } from "./http-sink.run";
import { TestReceiver } from "./test-receiver";

// The HTTP sink against a real HTTP server on loopback: exact delivery through the engine, a receiver that is busy
// or rate-limiting for a while, refused credentials, timeouts.

let receiver: TestReceiver | undefined;
let harness: FleetHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
  await receiver?.close();
  receiver = undefined;
});

const never = new AbortController().signal;

function connection(r: TestReceiver, token = "Bearer good-token") {
  return { api: { type: "http", config: { baseUrl: `${r.url}/v1`, authValue: token } } };
}

async function openSink(r: TestReceiver, config: Record<string, unknown> = {}, token?: string) {
  const ctx = testContext(
    httpSinkDef,
    { connection: "api", path: "/events", ...config },
    {
      connections: connection(r, token),
    },
  );
  return (await httpSinkRuntime.open(ctx as never)) as SinkWriter;
}

const recs = (from: number, n: number): DataRecord[] => Array.from({ length: n }, (_, i) => ({ id: from + i, v: "x" }));

function pipeline(sink: Record<string, unknown>, count: number, parallelism = 2) {
  return {
    apiVersion: "sluice/v1",
    kind: "Pipeline",
    metadata: { name: "http-out" },
    spec: {
      settings: { parallelism, batchSize: 250, delivery: "exactly-once" },
      nodes: [
        { id: "gen", type: "source.generator", config: { count, rate: 0, seed: 3 } },
        { id: "out", type: "sink.http", config: { connection: "api", path: "/events", ...sink } },
      ],
      edges: [{ from: "gen", to: "out" }],
    },
  };
}

describe("sink.http", () => {
  it("delivers every record once through the engine, with credential, batch id and idempotency key", async () => {
    receiver = await TestReceiver.start();
    harness = new FleetHarness();
    await harness.startInProcess("w1", catalog, runtimes);
    await harness.startRun("out", pipeline({}, 5000), {}, connection(receiver));
    const done = await harness.waitForStatus("out", "completed");
    expect(done.delivery).toBe("exactly-once");
    expect(done.nodes.out?.in).toBe(5000);
    const records = receiver.records();
    expect(records).toHaveLength(5000);
    expect(new Set(records.map((r) => r.id)).size).toBe(5000);
    const first = receiver.accepted[0]!;
    expect(first.method).toBe("POST");
    expect(first.url).toBe("/v1/events");
    expect(first.headers.authorization).toBe("Bearer good-token");
    expect(first.headers["content-type"]).toBe("application/json");
    expect(first.headers["x-sluice-batch"]).toMatch(/^out:0:[01]:\d+$/);
    expect(first.headers["idempotency-key"]).toMatch(/^out:0:[01]:\d+\.0\.[0-9a-f]{16}$/);
    expect(Number(first.headers["x-sluice-records"])).toBe((JSON.parse(first.body) as unknown[]).length);
  });

  it("waits out a receiver that answers 503 and then 429 with Retry-After, and loses nothing", async () => {
    receiver = await TestReceiver.start();
    const downUntil = Date.now() + 2500;
    receiver.behaviour = (_req, n) => {
      if (Date.now() < downUntil)
        return { status: 503, headers: { "retry-after": "1" }, body: '{"error":"maintenance"}' };
      if (n % 3 === 0) return { status: 429, headers: { "retry-after": "0.2" }, body: '{"error":"slow down"}' };
      return undefined;
    };
    harness = new FleetHarness();
    await harness.startInProcess("w1", catalog, runtimes);
    await harness.startRun("busy", pipeline({ retries: 2, maxBackoff: "1s" }, 3000), {}, connection(receiver));
    await new Promise((r) => setTimeout(r, 1500));
    expect(receiver.accepted).toHaveLength(0);
    const done = await harness.waitForStatus("busy", "completed", 45_000);
    expect(done.nodes.out?.in).toBe(3000);
    const ids = receiver.records().map((r) => r.id);
    expect(ids).toHaveLength(3000);
    expect(new Set(ids).size).toBe(3000);
    expect(receiver.attempts).toBeGreaterThan(receiver.accepted.length + 3);
  });

  it("honours Retry-After, splits batches into requests, and sends JSON Lines", async () => {
    receiver = await TestReceiver.start();
    const times: number[] = [];
    receiver.behaviour = (_req, n) => {
      times.push(Date.now());
      return n === 1 ? { status: 429, headers: { "retry-after": "1" } } : undefined;
    };
    const sink = await openSink(receiver, { format: "ndjson", maxRecordsPerRequest: 40 });
    await sink.write(recs(0, 100), { batchId: "r:0:0:1", sequence: 1 });
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(950);
    expect(receiver.accepted.map((r) => r.body.split("\n").filter(Boolean).length)).toEqual([40, 40, 20]);
    expect(receiver.accepted.map((r) => (r.headers["idempotency-key"] as string).split(".")[1])).toEqual([
      "0",
      "1",
      "2",
    ]);
    expect(receiver.records().map((r) => r.id)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    // The same batch again (a replay): the same keys, dropped by the receiver.
    await sink.write(recs(0, 100), { batchId: "r:0:0:1", sequence: 1 });
    expect(receiver.duplicates).toHaveLength(3);
    // A replay that read more records than the crashed attempt: a new key, so it is not dropped.
    await sink.write(recs(0, 101), { batchId: "r:0:0:1", sequence: 1 });
    expect(receiver.accepted).toHaveLength(4);
    await sink.close();
  });

  it("gives up on 4xx at once, naming the status and the receiver's words", async () => {
    receiver = await TestReceiver.start();
    receiver.behaviour = (req) =>
      req.headers.authorization === "Bearer good-token"
        ? { status: 422, body: '{"error":"field amount is required"}' }
        : { status: 401, body: '{"error":"invalid token"}' };
    const bad = await openSink(receiver, {}, "Bearer wrong");
    const error = await bad.write(recs(0, 3), { batchId: "r:0:0:1", sequence: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentConnectorError);
    expect((error as Error).message).toBe(
      `POST http://127.0.0.1:${receiver.port}/v1/events answered 401 Unauthorized: {"error":"invalid token"}`,
    );
    expect(receiver.attempts).toBe(1);
    const refused = await openSink(receiver);
    await expect(refused.write(recs(0, 3), { batchId: "r:0:0:1", sequence: 1 })).rejects.toThrow(
      /answered 422 Unprocessable Entity: \{"error":"field amount is required"\}/,
    );
  });

  it("times out a receiver that never answers and tries again", async () => {
    receiver = await TestReceiver.start();
    receiver.behaviour = (_req, n) => (n === 1 ? "hang" : undefined);
    const sink = await openSink(receiver, { timeout: "300ms" });
    const started = Date.now();
    await sink.write(recs(0, 5), { batchId: "r:0:0:1", sequence: 1 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(receiver.accepted).toHaveLength(1);
    await sink.close();
  });

  it("fails the run, saying why, when the receiver refuses the credential, and commits nothing", async () => {
    receiver = await TestReceiver.start();
    receiver.behaviour = () => ({ status: 401, body: '{"error":"invalid token"}' });
    harness = new FleetHarness();
    const logged: string[] = [];
    const worker = new FleetWorker({
      connect: () => harness!.connect("w"),
      prefix: harness.prefix,
      catalog,
      runtimes,
      workerId: "w",
      secretKey: harness.secretKey,
      destinations: localDestinations,
      log: recordingLogger(({ message, fields }) => logged.push(`${message} ${JSON.stringify(fields)}`)),
    });
    await worker.start();
    try {
      await harness.startRun("denied", pipeline({}, 500, 1), {}, connection(receiver, "Bearer expired"));
      // Retrying cannot fix a refused credential: the run fails at once with the receiver's answer.
      const failed = await harness.waitForStatus("denied", "failed", 15_000);
      expect(failed.error).toContain("401 Unauthorized");
      expect(failed.error).toContain('{"error":"invalid token"}');
      expect(failed.error).not.toContain("expired");
      expect(failed.nodes.out?.in ?? 0).toBe(0);
      expect(receiver.accepted).toHaveLength(0);
      expect(logged.join("\n")).not.toContain("expired");
    } finally {
      await worker.close();
    }
  });
});

describe("http connection", () => {
  it("tells a refused credential, an unreachable host and a working endpoint apart", async () => {
    receiver = await TestReceiver.start();
    receiver.behaviour = (req) =>
      req.headers["x-api-key"] === "k1" ? { status: 405, body: "" } : { status: 403, body: "forbidden" };
    const base = { baseUrl: `${receiver.url}/v1`, authHeader: "X-Api-Key", headers: {}, tlsVerify: true };
    expect(await httpConnectionRuntime.test({ ...base, authValue: "k1" }, never, local)).toMatchObject({
      ok: true,
      message: expect.stringContaining("405"),
    });
    expect(await httpConnectionRuntime.test({ ...base, authValue: "nope" }, never, local)).toMatchObject({
      ok: false,
      problem: "auth-failed",
      message: expect.stringContaining("refused the credential (403 Forbidden)"),
    });
    expect(await httpConnectionRuntime.test({ ...base, baseUrl: "http://127.0.0.1:1/" }, never, local)).toMatchObject({
      ok: false,
      problem: "host-unreachable",
    });
  });
});
