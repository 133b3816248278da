import { HeldPartition } from "@sluice/pipeline/control/fleet";
import { z } from "zod";

// fleet.list's answer: the workers heard from in the last hour and the depths of the fleet's queues.

export const QueueDepth = z.object({
  queue: z.string(),
  waiting: z.number(),
  active: z.number(),
  delayed: z.number(),
  failed: z.number(),
});
export type QueueDepth = z.infer<typeof QueueDepth>;

export const FleetWorkerView = z.object({
  id: z.string(),
  /** Heartbeat within WORKER_TTL_MS and not stopped. */
  alive: z.boolean(),
  /** When it shut down cleanly (epoch ms); null for a live worker or one that died without saying so. */
  stoppedAt: z.number().nullable(),
  /** Its last heartbeat (epoch ms), and how long ago that was when the list was read. */
  seenAt: z.number(),
  heartbeatAgeMs: z.number(),
  // What it said about itself; null when its description is gone (it expires with the worker's listing).
  host: z.string().nullable(),
  pid: z.number().nullable(),
  version: z.string().nullable(),
  node: z.string().nullable(),
  startedAt: z.number().nullable(),
  slots: z.number().nullable(),
  cpuCores: z.number().nullable(),
  rssBytes: z.number().nullable(),
  heapUsedBytes: z.number().nullable(),
  /** Partitions it holds of the caller's workspace's runs (a dead worker holds none). */
  partitions: z.array(HeldPartition),
  /** Partitions it holds of other workspaces' runs: counted, not named. */
  otherPartitions: z.number(),
});
export type FleetWorkerView = z.infer<typeof FleetWorkerView>;

export const FleetView = z.object({
  workers: z.array(FleetWorkerView),
  queues: z.array(QueueDepth),
  /** When the fleet was read (epoch ms). */
  at: z.number(),
});
export type FleetView = z.infer<typeof FleetView>;
