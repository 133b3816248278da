import type { Db } from "@sluice/db/client";
import type { Keys } from "@sluice/pipeline/control/keys";
import {
  type RunLogLine,
  type RunLogQuery,
  type RunLogsClient,
  readRunLogs,
  readRunLogsSince,
} from "@sluice/pipeline/control/run-logs";
import { type RunStateReader, readRunMeta } from "@sluice/pipeline/control/run-reader";
import { isTerminal } from "@sluice/pipeline/control/run-status";
import { TRPCError } from "@trpc/server";

// A run's log as the API serves it: pages newest first (filtered by level and node), and a live tail that sends
// the lines that arrive. The lines live in the run's Redis stream (bounded, gone with the run's retention).

interface Deps {
  db: Db;
  redis: RunLogsClient & RunStateReader;
  keys: Keys;
}

/** NOT_FOUND unless the run is the workspace's. */
export async function checkRun(db: Db, workspaceId: string, runId: string): Promise<void> {
  const run = await db.run.findFirst({ where: { id: runId, workspaceId }, select: { id: true } });
  if (!run) throw new TRPCError({ code: "NOT_FOUND", message: "no such run in this workspace" });
}

const STREAM_ID = /^\d{1,20}-\d{1,20}$/;

export async function listRunLogs(
  deps: Deps,
  workspaceId: string,
  runId: string,
  q: RunLogQuery,
): Promise<{ lines: RunLogLine[]; next: string | null }> {
  await checkRun(deps.db, workspaceId, runId);
  if (q.after !== undefined && !STREAM_ID.test(q.after)) {
    const message = `after: "${q.after}" is not a log line id as listed, e.g. 1700000000000-0`;
    throw new TRPCError({ code: "BAD_REQUEST", message });
  }
  return readRunLogs(deps.redis, deps.keys, runId, q);
}

/** Lines one step of the live tail reads at most. */
const TAIL_STEP = 500;

/**
 * One step of the live tail: the lines after `since` (the newest step's worth at first), whether more are waiting
 * behind a full step, and whether the run is over (its last lines are in this step).
 */
export async function tailStep(
  deps: Deps,
  runId: string,
  since: string | undefined,
  filter: Pick<RunLogQuery, "level" | "node">,
): Promise<{ lines: RunLogLine[]; since: string | undefined; more: boolean; ended: boolean }> {
  // The status before the read: lines written before the run ended are all in the stream by then.
  const meta = await readRunMeta(deps.redis, deps.keys, runId);
  const step = await readRunLogsSince(deps.redis, deps.keys, runId, since, { ...filter, limit: TAIL_STEP });
  return {
    lines: step.lines,
    since: step.last,
    more: step.read === TAIL_STEP,
    ended: !meta || isTerminal(meta.status),
  };
}
