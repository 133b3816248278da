import { catalog } from "@sluice/nodes/catalog";
import {
  type CrashingWorker,
  type PgTarget,
  sql,
  startCrashWorker,
  targetFromUrl,
} from "@sluice/nodes/connectors/postgres/testing/postgres-test-support";
import { runtimes } from "@sluice/nodes/runtimes";
import type { TaskRef } from "@sluice/pipeline/control/keys";
import { emptyDefinition } from "@sluice/pipeline/definition";
import { createTestDatabase, type TestDatabase } from "@sluice/scripts/lib/test-db";
import { type ApiHarness, createApiHarness } from "@sluice/test-kit/api-harness";
import { FleetHarness, waitFor } from "@sluice/test-kit/fleet-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcileRuns } from "./run-reconciler";

// Dead letters fixed and replayed into a running job (the API's fix and replay), with the worker killed after the
// sink wrote the batch that carried them and before the engine committed it. The batch's recorded intent names the
// letters it took (BatchIntent.replayed), so the next owner builds that batch again from exactly those letters —
// the sink finds it written and skips it — and takes letters replayed while no worker ran only in the batches after.
// Built from whatever the replay stream held instead, the batch would carry the later letters into the skipped
// write (lost), or leave the first ones out and write them again in a later batch (doubled).

const ROWS = 60;
/** Every fifth order's price has a decimal comma, which CAST refuses: those orders become dead letters. */
const FAILING = Array.from({ length: ROWS / 5 }, (_, i) => (i + 1) * 5);
const FIX = "price = CAST(replace(price, ',', '.') AS double)";

let fleet: FleetHarness;
let h: ApiHarness;
let db: TestDatabase;
let target: PgTarget;

beforeAll(async () => {
  fleet = new FleetHarness();
  h = await createApiHarness("replay-crash", { prefix: fleet.prefix, secretKey: fleet.secretKey });
  // The orders and the sink's table live in a database of their own: the API refuses connections to its own.
  db = await createTestDatabase("replay-crash-orders");
  target = targetFromUrl(db.url);
});

afterAll(async () => {
  await fleet?.close();
  await h?.close();
  await db?.drop();
});

function ordersPipeline() {
  const def = emptyDefinition("replay-crash");
  def.spec.settings.parallelism = 1;
  def.spec.nodes.push(
    {
      id: "src",
      type: "source.postgres",
      // Polling keeps the run going once the table is read: dead letters are replayed into a running job only.
      config: { connection: "wh", table: "orders", cursor: "id", mode: "polling", pollInterval: "100ms" },
    },
    { id: "fix", type: "transform.map", config: { set: { price: "CAST(price AS double)" } } },
    { id: "out", type: "sink.postgres", config: { connection: "wh", table: "orders_out" } },
  );
  def.spec.edges.push({ from: "src", to: "fix" }, { from: "fix", to: "out" });
  return def;
}

describe("dead-letter replay and a worker crash", () => {
  it("writes each replayed record once when the worker dies between the sink's write and the commit", async () => {
    await sql(
      target,
      "CREATE TABLE orders (id int PRIMARY KEY, price text); CREATE TABLE orders_out (id int, price float8)",
    );
    await sql(
      target,
      `INSERT INTO orders SELECT i, i || CASE WHEN i % 5 = 0 THEN ',5' ELSE '.5' END FROM generate_series(1, ${ROWS}) i`,
    );
    const written = () => sql<{ id: number; price: number }>(target, "SELECT id, price FROM orders_out ORDER BY id");

    // The only worker at first: it dies right after its sink wrote the batch holding order 5, which reaches the
    // sink only as a replayed dead letter.
    let crashing: CrashingWorker | undefined;
    try {
      crashing = await startCrashWorker(fleet, { CRASH_AFTER_RECORD: "id=5" });
      const { cookie } = await h.signUp("Replayer");
      const { api } = await h.caller(cookie);
      await api.connections.create({ name: "wh", type: "postgres", config: { ...target } });
      const { id: pipelineId } = await api.pipelines.create({ name: "Orders", definition: ordersPipeline() });
      const { id: runId } = await api.runs.start({ pipelineId });
      const task: TaskRef = { runId, stage: 0, partition: 0 };
      const replayKey = fleet.keys.taskReplay(task);
      const output = () => crashing?.output.join("") ?? "";

      await waitFor(
        async () => {
          const nodes = (await fleet.snapshot(runId))?.nodes;
          return nodes?.out?.in === ROWS - FAILING.length && nodes.fix?.errors === FAILING.length;
        },
        45_000,
        () => `for the first pass over the orders; the worker said:\n${output()}`,
      );
      const { letters } = await api.runs.deadLetters({ runId });
      const idOf = (l: { record: unknown }) => (l.record as { id: number }).id;
      expect(letters.map(idOf).sort((a, b) => a - b)).toEqual(FAILING);
      expect(letters.every((l) => l.nodeId === "fix" && l.error.includes("CAST"))).toBe(true);

      // First replay: the orders 5…30, fixed. The worker takes them into one batch, its sink writes it, it dies.
      const first = letters.filter((l) => idOf(l) <= 30);
      expect(
        await api.runs.fixDeadLetters({ runId, ids: first.map((l) => l.id), expression: FIX, replay: true }),
      ).toEqual({ fixed: 6, failed: 0, firstError: null, remaining: 0, replayed: true });
      expect(await crashing.exited).toBe("SIGKILL");
      expect(output()).toMatch(/crashing after writing batch \S+ \(6 records\)/);

      // Killed inside the window: the sink holds the batch, the engine never committed it, and the batch's intent
      // names the six letters, which are still waiting in the replay stream.
      const state = await fleet.redis.hgetall(fleet.keys.taskState(task));
      const intent = JSON.parse(state.intent ?? "null") as { seq: number; replayed?: string[] } | null;
      expect(intent?.seq).toBe(Number(state.seq) + 1);
      const waiting = await fleet.redis.xrange(replayKey, "-", "+");
      expect(waiting).toHaveLength(6);
      expect(intent?.replayed).toEqual(waiting.map(([id]) => id));
      const [progress] = await sql<{ sequence: number }>(target, "SELECT sequence::int FROM sluice_sink_offsets");
      expect(progress?.sequence).toBe(intent?.seq);
      expect((await written()).filter((r) => FAILING.includes(r.id)).map((r) => r.id)).toEqual([5, 10, 15, 20, 25, 30]);

      // Second replay while no worker runs: the rest, behind the first six in the same stream.
      expect(await api.runs.fixDeadLetters({ runId, expression: FIX, replay: true })).toMatchObject({ fixed: 6 });
      expect(await fleet.redis.xlen(replayKey)).toBe(12);

      await fleet.startInProcess("survivor", catalog, runtimes);
      await waitFor(
        async () => (await fleet.redis.xlen(replayKey)) === 0,
        30_000,
        () => "for the survivor to take the replayed letters in",
      );
      await api.runs.stop({ runId });
      const stopped = await fleet.waitForStatus(runId, "stopped", 30_000);

      // Every order exactly once: those that passed at first, and every replayed one, fixed.
      expect(await written()).toEqual(Array.from({ length: ROWS }, (_, i) => ({ id: i + 1, price: i + 1.5 })));
      const after = await api.runs.deadLetters({ runId });
      expect(after).toMatchObject({ total: 0, discarded: 0, letters: [] });
      // Counted once: each letter failed once in `fix` and went through it once more; the sink took each order once.
      expect(stopped.nodes).toEqual({
        src: { in: 0, out: ROWS, errors: 0 },
        fix: { in: ROWS + FAILING.length, out: ROWS, errors: FAILING.length },
        out: { in: ROWS, out: 0, errors: 0 },
      });
      await reconcileRuns({ db: h.db, redis: h.redis, keys: h.deps.keys });
      expect((await api.runs.get({ runId })).counters).toEqual(stopped.nodes);
    } finally {
      const child = crashing?.child;
      if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  });
});
