import type { Db } from "@sluice/db/client";
import type { Prisma } from "@sluice/db/generated/prisma/client";
import type { Keys } from "@sluice/pipeline/control/keys";
import type { RunEventsClient } from "@sluice/pipeline/control/run-events";
import { type RunStateReader, readRunSnapshot } from "@sluice/pipeline/control/run-reader";
import { DEFAULT_RUN_RETENTION_MS, expireRun, type RunStateClient } from "@sluice/pipeline/control/run-state";
import { type DbRunStatus, isTerminal, TERMINAL_DB_STATUSES, toDbStatus } from "@sluice/pipeline/control/run-status";
import { copyRunEvents } from "./run-timeline";

// Keeps Postgres' run history in step with the fleet: the workers only know Redis, so this loop copies each
// active run's status, times, error and counters into its Run row, and the final figures once it ends. Safe to
// run in several web processes at once: every write is conditional on the row not being final yet. An ended run's
// timeline is copied before its row turns final, so a failed copy is tried again on the next pass.

export interface ReconcilerDeps {
  db: Db;
  redis: RunStateReader & RunStateClient & RunEventsClient;
  keys: Keys;
  /** SLUICE_RUN_RETENTION; 7 days where absent. */
  retentionMs?: number;
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

/** Counters of running runs are written to Postgres at most this often (the UI reads live ones from Redis). */
const COUNTER_FLUSH_MS = 10_000;

export async function reconcileRuns(deps: ReconcilerDeps, lastFlush: Map<string, number> = new Map()): Promise<number> {
  const { db, redis, keys } = deps;
  const active = await db.run.findMany({
    where: { status: { notIn: [...TERMINAL_DB_STATUSES] } },
    select: { id: true, status: true, startedAt: true, createdAt: true },
    orderBy: { createdAt: "asc" },
    take: 1000,
  });
  let changed = 0;
  const now = Date.now();
  for (const run of active) {
    const snapshot = await readRunSnapshot(redis, keys, run.id);
    if (!snapshot) {
      // A queued run has no Redis state until a worker takes its start job; any other run without state was lost.
      if (run.status === "QUEUED") continue;
      const r = await db.run.updateMany({
        where: { id: run.id, status: { notIn: [...TERMINAL_DB_STATUSES] } },
        data: {
          status: "FAILED",
          finishedAt: new Date(),
          error: "The run's state is gone from Redis while it was still going (was Redis flushed?).",
        },
      });
      changed += r.count;
      continue;
    }
    const status: DbRunStatus = toDbStatus(snapshot.status);
    const terminal = isTerminal(snapshot.status);
    const due = terminal || status !== run.status || now - (lastFlush.get(run.id) ?? 0) >= COUNTER_FLUSH_MS;
    if (!due) continue;
    if (terminal) await copyRunEvents(db, redis, keys, run.id);
    const r = await db.run.updateMany({
      where: { id: run.id, status: { notIn: [...TERMINAL_DB_STATUSES] } },
      data: {
        status,
        delivery: snapshot.delivery,
        error: snapshot.error,
        counters: snapshot.nodes as Prisma.InputJsonValue,
        ...(snapshot.startedAt ? { startedAt: new Date(snapshot.startedAt) } : {}),
        ...(snapshot.finishedAt ? { finishedAt: new Date(snapshot.finishedAt) } : {}),
      },
    });
    lastFlush.set(run.id, now);
    if (terminal) lastFlush.delete(run.id);
    // The worker that ended the run started its retention; this covers one that died before it could.
    if (terminal && r.count > 0) await expireRun(redis, keys, run.id, deps.retentionMs ?? DEFAULT_RUN_RETENTION_MS);
    if (status !== run.status) changed += r.count;
  }
  return changed;
}

/** Runs reconcileRuns every `everyMs` until the returned stop function is called. */
export function startRunReconciler(deps: ReconcilerDeps, everyMs = 1000): () => Promise<void> {
  const lastFlush = new Map<string, number>();
  let stopped = false;
  let current: Promise<unknown> = Promise.resolve();
  const tick = () => {
    if (stopped) return;
    current = reconcileRuns(deps, lastFlush)
      .catch((err) => deps.log?.("run reconciler failed", { error: err instanceof Error ? err.message : String(err) }))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, everyMs);
      });
  };
  let timer = setTimeout(tick, 0);
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await current;
  };
}
