// Server-only: the schedule runner (cron fires → runs), started once per web process from instrumentation.ts.
import { scheduleQueueFor } from "@sluice/api/schedules/schedule-queue";
import { startScheduleRunner } from "@sluice/api/schedules/schedule-worker";
import { getDeps } from "./deps";

const STARTED = Symbol.for("sluice.web.scheduler");
type Flag = { [STARTED]?: () => Promise<void> };

export function startScheduler(): void {
  const flag = globalThis as Flag;
  if (flag[STARTED]) return;
  const deps = getDeps();
  const runner = startScheduleRunner({
    db: deps.db,
    redis: deps.redis,
    keys: deps.keys,
    controlQueue: deps.controlQueue,
    catalog: deps.catalog,
    connectionTypes: deps.connectionTypes,
    secretKey: deps.secretKey,
    destinations: deps.destinations,
    scheduleQueue: scheduleQueueFor(deps),
    log: (message, fields) => deps.logger?.warn(message, fields),
  });
  // As with the reconciler, Next owns shutdown: a fire cut off mid-way has either claimed its slot (and is lost, never
  // doubled) or not (and BullMQ hands it to another process once its lock expires).
  flag[STARTED] = runner.stop;
}
