import type { Db } from "@sluice/db/client";
import {
  type HeldPartition,
  parseWorkerDescription,
  WORKER_FORGET_MS,
  type WorkerDescription,
} from "@sluice/pipeline/control/fleet";
import type { Keys } from "@sluice/pipeline/control/keys";
import { QUEUE_CONTROL, QUEUE_PREVIEW, QUEUE_TASKS, WORKER_TTL_MS } from "@sluice/pipeline/control/protocol";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { FleetView, FleetWorkerView, QueueDepth } from "./fleet-router.types";

// The worker fleet as the heartbeats (engine/worker-heartbeat.ts) describe it, and the depths of the queues the
// workers serve. Read by the fleet page (per workspace: other workspaces' runs are counted, not named) and by
// /api/metrics (the whole installation).

/** At most this many workers are listed; a fleet larger than this is not one Sluice is built for. */
const MAX_WORKERS = 1000;

export interface FleetDeps {
  redis: Redis;
  keys: Keys;
  /** The queues the fleet serves, by name. */
  queues: Record<string, Queue>;
}

/** A worker as the whole installation sees it: every partition it holds, whoever's run. */
export interface FleetWorker extends Omit<FleetWorkerView, "partitions" | "otherPartitions"> {
  partitions: HeldPartition[];
}

export interface Fleet {
  workers: FleetWorker[];
  queues: QueueDepth[];
  at: number;
}

const queueHandles = new WeakMap<Redis, Map<string, Queue>>();

/**
 * The queues the fleet serves: the control and preview queues the API already holds, and the task queue over the
 * same connection (built once per connection and prefix; ApiDeps carries no handle for it).
 */
export function fleetQueuesFor(deps: {
  redis: Redis;
  keys: Keys;
  controlQueue: Queue;
  previewQueue: Queue;
}): Record<string, Queue> {
  let byPrefix = queueHandles.get(deps.redis);
  if (!byPrefix) {
    byPrefix = new Map();
    queueHandles.set(deps.redis, byPrefix);
  }
  let tasks = byPrefix.get(deps.keys.bullPrefix);
  if (!tasks) {
    tasks = new Queue(QUEUE_TASKS, { connection: deps.redis, prefix: deps.keys.bullPrefix });
    // The connection's owner reports its errors; a failed call rejects its own promise.
    tasks.on("error", () => {});
    byPrefix.set(deps.keys.bullPrefix, tasks);
  }
  return { [QUEUE_CONTROL]: deps.controlQueue, [QUEUE_TASKS]: tasks, [QUEUE_PREVIEW]: deps.previewQueue };
}

async function queueDepth(name: string, queue: Queue): Promise<QueueDepth> {
  const counts = await queue.getJobCounts("waiting", "prioritized", "waiting-children", "active", "delayed", "failed");
  return {
    queue: name,
    // Prioritised jobs and jobs waiting for their children wait too; BullMQ keeps them in lists of their own.
    waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts["waiting-children"] ?? 0),
    active: counts.active ?? 0,
    delayed: counts.delayed ?? 0,
    failed: counts.failed ?? 0,
  };
}

function workerView(id: string, score: number, d: WorkerDescription | undefined, now: number): FleetWorker {
  const stoppedAt = d?.stoppedAt ?? null;
  // A stopped worker's score is pushed out of the live window (see WorkerHeartbeat.stop); its description keeps the
  // real moment it was last heard from.
  const seenAt = d?.seenAt ?? score;
  const alive = stoppedAt === null && score >= now - WORKER_TTL_MS;
  return {
    id,
    alive,
    stoppedAt,
    seenAt,
    heartbeatAgeMs: Math.max(0, now - seenAt),
    host: d?.host ?? null,
    pid: d?.pid ?? null,
    version: d?.version ?? null,
    node: d?.node ?? null,
    startedAt: d?.startedAt ?? null,
    slots: d?.slots ?? null,
    cpuCores: alive ? (d?.cpuCores ?? null) : null,
    rssBytes: alive ? (d?.memory.rssBytes ?? null) : null,
    heapUsedBytes: alive ? (d?.memory.heapUsedBytes ?? null) : null,
    // What a dead worker last held has been (or is being) taken over by others.
    partitions: alive ? (d?.partitions ?? []) : [],
  };
}

/** Every worker heard from in the last hour (live ones first, each group by id) and the queue depths. */
export async function readFleet(deps: FleetDeps, now = Date.now()): Promise<Fleet> {
  const [entries, queues] = await Promise.all([
    // The most recently heard from first, should there be more than the limit.
    deps.redis.zrevrangebyscore(
      deps.keys.workers,
      "+inf",
      now - WORKER_FORGET_MS,
      "WITHSCORES",
      "LIMIT",
      0,
      MAX_WORKERS,
    ),
    Promise.all(Object.entries(deps.queues).map(([name, queue]) => queueDepth(name, queue))),
  ]);
  const ids: string[] = [];
  const scores: number[] = [];
  for (let i = 0; i + 1 < entries.length; i += 2) {
    ids.push(entries[i] as string);
    scores.push(Number(entries[i + 1]));
  }
  // The set and the descriptions share a hash tag, so one MGET reads them all, on a cluster too.
  const raw = ids.length > 0 ? await deps.redis.mget(...ids.map((id) => deps.keys.worker(id))) : [];
  const workers = ids
    .map((id, i) => workerView(id, scores[i] as number, parseWorkerDescription(raw[i]), now))
    .sort((a, b) => Number(b.alive) - Number(a.alive) || (a.alive ? a.id.localeCompare(b.id) : b.seenAt - a.seenAt));
  return { workers, queues, at: now };
}

/** The fleet as a member of `workspaceId` sees it: partitions of other workspaces' runs are counted, not named. */
export async function listFleet(deps: FleetDeps & { db: Db }, workspaceId: string): Promise<FleetView> {
  const fleet = await readFleet(deps);
  const runIds = [...new Set(fleet.workers.flatMap((w) => w.partitions.map((p) => p.runId)))];
  const own =
    runIds.length === 0
      ? new Set<string>()
      : new Set(
          (await deps.db.run.findMany({ where: { id: { in: runIds }, workspaceId }, select: { id: true } })).map(
            (r) => r.id,
          ),
        );
  return {
    ...fleet,
    workers: fleet.workers.map((w) => {
      const partitions = w.partitions.filter((p) => own.has(p.runId));
      return { ...w, partitions, otherPartitions: w.partitions.length - partitions.length };
    }),
  };
}
