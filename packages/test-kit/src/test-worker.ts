import { FleetWorker } from "@sluice/engine/fleet-worker";
import { connectRedis } from "@sluice/engine/redis-connection";
import { createLogger, readLogSettings } from "@sluice/log/logger";
import type { RuntimeRegistry, TransformRuntime } from "@sluice/nodes/runtime-contract";
import { createCatalog, defineNode } from "@sluice/pipeline/node-definition";
import { z } from "zod";
import { LOCAL_DESTINATIONS } from "./fleet-harness";
import { catalog as testCatalog, runtimes as testRuntimes } from "./preview-test-nodes";

// A worker process for fleet tests that need the engine's test node types besides the standard ones (see
// preview-test-nodes.ts): the keyed counter and exactly-once collecting sink (stateful runs whose results can be read back exactly), and an operator
// that kills its own process when it meets a chosen record, as a worker running out of memory would die.
// Started by FleetHarness.spawnWorker(id, env, TEST_WORKER_MAIN); configured like the real worker, by environment.

const crashOnDef = defineNode({
  type: "transform.crash-on",
  version: 1,
  kind: "transform",
  title: "Crash on (test)",
  category: "Test",
  icon: "bomb",
  summary: "test",
  docs: "",
  inputs: [{ name: "in" }],
  outputs: [{ name: "out" }],
  config: z.strictObject({ id: z.number().int() }),
  examples: [],
  delivery: {},
  infer: ({ inputs }) => ({ outputs: { out: inputs.in ?? { fields: [], open: true } } }),
  summarize: (c) => String(c.id),
});

const crashOnRuntime: TransformRuntime<{ id: number }> = {
  kind: "transform",
  type: "transform.crash-on",
  create(ctx) {
    return {
      process(record, emit) {
        // SIGKILL, not exit(): nothing of the worker's shutdown runs, exactly as after an out-of-memory abort.
        if (record.id === ctx.config.id) process.kill(process.pid, "SIGKILL");
        emit(record);
      },
    };
  },
};

const catalog = createCatalog([...testCatalog.list(), crashOnDef]);
const runtimes: RuntimeRegistry = {
  get: (type) => (type === crashOnRuntime.type ? crashOnRuntime : testRuntimes.get(type)),
};

const env = process.env;
const worker = new FleetWorker({
  connect: () =>
    connectRedis(env.REDIS_URL ?? "redis://127.0.0.1:6379", `test-worker:${env.SLUICE_WORKER_ID}`, () => {}),
  prefix: env.SLUICE_REDIS_PREFIX ?? "sluice",
  catalog,
  runtimes,
  workerId: env.SLUICE_WORKER_ID ?? `test-${process.pid}`,
  leaseMs: Number(env.SLUICE_TEST_LEASE_MS ?? 2000),
  crashLimit: Number(env.SLUICE_TEST_CRASH_LIMIT ?? 3),
  // The test servers connectors reach listen on loopback.
  destinations: LOCAL_DESTINATIONS,
  // Quicker than a real fleet, so a test of several rebalances takes seconds.
  rebalance: { everyMs: 500, minLeaseMs: 1500, cooldownMs: 2500 },
  // JSON lines on stderr: the harness collects them and tests look for messages in them.
  log: createLogger({ ...readLogSettings(env, { isTerminal: false }), name: "test-worker" }),
});
process.on("SIGTERM", () => {
  worker.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
// Loading takes seconds on a busy machine: a test can spawn workers early and have them join the fleet on cue.
if (env.SLUICE_TEST_JOIN_ON_SIGNAL) {
  process.once("SIGUSR2", () => void worker.start());
  process.stderr.write("worker loaded\n");
} else {
  await worker.start();
}
