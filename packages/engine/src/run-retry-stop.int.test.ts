import { createServer } from "node:net";
import { catalog as standardCatalog } from "@sluice/nodes/catalog";
import { DestinationPolicy } from "@sluice/nodes/destination-policy";
import type { RuntimeRegistry } from "@sluice/nodes/runtime-contract";
import { runtimes as standardRuntimes } from "@sluice/nodes/runtimes";
import { createCatalog } from "@sluice/pipeline/node-definition";
import { FleetHarness, waitFor } from "@sluice/test-kit/fleet-harness";
import { keyCountDef, keyCountRuntime } from "@sluice/test-kit/test-nodes";
import { afterEach, describe, expect, it } from "vitest";
import { FleetWorker } from "./fleet-worker";

// A run whose source cannot connect: while it runs, its snapshot says why and how often it was tried; Stop ends it
// within seconds, even while its partition waits out a long retry delay. The same for a sink that cannot connect
// behind a shuffle: the stage cannot drain, so it stops where it is.

const catalog = createCatalog([...standardCatalog.list(), keyCountDef]);
const runtimes: RuntimeRegistry = {
  get: (type) => (type === keyCountRuntime.type ? keyCountRuntime : standardRuntimes.get(type)),
};

/** A TCP port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let harness: FleetHarness;
let worker: FleetWorker | undefined;
afterEach(async () => {
  await worker?.close();
  await harness?.close();
});

async function startWorker(): Promise<FleetWorker> {
  const w = new FleetWorker({
    connect: () => harness.connect("retry-worker"),
    prefix: harness.prefix,
    catalog,
    runtimes,
    workerId: "retry-worker",
    leaseMs: 2000,
    secretKey: harness.secretKey,
    // The closed port is on loopback, which workers refuse unless allowed.
    destinations: DestinationPolicy.fromSettings("127.0.0.1"),
  });
  await w.start();
  return w;
}

describe("a run that cannot reach a server", () => {
  it("shows the source's error and the retry count while running, and stops within 10 s", async () => {
    harness = new FleetHarness();
    worker = await startWorker();
    const port = await closedPort();
    const definition = {
      apiVersion: "sluice/v1",
      kind: "Pipeline",
      metadata: { name: "unreachable" },
      spec: {
        settings: { parallelism: 1 },
        nodes: [
          { id: "events", type: "source.redis-stream", config: { connection: "gone", stream: "events" } },
          { id: "out", type: "sink.console", config: {} },
        ],
        edges: [{ from: "events", to: "out" }],
      },
    };
    await harness.startRun(
      "unreachable",
      definition,
      {},
      {
        gone: { type: "redis", config: { url: `redis://127.0.0.1:${port}/0` } },
      },
    );

    // Retried with a growing delay; the snapshot names the error, the attempt and when the next one starts.
    const retrying = await waitFor(
      async () => {
        const s = await harness.snapshot("unreachable");
        const r = s?.retrying[0];
        return r && r.nextAt - Date.now() > 3000 ? { s, r } : undefined;
      },
      30_000,
      () => "waiting for a long retry delay",
    );
    expect(retrying.s.status).toBe("running");
    expect(retrying.r.attempt).toBeGreaterThanOrEqual(4);
    expect(retrying.r.error).toContain(String(port));
    expect(retrying.r).toMatchObject({ stage: 0, partition: 0 });

    // Stop wakes the waiting partition, which stops without its source.
    const stoppedAt = Date.now();
    await harness.stopRun("unreachable");
    const stopped = await harness.waitForStatus("unreachable", "stopped", 10_000);
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    expect(stopped.retrying).toEqual([]);
    expect(stopped.tasks).toEqual({ total: 1, done: 1 });
  }, 60_000);

  it("stops within 10 s while a sink behind a shuffle retries, writing nothing", async () => {
    harness = new FleetHarness();
    worker = await startWorker();
    const port = await closedPort();
    const definition = {
      apiVersion: "sluice/v1",
      kind: "Pipeline",
      metadata: { name: "sink-down" },
      spec: {
        settings: { parallelism: 2 },
        nodes: [
          { id: "gen", type: "source.generator", config: { count: 1000, rate: 0 } },
          { id: "count", type: "transform.key-count", config: { key: "country" } },
          { id: "out", type: "sink.redis-stream", config: { connection: "gone", stream: "counts" } },
        ],
        edges: [
          { from: "gen", to: "count" },
          { from: "count", to: "out" },
        ],
      },
    };
    await harness.startRun(
      "sink-down",
      definition,
      {},
      {
        gone: { type: "redis", config: { url: `redis://127.0.0.1:${port}/0` } },
      },
    );
    const retrying = await waitFor(
      async () => {
        const s = await harness.snapshot("sink-down");
        return s?.retrying.some((r) => r.attempt >= 3) ? s : undefined;
      },
      30_000,
      () => "waiting for the sink to retry",
    );
    expect(retrying.status).toBe("running");
    expect(retrying.retrying[0]?.stage).toBe(1);
    expect(retrying.retrying[0]?.error).toMatch(/^node out: /);

    const stoppedAt = Date.now();
    await harness.stopRun("sink-down");
    const stopped = await harness.waitForStatus("sink-down", "stopped", 10_000);
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    expect(stopped.nodes.gen?.out).toBe(1000);
    // Nothing of the batch that could not be written was committed.
    expect(stopped.nodes.out?.in ?? 0).toBe(0);
  }, 60_000);
});
