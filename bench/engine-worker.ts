import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { FleetWorker } from "@sluice/engine/fleet-worker";
import { connectRedis } from "@sluice/engine/redis-connection";
import { catalog } from "@sluice/nodes/catalog";
import { runtimes } from "@sluice/nodes/runtimes";
import { backgroundKeys, RedisClientCounter } from "./redis-counter";

// One fleet worker in a worker thread of the benchmark process (see engine-harness.ts): the thread has its own
// event loop and V8 heap, as a `sluice worker` process would, so W workers can use W cores while
// process.cpuUsage() in the main thread still counts all of them. Messages: the parent sends "close"; the thread
// answers "ready" once the worker listens, "closed" once it has handed its partitions back, or "error".

export interface WorkerThreadData {
  redisUrl: string;
  prefix: string;
  workerId: string;
  /** Where the worker's Redis connections are counted (redis-counter.ts); not counted without one. */
  redisCounts?: SharedArrayBuffer;
}

export type WorkerThreadMessage = { type: "ready" } | { type: "closed" } | { type: "error"; message: string };

export function createFleetWorker(data: WorkerThreadData): FleetWorker {
  const counter = data.redisCounts ? new RedisClientCounter(data.redisCounts, backgroundKeys(data.prefix)) : undefined;
  return new FleetWorker({
    connect: () => {
      const redis = connectRedis(data.redisUrl, `bench-${data.workerId}`);
      return counter ? counter.instrument(redis) : redis;
    },
    prefix: data.prefix,
    catalog,
    runtimes,
    workerId: data.workerId,
    // SLUICE_NODE_FIGURES=off measures the engine without its per-second node figures (docs/performance.md).
    nodeFigures: process.env.SLUICE_NODE_FIGURES !== "off",
  });
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  const post = (m: WorkerThreadMessage) => port.postMessage(m);
  const worker = createFleetWorker(workerData as WorkerThreadData);
  port.on("message", (m: unknown) => {
    if (m !== "close") return;
    worker.close().then(
      () => {
        post({ type: "closed" });
        port.close();
      },
      (err: unknown) => post({ type: "error", message: String(err) }),
    );
  });
  worker.start().then(
    () => post({ type: "ready" }),
    (err: unknown) => post({ type: "error", message: String(err) }),
  );
} else if (isMainThread && process.argv[1]?.endsWith("engine-worker.ts")) {
  console.error("engine-worker.ts is the worker thread of `npm run bench -- engine`; run that instead");
  process.exit(2);
}
