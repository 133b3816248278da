import { z } from "zod";

// What a worker says about itself in its heartbeat (written by the engine, read by the API's fleet page and
// /api/metrics). Browser-safe, so the web app shows the same shapes the API returns.

/** One task partition a worker holds: run, stage and partition. */
export const HeldPartition = z.object({
  runId: z.string(),
  stage: z.number().int().min(0),
  partition: z.number().int().min(0),
});
export type HeldPartition = z.infer<typeof HeldPartition>;

export const WorkerDescription = z.object({
  id: z.string(),
  host: z.string(),
  pid: z.number().int(),
  /** The Sluice version the worker runs: the package version, with the git commit when it runs from a checkout. */
  version: z.string(),
  /** Node.js version, as `process.version` says it (`v22.12.0`). */
  node: z.string(),
  startedAt: z.number(),
  /** Task partitions it runs at once (its task queue's concurrency). */
  slots: z.number().int(),
  partitions: z.array(HeldPartition),
  /** CPU time used per second of wall time over the last heartbeat interval: 1.5 is one and a half cores busy. */
  cpuCores: z.number(),
  memory: z.object({ rssBytes: z.number(), heapUsedBytes: z.number() }),
  /** When it last reported (epoch ms). */
  seenAt: z.number(),
  /** Set when the worker shut down cleanly (epoch ms): it did not die, it was stopped. */
  stoppedAt: z.number().nullable().default(null),
});
export type WorkerDescription = z.infer<typeof WorkerDescription>;

/** A worker's description stored under keys.worker(id), or undefined when absent or not one. */
export function parseWorkerDescription(raw: string | null | undefined): WorkerDescription | undefined {
  if (!raw) return undefined;
  try {
    const parsed = WorkerDescription.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Workers gone for this long are forgotten: no longer listed, their descriptions expired. */
export const WORKER_FORGET_MS = 3_600_000;
