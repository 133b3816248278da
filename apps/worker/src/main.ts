import { FleetWorker } from "@sluice/engine/fleet-worker";
import { connectRedis, pingRedis } from "@sluice/engine/redis-connection";
import { createLogger } from "@sluice/log/logger";
import { catalog } from "@sluice/nodes/catalog";
import { DestinationPolicy } from "@sluice/nodes/destination-policy";
import { runtimes } from "@sluice/nodes/runtimes";
import { readWorkerEnv } from "./env";

// `sluice worker` / `npm start`'s worker: joins the fleet on REDIS_URL and runs whatever tasks it leases.
// SIGTERM or SIGINT: finish the batches in flight, hand the partitions back, exit within 10 s.

const SHUTDOWN_DEADLINE_MS = 9_000;

export async function runWorker(): Promise<void> {
  let env: ReturnType<typeof readWorkerEnv>;
  try {
    env = readWorkerEnv();
    await pingRedis(env.redisUrl, 3000, { cluster: env.redisCluster });
  } catch (err) {
    process.stderr.write(`sluice worker: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
  const log = createLogger({ ...env.log, name: "worker" });
  const worker = new FleetWorker({
    connect: () =>
      connectRedis(env.redisUrl, `sluice-worker:${env.workerId}`, (m) => log.warn(m), { cluster: env.redisCluster }),
    prefix: env.prefix,
    catalog,
    runtimes,
    workerId: env.workerId,
    slots: env.slots,
    leaseMs: env.leaseMs,
    crashLimit: env.crashLimit,
    filesDir: env.filesDir,
    runRetentionMs: env.runRetentionMs,
    nodeFigures: env.nodeFigures,
    runLogLevel: env.runLogLevel,
    preview: { timeoutMs: env.previewTimeoutMs, memoryMb: env.previewMemoryMb },
    log,
    // The fleet's Redis is never a destination; the web app's database comes sealed with each run.
    destinations: DestinationPolicy.fromSettings(env.connectionsAllow, { redisUrl: env.redisUrl }),
    ...(env.secretKey ? { secretKey: env.secretKey } : {}),
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down", { signal });
    const deadline = setTimeout(() => {
      log.error("shutdown took too long; exiting anyway");
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    worker.close().then(
      () => process.exit(0),
      (err) => {
        log.error("shutdown failed", { error: String(err) });
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  await worker.start();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runWorker();
}
// touch
