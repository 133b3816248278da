import type { Keys } from "@sluice/pipeline/control/keys";
import { type Job, UnrecoverableError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { type FireDeps, fireSchedule, startPendingFires } from "./schedule-fire";
import { type MirrorDeps, mirrorSchedule, syncSchedules } from "./schedule-mirror";
import { QUEUE_SCHEDULE, ScheduleFireJob } from "./schedule-queue";
import type { FireResult } from "./schedule-router.types";

// The schedule runner of a web process: a BullMQ worker on `run.schedule` that turns fires into runs, a loop that
// starts QUEUE fires once the run they waited for has ended, and a periodic re-mirror of every schedule (which also
// runs first thing, since Redis may have been flushed while the app was down). Any number of web processes may run
// it: see schedule-fire.ts for why a fire never starts two runs.

export interface ScheduleRunnerDeps extends FireDeps, MirrorDeps {
  /** Template for the worker's own blocking connection (duplicated; the runner closes its duplicate). */
  redis: Redis;
  keys: Keys;
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

export interface ScheduleRunnerOptions {
  /** Fires handled at once by this process. Each holds a database connection for its lock while it works. */
  concurrency?: number;
  /** How often waiting QUEUE fires are looked at. */
  pendingEveryMs?: number;
  /** How often every schedule is re-mirrored to Redis. */
  resyncEveryMs?: number;
}

export interface ScheduleRunner {
  /** Settles once the first sync ran (successfully or not) and the worker is connected. */
  ready: Promise<void>;
  stop(): Promise<void>;
}

/** Handles one fire job; exported so tests can hand it the same job twice, as a re-delivery would. */
export async function processFireJob(
  deps: FireDeps & MirrorDeps,
  job: Pick<Job, "id" | "data" | "opts" | "timestamp">,
): Promise<FireResult> {
  const parsed = ScheduleFireJob.safeParse(job.data);
  if (!parsed.success) {
    throw new UnrecoverableError(`run.schedule job ${job.id}: malformed payload: ${parsed.error.message}`);
  }
  // A scheduler's job carries the slot it was made for as prevMillis (its id is `repeat:<scheduler>:<slot>` too).
  const slot = new Date(job.opts.prevMillis ?? job.timestamp);
  const result = await fireSchedule(deps, parsed.data.scheduleId, { kind: "slot", at: slot });
  // A fire for a schedule that is gone or disabled means a stale scheduler: make Redis match the row again.
  if (result.outcome === "IGNORED") await mirrorSchedule(deps, parsed.data.scheduleId);
  return result;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Runs `tick` now and then every `everyMs` after the previous one settled, until stopped. */
function every(everyMs: number, tick: () => Promise<unknown>, onError: (err: unknown) => void) {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<unknown> = Promise.resolve();
  const run = () => {
    if (stopped) return;
    current = tick()
      .catch(onError)
      .finally(() => {
        if (!stopped) timer = setTimeout(run, everyMs);
      });
  };
  run();
  return {
    first: current,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
    },
  };
}

export function startScheduleRunner(deps: ScheduleRunnerDeps, options: ScheduleRunnerOptions = {}): ScheduleRunner {
  const log = deps.log ?? (() => {});
  const connection = deps.redis.duplicate();
  const worker = new Worker<ScheduleFireJob, FireResult>(QUEUE_SCHEDULE, (job) => processFireJob(deps, job), {
    connection,
    prefix: deps.keys.bullPrefix,
    concurrency: options.concurrency ?? 2,
  });
  worker.on("error", (err) => log("schedule worker error", { error: errorMessage(err) }));
  worker.on("failed", (job, err) => log("schedule fire failed", { jobId: job?.id, error: errorMessage(err) }));

  const resync = every(
    options.resyncEveryMs ?? 60_000,
    async () => {
      const { armed, removed } = await syncSchedules(deps);
      if (armed + removed > 0) log("schedules re-mirrored to Redis", { armed, removed });
    },
    (err) => log("schedule sync failed", { error: errorMessage(err) }),
  );
  const pending = every(
    options.pendingEveryMs ?? 1000,
    () => startPendingFires(deps),
    (err) => log("starting queued schedule fires failed", { error: errorMessage(err) }),
  );

  return {
    ready: Promise.all([resync.first, worker.waitUntilReady()]).then(() => undefined),
    async stop() {
      await Promise.all([resync.stop(), pending.stop()]);
      await worker.close();
      await connection.quit().catch(() => undefined);
    },
  };
}
