import type { Keys } from "@sluice/pipeline/control/keys";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { z } from "zod";

// The queue report fires arrive on, beside the schedules' `run.schedule`: every enabled Report row is mirrored to a
// BullMQ job scheduler on it whose id is the report's id; each fire carries only that id (the row is the truth at
// fire time) and, as prevMillis, the slot it was made for.

export const QUEUE_REPORT = "report.fire";
export const REPORT_FIRE_JOB = "fire";

export const ReportFireJob = z.object({ v: z.literal(1), reportId: z.string().min(1).max(64) });
export type ReportFireJob = z.infer<typeof ReportFireJob>;

const queues = new WeakMap<Redis, Map<string, Queue<ReportFireJob>>>();

/** The `report.fire` queue over the process's shared Redis connection, built once per connection and key prefix. */
export function reportQueueFor(deps: { redis: Redis; keys: Keys }): Queue<ReportFireJob> {
  let byPrefix = queues.get(deps.redis);
  if (!byPrefix) {
    byPrefix = new Map();
    queues.set(deps.redis, byPrefix);
  }
  let queue = byPrefix.get(deps.keys.bullPrefix);
  if (!queue) {
    queue = new Queue<ReportFireJob>(QUEUE_REPORT, { connection: deps.redis, prefix: deps.keys.bullPrefix });
    // A failing call rejects its own promise; without a listener an outage would crash the process.
    queue.on("error", () => {});
    byPrefix.set(deps.keys.bullPrefix, queue);
  }
  return queue;
}
