import type { Db } from "@sluice/db/client";
import type { JobSchedulerTemplateOptions, Queue } from "bullmq";
import { withAdvisoryLock } from "./advisory-lock";
import { FIRE_JOB_NAME, type ScheduleFireJob } from "./schedule-queue";

// Keeps BullMQ's job schedulers in step with the Schedule rows. One function, mirrorSchedule, makes Redis match the
// row as it is *now*, under a per-schedule lock: whoever mirrors last read the newest committed row, so concurrent
// saves, start-up syncs in several web processes and orphan clean-ups converge instead of undoing each other.

export interface MirrorDeps {
  db: Db;
  scheduleQueue: Queue<ScheduleFireJob>;
}

export type MirrorChange = "armed" | "removed" | "unchanged";

const FIRE_JOB_OPTIONS: JobSchedulerTemplateOptions = {
  // A fire that fails before it is recorded (Postgres unreachable) is tried again; once recorded, a retry is a no-op.
  attempts: 3,
  backoff: { type: "exponential", delay: 2000 },
  removeOnComplete: 100,
  removeOnFail: 500,
};

/** A cron row as both schedules and reports keep it; null when the row is gone. */
export interface CronRow {
  enabled: boolean;
  pattern: string;
  timeZone: string;
}

/**
 * Makes `queue`'s job scheduler `id` match `row` (its state now, read by the caller under its lock): removed when the
 * row is gone or disabled, left alone when it already fires on that pattern and zone, else (re)armed with `job`.
 * Shared by schedules and reports (reports/report-mirror.ts).
 */
export async function mirrorCronRow(
  queue: Queue,
  id: string,
  row: CronRow | null,
  job: { name: string; data: object; opts: JobSchedulerTemplateOptions },
): Promise<MirrorChange> {
  if (!row?.enabled) return (await queue.removeJobScheduler(id)) ? "removed" : "unchanged";
  const current = await queue.getJobScheduler(id);
  if (current && current.pattern === row.pattern && current.tz === row.timeZone) return "unchanged";
  await queue.upsertJobScheduler(id, { pattern: row.pattern, tz: row.timeZone }, job);
  return "armed";
}

export async function mirrorSchedule(deps: MirrorDeps, scheduleId: string): Promise<MirrorChange> {
  const { db, scheduleQueue } = deps;
  return withAdvisoryLock(db, `sluice:schedule-mirror:${scheduleId}`, async () => {
    const row = await db.schedule.findUnique({
      where: { id: scheduleId },
      select: { enabled: true, pattern: true, timeZone: true },
    });
    return mirrorCronRow(scheduleQueue, scheduleId, row, {
      name: FIRE_JOB_NAME,
      data: { v: 1, scheduleId },
      opts: FIRE_JOB_OPTIONS,
    });
  });
}

/** Schedulers are listed this many at a time. */
const PAGE = 500;

/**
 * Re-mirrors every row of one kind: arms enabled rows whose scheduler is missing or different (Redis may have been
 * flushed) and removes schedulers whose row is gone or disabled. Only rows that differ are passed to `mirror` (which
 * locks and re-reads), so running it in several processes at once, or often, is cheap and safe.
 */
export async function syncCronMirrors(
  queue: Queue,
  enabledRows: () => Promise<({ id: string } & Omit<CronRow, "enabled">)[]>,
  mirror: (id: string) => Promise<MirrorChange>,
): Promise<{ armed: number; removed: number }> {
  // Redis first, then Postgres: a row created between the two reads is merely re-checked, never removed.
  const inRedis = new Map<string, { pattern?: string; tz?: string }>();
  for (let start = 0; ; start += PAGE) {
    const page = await queue.getJobSchedulers(start, start + PAGE - 1, true);
    for (const s of page) inRedis.set(s.key, { pattern: s.pattern ?? undefined, tz: s.tz ?? undefined });
    if (page.length < PAGE) break;
  }
  const suspects = new Set<string>();
  for (const r of await enabledRows()) {
    const mirrored = inRedis.get(r.id);
    if (!mirrored || mirrored.pattern !== r.pattern || mirrored.tz !== r.timeZone) suspects.add(r.id);
    inRedis.delete(r.id);
  }
  for (const id of inRedis.keys()) suspects.add(id);
  let armed = 0;
  let removed = 0;
  for (const id of suspects) {
    const change = await mirror(id);
    if (change === "armed") armed++;
    if (change === "removed") removed++;
  }
  return { armed, removed };
}

export function syncSchedules(deps: MirrorDeps): Promise<{ armed: number; removed: number }> {
  return syncCronMirrors(
    deps.scheduleQueue,
    () => deps.db.schedule.findMany({ where: { enabled: true }, select: { id: true, pattern: true, timeZone: true } }),
    (id) => mirrorSchedule(deps, id),
  );
}
