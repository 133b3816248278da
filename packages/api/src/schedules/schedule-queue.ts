import type { Keys } from "@sluice/pipeline/control/keys";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { z } from "zod";

// The queue that schedule fires arrive on. Every Schedule row is mirrored to a BullMQ job scheduler on it whose id is
// the schedule's id; each fire is one job carrying only the schedule's id (the row is the truth at fire time).

export const QUEUE_SCHEDULE = "run.schedule";
export const FIRE_JOB_NAME = "fire";

export const ScheduleFireJob = z.object({ v: z.literal(1), scheduleId: z.string().min(1).max(64) });
export type ScheduleFireJob = z.infer<typeof ScheduleFireJob>;

const queues = new WeakMap<Redis, Map<string, Queue<ScheduleFireJob>>>();

/**
 * The `run.schedule` queue over the process's shared Redis connection, built once per connection and key prefix.
 * (ApiDeps carries no handle for it, so the routers reach it through here.)
 */
export function scheduleQueueFor(deps: { redis: Redis; keys: Keys }): Queue<ScheduleFireJob> {
  let byPrefix = queues.get(deps.redis);
  if (!byPrefix) {
    byPrefix = new Map();
    queues.set(deps.redis, byPrefix);
  }
  let queue = byPrefix.get(deps.keys.bullPrefix);
  if (!queue) {
    queue = new Queue<ScheduleFireJob>(QUEUE_SCHEDULE, { connection: deps.redis, prefix: deps.keys.bullPrefix });
    // The connection's owner reports its errors; a call that fails rejects its own promise. Without a listener an
    // outage would crash the process with "Unhandled error event".
    queue.on("error", () => {});
    byPrefix.set(deps.keys.bullPrefix, queue);
  }
  return queue;
}
