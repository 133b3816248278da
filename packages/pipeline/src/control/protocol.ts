import { z } from "zod";
import { isTerminal, parseRunStatus, RUN_STATUSES, type RunStatus } from "./run-status";

// The control plane between the API (and CLI) and the worker fleet: BullMQ queue names, job payloads
// (checked again when a job is taken off the queue), the run meta and the metrics snapshot format. The run
// statuses themselves are run-status.ts's.

export const QUEUE_TASKS = "pipeline.task";
export const QUEUE_CONTROL = "run.control";
/** Data previews for the editor: answered by a worker, in memory, in seconds. */
export const QUEUE_PREVIEW = "run.preview";

/** A worker that has not heartbeaten for this long no longer counts as live. */
export const WORKER_TTL_MS = 5000;

/** What the user asked for; tasks look at it between batches. */
export const DesiredState = z.enum(["running", "paused", "stopped"]);
export type DesiredState = z.infer<typeof DesiredState>;

/** Continue a stopped run from its last commit (same run, next generation), or start it afresh with `reset`. */
export const RunRestartJob = z.strictObject({
  v: z.literal(1),
  action: z.literal("restart"),
  runId: z.string().min(1).max(100),
  reset: z.boolean().default(false),
});
export type RunRestartJob = z.infer<typeof RunRestartJob>;

/**
 * A workspace's id as the API writes it into start and preview jobs: it names the run's own folder under the files
 * directory, so it is checked to be one plain path segment.
 */
const WorkspaceId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "a workspace id (letters, digits, '_', '-')");

export const RunStartJob = z.strictObject({
  v: z.literal(1),
  action: z.literal("start"),
  runId: z.string().min(1).max(100),
  /** The pipeline definition as stored (validated by the sender, planned and validated again by the worker). */
  definition: z.unknown(),
  parameters: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  /** The connections the run uses, with their secrets, sealed with SLUICE_SECRET_KEY for context `run:<runId>`. */
  connections: z.string().max(1_000_000).optional(),
  /** The saved pipeline the run belongs to (absent for `sluice run` of a file): its webhook records are the run's. */
  pipelineId: z.string().min(1).max(64).optional(),
  /**
   * The workspace the run belongs to, written by the API (never taken from the definition): its file sources and
   * sinks see only `<files directory>/<workspaceId>`. Absent for `sluice run`, which uses the files directory itself.
   */
  workspaceId: WorkspaceId.optional(),
  /**
   * Set when a run whose Redis state expired is started again from scratch (a restart with `reset`): its next
   * generation, so its task jobs get new ids and what is left of its old keys is deleted first.
   */
  generation: z.number().int().min(2).optional(),
});
export type RunStartJob = z.infer<typeof RunStartJob>;

/** The context a run's connection bundle is sealed for: a box cannot be replayed into another run. */
export function connectionsContext(runId: string): string {
  return `run:${runId}`;
}

export const RunControlJob = z.discriminatedUnion("action", [RunStartJob, RunRestartJob]);
export type RunControlJob = z.infer<typeof RunControlJob>;

export const TaskJob = z.strictObject({
  v: z.literal(1),
  runId: z.string().min(1).max(100),
  stage: z.number().int().min(0),
  partition: z.number().int().min(0),
});
export type TaskJob = z.infer<typeof TaskJob>;

export const NodeCounters = z.object({
  in: z.number(),
  out: z.number(),
  errors: z.number(),
});
export type NodeCounters = z.infer<typeof NodeCounters>;

/** The task-state field where a partition waiting to try again after an error records it (JSON, see TaskRetry). */
export const TASK_RETRY_FIELD = "retry";

/** A partition waiting to try again after an error (a source or sink it cannot reach), as the run shows it. */
export const TaskRetry = z.object({
  stage: z.number(),
  partition: z.number(),
  /** The last attempt's error, one sentence, secrets cut out. */
  error: z.string(),
  /** Attempts that failed in a row. */
  attempt: z.number(),
  /** When the next attempt starts (epoch ms). */
  nextAt: z.number(),
  /** When the last attempt failed (epoch ms). */
  at: z.number(),
});
export type TaskRetry = z.infer<typeof TaskRetry>;

/** A task state's retry record, or undefined when the partition is not retrying. */
export function parseTaskRetry(raw: string | null | undefined): TaskRetry | undefined {
  if (!raw) return undefined;
  try {
    const parsed = TaskRetry.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** At most this many retrying partitions are listed in a snapshot (those with the most attempts). */
const SNAPSHOT_RETRIES = 20;

export const RunSnapshot = z.object({
  runId: z.string(),
  status: z.enum(RUN_STATUSES),
  error: z.string().nullable(),
  delivery: z.string().nullable(),
  tasks: z.object({ total: z.number(), done: z.number() }),
  nodes: z.record(z.string(), NodeCounters),
  /** Bounded sources' progress, summed over partitions; null when no source reports any. */
  progress: z.object({ done: z.number(), total: z.number() }).nullable(),
  /** The lowest committed watermark over the run's partitions (epoch ms), null before any. */
  watermark: z.number().nullable(),
  /** Partitions waiting to try again after an error, most attempts first; empty when none is. */
  retrying: z.array(TaskRetry),
  startedAt: z.number().nullable(),
  finishedAt: z.number().nullable(),
  at: z.number(),
});
export type RunSnapshot = z.infer<typeof RunSnapshot>;

/** Counter fields in a task's state hash: `n:<nodeId>:<in|out|err>`. */
export function counterField(nodeId: string, counter: "in" | "out" | "err"): string {
  return `n:${nodeId}:${counter}`;
}

/** Sums the counter fields of every task partition's state hash into per-node counters. */
export function sumCounters(states: readonly Record<string, string>[]): Record<string, NodeCounters> {
  const nodes: Record<string, NodeCounters> = {};
  for (const state of states) {
    for (const [key, value] of Object.entries(state)) {
      if (!key.startsWith("n:")) continue;
      const cut = key.lastIndexOf(":");
      const nodeId = key.slice(2, cut);
      const which = key.slice(cut + 1);
      nodes[nodeId] ??= { in: 0, out: 0, errors: 0 };
      const counters = nodes[nodeId];
      const n = Number(value);
      if (which === "in") counters.in += n;
      else if (which === "out") counters.out += n;
      else if (which === "err") counters.errors += n;
    }
  }
  return nodes;
}

/** Stage shapes as stored with the run: enough to enumerate its task partitions. */
export const StageShape = z.object({ index: z.number().int().min(0), partitions: z.number().int().min(1) });
export type StageShape = z.infer<typeof StageShape>;

export interface RunMeta {
  status: RunStatus;
  desired: DesiredState;
  error: string | null;
  delivery: string | null;
  stages: StageShape[];
  tasksTotal: number;
  createdAt: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  /** The saved pipeline the run belongs to; null for a run of a file. */
  pipelineId: string | null;
  /** The workspace the run belongs to (its files folder); null for a run of a file. */
  workspaceId: string | null;
}

const numberOrNull = (v: string | undefined) => (v === undefined || v === "" ? null : Number(v));

/** Reads a run's meta hash; undefined when the run is unknown to Redis (not started yet, or expired). */
export function parseRunMeta(hash: Record<string, string>): RunMeta | undefined {
  const status = parseRunStatus(hash.status);
  if (!status) return undefined;
  let stages: StageShape[] = [];
  try {
    stages = z.array(StageShape).parse(JSON.parse(hash.stages ?? "[]"));
  } catch {
    stages = [];
  }
  return {
    status,
    desired: DesiredState.catch("running").parse(hash.desired),
    error: hash.error || null,
    delivery: hash.delivery || null,
    stages,
    tasksTotal: stages.reduce((n, s) => n + s.partitions, 0),
    createdAt: numberOrNull(hash.createdAt),
    startedAt: numberOrNull(hash.startedAt),
    finishedAt: numberOrNull(hash.finishedAt),
    pipelineId: hash.pipelineId || null,
    workspaceId: WorkspaceId.safeParse(hash.workspaceId).success ? (hash.workspaceId ?? null) : null,
  };
}

export function runTaskRefs(
  runId: string,
  stages: readonly StageShape[],
): { runId: string; stage: number; partition: number }[] {
  return stages.flatMap((s) =>
    Array.from({ length: s.partitions }, (_, partition) => ({ runId, stage: s.index, partition })),
  );
}

export function runSnapshot(
  runId: string,
  meta: RunMeta,
  taskStates: readonly Record<string, string>[],
  tasksDone: number,
  at: number,
): RunSnapshot {
  let reported = false;
  let done = 0;
  let total = 0;
  let watermark: number | null = null;
  const retrying: TaskRetry[] = [];
  for (const state of taskStates) {
    const retry = parseTaskRetry(state[TASK_RETRY_FIELD]);
    if (retry) retrying.push(retry);
    for (const [key, value] of Object.entries(state)) {
      if (!key.startsWith("p:")) continue;
      const p = JSON.parse(value) as { done: number; total: number };
      reported = true;
      done += p.done;
      total += p.total;
    }
    if (state.wm !== undefined) {
      const wm = Number(state.wm);
      if (watermark === null || wm < watermark) watermark = wm;
    }
  }
  return {
    runId,
    status: meta.status,
    progress: reported ? { done, total } : null,
    watermark,
    // Only a run still going retries; a finished run's last errors are history.
    retrying: isTerminal(meta.status)
      ? []
      : retrying.sort((a, b) => b.attempt - a.attempt || a.stage - b.stage).slice(0, SNAPSHOT_RETRIES),
    error: meta.error,
    delivery: meta.delivery,
    tasks: { total: meta.tasksTotal, done: tasksDone },
    nodes: sumCounters(taskStates),
    startedAt: meta.startedAt,
    finishedAt: meta.finishedAt,
    at,
  };
}

export const PreviewJob = z.strictObject({
  v: z.literal(1),
  definition: z.unknown(),
  parameters: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  /** Sealed like a run's, for context `preview:<job id>`. */
  connections: z.string().max(1_000_000).optional(),
  /** Records read per source, and kept per node and port. */
  limit: z.number().int().min(1).max(1000).default(50),
  /**
   * Then the preview stops reading and answers with what it has; a second later (or at the worker's
   * SLUICE_PREVIEW_TIMEOUT, if lower) its thread is killed and the answer is a PreviewStopped.
   */
  timeoutMs: z.number().int().min(100).max(30_000).default(5000),
  /** The workspace asking, written by the API: file sources read its files folder only (see RunStartJob). */
  workspaceId: WorkspaceId.optional(),
});
export type PreviewJob = z.infer<typeof PreviewJob>;

export function previewConnectionsContext(jobId: string): string {
  return `preview:${jobId}`;
}

export const PreviewNode = z.object({
  /** Records that reached each input port (first `limit`). */
  inputs: z.record(z.string(), z.array(z.record(z.string(), z.unknown()))),
  /** Records the node emitted on each output port (first `limit`). */
  outputs: z.record(z.string(), z.array(z.record(z.string(), z.unknown()))),
  /** How many records each port saw in all, beyond what is kept. */
  counts: z.object({ in: z.number(), out: z.number() }),
  errors: z.array(z.object({ port: z.string().nullable(), error: z.string(), record: z.unknown() })),
  /** Why the node shows nothing, when it does not run in a preview (e.g. a source that cannot be read twice). */
  note: z.string().nullable(),
});
export type PreviewNode = z.infer<typeof PreviewNode>;

export const PreviewResult = z.object({
  nodes: z.record(z.string(), PreviewNode),
  /** Problems that kept the preview from running at all (an invalid draft), one sentence each. */
  problems: z.array(z.string()),
  /** A source had more records, or the time ran out, than the preview took. */
  truncated: z.boolean(),
  elapsedMs: z.number(),
});
export type PreviewResult = z.infer<typeof PreviewResult>;

/**
 * A worker's answer instead of a PreviewResult when it killed the preview for running over its time or memory
 * limit (SLUICE_PREVIEW_TIMEOUT, SLUICE_PREVIEW_MEMORY_MB); `message` is a sentence for the person who asked.
 */
export const PreviewStopped = z.strictObject({
  stopped: z.enum(["time", "memory"]),
  message: z.string(),
});
export type PreviewStopped = z.infer<typeof PreviewStopped>;
