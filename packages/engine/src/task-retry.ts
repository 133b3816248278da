import type { Keys, TaskRef } from "@sluice/pipeline/control/keys";
import { parseTaskRetry, TASK_RETRY_FIELD, type TaskRetry } from "@sluice/pipeline/control/protocol";
import { recordRunEvent } from "@sluice/pipeline/control/run-events";
import { readDesired } from "@sluice/pipeline/control/run-state";
import type { Redis } from "ioredis";

// A partition that cannot go on (its source or sink unreachable, Redis hiccuping) is tried again later with a
// growing delay. The attempt count and the last error live in the partition's task state, so the run's page shows
// "retrying: … (attempt 7, next in 16 s)" whichever worker tried last, and the count survives a change of worker.
// The first batch that reads again clears it. The run's timeline gets the first attempt, every attempt whose error
// differs from the one before, and then attempts 2, 4, 8, …: a partition retrying for a day at the 30 s ceiling
// would otherwise push everything else out of the capped stream.

const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 30_000;
/** A partition of a run being stopped goes again at once: that attempt stops it without needing its source. */
const STOPPING_DELAY_MS = 100;
const MAX_ERROR_CHARS = 1000;

interface RetryDeps {
  redis: Redis;
  keys: Keys;
  /** The worker retrying, named on the run's timeline. */
  workerId?: string;
}

/** Whether attempt `attempt` of a retry goes on the run's timeline (see above). */
export function retryWorthAnEvent(attempt: number, error: string, previousError: string | undefined): boolean {
  return attempt === 1 || error !== previousError || (attempt & (attempt - 1)) === 0;
}

/** The delay before attempt `attempt + 1`, doubling from 250 ms up to 30 s. */
function retryDelay(attempt: number): number {
  return Math.min(FIRST_DELAY_MS * 2 ** Math.min(Math.max(attempt - 1, 0), 7), MAX_DELAY_MS);
}

/**
 * Records a failed attempt of `task` and returns it with the delay before the next one: `delayMs` when the caller
 * decides it (a sink retrying within its lease), else the backoff for the attempt.
 */
export async function recordTaskRetry(
  deps: RetryDeps,
  task: TaskRef,
  message: string,
  delayMs?: number,
): Promise<TaskRetry & { delayMs: number }> {
  const { redis, keys } = deps;
  const key = keys.taskState(task);
  const error = message.length > MAX_ERROR_CHARS ? `${message.slice(0, MAX_ERROR_CHARS)}…` : message;
  const now = Date.now();
  try {
    const [previous, stopping] = await Promise.all([
      redis.hget(key, TASK_RETRY_FIELD),
      // Only the backoff looks at the run: a caller that decides the delay needs no read of its meta.
      delayMs === undefined ? readDesired(redis, keys, task.runId).then((d) => d === "stopped") : false,
    ]);
    const last = parseTaskRetry(previous);
    const attempt = (last?.attempt ?? 0) + 1;
    const delay = delayMs ?? (stopping ? STOPPING_DELAY_MS : retryDelay(attempt));
    const retry: TaskRetry = {
      stage: task.stage,
      partition: task.partition,
      error,
      attempt,
      nextAt: now + delay,
      at: now,
    };
    await redis.hset(key, TASK_RETRY_FIELD, JSON.stringify(retry));
    if (retryWorthAnEvent(attempt, error, last?.error)) {
      const detail = { stage: task.stage, partition: task.partition, attempt, error, worker: deps.workerId };
      await recordRunEvent(redis, keys, task.runId, "retry", detail);
    }
    return { ...retry, delayMs: delay };
  } catch {
    // Redis itself is what failed: nothing can be recorded, wait as after a first failure.
    const delay = delayMs ?? retryDelay(1);
    const retry = { stage: task.stage, partition: task.partition, error, attempt: 1, nextAt: now + delay, at: now };
    return { ...retry, delayMs: delay };
  }
}

/** Forgets the partition's retry record: it is reading again. */
export async function clearTaskRetry(deps: RetryDeps, task: TaskRef): Promise<void> {
  await deps.redis.hdel(deps.keys.taskState(task), TASK_RETRY_FIELD);
}
