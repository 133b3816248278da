import type { Db } from "@sluice/db/client";
import type { Keys } from "@sluice/pipeline/control/keys";
import { parseRunMeta, type RunRestartJob, runTaskRefs } from "@sluice/pipeline/control/protocol";
import { type DeadLetterView, readDeadLetters } from "@sluice/pipeline/control/run-reader";
import { TRPCError } from "@trpc/server";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { ACTIVE_RUN_STATUSES } from "../pipelines/pipeline-service";
import { TERMINAL_DB_STATUSES } from "./run-status";

// Pause, resume and restart a run, and work with its dead letters. The desired state goes straight into the run's
// Redis meta (tasks look at it between batches); a restart is a control job for the fleet, since it re-enqueues
// the run's tasks.

export interface RunControlDeps {
  db: Db;
  redis: Redis;
  keys: Keys;
  controlQueue: Queue;
}

async function ownRun(db: Db, workspaceId: string, runId: string) {
  const run = await db.run.findFirst({
    where: { id: runId, workspaceId },
    select: { id: true, status: true, pipelineId: true, restarts: true },
  });
  if (!run) throw new TRPCError({ code: "NOT_FOUND", message: "no such run in this workspace" });
  return run;
}

/** Moves the run from `from` to `to` (desired and status together) if it is in `from`; says whether it moved. */
const TRANSITION_LUA = `
local status = redis.call('HGET', KEYS[1], 'status')
if status == ARGV[1] then
  redis.call('HSET', KEYS[1], 'status', ARGV[2], 'desired', ARGV[3])
  return { 1, ARGV[2] }
end
return { 0, status or '' }
`;

async function transition(
  deps: RunControlDeps,
  runId: string,
  from: string,
  to: string,
  desired: string,
): Promise<{ moved: boolean; status: string }> {
  const [moved, status] = (await deps.redis.eval(TRANSITION_LUA, 1, deps.keys.runMeta(runId), from, to, desired)) as [
    number,
    string,
  ];
  return { moved: moved === 1, status };
}

export async function pauseRun(deps: RunControlDeps, workspaceId: string, runId: string): Promise<{ status: string }> {
  await ownRun(deps.db, workspaceId, runId);
  const { moved, status } = await transition(deps, runId, "running", "paused", "paused");
  if (!moved) {
    const message = `only a running run can be paused (this one is ${status || "not started"})`;
    throw new TRPCError({ code: "PRECONDITION_FAILED", message });
  }
  await deps.db.run.updateMany({ where: { id: runId, status: "RUNNING" }, data: { status: "PAUSED" } });
  return { status: "PAUSED" };
}

export async function resumeRun(deps: RunControlDeps, workspaceId: string, runId: string): Promise<{ status: string }> {
  await ownRun(deps.db, workspaceId, runId);
  const { moved, status } = await transition(deps, runId, "paused", "running", "running");
  if (!moved) {
    const message = `only a paused run can be resumed (this one is ${status || "not started"})`;
    throw new TRPCError({ code: "PRECONDITION_FAILED", message });
  }
  await deps.db.run.updateMany({ where: { id: runId, status: "PAUSED" }, data: { status: "RUNNING" } });
  return { status: "RUNNING" };
}

export async function restartRun(
  deps: RunControlDeps,
  workspaceId: string,
  runId: string,
  reset: boolean,
): Promise<{ status: string }> {
  const run = await ownRun(deps.db, workspaceId, runId);
  if (!TERMINAL_DB_STATUSES.includes(run.status)) {
    throw new TRPCError({ code: "PRECONDITION_FAILED", message: "stop the run before restarting it" });
  }
  const active = await deps.db.run.count({
    where: { pipelineId: run.pipelineId, status: { in: [...ACTIVE_RUN_STATUSES] } },
  });
  if (active > 0)
    throw new TRPCError({ code: "CONFLICT", message: "another run of this pipeline is active: stop it first" });
  const meta = parseRunMeta(await deps.redis.hgetall(deps.keys.runMeta(runId)));
  if (!meta || meta.stages.length === 0) {
    throw new TRPCError({
      code: "PRECONDITION_FAILED",
      message: "this run's state has expired; start a new run instead",
    });
  }
  // Queued until a worker takes the restart: the reconciler must not read the old final status meanwhile.
  // The workspace too: a run started before runs carried it gets its workspace's files folder, not the whole one.
  await deps.redis.hset(deps.keys.runMeta(runId), { status: "queued", desired: "running", workspaceId });
  const job: RunRestartJob = { v: 1, action: "restart", runId, reset };
  await deps.controlQueue.add("restart", job, {
    jobId: `restart-${runId}-${run.restarts + 1}`,
    attempts: 5,
    backoff: { type: "exponential", delay: 1000 },
    removeOnComplete: 1000,
    removeOnFail: 1000,
  });
  await deps.db.run.update({
    where: { id: runId },
    data: { status: "QUEUED", finishedAt: null, error: null, restarts: { increment: 1 } },
  });
  return { status: "QUEUED" };
}

export async function listDeadLetters(
  deps: RunControlDeps,
  workspaceId: string,
  runId: string,
  limit: number,
): Promise<DeadLetterView[]> {
  await ownRun(deps.db, workspaceId, runId);
  const meta = parseRunMeta(await deps.redis.hgetall(deps.keys.runMeta(runId)));
  if (!meta) return [];
  return readDeadLetters(deps.redis, deps.keys, runId, meta, limit);
}

/**
 * Moves dead letters into their partition's replay stream: the ids given, or with ARGV[1] = "*" the oldest ARGV[2]
 * (a partition may hold a million; they move in slices so Redis is never held for long).
 */
const REPLAY_LUA = `
local moved = 0
local ids = ARGV
if ARGV[1] == '*' then
  ids = {}
  for _, e in ipairs(redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', ARGV[2])) do table.insert(ids, e[1]) end
end
for _, id in ipairs(ids) do
  local found = redis.call('XRANGE', KEYS[1], id, id)
  if #found == 1 then
    redis.call('XADD', KEYS[2], '*', unpack(found[1][2]))
    redis.call('XDEL', KEYS[1], id)
    moved = moved + 1
  end
end
return moved
`;

const REPLAY_SLICE = 10_000;

export async function replayDeadLetters(
  deps: RunControlDeps,
  workspaceId: string,
  runId: string,
  ids: readonly string[] | undefined,
): Promise<{ replayed: number; runActive: boolean }> {
  const run = await ownRun(deps.db, workspaceId, runId);
  const meta = parseRunMeta(await deps.redis.hgetall(deps.keys.runMeta(runId)));
  if (!meta) throw new TRPCError({ code: "PRECONDITION_FAILED", message: "this run's state has expired" });
  const byTask = new Map<string, string[]>();
  for (const id of ids ?? []) {
    const [stage, partition, streamId] = id.split(".") as [string, string, string];
    const key = `${stage}.${partition}`;
    byTask.set(key, [...(byTask.get(key) ?? []), streamId]);
  }
  let replayed = 0;
  for (const t of runTaskRefs(runId, meta.stages)) {
    const wanted = ids === undefined ? [] : (byTask.get(`${t.stage}.${t.partition}`) ?? []);
    if (ids !== undefined && wanted.length === 0) continue;
    const from = deps.keys.taskDeadLetters(t);
    const to = deps.keys.taskReplay(t);
    if (ids !== undefined) {
      replayed += (await deps.redis.eval(REPLAY_LUA, 2, from, to, ...wanted)) as number;
      continue;
    }
    // Those there now: letters that fail again while this runs come back behind them and are not moved again.
    for (let left = await deps.redis.xlen(from); left > 0; ) {
      const moved = (await deps.redis.eval(REPLAY_LUA, 2, from, to, "*", Math.min(left, REPLAY_SLICE))) as number;
      replayed += moved;
      left = moved === 0 ? 0 : left - moved;
    }
  }
  return { replayed, runActive: !TERMINAL_DB_STATUSES.includes(run.status) };
}
