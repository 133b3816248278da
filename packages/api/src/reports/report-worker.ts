import type { Keys } from "@sluice/pipeline/control/keys";
import { type Job, UnrecoverableError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { fireReport, type ReportFireDeps, type ReportFireOptions, type ReportFireResult } from "./report-fire";
import { mirrorReport, type ReportMirrorDeps, syncReports } from "./report-mirror";
import { QUEUE_REPORT, ReportFireJob } from "./report-queue";

// The report runner of a web process (as schedule-worker.ts is for schedules): a BullMQ worker on `report.fire` that
// turns fires into deliveries, and a periodic re-mirror of every report (first thing too, since Redis may have been
// flushed while the app was down). Any number of processes may run it: report-fire.ts claims each slot once.

export interface ReportRunnerDeps extends ReportFireDeps, ReportMirrorDeps {
  redis: Redis;
  keys: Keys;
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

export interface ReportRunnerOptions extends ReportFireOptions {
  /** Reports delivered at once by this process (each runs a query). */
  concurrency?: number;
  resyncEveryMs?: number;
}

export interface ReportRunner {
  ready: Promise<void>;
  stop(): Promise<void>;
}

/** Handles one fire job; exported so tests can hand it the same job twice, as a re-delivery would. */
export async function processReportJob(
  deps: ReportFireDeps & ReportMirrorDeps,
  job: Pick<Job, "id" | "data" | "opts" | "timestamp">,
  options: ReportFireOptions = {},
): Promise<ReportFireResult> {
  const parsed = ReportFireJob.safeParse(job.data);
  if (!parsed.success) {
    throw new UnrecoverableError(`report.fire job ${job.id}: malformed payload: ${parsed.error.message}`);
  }
  const slot = new Date(job.opts.prevMillis ?? job.timestamp);
  const result = await fireReport(deps, parsed.data.reportId, { kind: "slot", at: slot }, options);
  // A fire for a report that is gone or disabled means a stale scheduler: make Redis match the row again.
  if (result.outcome === "ignored" && !result.message.includes("already handled")) {
    await mirrorReport(deps, parsed.data.reportId);
  }
  return result;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function startReportRunner(deps: ReportRunnerDeps, options: ReportRunnerOptions = {}): ReportRunner {
  const log = deps.log ?? (() => {});
  const connection = deps.redis.duplicate();
  const worker = new Worker<ReportFireJob, ReportFireResult>(
    QUEUE_REPORT,
    (job) => processReportJob(deps, job, options),
    { connection, prefix: deps.keys.bullPrefix, concurrency: options.concurrency ?? 2 },
  );
  worker.on("error", (err) => log("report worker error", { error: errorMessage(err) }));
  worker.on("failed", (job, err) => log("report fire failed", { jobId: job?.id, error: errorMessage(err) }));

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<unknown> = Promise.resolve();
  const resync = () => {
    if (stopped) return;
    current = syncReports(deps)
      .then(({ armed, removed }) => {
        if (armed + removed > 0) log("reports re-mirrored to Redis", { armed, removed });
      })
      .catch((err) => log("report sync failed", { error: errorMessage(err) }))
      .finally(() => {
        if (!stopped) timer = setTimeout(resync, options.resyncEveryMs ?? 60_000);
      });
  };
  resync();
  const first = current;

  return {
    ready: Promise.all([first, worker.waitUntilReady()]).then(() => undefined),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
      await worker.close();
      await connection.quit().catch(() => undefined);
    },
  };
}
