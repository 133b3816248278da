import { z } from "zod";
import { parseDuration } from "../duration";
import type { Keys, TaskRef } from "./keys";
import type { DesiredState } from "./protocol";
import { runTaskRefs, type StageShape } from "./protocol";
import { EVENT_LUA } from "./run-events";
import { parseRunStatus, type RunStatus, TERMINAL_STATUSES } from "./run-status";

// A run's state in Redis as the API and the engine both change it: the status transitions of the run's meta hash
// (each one Lua script, so a transition is atomic against the others), the list of every key a run owns, and their
// retention once the run has ended. Each transition appends its event to the run's timeline (run-events.ts) in the
// same script, so the timeline and the status never disagree. The hot path (a batch commit, see the engine's task-commit) stays the engine's:
// it writes a task partition's own state, never the run's meta.

/** Fields of the run's meta hash (`keys.runMeta`) the transitions read and write. */
const RunField = {
  status: "status",
  /** What the user asked for (DesiredState); tasks look at it between batches. */
  desired: "desired",
  /** The run's generation: a restart increments it, and task leases of older generations stop. */
  gen: "gen",
  error: "error",
  stages: "stages",
  tasksTotal: "tasksTotal",
  startedAt: "startedAt",
  finishedAt: "finishedAt",
  /** The definition and plan as the worker that started the run stored them (JSON). */
  definition: "definition",
  plan: "plan",
} as const;

/** How long a finished run's keys stay in Redis when SLUICE_RUN_RETENTION does not say otherwise: 7 days. */
export const DEFAULT_RUN_RETENTION_MS = 7 * 24 * 3600 * 1000;

/** SLUICE_RUN_RETENTION as the web app's and the worker's env schemas read it: a duration, in milliseconds. */
export const RunRetentionSetting = z
  .string()
  .default("7d")
  .transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === undefined || ms < 1000 || ms > 3650 * 86_400_000) {
      ctx.addIssue({ code: "custom", message: `"${v}" is not a duration from 1s to 3650d; write e.g. 7d or 12h` });
      return z.NEVER;
    }
    return ms;
  });

/**
 * The run's other keys outlive its meta by this much (at most), so whoever still finds the meta finds everything
 * else too: a restart persists the meta first (atomically with finding it), then the rest.
 */
function retentionMargin(retentionMs: number): number {
  return Math.min(retentionMs, 3600 * 1000);
}

/** The Redis calls the run's state needs; an ioredis client (or cluster) satisfies it structurally. */
export interface RunStateClient {
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  hgetall(key: string): Promise<Record<string, string>>;
  pexpire(key: string, ms: number): Promise<number>;
  persist(key: string): Promise<number>;
}

/** The reads tasks make between batches; an ioredis client satisfies it structurally. */
export interface RunControlReader {
  hmget(key: string, ...fields: string[]): Promise<(string | null)[]>;
}

/**
 * Whether a run's meta (`desired`, `status`, `gen` fields, null when absent) says its partitions should stop: the
 * user stopped it, it failed or expired (no status), or — when `generation` is given — it was restarted, so a
 * lease of that older generation is stale.
 */
export function stopWanted(
  desired: string | null | undefined,
  status: string | null | undefined,
  gen?: string | null,
  generation?: number,
): boolean {
  if (desired === "stopped" || status === null || status === undefined || status === "failed") return true;
  return generation !== undefined && Number(gen ?? 1) !== generation;
}

/**
 * What the run wants of its task partitions now: run, wait (paused) or stop (see stopWanted). A paused run that is
 * stopped says `stopped`, so tasks parked on the pause wake and stop.
 */
export async function readDesired(
  redis: RunControlReader,
  keys: Keys,
  runId: string,
  generation?: number,
): Promise<DesiredState> {
  const [desired, status, gen] = await redis.hmget(
    keys.runMeta(runId),
    RunField.desired,
    RunField.status,
    RunField.gen,
  );
  if (stopWanted(desired, status, gen, generation)) return "stopped";
  return desired === "paused" ? "paused" : "running";
}

const TERMINAL_LUA = `local function terminal(s) return ${TERMINAL_STATUSES.map((t) => `s == '${t}'`).join(" or ")} end\n`;

/**
 * Moves the run from ARGV[1] to ARGV[2] (desired ARGV[3]) if it is in ARGV[1], recording event ARGV[4]; returns
 * { moved, status now }.
 */
const TRANSITION_LUA = `${EVENT_LUA}
local status = redis.call('HGET', KEYS[1], 'status')
if status == ARGV[1] then
  redis.call('HSET', KEYS[1], 'status', ARGV[2], 'desired', ARGV[3])
  event(KEYS[2], 'kind', ARGV[4])
  return { 1, ARGV[2] }
end
return { 0, status or '' }
`;

/**
 * Asks the run to drain and stop (a running or paused run; a paused run's tasks wake for it). A run with no tasks to
 * drain — no worker has started it, or it is queued for a restart no worker has taken yet — is stopped at once.
 * Returns { status now, 1 when this call ended the run }.
 */
const STOP_LUA = `${TERMINAL_LUA}${EVENT_LUA}
local status = redis.call('HGET', KEYS[1], 'status')
if terminal(status) then return { status, 0 } end
if not status or status == 'queued' then
  redis.call('HSET', KEYS[1], 'status', 'stopped', 'desired', 'stopped', 'finishedAt', ARGV[1])
  event(KEYS[2], 'kind', 'stopped')
  return { 'stopped', 1 }
end
if status ~= 'stopping' then event(KEYS[2], 'kind', 'stop-requested') end
redis.call('HSET', KEYS[1], 'desired', 'stopped', 'status', 'stopping')
return { 'stopping', 0 }
`;

/** Records a finished task partition (KEYS[2] is the set of them); the last one ends the run. */
const FINISH_TASK_LUA = `${TERMINAL_LUA}${EVENT_LUA}
redis.call('SADD', KEYS[2], ARGV[1])
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return false end
if terminal(status) then return status end
local total = tonumber(redis.call('HGET', KEYS[1], 'tasksTotal') or '0')
if redis.call('SCARD', KEYS[2]) < total then return status end
local final = 'completed'
if redis.call('HGET', KEYS[1], 'desired') == 'stopped' then final = 'stopped' end
redis.call('HSET', KEYS[1], 'status', final, 'finishedAt', ARGV[2])
event(KEYS[3], 'kind', final)
return final
`;

const FAIL_RUN_LUA = `${TERMINAL_LUA}${EVENT_LUA}
local status = redis.call('HGET', KEYS[1], 'status')
if terminal(status) then return status end
redis.call('HSET', KEYS[1], 'status', 'failed', 'desired', 'stopped', 'error', ARGV[1], 'finishedAt', ARGV[2])
event(KEYS[2], 'kind', 'failed', 'error', ARGV[1])
return 'failed'
`;

/**
 * Writes the run's meta unless it exists — or is only the placeholder a restart of a never-started run queued (status
 * queued, no stages), which it replaces; returns the stored stages either way. A run stopped meanwhile stays stopped.
 */
const INIT_RUN_LUA = `${EVENT_LUA}
local placeholder = redis.call('HGET', KEYS[1], 'status') == 'queued' and not redis.call('HGET', KEYS[1], 'stages')
if placeholder then redis.call('DEL', KEYS[1]) end
if redis.call('EXISTS', KEYS[1]) == 0 then
  for i = 1, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
  event(KEYS[2], 'kind', 'started')
end
return redis.call('HGET', KEYS[1], 'stages') or '[]'
`;

/**
 * Queues an ended run for a restart, and in the same step takes the meta out of its retention, so the expiry cannot
 * remove it between the check and the restart. Returns the status it found; '' when the state has expired,
 * 'never-started' for a run stopped before any worker planned it (no stages: a new start job must plan it).
 */
const REQUEUE_LUA = `${TERMINAL_LUA}
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return '' end
if not terminal(status) then return status end
local result = 'requeued'
if not redis.call('HGET', KEYS[1], 'stages') then result = 'never-started' end
redis.call('PERSIST', KEYS[1])
redis.call('HSET', KEYS[1], 'status', 'queued', 'desired', 'running')
for i = 1, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return result
`;

/** A restart that could not be queued after all: the run is back in the status it ended in (ARGV[1]). */
const UNQUEUE_LUA = `
if redis.call('HGET', KEYS[1], 'status') ~= 'queued' then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'desired', 'stopped')
return 1
`;

/**
 * A restarted run's next generation begins (KEYS[2] is the set of finished tasks, under the same hash tag) if it is
 * still queued: it runs again, without its last end's time and error. Runs recorded before generations existed were
 * generation 1.
 */
const NEXT_GENERATION_LUA = `${EVENT_LUA}
if redis.call('HGET', KEYS[1], 'status') ~= 'queued' then return 0 end
if not redis.call('HGET', KEYS[1], 'gen') then redis.call('HSET', KEYS[1], 'gen', '1') end
local gen = redis.call('HINCRBY', KEYS[1], 'gen', 1)
redis.call('HSET', KEYS[1], 'status', 'running', 'desired', 'running', 'startedAt', ARGV[1])
if ARGV[2] == '1' then redis.call('HSET', KEYS[1], 'createdAt', ARGV[1]) end
redis.call('HDEL', KEYS[1], 'finishedAt', 'error')
redis.call('DEL', KEYS[2])
event(KEYS[3], 'kind', 'restarted', 'generation', gen, 'reset', ARGV[2])
return gen
`;

/**
 * Starts the meta's retention (PX ARGV[1]) only if the run has ended — a restart may have requeued it meanwhile — and
 * only once: a second caller (the reconciler after the worker) extends the other keys but not the meta, so the meta
 * still goes first even if the second caller's list of keys is shorter.
 */
const EXPIRE_META_LUA = `${TERMINAL_LUA}
if not terminal(redis.call('HGET', KEYS[1], 'status')) then return 0 end
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return 1
`;

function statusOf(value: unknown): RunStatus | undefined {
  return typeof value === "string" ? parseRunStatus(value) : undefined;
}

export async function pauseRun(
  redis: RunStateClient,
  keys: Keys,
  runId: string,
): Promise<{ moved: boolean; status: RunStatus | undefined }> {
  return transition(redis, keys, runId, "running", "paused", "paused");
}

export async function resumeRun(
  redis: RunStateClient,
  keys: Keys,
  runId: string,
): Promise<{ moved: boolean; status: RunStatus | undefined }> {
  return transition(redis, keys, runId, "paused", "running", "resumed");
}

/** Moves the run `from` → `to`; `event` names the timeline's entry for it (the desired state is `to`'s). */
async function transition(
  redis: RunStateClient,
  keys: Keys,
  runId: string,
  from: RunStatus,
  to: "paused" | "running",
  event: "paused" | "resumed",
): Promise<{ moved: boolean; status: RunStatus | undefined }> {
  const args = [keys.runMeta(runId), keys.runEvents(runId), from, to, to, event];
  const [moved, status] = (await redis.eval(TRANSITION_LUA, 2, ...args)) as [number, string];
  return { moved: moved === 1, status: statusOf(status) };
}

/** What a stop request did: the run's status now, and whether this request ended it (it had no tasks to drain). */
export interface StopOutcome {
  status: RunStatus;
  stoppedNow: boolean;
}

/**
 * Asks the run to stop. A run it ends at once (see STOP_LUA) has its retention started here; one that drains
 * (`stopping`) or had ended already is left to whoever ends it.
 */
export async function stopRun(
  redis: RunStateClient,
  keys: Keys,
  runId: string,
  retentionMs: number,
): Promise<StopOutcome> {
  const [status, now] = (await redis.eval(STOP_LUA, 2, keys.runMeta(runId), keys.runEvents(runId), Date.now())) as [
    string,
    number,
  ];
  const outcome = { status: statusOf(status) ?? "stopping", stoppedNow: now === 1 };
  if (outcome.stoppedNow) await expireRun(redis, keys, runId, retentionMs);
  return outcome;
}

/** Records that a task partition has finished; returns the run's status afterwards (undefined: no run). */
export async function finishRunTask(
  redis: RunStateClient,
  keys: Keys,
  runId: string,
  taskId: string,
): Promise<RunStatus | undefined> {
  const runKeysOf = [keys.runMeta(runId), keys.runDone(runId), keys.runEvents(runId)];
  return statusOf(await redis.eval(FINISH_TASK_LUA, 3, ...runKeysOf, taskId, Date.now()));
}

/** Ends the run as failed, unless it has already ended; returns its final status. */
export async function failRun(
  redis: RunStateClient,
  keys: Keys,
  runId: string,
  error: string,
): Promise<RunStatus | undefined> {
  const args = [keys.runMeta(runId), keys.runEvents(runId), error.slice(0, 4000), Date.now()];
  return statusOf(await redis.eval(FAIL_RUN_LUA, 2, ...args));
}

/** Writes a new run's meta unless a worker already did; returns the stored stages either way. */
export async function initRun(
  redis: RunStateClient,
  keys: Keys,
  runId: string,
  fields: Record<string, string>,
): Promise<StageShape[]> {
  const runKeysOf = [keys.runMeta(runId), keys.runEvents(runId)];
  const stages = await redis.eval(INIT_RUN_LUA, 2, ...runKeysOf, ...Object.entries(fields).flat());
  return JSON.parse(String(stages)) as StageShape[];
}

/**
 * Queues an ended run for a restart and takes all its keys out of retention. `expired` when its state is gone (a
 * restart from its last commit is impossible), `never-started` when no worker planned it (its meta is kept, queued,
 * for the start job that plans it now); otherwise the status it was in (`requeued` when it was queued).
 */
export async function requeueRun(
  redis: RunStateClient,
  keys: Keys,
  runId: string,
  fields: Record<string, string>,
): Promise<"requeued" | "never-started" | "expired" | RunStatus> {
  const found = String(await redis.eval(REQUEUE_LUA, 1, keys.runMeta(runId), ...Object.entries(fields).flat()));
  if (found === "") return "expired";
  if (found === "never-started") return found;
  if (found !== "requeued") return statusOf(found) ?? "expired";
  await persistRun(redis, keys, runId);
  return "requeued";
}

/**
 * Undoes requeueRun when the restart could not be queued: the run is `status` (what it ended as) again, and its
 * retention starts again. Nothing changes if something else has moved the run on meanwhile.
 */
export async function unqueueRun(
  redis: RunStateClient,
  keys: Keys,
  runId: string,
  status: RunStatus,
  retentionMs: number,
): Promise<void> {
  if ((await redis.eval(UNQUEUE_LUA, 1, keys.runMeta(runId), status)) === 1) {
    await expireRun(redis, keys, runId, retentionMs);
  }
}

/**
 * Begins a restarted run's next generation (with `reset`, it counts as created now); returns its number, or 0 when
 * the run is no longer queued (stopped while the restart was under way: it stays stopped).
 */
export async function nextGeneration(
  redis: RunStateClient,
  keys: Keys,
  runId: string,
  reset: boolean,
): Promise<number> {
  const args = [Date.now(), reset ? "1" : "0"];
  const runKeysOf = [keys.runMeta(runId), keys.runDone(runId), keys.runEvents(runId)];
  return Number(await redis.eval(NEXT_GENERATION_LUA, 3, ...runKeysOf, ...args));
}

/** Every key of one task partition (those that do not exist cost nothing to name). */
export function taskKeys(keys: Keys, t: TaskRef, state: Readonly<Record<string, string>>, plan: PlanShape): string[] {
  const stores = registeredStores(state).map(([node, name]) => keys.taskStore(t, node, name));
  const streams = (plan.stages?.[t.stage]?.outputs ?? []).flatMap((shuffleId) => {
    const shuffle = plan.shuffles?.[shuffleId];
    const consumers = shuffle ? (plan.stages?.[shuffle.toStage]?.partitions ?? 0) : 0;
    return Array.from({ length: consumers }, (_, q) => keys.shuffleStream(t, shuffleId, q));
  });
  return [keys.taskState(t), keys.taskDeadLetters(t), keys.taskDiscarded(t), keys.taskReplay(t), ...stores, ...streams];
}

/** The plan's parts that name a run's keys (the physical plan as stored in the meta's `plan` field). */
export interface PlanShape {
  stages?: { partitions: number; outputs?: number[] }[];
  shuffles?: { toStage: number }[];
}

/** The [nodeId, name] of each operator store a task partition's commits registered (its state's `stores` field). */
export function registeredStores(state: Readonly<Record<string, string>>): [string, string][] {
  try {
    return JSON.parse(state.stores ?? "[]") as [string, string][];
  } catch {
    return [];
  }
}

function parseJson<T>(raw: string | undefined, fallback: T): T {
  try {
    return raw === undefined ? fallback : (JSON.parse(raw) as T);
  } catch {
    return fallback;
  }
}

/**
 * Every key the run owns, read from its meta: the meta itself last. Run-level keys share the hash tag {run}, each
 * task partition's keys {run:stage:partition}, so this names them rather than scanning the keyspace.
 */
export async function runKeys(redis: RunStateClient, keys: Keys, runId: string): Promise<string[]> {
  const meta = await redis.hgetall(keys.runMeta(runId));
  const stages = parseJson<StageShape[]>(meta[RunField.stages], []);
  const plan = parseJson<PlanShape>(meta[RunField.plan], {});
  const nodes = parseJson<{ spec?: { nodes?: { id: string }[] } }>(meta[RunField.definition], {}).spec?.nodes ?? [];
  const tasks = runTaskRefs(runId, stages);
  const states = await Promise.all(tasks.map((t) => redis.hgetall(keys.taskState(t))));
  return [
    ...tasks.flatMap((t, i) => taskKeys(keys, t, states[i]!, plan)),
    ...nodes.map((n) => keys.runTail(runId, n.id)),
    keys.runEvents(runId),
    keys.runLogs(runId),
    keys.runDone(runId),
    keys.runMeta(runId),
  ];
}

/**
 * Starts a finished run's retention: its meta goes after `retentionMs`, every other key of it a margin later (see
 * retentionMargin). Idempotent, and safe against a restart at the same time: the meta's expiry is set only if the
 * run is still over, and otherwise the other keys are taken out of retention again. Returns whether it was set.
 */
export async function expireRun(
  redis: RunStateClient,
  keys: Keys,
  runId: string,
  retentionMs: number,
): Promise<boolean> {
  const all = await runKeys(redis, keys, runId);
  const meta = all.pop()!;
  const later = retentionMs + retentionMargin(retentionMs);
  await Promise.all(all.map((k) => redis.pexpire(k, later)));
  if ((await redis.eval(EXPIRE_META_LUA, 1, meta, retentionMs)) === 1) return true;
  // Requeued between the two steps: the restart may have persisted the keys before we set their expiry.
  await Promise.all(all.map((k) => redis.persist(k)));
  return false;
}

/** Takes every key of the run out of retention (a restart). */
export async function persistRun(redis: RunStateClient, keys: Keys, runId: string): Promise<void> {
  const all = await runKeys(redis, keys, runId);
  // The meta first: once it has no expiry, a late reader finds the run whole.
  const meta = all.pop()!;
  await redis.persist(meta);
  await Promise.all(all.map((k) => redis.persist(k)));
}
