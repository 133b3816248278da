import type { Db } from "@sluice/db/client";
import type { JobSchedulerTemplateOptions, Queue } from "bullmq";
import { withAdvisoryLock } from "../schedules/advisory-lock";
import { type MirrorChange, mirrorCronRow, syncCronMirrors } from "../schedules/schedule-mirror";
import { REPORT_FIRE_JOB, type ReportFireJob } from "./report-queue";

// Keeps BullMQ's job schedulers on `report.fire` in step with the Report rows, as schedule-mirror.ts does for
// schedules: mirrorReport makes Redis match the row as it is now, under a per-report lock, so concurrent saves and
// start-up syncs in several web processes converge.

export interface ReportMirrorDeps {
  db: Db;
  reportQueue: Queue<ReportFireJob>;
}

const FIRE_JOB_OPTIONS: JobSchedulerTemplateOptions = {
  // A fire that fails before it claims its slot (Postgres unreachable) is tried again; after, a retry is a no-op.
  attempts: 3,
  backoff: { type: "exponential", delay: 2000 },
  removeOnComplete: 100,
  removeOnFail: 500,
};

export async function mirrorReport(deps: ReportMirrorDeps, reportId: string): Promise<MirrorChange> {
  const { db, reportQueue } = deps;
  return withAdvisoryLock(db, `sluice:report-mirror:${reportId}`, async () => {
    const row = await db.report.findUnique({
      where: { id: reportId },
      select: { enabled: true, pattern: true, timeZone: true },
    });
    return mirrorCronRow(reportQueue, reportId, row, {
      name: REPORT_FIRE_JOB,
      data: { v: 1, reportId },
      opts: FIRE_JOB_OPTIONS,
    });
  });
}

/** Re-mirrors every report whose scheduler is missing, different or orphaned; cheap and safe to run anywhere. */
export function syncReports(deps: ReportMirrorDeps): Promise<{ armed: number; removed: number }> {
  return syncCronMirrors(
    deps.reportQueue,
    () => deps.db.report.findMany({ where: { enabled: true }, select: { id: true, pattern: true, timeZone: true } }),
    (id) => mirrorReport(deps, id),
  );
}
