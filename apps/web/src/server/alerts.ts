// Server-only: the alert evaluator (spec.alerts of running pipelines), started once per web process from
// instrumentation.ts.
import { startAlertLoop } from "@sluice/api/alerts/alert-loop";
import { getDeps } from "./deps";

const STARTED = Symbol.for("sluice.web.alerts");
type Flag = { [STARTED]?: () => Promise<void> };

export function startAlerts(): void {
  const flag = globalThis as Flag;
  if (flag[STARTED]) return;
  const { db, redis, keys, destinations, secretKey, logger } = getDeps();
  // Alert state lives in PostgreSQL and a pass runs under an advisory lock, so any number of web processes may run it.
  flag[STARTED] = startAlertLoop({
    db,
    redis,
    keys,
    destinations,
    secretKey,
    log: (message, fields) => logger?.warn(message, fields),
  });
}
