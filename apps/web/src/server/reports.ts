// Server-only: the report runner (cron fires → report deliveries), started once per web process from
// instrumentation.ts. Reports run here rather than on the workers because they read the workspace's connections and
// saved queries from PostgreSQL, which the workers never reach.
import { reportQueueFor } from "@sluice/api/reports/report-queue";
import { startReportRunner } from "@sluice/api/reports/report-worker";
import { getDeps } from "./deps";

const STARTED = Symbol.for("sluice.web.reports");
type Flag = { [STARTED]?: () => Promise<void> };

export function startReports(): void {
  const flag = globalThis as Flag;
  if (flag[STARTED]) return;
  const deps = getDeps();
  const runner = startReportRunner({
    ...deps,
    reportQueue: reportQueueFor(deps),
    log: (message, fields) => deps.logger?.warn(message, fields),
  });
  // A fire cut off mid-way has either claimed its slot (and is lost, never doubled) or not (and BullMQ hands it to
  // another process once its lock expires).
  flag[STARTED] = runner.stop;
}
