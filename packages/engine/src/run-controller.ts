import type { Keys } from "@sluice/pipeline/control/keys";
import { taskId } from "@sluice/pipeline/control/keys";
import {
  parseRunMeta,
  type RunRestartJob,
  type RunStartJob,
  runTaskRefs,
  type StageShape,
  TASK_RETRY_FIELD,
  type TaskJob,
} from "@sluice/pipeline/control/protocol";
import { type RunEventDetail, type RunEventKind, recordRunEvent } from "@sluice/pipeline/control/run-events";
import {
  DEFAULT_RUN_RETENTION_MS,
  expireRun,
  failRun,
  finishRunTask,
  initRun,
  nextGeneration,
  type PlanShape,
  persistRun,
  taskKeys,
} from "@sluice/pipeline/control/run-state";
import { isTerminal, type RunStatus } from "@sluice/pipeline/control/run-status";
import { formatIssue } from "@sluice/pipeline/issues";
import type { NodeCatalog } from "@sluice/pipeline/node-definition";
import { type PhysicalPlan, plan } from "@sluice/pipeline/plan";
import { validate } from "@sluice/pipeline/validate";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { CRASHES_FIELD, HELD_FIELD } from "./partition-crashes";

// Run lifecycle on the Redis side: start (plan + meta + one long-lived task job per partition), stop requests,
// task completion and the run's final state. Every step is idempotent, so a re-delivered control job or a
// re-run task after a crash does no harm. The meta's transitions themselves are run-state's.

export interface RunControllerDeps {
  redis: Redis;
  keys: Keys;
  catalog: NodeCatalog;
  taskQueue: Queue;
  /** How long a finished run's keys stay in Redis (SLUICE_RUN_RETENTION); 7 days by default. */
  retentionMs?: number;
}

export class RunController {
  private readonly retentionMs: number;

  constructor(private readonly deps: RunControllerDeps) {
    this.retentionMs = deps.retentionMs ?? DEFAULT_RUN_RETENTION_MS;
  }

  /** Plans the run and enqueues its tasks. Idempotent: a second call for the same run re-enqueues nothing new. */
  async start(job: RunStartJob): Promise<void> {
    const { redis, keys, catalog } = this.deps;
    const metaKey = keys.runMeta(job.runId);
    const existing = parseRunMeta(await redis.hgetall(metaKey));
    // Stopped before any worker got to it, or already over: nothing to start. (A restart of a run that was stopped
    // before it was planned leaves its meta queued without stages: planned here, and initRun replaces it.)
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
        gen: String(job.generation ?? 1),
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
      // Started again after its state expired: keys that outlived the meta (see run-state's expireRun) go first.
      if (job.generation) await this.deleteRunState(job.runId, physical, checked.definition.spec.nodes);
      stages = await initRun(redis, keys, job.runId, fields);
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
      await this.fail(
        job.runId,
        "The run's state has expired (it is kept for SLUICE_RUN_RETENTION after a run ends) or was never created: restart it from scratch (reset).",
      );
      return;
    }
    // Only a restart the API queued: going already (another worker took it), or stopped while it waited.
    if (meta.status !== "queued") return;
    // Out of retention before anything else: the API did so too, this covers a restart queued some other way.
    await persistRun(redis, keys, job.runId);
    if (job.reset) await this.deleteTaskState(job.runId, meta.stages, JSON.parse(raw.plan ?? "{}") as PlanShape);
    else await this.forgetTroubles(job.runId, meta.stages);
    const generation = await nextGeneration(redis, keys, job.runId, job.reset);
    // Stopped meanwhile: it stays stopped, and the retention the persist above took away is given back.
    if (generation === 0) await expireRun(redis, keys, job.runId, this.retentionMs);
    else await this.enqueueTasks(job.runId, meta.stages, generation);
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

  private async deleteRunState(runId: string, plan: PhysicalPlan, nodes: readonly { id: string }[]): Promise<void> {
    const { redis, keys } = this.deps;
    await this.deleteTaskState(runId, plan.stages, plan);
    // The old timeline too: the reconciler copied it to PostgreSQL when the run ended, and a stream left here would
    // carry the old retention into the new run.
    await redis.del(keys.runDone(runId), keys.runEvents(runId), ...nodes.map((n) => keys.runTail(runId, n.id)));
  }

  private async deleteTaskState(runId: string, stages: readonly StageShape[], plan: PlanShape): Promise<void> {
    const { redis, keys } = this.deps;
    for (const t of runTaskRefs(runId, stages)) {
      await redis.del(...taskKeys(keys, t, await redis.hgetall(keys.taskState(t)), plan));
    }
  }

  /** Records that a task partition has finished; returns the run's status afterwards. */
  async finishTask(runId: string, id: string): Promise<RunStatus | undefined> {
    const { redis, keys } = this.deps;
    const status = await finishRunTask(redis, keys, runId, id);
    if (status && isTerminal(status)) await expireRun(redis, keys, runId, this.retentionMs);
    return status;
  }

  /** Puts what a task saw (a takeover, the dead-letter limit) on the run's timeline, while the run is going. */
  async recordEvent(runId: string, kind: RunEventKind, detail: RunEventDetail): Promise<void> {
    await recordRunEvent(this.deps.redis, this.deps.keys, runId, kind, detail);
  }

  /** Ends the run as failed (for errors no retry can fix, such as an invalid definition). */
  async fail(runId: string, error: string): Promise<void> {
    const { redis, keys } = this.deps;
    await failRun(redis, keys, runId, error);
    await expireRun(redis, keys, runId, this.retentionMs);
  }
}
