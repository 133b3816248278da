import type { Db } from "@sluice/db/client";
import type { Prisma } from "@sluice/db/generated/prisma/client";
import type { Keys } from "@sluice/pipeline/control/keys";
import { DEFAULT_RUN_RETENTION_MS, stopRun as requestStop } from "@sluice/pipeline/control/run-state";
import { ACTIVE_DB_STATUSES, TERMINAL_DB_STATUSES, toDbStatus } from "@sluice/pipeline/control/run-status";
import type { NodeCatalog } from "@sluice/pipeline/node-definition";
import { TRPCError } from "@trpc/server";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { z } from "zod";
import type { RunConnectionDeps } from "../connections/run-connections";
import { type Actor, saveVersionIn } from "../pipelines/pipeline-service";
import type { ListRunsInput, RunView, StartRunInput } from "./run-router.types";
import { checkStartable, startConnections, startJob } from "./start-check";

// Starting and stopping runs. The API never runs pipelines itself: it records the run in Postgres and hands a
// control job to the worker fleet through BullMQ; stop requests go straight to the run's state in Redis.

export interface StartRunDeps extends RunConnectionDeps {
  controlQueue: Queue;
  /** The node types the version is validated against. */
  catalog: NodeCatalog;
}

export async function startRun(
  deps: StartRunDeps,
  actor: Actor,
  input: z.output<typeof StartRunInput>,
): Promise<{ id: string; version: number }> {
  const { db } = deps;
  const pipeline = await db.pipeline.findFirst({
    where: { id: input.pipelineId, workspaceId: actor.workspaceId },
    select: { id: true, latestVersion: true },
  });
  if (!pipeline) throw new TRPCError({ code: "NOT_FOUND", message: "no such pipeline in this workspace" });
  // Before anything is saved: a draft for a pipeline that is running is refused, not kept as a version.
  const running = await db.run.count({
    where: { pipelineId: pipeline.id, status: { in: [...ACTIVE_DB_STATUSES] } },
  });
  if (running > 0)
    throw new TRPCError({ code: "CONFLICT", message: "this pipeline is already running: stop it first" });

  // Everything that can refuse the start is asked before anything is written: the definition, then its connections
  // (missing, or a secret that cannot be read). Save-and-start from the editor saves nothing for a start refused.
  const source = input.draft
    ? { draft: input.draft }
    : { saved: await findVersion(db, pipeline.id, input.version ?? pipeline.latestVersion) };
  const checked = source.saved
    ? await checkStartable(
        deps,
        actor.workspaceId,
        source.saved.definition,
        input.parameters,
        `Version ${source.saved.number}`,
      )
    : await checkStartable(deps, actor.workspaceId, source.draft.definition, input.parameters, "The draft");
  const connections = await startConnections(deps, actor.workspaceId, checked);

  // The draft's version and the run are one write: neither exists without the other.
  const { run, version } = await db.$transaction(async (tx) => {
    const version =
      source.saved ??
      (await findVersion(
        tx,
        pipeline.id,
        (
          await saveVersionIn(tx, actor, { id: pipeline.id, ...source.draft })
        ).number,
      ));
    const run = await tx.run.create({
      data: {
        workspaceId: actor.workspaceId,
        pipelineId: pipeline.id,
        versionId: version.id,
        startedById: actor.userId,
        parameters: checked.parameters as Prisma.InputJsonValue,
      },
    });
    return { run, version };
  });
  try {
    const job = await startJob(run, checked, connections);
    await deps.controlQueue.add("start", job, {
      jobId: `start-${run.id}`,
      attempts: 5,
      backoff: { type: "exponential", delay: 1000 },
      removeOnComplete: 1000,
      removeOnFail: 1000,
    });
  } catch (err) {
    // Nothing half-written: a run the fleet never heard of must not linger as QUEUED, nor a draft saved for it.
    await discardStart(db, run.id, source.saved ? undefined : version);
    if (err instanceof TRPCError) throw err;
    throw new TRPCError({
      code: "SERVICE_UNAVAILABLE",
      message: `cannot reach Redis to start the run: ${(err as Error).message}`,
      cause: err,
    });
  }
  return { id: run.id, version: version.number };
}

async function findVersion(db: Db | Prisma.TransactionClient, pipelineId: string, number: number) {
  const version = await db.pipelineVersion.findUnique({ where: { pipelineId_number: { pipelineId, number } } });
  if (!version) throw new TRPCError({ code: "NOT_FOUND", message: `version ${number} does not exist` });
  return version;
}

/**
 * Takes back a start the fleet was never told of: its run, and the version saved for it if that is still the
 * pipeline's latest and no other run uses it (a version someone saved after it, or ran, stays).
 */
async function discardStart(
  db: Db,
  runId: string,
  saved: { id: string; pipelineId: string; number: number } | undefined,
): Promise<void> {
  await db.$transaction(async (tx) => {
    await tx.run.delete({ where: { id: runId } });
    if (!saved || (await tx.run.count({ where: { versionId: saved.id } })) > 0) return;
    const restored = await tx.pipeline.updateMany({
      where: { id: saved.pipelineId, latestVersion: saved.number },
      data: { latestVersion: saved.number - 1 },
    });
    if (restored.count === 1) await tx.pipelineVersion.delete({ where: { id: saved.id } });
  });
}

/**
 * Requests that the run drain and stop, whether running or paused (a paused run's tasks wake for it). Tasks see it
 * between batches; the reconciler records the outcome with the run's figures. Only a run this request ends at once
 * (no worker had started it, or it waited for a restart) is recorded as stopped here; a run that had just ended is
 * left to the reconciler, which writes its status with its counters and error.
 */
export async function stopRun(
  deps: { db: Db; redis: Redis; keys: Keys; runRetentionMs?: number },
  workspaceId: string,
  runId: string,
): Promise<{ status: string }> {
  const run = await deps.db.run.findFirst({ where: { id: runId, workspaceId }, select: { id: true, status: true } });
  if (!run) throw new TRPCError({ code: "NOT_FOUND", message: "no such run in this workspace" });
  if (TERMINAL_DB_STATUSES.includes(run.status)) return { status: run.status };
  const retention = deps.runRetentionMs ?? DEFAULT_RUN_RETENTION_MS;
  const { status, stoppedNow } = await requestStop(deps.redis, deps.keys, runId, retention);
  const next = toDbStatus(status);
  if (stoppedNow || next === "STOPPING") {
    // STOPPING shows at once; the reconciler moves it on (never back: final is final).
    await deps.db.run.updateMany({
      where: { id: runId, status: { notIn: [...TERMINAL_DB_STATUSES] } },
      data: { status: next, ...(stoppedNow ? { finishedAt: new Date() } : {}) },
    });
  }
  return { status: next };
}

const runInclude = {
  pipeline: { select: { name: true } },
  version: { select: { number: true } },
  startedBy: { select: { name: true } },
} as const;

function toView(run: Prisma.RunGetPayload<{ include: typeof runInclude }>): RunView {
  return {
    id: run.id,
    pipelineId: run.pipelineId,
    pipelineName: run.pipeline.name,
    version: run.version.number,
    status: run.status,
    delivery: run.delivery,
    error: run.error,
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    startedBy: run.startedBy.name,
    counters: (run.counters as RunView["counters"]) ?? null,
  };
}

export async function listRuns(db: Db, workspaceId: string, input: z.output<typeof ListRunsInput>): Promise<RunView[]> {
  const runs = await db.run.findMany({
    where: { workspaceId, ...(input.pipelineId ? { pipelineId: input.pipelineId } : {}) },
    orderBy: { createdAt: "desc" },
    take: input.limit,
    include: runInclude,
  });
  return runs.map(toView);
}

export async function getRun(db: Db, workspaceId: string, runId: string): Promise<RunView> {
  const run = await db.run.findFirst({ where: { id: runId, workspaceId }, include: runInclude });
  if (!run) throw new TRPCError({ code: "NOT_FOUND", message: "no such run in this workspace" });
  return toView(run);
}
