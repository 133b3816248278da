import type { Db } from "@sluice/db/client";
import type { Prisma } from "@sluice/db/generated/prisma/client";
import type { Keys } from "@sluice/pipeline/control/keys";
import type { RunStartJob } from "@sluice/pipeline/control/protocol";
import { DEFAULT_RUN_RETENTION_MS, stopRun as requestStop } from "@sluice/pipeline/control/run-state";
import { ACTIVE_DB_STATUSES, TERMINAL_DB_STATUSES, toDbStatus } from "@sluice/pipeline/control/run-status";
import type { NodeCatalog } from "@sluice/pipeline/node-definition";
import { TRPCError } from "@trpc/server";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { z } from "zod";
import type { RunConnectionDeps } from "../connections/run-connections";
import { type Actor, saveVersion } from "../pipelines/pipeline-service";
import type { ListRunsInput, RunView, StartRunInput } from "./run-router.types";
import { checkStartable, type Startable, startConnections, startJob } from "./start-check";

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
  const { db, controlQueue } = deps;
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

  let versionNumber = input.version ?? pipeline.latestVersion;
  let checked: Startable | null = null;
  if (input.draft) {
    // Save-and-start from the editor: a draft that could not start is refused before a version of it is saved.
    checked = await checkStartable(deps, actor.workspaceId, input.draft.definition, input.parameters, "The draft");
    ({ number: versionNumber } = await saveVersion(db, actor, { id: pipeline.id, ...input.draft }));
  }
  const version = await db.pipelineVersion.findUnique({
    where: { pipelineId_number: { pipelineId: pipeline.id, number: versionNumber } },
  });
  if (!version) throw new TRPCError({ code: "NOT_FOUND", message: `version ${versionNumber} does not exist` });
  checked ??= await checkStartable(
    deps,
    actor.workspaceId,
    version.definition,
    input.parameters,
    `Version ${version.number}`,
  );
  const connections = await startConnections(deps, actor.workspaceId, checked);

  const run = await db.run.create({
    data: {
      workspaceId: actor.workspaceId,
      pipelineId: pipeline.id,
      versionId: version.id,
      startedById: actor.userId,
      parameters: checked.parameters as Prisma.InputJsonValue,
    },
  });
  let job: RunStartJob;
  try {
    job = await startJob(run, checked, connections);
  } catch (err) {
    await db.run.delete({ where: { id: run.id } });
    throw err;
  }
  try {
    await controlQueue.add("start", job, {
      jobId: `start-${run.id}`,
      attempts: 5,
      backoff: { type: "exponential", delay: 1000 },
      removeOnComplete: 1000,
      removeOnFail: 1000,
    });
  } catch (err) {
    // Nothing half-written: a run the fleet never heard of must not linger as QUEUED.
    await db.run.delete({ where: { id: run.id } });
    throw new TRPCError({
      code: "SERVICE_UNAVAILABLE",
      message: `cannot reach Redis to start the run: ${(err as Error).message}`,
      cause: err,
    });
  }
  return { id: run.id, version: version.number };
}

/**
 * Requests that the run drain and stop, whether running or paused (a paused run's tasks wake for it). Tasks see it
 * between batches; the reconciler records the outcome. Stopping a run that has ended already changes nothing.
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
  const next = toDbStatus(await requestStop(deps.redis, deps.keys, runId, retention));
  await deps.db.run.updateMany({
    where: { id: runId, status: { notIn: [...TERMINAL_DB_STATUSES] } },
    data: { status: next, ...(next === "STOPPED" ? { finishedAt: new Date() } : {}) },
  });
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
