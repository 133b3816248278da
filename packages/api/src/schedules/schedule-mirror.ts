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

export async function mirrorSchedule(deps: MirrorDeps, scheduleId: string): Promise<MirrorChange> {
  const { db, scheduleQueue } = deps;
  return withAdvisoryLock(db, `sluice:schedule-mirror:${scheduleId}`, async () => {
    const row = await db.schedule.findUnique({
      where: { id: scheduleId },
      select: { enabled: true, pattern: true, timeZone: true },
    });
    if (!row?.enabled) {
      return (await scheduleQueue.removeJobScheduler(scheduleId)) ? "removed" : "unchanged";
    }
    const current = await scheduleQueue.getJobScheduler(scheduleId);
    if (current && current.pattern === row.pattern && current.tz === row.timeZone) return "unchanged";
    await scheduleQueue.upsertJobScheduler(
      scheduleId,
      { pattern: row.pattern, tz: row.timeZone },
      { name: FIRE_JOB_NAME, data: { v: 1, scheduleId }, opts: FIRE_JOB_OPTIONS },
    );
    return "armed";
  });
}

/** Schedulers are listed this many at a time. */
const PAGE = 500;

/**
 * Re-mirrors every schedule: arms enabled schedules whose scheduler is missing or different (Redis may have been
 * flushed) and removes schedulers whose schedule is gone or disabled. Only schedules that differ are locked and
 * touched, so running it in several processes at once, or often, is cheap and safe.
 */
export async function syncSchedules(deps: MirrorDeps): Promise<{ armed: number; removed: number }> {
  const { db, scheduleQueue } = deps;
  // Redis first, then Postgres: a schedule created between the two reads is merely re-checked, never removed.
  const inRedis = new Map<string, { pattern?: string; tz?: string }>();
  for (let start = 0; ; start += PAGE) {
    const page = await scheduleQueue.getJobSchedulers(start, start + PAGE - 1, true);
    for (const s of page) inRedis.set(s.key, { pattern: s.pattern, tz: s.tz });
    if (page.length < PAGE) break;
  }
  const enabled = await db.schedule.findMany({
    where: { enabled: true },
    select: { id: true, pattern: true, timeZone: true },
  });
  const suspects = new Set<string>();
  for (const s of enabled) {
    const mirrored = inRedis.get(s.id);
    if (!mirrored || mirrored.pattern !== s.pattern || mirrored.tz !== s.timeZone) suspects.add(s.id);
    inRedis.delete(s.id);
  }
  for (const id of inRedis.keys()) suspects.add(id);
  let armed = 0;
  let removed = 0;
  for (const id of suspects) {
    const change = await mirrorSchedule(deps, id);
    if (change === "armed") armed++;
    if (change === "removed") removed++;
  }
  return { armed, removed };
}
