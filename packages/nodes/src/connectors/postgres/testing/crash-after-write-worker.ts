import { FleetWorker } from "@sluice/engine/fleet-worker";
import { connectRedis } from "@sluice/engine/redis-connection";
import { recordingLogger } from "@sluice/log/logger";
import { catalog } from "../../../catalog";
import { createRuntimeRegistry, type NodeRuntime, type SinkRuntime } from "../../../runtime-contract";
import { runtimes } from "../../../runtimes";
import { localDestinations } from "../../../testing/local-destinations";

// A fleet worker for the exactly-once tests of sink.postgres: it runs the real sink, and right after the sink has
// written (and committed in PostgreSQL) a batch, it kills itself with SIGKILL — before the engine can commit that
// batch. Another worker then replays the batch from the last commit. Which batch: the one with sequence
// CRASH_AFTER_SEQUENCE, the CRASH_AFTER_WRITES-th batch any sink.postgres of this process wrote (for sinks behind a
// shuffle, which write only in the batches where results come out), or the first batch holding a record whose
// field has the value CRASH_AFTER_RECORD names as `field=value` (for a record that arrives only in a known batch,
// such as a replayed dead letter).

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const afterSequence = process.env.CRASH_AFTER_SEQUENCE;
const afterWrites = process.env.CRASH_AFTER_WRITES;
const afterRecord = process.env.CRASH_AFTER_RECORD;
if ([afterSequence, afterWrites, afterRecord].filter(Boolean).length !== 1) {
  throw new Error("set one of CRASH_AFTER_SEQUENCE, CRASH_AFTER_WRITES and CRASH_AFTER_RECORD");
}
const [recordField, recordValue] = afterRecord?.split("=", 2) ?? [];
if (afterRecord && (!recordField || recordValue === undefined)) {
  throw new Error(`CRASH_AFTER_RECORD: write field=value, not "${afterRecord}"`);
}
let writes = 0;
const crashesAfter = (records: readonly Record<string, unknown>[], sequence: number) => {
  if (afterSequence) return sequence === Number(afterSequence);
  if (afterWrites) return writes === Number(afterWrites);
  return records.some((r) => String(r[recordField!]) === recordValue);
};
const real = runtimes.get("sink.postgres") as SinkRuntime<never>;
const crashing: SinkRuntime<never> = {
  kind: "sink",
  type: "sink.postgres",
  async open(ctx) {
    const writer = await real.open(ctx);
    return {
      async write(records, batch, fail) {
        await writer.write(records, batch, fail);
        writes++;
        if (crashesAfter(records, batch.sequence)) {
          process.stdout.write(`crashing after writing batch ${batch.batchId} (${records.length} records)\n`);
          process.kill(process.pid, "SIGKILL");
          await new Promise(() => {});
        }
      },
      ...(writer.committed ? { committed: writer.committed.bind(writer) } : {}),
      close: () => writer.close(),
    };
  },
};

const registry = createRuntimeRegistry(
  catalog.list().map((def) => (def.type === "sink.postgres" ? crashing : runtimes.get(def.type)!)) as NodeRuntime[],
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
