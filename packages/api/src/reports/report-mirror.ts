import type { Db } from "@sluice/db/client";
import type { JobSchedulerTemplateOptions, Queue } from "bullmq";
import { withAdvisoryLock } from "../schedules/advisory-lock";
import { REPORT_FIRE_JOB, type ReportFireJob } from "./report-queue";

// Keeps BullMQ's job schedulers on `report.fire` in step with the Report rows, as schedule-mirror.ts does for
// schedules: mirrorReport makes Redis match the row as it is now, under a per-report lock, so concurrent saves and
// start-up syncs in several web processes converge.

export interface ReportMirrorDeps {
  db: Db;
  reportQueue: Queue<ReportFireJob>;
}

export type MirrorChange = "armed" | "removed" | "unchanged";

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
    if (!row?.enabled) return (await reportQueue.removeJobScheduler(reportId)) ? "removed" : "unchanged";
    const current = await reportQueue.getJobScheduler(reportId);
    if (current && current.pattern === row.pattern && current.tz === row.timeZone) return "unchanged";
    await reportQueue.upsertJobScheduler(
      reportId,
      { pattern: row.pattern, tz: row.timeZone },
      { name: REPORT_FIRE_JOB, data: { v: 1, reportId }, opts: FIRE_JOB_OPTIONS },
    );
    return "armed";
  });
}

const PAGE = 500;

/** Re-mirrors every report whose scheduler is missing, different or orphaned; cheap and safe to run anywhere. */
export async function syncReports(deps: ReportMirrorDeps): Promise<{ armed: number; removed: number }> {
  const { db, reportQueue } = deps;
  // Redis first, then Postgres: a report created between the two reads is merely re-checked, never removed.
  const inRedis = new Map<string, { pattern?: string; tz?: string }>();
  for (let start = 0; ; start += PAGE) {
    const page = await reportQueue.getJobSchedulers(start, start + PAGE - 1, true);
    for (const s of page) inRedis.set(s.key, { pattern: s.pattern, tz: s.tz });
    if (page.length < PAGE) break;
  }
  const enabled = await db.report.findMany({
    where: { enabled: true },
    select: { id: true, pattern: true, timeZone: true },
  });
  const suspects = new Set<string>();
  for (const r of enabled) {
    const mirrored = inRedis.get(r.id);
    if (!mirrored || mirrored.pattern !== r.pattern || mirrored.tz !== r.timeZone) suspects.add(r.id);
    inRedis.delete(r.id);
  }
  for (const id of inRedis.keys()) suspects.add(id);
  let armed = 0;
  let removed = 0;
  for (const id of suspects) {
    const change = await mirrorReport(deps, id);
    if (change === "armed") armed++;
    if (change === "removed") removed++;
  }
  return { armed, removed };
}
