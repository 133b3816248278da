import type { Keys } from "@sluice/pipeline/control/keys";
import { taskId } from "@sluice/pipeline/control/keys";
import {
  isTerminal,
  parseRunMeta,
  type RunRestartJob,
  type RunStartJob,
  RunStatus,
  runTaskRefs,
  type StageShape,
  TASK_RETRY_FIELD,
  type TaskJob,
} from "@sluice/pipeline/control/protocol";
import { formatIssue } from "@sluice/pipeline/issues";
import type { NodeCatalog } from "@sluice/pipeline/node-definition";
import { type PhysicalPlan, plan } from "@sluice/pipeline/plan";
import { validate } from "@sluice/pipeline/validate";
import type { Queue } from "bullmq";
import type { Redis, Result } from "ioredis";
import { CRASHES_FIELD, HELD_FIELD } from "./partition-crashes";
import { TaskStores } from "./state-store";

// Run lifecycle on the Redis side: start (plan + meta + one long-lived task job per partition), stop requests,
// task completion and the run's final state. Every step is idempotent, so a re-delivered control job or a
// re-run task after a crash does no harm.

/** Finished runs' keys are kept this long for late readers (the API copies final figures to Postgres). */
export const FINISHED_RUN_TTL_SECONDS = 7 * 24 * 3600;

const FINISH_TASK_LUA = `
redis.call('SADD', KEYS[2], ARGV[1])
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return false end
if status == 'completed' or status == 'stopped' or status == 'failed' then return status end
local total = tonumber(redis.call('HGET', KEYS[1], 'tasksTotal') or '0')
if redis.call('SCARD', KEYS[2]) < total then return status end
local final = 'completed'
if redis.call('HGET', KEYS[1], 'desired') == 'stopped' then final = 'stopped' end
redis.call('HSET', KEYS[1], 'status', final, 'finishedAt', ARGV[2])
return final
`;

/** Writes the run's meta unless it exists; returns the stored stages either way. */
const INIT_RUN_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  for i = 1, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
return redis.call('HGET', KEYS[1], 'stages') or '[]'
`;

const FAIL_RUN_LUA = `
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'completed' or status == 'stopped' or status == 'failed' then return status end
redis.call('HSET', KEYS[1], 'status', 'failed', 'desired', 'stopped', 'error', ARGV[1], 'finishedAt', ARGV[2])
return 'failed'
`;

declare module "ioredis" {
  interface RedisCommander<Context> {
    sluiceFinishTask(meta: string, done: string, taskId: string, now: number): Result<string | null, Context>;
    sluiceFailRun(meta: string, error: string, now: number): Result<string, Context>;
    sluiceInitRun(meta: string, ...fields: string[]): Result<string, Context>;
  }
}

function defineRunCommands(redis: Redis): void {
  if (typeof redis.sluiceFinishTask === "function") return;
  redis.defineCommand("sluiceFinishTask", { numberOfKeys: 2, lua: FINISH_TASK_LUA });
  redis.defineCommand("sluiceFailRun", { numberOfKeys: 1, lua: FAIL_RUN_LUA });
  redis.defineCommand("sluiceInitRun", { numberOfKeys: 1, lua: INIT_RUN_LUA });
}

export interface RunControllerDeps {
  redis: Redis;
  keys: Keys;
  catalog: NodeCatalog;
  taskQueue: Queue;
}

export class RunController {
  constructor(private readonly deps: RunControllerDeps) {
    defineRunCommands(deps.redis);
  }

  /** Plans the run and enqueues its tasks. Idempotent: a second call for the same run re-enqueues nothing new. */
  async start(job: RunStartJob): Promise<void> {
    const { redis, keys, catalog } = this.deps;
    const metaKey = keys.runMeta(job.runId);
    const existing = parseRunMeta(await redis.hgetall(metaKey));
    // Stopped before any worker got to it, or already over: nothing to start.
    if (existing && isTerminal(existing.status)) return;
    let stages = existing?.stages ?? [];
    if (stages.length === 0) {
      const checked = validate(job.definition, catalog, { parameters: job.parameters });
      const errors = checked.issues.filter((i) => i.severity === "error");
      if (errors.length > 0 || !checked.definition) {
        await this.fail(job.runId, `the pipeline is not valid: ${errors.slice(0, 5).map(formatIssue).join("; ")}`);
        return;
      }
      const physical = plan(checked.definition, catalog, checked.configs);
      const now = String(Date.now());
      const fields = {
        status: "running",
        desired: "running",
        gen: "1",
        definition: JSON.stringify(checked.definition),
        parameters: JSON.stringify(job.parameters),
        ...(job.connections ? { connections: job.connections } : {}),
        ...(job.pipelineId ? { pipelineId: job.pipelineId } : {}),
        ...(job.workspaceId ? { workspaceId: job.workspaceId } : {}),
        plan: JSON.stringify(physical),
        stages: JSON.stringify(physical.stages.map((s) => ({ index: s.index, partitions: s.partitions }))),
        tasksTotal: String(physical.stages.reduce((n, s) => n + s.partitions, 0)),
        delivery: physical.delivery.effective,
        createdAt: now,
        startedAt: now,
      };
      stages = JSON.parse(await redis.sluiceInitRun(metaKey, ...Object.entries(fields).flat()));
    }
    await this.enqueueTasks(job.runId, stages, Number((await redis.hget(metaKey, "gen")) ?? 1));
  }

  /** One long-lived job per task partition; ids carry the generation so a restart never collides with old jobs. */
  private async enqueueTasks(runId: string, stages: readonly StageShape[], generation: number): Promise<void> {
    await this.deps.taskQueue.addBulk(
      runTaskRefs(runId, stages).map((t) => ({
        name: "task",
        data: { v: 1, ...t } satisfies TaskJob,
        opts: { jobId: `${taskId(t)}.g${generation}`, removeOnComplete: true, removeOnFail: 1000 },
      })),
    );
  }

  /**
   * Continues a run that ended (stopped, failed or completed) from its last commit, as its next generation: task
   * states, offsets, operator state and unconsumed shuffle entries are kept, stop markers of earlier generations
   * no longer count. With `reset`, every partition's state is deleted first and the run starts over.
   */
  async restart(job: RunRestartJob): Promise<void> {
    const { redis, keys } = this.deps;
    const metaKey = keys.runMeta(job.runId);
    const raw = await redis.hgetall(metaKey);
    const meta = parseRunMeta(raw);
    if (!meta || meta.stages.length === 0) {
      await this.fail(job.runId, "the run's state has expired or was never created; start a new run instead");
      return;
    }
    if (meta.status === "running" || meta.status === "paused" || meta.status === "stopping") return; // already going
    if (job.reset) await this.deleteTaskState(job.runId, meta.stages, JSON.parse(raw.plan ?? "{}") as PhysicalPlan);
    else await this.forgetTroubles(job.runId, meta.stages);
    const now = String(Date.now());
    // Runs recorded before generations existed have none: they were generation 1.
    if (raw.gen === undefined) await redis.hsetnx(metaKey, "gen", "1");
    const generation = await redis.hincrby(metaKey, "gen", 1);
    await redis
      .multi()
      .hset(metaKey, {
        status: "running",
        desired: "running",
        ...(job.reset ? { createdAt: now } : {}),
        startedAt: now,
      })
      .hdel(metaKey, "finishedAt", "error")
      .del(keys.runDone(job.runId))
      .persist(metaKey)
      .exec();
    await this.enqueueTasks(job.runId, meta.stages, generation);
  }

  /**
   * A restart gives every partition a fresh start on its troubles: retry records of the last generation and the
   * count of workers that died holding it (a run failed for a crash loop may be restarted once the cause is fixed).
   */
  private async forgetTroubles(runId: string, stages: readonly StageShape[]): Promise<void> {
    const { redis, keys } = this.deps;
    await Promise.all(
      runTaskRefs(runId, stages).map((t) => redis.hdel(keys.taskState(t), TASK_RETRY_FIELD, CRASHES_FIELD, HELD_FIELD)),
    );
  }

  private async deleteTaskState(runId: string, stages: readonly StageShape[], plan: PhysicalPlan): Promise<void> {
    const { redis, keys } = this.deps;
    for (const t of runTaskRefs(runId, stages)) {
      const state = await redis.hgetall(keys.taskState(t));
      const stores = TaskStores.registered(state).map(([node, name]) => keys.taskStore(t, node, name));
      const streams = (plan.stages?.[t.stage]?.outputs ?? []).flatMap((shuffleId) => {
        const shuffle = plan.shuffles[shuffleId]!;
        const consumers = plan.stages[shuffle.toStage]?.partitions ?? 0;
        return Array.from({ length: consumers }, (_, q) => keys.shuffleStream(t, shuffleId, q));
      });
      await redis.del(keys.taskState(t), keys.taskDeadLetters(t), keys.taskReplay(t), ...stores, ...streams);
    }
  }

  /** Records that a task partition has finished; returns the run's status afterwards. */
  async finishTask(runId: string, id: string): Promise<string | null> {
    const { redis, keys } = this.deps;
    const status = await redis.sluiceFinishTask(keys.runMeta(runId), keys.runDone(runId), id, Date.now());
    const parsed = RunStatus.safeParse(status);
    if (parsed.success && isTerminal(parsed.data)) await this.expire(runId);
    return status;
  }

  /** Ends the run as failed (for errors no retry can fix, such as an invalid definition). */
  async fail(runId: string, error: string): Promise<void> {
    const { redis, keys } = this.deps;
    await redis.sluiceFailRun(keys.runMeta(runId), error.slice(0, 4000), Date.now());
    await this.expire(runId);
  }

  private async expire(runId: string): Promise<void> {
    const { redis, keys } = this.deps;
    await redis
      .multi()
      .expire(keys.runMeta(runId), FINISHED_RUN_TTL_SECONDS)
      .expire(keys.runDone(runId), FINISHED_RUN_TTL_SECONDS)
      .exec();
  }
}
