// Server-only: the node-figure history roll-up, started once per web process from instrumentation.ts.
import { startHistoryRollup } from "@sluice/api/history/history-rollup";
import { getDeps } from "./deps";
import { webEnv } from "./env";

const STARTED = Symbol.for("sluice.web.history-rollup");
type Flag = { [STARTED]?: () => Promise<void> };

export function startHistory(): void {
  const flag = globalThis as Flag;
  if (flag[STARTED]) return;
  const { db, redis, keys, logger } = getDeps();
  // Every write is a whole-bucket upsert behind the run's cursor, so being cut off mid-pass loses nothing.
  flag[STARTED] = startHistoryRollup({
    db,
    redis,
    keys,
    retention: webEnv().historyRetention,
    log: (message, fields) => logger?.warn(message, fields),
  });
}
