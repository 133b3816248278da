import type { Db } from "@sluice/db/client";
import type { Keys } from "@sluice/pipeline/control/keys";
import { FIGURES_TTL_MS, type FiguresReader, readNodeFigures } from "@sluice/pipeline/control/node-figures";
import { TERMINAL_DB_STATUSES } from "@sluice/pipeline/control/run-status";
import { withAdvisoryLock } from "../schedules/advisory-lock";
import { addSecond, coarsen, emptyBucket, type FigureBucket } from "./figure-buckets";
import type { HistoryRetention } from "./history-retention";
import { deleteExpiredBuckets, readBuckets, upsertBuckets } from "./history-store";

// Rolls the per-second node figures workers publish to Redis (they live FIGURES_TTL_MS) up into PostgreSQL: each
// tick, for every run going or ended within ENDED_WITHIN_MS, the whole 10 s buckets not rolled yet are computed
// from their seconds, then the 1 min and 1 h buckets they fall in are recomputed from the finer rows. Every write
// is an upsert of a whole bucket and the run's cursor moves only after them, so a process that dies mid-tick
// loses nothing and counts nothing twice; an advisory lock keeps several web processes from doing the work twice.
// A pass stops after PASS_BUDGET_MS, well inside the lock's hold limit: the runs it did not reach come next tick.

export interface HistoryRollupDeps {
  db: Db;
  redis: FiguresReader;
  keys: Keys;
  /** SLUICE_HISTORY_RETENTION. */
  retention: HistoryRetention;
  now?: () => number;
  log?: (message: string, fields?: Record<string, unknown>) => void;
  /** Tests: a shorter pass budget. */
  passBudgetMs?: number;
}

/** Workers publish a second's figures just after it turns; a second is rolled up only this long after its end. */
const SETTLE_SECONDS = 2;
/** A run that ended is still rolled up this long, for the figures of its last seconds. */
const ENDED_WITHIN_MS = 5 * 60_000;
const FINEST = 10;
const LOCK_KEY = "sluice:history-rollup";
/** How long a pass may roll runs up; the advisory lock's hold limit is 60 s. */
const PASS_BUDGET_MS = 20_000;

const floorTo = (sec: number, width: number) => Math.floor(sec / width) * width;
const ceilTo = (sec: number, width: number) => Math.ceil(sec / width) * width;

/** One roll-up pass over every run due; returns how many 10 s buckets it wrote. */
export async function rollUpHistory(deps: HistoryRollupDeps): Promise<number> {
  return withAdvisoryLock(deps.db, LOCK_KEY, () => rollUpUnlocked(deps));
}

async function rollUpUnlocked(deps: HistoryRollupDeps): Promise<number> {
  const { db } = deps;
  const nowMs = (deps.now ?? Date.now)();
  const nowSec = Math.floor(nowMs / 1000);
  const startedMs = Date.now();
  const budgetMs = deps.passBudgetMs ?? PASS_BUDGET_MS;
  // Buckets end at or before this second (exclusive), and their seconds have all been published.
  const end = floorTo(nowSec - SETTLE_SECONDS, FINEST);
  // Seconds older than this may have expired from Redis already: a bucket starting before it would be partial.
  const oldest = ceilTo(nowSec - Math.floor(FIGURES_TTL_MS / 1000) + SETTLE_SECONDS, FINEST);
  const runs = await db.run.findMany({
    where: {
      startedAt: { not: null },
      OR: [
        { status: { notIn: [...TERMINAL_DB_STATUSES] } },
        { finishedAt: { gte: new Date(nowMs - ENDED_WITHIN_MS) } },
      ],
    },
    select: { id: true, startedAt: true, finishedAt: true, historyCursor: { select: { rolledTo: true } } },
    orderBy: { createdAt: "desc" },
    take: 1000,
  });
  let written = 0;
  for (const [i, run] of runs.entries()) {
    if (Date.now() - startedMs > budgetMs) {
      deps.log?.("history roll-up ran out of time; the runs left are rolled up next pass", { left: runs.length - i });
      break;
    }
    const rolledTo = run.historyCursor ? run.historyCursor.rolledTo.getTime() / 1000 : null;
    const from = Math.max(rolledTo ?? floorTo(run.startedAt!.getTime() / 1000, FINEST), oldest);
    // An ended run's last bucket is the one its last second falls in.
    const until = run.finishedAt
      ? Math.min(end, ceilTo(run.finishedAt.getTime() / 1000 + SETTLE_SECONDS, FINEST))
      : end;
    if (from >= until) continue;
    written += await rollUpRun(db, deps, run.id, from, until);
    await db.runHistoryCursor.upsert({
      where: { runId: run.id },
      create: { runId: run.id, rolledTo: new Date(until * 1000) },
      update: { rolledTo: new Date(until * 1000) },
    });
  }
  return written;
}

/** Writes the 10 s buckets of seconds [from, end) of one run and the coarser buckets they fall in. */
async function rollUpRun(db: Db, deps: HistoryRollupDeps, runId: string, from: number, end: number): Promise<number> {
  const seconds: number[] = [];
  for (let s = from; s < end; s++) seconds.push(s);
  const figures = await Promise.all(seconds.map((s) => readNodeFigures(deps.redis, deps.keys, runId, s, s)));
  const buckets = new Map<number, FigureBucket>();
  for (const second of figures) {
    if (Object.keys(second.nodes).length === 0 && Object.keys(second.edges).length === 0) continue;
    const start = floorTo(second.fromSec, FINEST);
    const bucket = buckets.get(start) ?? emptyBucket(start);
    buckets.set(start, bucket);
    addSecond(bucket, second);
  }
  if (buckets.size === 0) return 0;
  await upsertBuckets(db, runId, 10, [...buckets.values()]);
  // The minutes and hours these seconds fall in, recomputed whole from the finer rows (partial ones included, so a
  // going run's current minute and hour show what it has so far).
  const minuteFrom = floorTo(from, 60);
  const minutes = coarsen(await readBuckets(db, [runId], 10, minuteFrom, ceilTo(end, 60)), 60);
  await upsertBuckets(db, runId, 60, minutes);
  const hourFrom = floorTo(from, 3600);
  const hours = coarsen(await readBuckets(db, [runId], 60, hourFrom, ceilTo(end, 3600)), 3600);
  await upsertBuckets(db, runId, 3600, hours);
  return buckets.size;
}

/** Old buckets are deleted at most this often: each pass walks every run's rows of a resolution. */
const RETENTION_EVERY_MS = 10 * 60_000;

/** Runs rollUpHistory every `everyMs` (and the retention sweep every 10 minutes) until stopped. */
export function startHistoryRollup(deps: HistoryRollupDeps, everyMs = 10_000): () => Promise<void> {
  let stopped = false;
  let lastSweep = 0;
  let current: Promise<unknown> = Promise.resolve();
  const pass = async () => {
    await rollUpHistory(deps);
    const now = (deps.now ?? Date.now)();
    if (now - lastSweep >= RETENTION_EVERY_MS) {
      lastSweep = now;
      await deleteExpiredBuckets(deps.db, deps.retention, now);
    }
  };
  const tick = () => {
    if (stopped) return;
    current = pass()
      .catch((err) => deps.log?.("history roll-up failed", { error: err instanceof Error ? err.message : String(err) }))
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
