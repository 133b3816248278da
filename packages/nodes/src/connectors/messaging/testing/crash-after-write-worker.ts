import { FleetWorker } from "@sluice/engine/fleet-worker";
import { connectRedis } from "@sluice/engine/redis-connection";
import { recordingLogger } from "@sluice/log/logger";
import { catalog } from "../../../catalog";
import { createRuntimeRegistry, type NodeRuntime, type SinkRuntime } from "../../../runtime-contract";
import { runtimes } from "../../../runtimes";
import { localDestinations } from "../../../testing/local-destinations";

// A fleet worker for the failover tests of the message connectors: it runs the real nodes, and right after the sink
// of type CRASH_SINK_TYPE has written the batch with sequence CRASH_AFTER_SEQUENCE, it kills itself with SIGKILL —
// before the engine commits that batch and before the source acknowledges anything of it. Another worker then
// continues from the last commit. Test-only.

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const sinkType = env("CRASH_SINK_TYPE");
const crashAfter = Number(env("CRASH_AFTER_SEQUENCE"));
const real = runtimes.get(sinkType) as SinkRuntime<never>;
/** Records this worker's sink wrote successfully, in all batches: what the target holds when it dies. */
let written = 0;
const crashing: SinkRuntime<never> = {
  kind: "sink",
  type: sinkType,
  async open(ctx) {
    const writer = await real.open(ctx);
    return {
      async write(records, batch) {
        await writer.write(records, batch);
        written += records.length;
        if (batch.sequence === crashAfter) {
          process.stdout.write(
            `crashing after writing batch ${batch.batchId} (${records.length} records) with ${written} records written in all\n`,
          );
          process.kill(process.pid, "SIGKILL");
          await new Promise(() => {});
        }
      },
      close: () => writer.close(),
    };
  },
};

const registry = createRuntimeRegistry(
  catalog.list().map((def) => (def.type === sinkType ? crashing : runtimes.get(def.type)!)) as NodeRuntime[],
);

const worker = new FleetWorker({
  connect: () => connectRedis(env("REDIS_URL"), "crash-worker", () => {}),
  prefix: env("SLUICE_REDIS_PREFIX"),
  catalog,
  runtimes: registry,
  workerId: env("SLUICE_WORKER_ID"),
  leaseMs: 2000,
  secretKey: Buffer.from(env("SLUICE_SECRET_KEY_HEX"), "hex"),
  destinations: localDestinations,
  log: recordingLogger(({ level, message, fields }) =>
    process.stdout.write(level === "info" ? `${message}\n` : `${message} ${JSON.stringify(fields)}\n`),
  ),
});
await worker.start();
