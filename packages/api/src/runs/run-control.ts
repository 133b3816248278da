import type { Db } from "@sluice/db/client";
import type { Keys } from "@sluice/pipeline/control/keys";
import type { RunRestartJob, RunStartJob } from "@sluice/pipeline/control/protocol";
import {
  DEFAULT_RUN_RETENTION_MS,
  pauseRun as pauseInRedis,
  requeueRun,
  resumeRun as resumeInRedis,
  unqueueRun,
} from "@sluice/pipeline/control/run-state";
import {
  ACTIVE_DB_STATUSES,
  allows,
  fromDbStatus,
  RUN_STATUS_LABELS,
  type RunStatus,
} from "@sluice/pipeline/control/run-status";
import type { ParameterValue } from "@sluice/pipeline/parameters";
import { TRPCError } from "@trpc/server";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { RunConnectionDeps } from "../connections/run-connections";
import type { StartRunDeps } from "./run-service";
import { checkStartable, startConnections, startJob } from "./start-check";

// Pause, resume and restart a run (what is done with its dead letters is dead-letter-actions.ts's). The desired state goes straight into the run's
// Redis meta (tasks look at it between batches); a restart is a control job for the fleet, since it re-enqueues
// the run's tasks. Which status allows what is run-status's; the Redis transitions are run-state's.

export interface RunControlDeps extends RunConnectionDeps {
  db: Db;
  redis: Redis;
  keys: Keys;
  controlQueue: Queue;
  catalog: StartRunDeps["catalog"];
  runRetentionMs?: number;
}

async function ownRun(db: Db, workspaceId: string, runId: string) {
  const run = await db.run.findFirst({
    where: { id: runId, workspaceId },
    select: {
      id: true,
      status: true,
      pipelineId: true,
      restarts: true,
      parameters: true,
      version: { select: { number: true, definition: true } },
    },
  });
  if (!run) throw new TRPCError({ code: "NOT_FOUND", message: "no such run in this workspace" });
  return run;
}

/** "Run x is paused", for messages that say why an action is refused. */
function isNow(runId: string, status: RunStatus | undefined): string {
  return `run ${runId} is ${status ? RUN_STATUS_LABELS[status].toLowerCase() : "not started yet"}`;
}

export async function pauseRun(deps: RunControlDeps, workspaceId: string, runId: string): Promise<{ status: string }> {
  await ownRun(deps.db, workspaceId, runId);
  const { moved, status } = await pauseInRedis(deps.redis, deps.keys, runId);
  if (!moved) {
    const message = `Only a running run can be paused, and ${isNow(runId, status)}.`;
    throw new TRPCError({ code: "PRECONDITION_FAILED", message });
  }
  await deps.db.run.updateMany({ where: { id: runId, status: "RUNNING" }, data: { status: "PAUSED" } });
  return { status: "PAUSED" };
}

export async function resumeRun(deps: RunControlDeps, workspaceId: string, runId: string): Promise<{ status: string }> {
  await ownRun(deps.db, workspaceId, runId);
  const { moved, status } = await resumeInRedis(deps.redis, deps.keys, runId);
  if (!moved) {
    const message = `Only a paused run can be resumed, and ${isNow(runId, status)}.`;
    throw new TRPCError({ code: "PRECONDITION_FAILED", message });
  }
  await deps.db.run.updateMany({ where: { id: runId, status: "PAUSED" }, data: { status: "RUNNING" } });
  return { status: "RUNNING" };
}

const CONTROL_JOB = {
  attempts: 5,
  backoff: { type: "exponential", delay: 1000 },
  removeOnComplete: 1000,
  removeOnFail: 1000,
} as const;

/**
 * Continues an ended run from its last commit, or with `reset` from scratch. Its Redis state is kept for the
 * retention after it ended (SLUICE_RUN_RETENTION); once that has passed only a restart from scratch is possible,
 * and it starts the run's version again under the same run id — as any restart does of a run stopped before a
 * worker planned it. A restart that cannot be queued leaves the run as it was.
 */
export async function restartRun(
  deps: RunControlDeps,
  workspaceId: string,
  runId: string,
  reset: boolean,
): Promise<{ status: string }> {
  const run = await ownRun(deps.db, workspaceId, runId);
  if (!allows(fromDbStatus(run.status), "restart")) {
    const message = `Stop run ${runId} before restarting it: it is ${RUN_STATUS_LABELS[fromDbStatus(run.status)].toLowerCase()}.`;
    throw new TRPCError({ code: "PRECONDITION_FAILED", message });
  }
  const active = await deps.db.run.count({
    where: { pipelineId: run.pipelineId, status: { in: [...ACTIVE_DB_STATUSES] } },
  });
  if (active > 0)
    throw new TRPCError({
      code: "CONFLICT",
      message: "Another run of this pipeline is active: stop it before restarting this one.",
    });
  const generation = run.restarts + 2;
  // Queued until a worker takes the restart: the reconciler must not read the old final status meanwhile. The
  // workspace too: a run started before runs carried it gets its workspace's files folder, not the whole one.
  const found = await requeueRun(deps.redis, deps.keys, runId, { workspaceId });
  if (found === "expired" && !reset) {
    throw new TRPCError({
      code: "PRECONDITION_FAILED",
      message: `Run ${runId}'s state has expired (it is kept for SLUICE_RUN_RETENTION after a run ends), so it cannot continue from its last commit; restart it from scratch (reset) instead.`,
    });
  }
  if (found !== "expired" && found !== "never-started" && found !== "requeued") {
    // Postgres said it had ended; Redis knows better (the reconciler catches up within a second).
    throw new TRPCError({ code: "CONFLICT", message: `Run ${runId} cannot be restarted: ${isNow(runId, found)}.` });
  }
  try {
    if (found === "requeued") {
      const job: RunRestartJob = { v: 1, action: "restart", runId, reset };
      await deps.controlQueue.add("restart", job, { jobId: `restart-${runId}-${run.restarts + 1}`, ...CONTROL_JOB });
    } else {
      // Nothing to continue from (its state expired, or no worker ever planned it): its version starts again.
      const job = await startJobAgain(deps, workspaceId, run, generation);
      await deps.controlQueue.add("start", job, { jobId: `start-${runId}-g${generation}`, ...CONTROL_JOB });
    }
  } catch (err) {
    // Not queued after all: Redis must not keep a queued run no job will ever take (it could never be stopped).
    if (found !== "expired") {
      await unqueueRun(
        deps.redis,
        deps.keys,
        runId,
        fromDbStatus(run.status),
        deps.runRetentionMs ?? DEFAULT_RUN_RETENTION_MS,
      );
    }
    throw err;
  }
  await deps.db.run.update({
    where: { id: runId },
    data: { status: "QUEUED", finishedAt: null, error: null, restarts: { increment: 1 } },
  });
  return { status: "QUEUED" };
}

/** A start job for a run whose state expired: its version, checked again, with its parameters and connections now. */
async function startJobAgain(
  deps: RunControlDeps,
  workspaceId: string,
  run: Awaited<ReturnType<typeof ownRun>>,
  generation: number,
): Promise<RunStartJob> {
  const checked = await checkStartable(
    deps,
    workspaceId,
    run.version.definition,
    run.parameters as Record<string, ParameterValue>,
    `Version ${run.version.number}`,
  );
  const connections = await startConnections(deps, workspaceId, checked);
  return startJob({ id: run.id, pipelineId: run.pipelineId, workspaceId }, checked, connections, generation);
}
