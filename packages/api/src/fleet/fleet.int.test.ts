import { catalog } from "@sluice/nodes/catalog";
import { runtimes } from "@sluice/nodes/runtimes";
import { QUEUE_CONTROL, QUEUE_PREVIEW, QUEUE_TASKS, WORKER_TTL_MS } from "@sluice/pipeline/control/protocol";
import { emptyDefinition } from "@sluice/pipeline/definition";
import { type ApiHarness, createApiHarness } from "@sluice/test-kit/api-harness";
import { FleetHarness, waitFor } from "@sluice/test-kit/fleet-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetView } from "./fleet-router.types";

// fleet.list against a real worker on the real Redis: the worker's heartbeat shows it alive with the partitions it
// holds and what its process uses; a member of another workspace sees those partitions counted, not named; a worker
// that stops is listed dead, last, with no partitions.

let fleet: FleetHarness;
let h: ApiHarness;

beforeAll(async () => {
  fleet = new FleetHarness();
  h = await createApiHarness("fleet", { prefix: fleet.prefix, secretKey: fleet.secretKey });
});
afterAll(async () => {
  await fleet?.close();
  await h?.close();
});

function endless() {
  const def = emptyDefinition("fleet-endless");
  def.spec.settings.parallelism = 2;
  def.spec.nodes.push(
    { id: "gen", type: "source.generator", config: { rate: 20 } },
    { id: "out", type: "sink.console", config: {} },
  );
  def.spec.edges.push({ from: "gen", to: "out" });
  return def;
}

describe("fleet.list", () => {
  it("shows a worker alive with its partitions, CPU and memory, then dead once it stops", async () => {
    const owner = await h.signUp("Owner");
    const { api } = await h.caller(owner.cookie);
    const outsider = await h.signUp("Outsider");
    const { api: other } = await h.caller(outsider.cookie);

    const before = await api.fleet.list();
    expect(before.workers).toEqual([]);
    expect(before.queues.map((q) => q.queue).sort()).toEqual([QUEUE_CONTROL, QUEUE_PREVIEW, QUEUE_TASKS].sort());

    const worker = await fleet.startInProcess("fleet-w1", catalog, runtimes);
    const { id: pipelineId } = await api.pipelines.create({ name: "Fleet endless", definition: endless() });
    const { id: runId } = await api.runs.start({ pipelineId });

    const holding = await waitFor(
      async () => {
        const view = await api.fleet.list();
        return view.workers[0]?.partitions.length === 2 ? view : undefined;
      },
      30_000,
      () => "waiting for the worker to hold both partitions",
    );
    const [w] = holding.workers as [FleetView["workers"][number]];
    expect(w).toMatchObject({ id: "fleet-w1", alive: true, stoppedAt: null, pid: process.pid, otherPartitions: 0 });
    expect(w.partitions.sort((a, b) => a.partition - b.partition)).toEqual([
      { runId, stage: 0, partition: 0 },
      { runId, stage: 0, partition: 1 },
    ]);
    expect(w.heartbeatAgeMs).toBeLessThan(WORKER_TTL_MS);
    expect(w.host).toBeTruthy();
    expect(w.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(w.node).toBe(process.version);
    expect(w.slots).toBe(64);
    expect(w.startedAt).toBeLessThanOrEqual(Date.now());
    expect(w.cpuCores).toBeGreaterThanOrEqual(0);
    expect(w.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(w.heapUsedBytes).toBeGreaterThan(0);
    expect(w.heapUsedBytes).toBeLessThan(w.rssBytes as number);
    // The two partitions are the task queue's active jobs.
    expect(holding.queues.find((q) => q.queue === QUEUE_TASKS)).toMatchObject({ active: 2, waiting: 0 });

    // Another workspace sees the shared fleet, but not which runs it is busy with.
    const seenByOther = await other.fleet.list();
    expect(seenByOther.workers[0]).toMatchObject({ id: "fleet-w1", alive: true, partitions: [], otherPartitions: 2 });
    expect(JSON.stringify(seenByOther)).not.toContain(runId);

    await api.runs.stop({ runId });
    await worker.close();
    const after = await api.fleet.list();
    expect(after.workers).toHaveLength(1);
    expect(after.workers[0]).toMatchObject({ id: "fleet-w1", alive: false, partitions: [], cpuCores: null });
    expect(after.workers[0]?.stoppedAt).toBeGreaterThan(w.startedAt as number);
    expect(after.workers[0]?.host).toBe(w.host);
  });

  it("lists a worker that died without a word as dead, after the live ones, until the fleet forgets it", async () => {
    const { cookie } = await h.signUp("Watcher");
    const { api } = await h.caller(cookie);
    const now = Date.now();
    const describe = (id: string, seenAt: number) =>
      JSON.stringify({
        id,
        host: "box-1",
        pid: 42,
        version: "0.1.0",
        node: "v22.12.0",
        startedAt: seenAt - 60_000,
        slots: 8,
        partitions: [{ runId: "gone", stage: 0, partition: 0 }],
        cpuCores: 0.5,
        memory: { rssBytes: 1, heapUsedBytes: 1 },
        seenAt,
      });
    const keys = h.deps.keys;
    // Start from an empty fleet: the worker of the test before, stopped, is still listed.
    await h.redis.del(keys.workers);
    await h.redis
      .multi()
      .zadd(keys.workers, now - 120_000, "crashed")
      .set(keys.worker("crashed"), describe("crashed", now - 120_000))
      .zadd(keys.workers, now, "healthy")
      .set(keys.worker("healthy"), describe("healthy", now))
      .zadd(keys.workers, now - 2 * 3_600_000, "forgotten")
      .exec();
    const view = await api.fleet.list();
    expect(view.workers.map((w) => [w.id, w.alive])).toEqual([
      ["healthy", true],
      ["crashed", false],
    ]);
    const crashed = view.workers[1];
    expect(crashed).toMatchObject({ stoppedAt: null, host: "box-1", partitions: [], otherPartitions: 0 });
    expect(crashed?.heartbeatAgeMs).toBeGreaterThanOrEqual(120_000);
    expect(crashed?.heartbeatAgeMs).toBeLessThan(130_000);
    // The healthy one's partition is of a run no workspace here owns: counted, not named.
    expect(view.workers[0]).toMatchObject({ partitions: [], otherPartitions: 1 });
    await h.redis.del(keys.workers, keys.worker("crashed"), keys.worker("healthy"));
  });
});
