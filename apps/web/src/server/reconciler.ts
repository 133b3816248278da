// Server-only: the run reconciler, started once per web process from instrumentation.ts.
import { startRunReconciler } from "@sluice/api/runs/run-reconciler";
import { getDeps } from "./deps";

const STARTED = Symbol.for("sluice.web.reconciler");
type Flag = { [STARTED]?: () => Promise<void> };

export function startReconciler(): void {
  const flag = globalThis as Flag;
  if (flag[STARTED]) return;
  const { db, redis, keys, logger, runRetentionMs } = getDeps();
  const stop = startRunReconciler({
    db,
    redis,
    keys,
    ...(runRetentionMs ? { retentionMs: runRetentionMs } : {}),
    log: (message, fields) => logger?.warn(message, fields),
  });
  // No signal handlers of our own: Next owns shutdown, and every reconciler write is conditional and idempotent,
  // so being cut off mid-tick loses nothing.
  flag[STARTED] = stop;
}
