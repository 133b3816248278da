import type { Db } from "@sluice/db/client";
import type { Prisma } from "@sluice/db/generated/prisma/client";
import type { Keys } from "@sluice/pipeline/control/keys";
import { connectionsContext, type RunStartJob } from "@sluice/pipeline/control/protocol";
import type { PipelineDefinition } from "@sluice/pipeline/definition";
import { formatIssue, type ValidationIssue } from "@sluice/pipeline/issues";
import type { NodeCatalog } from "@sluice/pipeline/node-definition";
import { ParameterError, type ParameterValue, resolveParameterValues } from "@sluice/pipeline/parameters";
import { validate } from "@sluice/pipeline/validate";
import { TRPCError } from "@trpc/server";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { z } from "zod";
import {
  type RunConnectionDeps,
  runConnectionBundle,
  runConnectionNames,
  sealConnections,
  workspaceConnectionTypes,
} from "../connections/run-connections";
import { ACTIVE_RUN_STATUSES, type Actor } from "../pipelines/pipeline-service";
import type { ListRunsInput, RunView, StartRunInput } from "./run-router.types";
import { TERMINAL_DB_STATUSES } from "./run-status";

// Starting and stopping runs. The API never runs pipelines itself: it records the run in Postgres and hands a
// control job to the worker fleet through BullMQ; stop requests go straight to the run's state in Redis.

/** The run's parameter values, or BAD_REQUEST naming the parameter. */
export function resolveParameters(
  def: PipelineDefinition,
  given: Record<string, ParameterValue>,
): Record<string, ParameterValue> {
  try {
    return resolveParameterValues(def, given);
  } catch (err) {
    if (err instanceof ParameterError) throw new TRPCError({ code: "BAD_REQUEST", message: err.message });
    throw err;
  }
}

export interface StartRunDeps extends RunConnectionDeps {
  controlQueue: Queue;
  /** The node types the version is validated against. */
  catalog: NodeCatalog;
}

export async function startRun(
  deps: StartRunDeps,
  actor: Actor,
  input: z.output<typeof StartRunInput>,
): Promise<{ id: string }> {
  const { db, controlQueue, catalog } = deps;
  const pipeline = await db.pipeline.findFirst({
    where: { id: input.pipelineId, workspaceId: actor.workspaceId },
    select: { id: true, latestVersion: true },
  });
  if (!pipeline) throw new TRPCError({ code: "NOT_FOUND", message: "no such pipeline in this workspace" });
  const version = await db.pipelineVersion.findUnique({
    where: { pipelineId_number: { pipelineId: pipeline.id, number: input.version ?? pipeline.latestVersion } },
  });
  if (!version) throw new TRPCError({ code: "NOT_FOUND", message: `version ${input.version} does not exist` });
  const problems = (issues: ValidationIssue[]) => {
    const errors = issues.filter((i) => i.severity === "error");
    if (errors.length === 0) return;
    throw new TRPCError({
      code: "BAD_REQUEST",
      message: `version ${version.number} has ${errors.length} problem${errors.length === 1 ? "" : "s"}: ${errors.slice(0, 3).map(formatIssue).join("; ")}`,
    });
  };
  const structure = validate(version.definition, catalog);
  if (!structure.definition) problems(structure.issues);
  const parameters = resolveParameters(structure.definition!, input.parameters);
  // Checked again with the run's values bound: a value may break a config its default did not. The connections
  // the nodes name must exist in the workspace now, with the type each node asks for.
  const connections = await workspaceConnectionTypes(db, actor.workspaceId);
  const checked = validate(version.definition, catalog, { parameters, connections });
  problems(checked.issues);
  const runConnections = await runConnectionBundle(
    deps,
    actor.workspaceId,
    runConnectionNames(checked.definition!, checked.configs, catalog),
  );
  const running = await db.run.count({
    where: { pipelineId: pipeline.id, status: { in: [...ACTIVE_RUN_STATUSES] } },
  });
  if (running > 0)
    throw new TRPCError({ code: "CONFLICT", message: "this pipeline is already running: stop it first" });

  const run = await db.run.create({
    data: {
      workspaceId: actor.workspaceId,
      pipelineId: pipeline.id,
      versionId: version.id,
      startedById: actor.userId,
      parameters: parameters as Prisma.InputJsonValue,
    },
  });
  let job: RunStartJob;
  try {
    job = {
      v: 1,
      action: "start",
      runId: run.id,
      pipelineId: pipeline.id,
      workspaceId: actor.workspaceId,
      definition: checked.definition,
      parameters,
      ...(runConnections ? { connections: await sealConnections(runConnections, connectionsContext(run.id)) } : {}),
    };
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
  return { id: run.id };
}

/** Request that the run drain and stop. Tasks see it between batches; the reconciler records the outcome. */
const STOP_LUA = `
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'completed' or status == 'stopped' or status == 'failed' then return status end
if not status then
  redis.call('HSET', KEYS[1], 'status', 'stopped', 'desired', 'stopped', 'finishedAt', ARGV[1])
  redis.call('EXPIRE', KEYS[1], 604800)
  return 'stopped'
end
redis.call('HSET', KEYS[1], 'desired', 'stopped', 'status', 'stopping')
return 'stopping'
`;

export async function stopRun(
  deps: { db: Db; redis: Redis; keys: Keys },
  workspaceId: string,
  runId: string,
): Promise<{ status: string }> {
  const run = await deps.db.run.findFirst({ where: { id: runId, workspaceId }, select: { id: true, status: true } });
  if (!run) throw new TRPCError({ code: "NOT_FOUND", message: "no such run in this workspace" });
  if (TERMINAL_DB_STATUSES.includes(run.status)) return { status: run.status };
  const status = (await deps.redis.eval(STOP_LUA, 1, deps.keys.runMeta(runId), Date.now())) as string;
  const next = status === "stopping" ? "STOPPING" : status.toUpperCase();
  await deps.db.run.updateMany({
    where: { id: runId, status: { notIn: [...TERMINAL_DB_STATUSES] } },
    data: { status: next as "STOPPING", ...(next === "STOPPED" ? { finishedAt: new Date() } : {}) },
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
