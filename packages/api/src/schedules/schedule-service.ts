import type { Db } from "@sluice/db/client";
import type { Prisma } from "@sluice/db/generated/prisma/client";
import { catalog } from "@sluice/nodes/catalog";
import { formatIssue, type ValidationIssue } from "@sluice/pipeline/issues";
import { validate } from "@sluice/pipeline/validate";
import { TRPCError } from "@trpc/server";
import type { z } from "zod";
import type { Actor } from "../pipelines/pipeline-service";
import type { ParameterValues } from "../runs/run-router.types";
import { resolveParameters } from "../runs/start-check";
import { fieldError } from "./field-error";
import { type FireDeps, fireSchedule } from "./schedule-fire";
import { type MirrorDeps, mirrorSchedule } from "./schedule-mirror";
import type {
  CreateScheduleInput,
  FireResult,
  ListSchedulesInput,
  ScheduleView,
  ScheduleWriteResult,
  UpdateScheduleInput,
} from "./schedule-router.types";
import { checkTiming, nextFireAt } from "./schedule-timing";

// Schedules of a workspace's pipelines. Every write commits the row, then mirrors it to its BullMQ job scheduler.

type Parameters = z.infer<typeof ParameterValues>;

const scheduleInclude = {
  pipeline: { select: { name: true } },
  createdBy: { select: { name: true } },
} as const;

type ScheduleRow = Prisma.ScheduleGetPayload<{ include: typeof scheduleInclude }>;

function toView(row: ScheduleRow, now = Date.now()): ScheduleView {
  return {
    id: row.id,
    pipelineId: row.pipelineId,
    pipelineName: row.pipeline.name,
    pattern: row.pattern,
    timeZone: row.timeZone,
    version: row.version,
    parameters: row.parameters as Parameters,
    overlap: row.overlap,
    enabled: row.enabled,
    createdBy: row.createdBy.name,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    lastFiredAt: row.lastFiredAt,
    lastRunId: row.lastRunId,
    lastOutcome: row.lastOutcome,
    lastMessage: row.lastMessage,
    pendingSince: row.pendingSince,
    nextFireAt: row.enabled ? nextFireAt(row, now) : null,
  };
}

function scheduleNotFound(): TRPCError {
  return new TRPCError({ code: "NOT_FOUND", message: "no such schedule in this workspace" });
}

async function findPipeline(db: Db, workspaceId: string, pipelineId: string) {
  const pipeline = await db.pipeline.findFirst({
    where: { id: pipelineId, workspaceId },
    select: { id: true, latestVersion: true },
  });
  if (!pipeline) throw new TRPCError({ code: "NOT_FOUND", message: "no such pipeline in this workspace" });
  return pipeline;
}

function checkPinnedVersion(pipeline: { latestVersion: number }, version: number | null): void {
  if (version === null || version <= pipeline.latestVersion) return;
  throw fieldError(
    "version",
    `the pipeline has no version ${version} (its latest is ${pipeline.latestVersion})`,
    version,
  );
}

/**
 * Why a fire would fail if it happened now (the version does not validate, parameters do not fit), as warnings:
 * a schedule is saved regardless, because the pipeline may be fixed before it fires; fires check again.
 */
async function startWarnings(
  db: Db,
  pipeline: { id: string; latestVersion: number },
  version: number | null,
  parameters: Parameters,
): Promise<string[]> {
  const number = version ?? pipeline.latestVersion;
  const saved = await db.pipelineVersion.findUnique({
    where: { pipelineId_number: { pipelineId: pipeline.id, number } },
    select: { definition: true },
  });
  const label = version === null ? `the latest version (${number})` : `version ${number}`;
  if (!saved) return [`${label} does not exist: fires will fail until it does`];
  const problems = (issues: ValidationIssue[]) =>
    issues
      .filter((i) => i.severity === "error")
      .slice(0, 5)
      .map((i) => `${label} would not start now: ${formatIssue(i)}`);
  const structure = validate(saved.definition, catalog);
  if (!structure.definition) return problems(structure.issues);
  let values: Parameters;
  try {
    values = resolveParameters(structure.definition, parameters);
  } catch (err) {
    if (err instanceof TRPCError) return [`${label} would not start now: ${err.message}`];
    throw err;
  }
  return problems(validate(saved.definition, catalog, { parameters: values }).issues);
}

/** Mirrors the schedule to Redis; trouble there becomes a warning, since the row is saved and start-up re-syncs. */
async function mirrorWarnings(deps: MirrorDeps, scheduleId: string): Promise<string[]> {
  try {
    await mirrorSchedule(deps, scheduleId);
    return [];
  } catch (err) {
    return [
      `saved, but the job scheduler in Redis could not be updated (${(err as Error).message}); ` +
        "it is re-synced when the web app starts",
    ];
  }
}

export async function listSchedules(
  db: Db,
  workspaceId: string,
  input: z.output<typeof ListSchedulesInput>,
): Promise<ScheduleView[]> {
  const rows = await db.schedule.findMany({
    where: { workspaceId, ...(input.pipelineId ? { pipelineId: input.pipelineId } : {}) },
    orderBy: { createdAt: "asc" },
    include: scheduleInclude,
    take: 500,
  });
  const now = Date.now();
  return rows.map((r) => toView(r, now));
}

export async function getSchedule(db: Db, workspaceId: string, id: string): Promise<ScheduleView> {
  const row = await db.schedule.findFirst({ where: { id, workspaceId }, include: scheduleInclude });
  if (!row) throw scheduleNotFound();
  return toView(row);
}

export async function createSchedule(
  deps: MirrorDeps,
  actor: Actor,
  input: z.output<typeof CreateScheduleInput>,
): Promise<ScheduleWriteResult> {
  const { db } = deps;
  const pipeline = await findPipeline(db, actor.workspaceId, input.pipelineId);
  const timing = checkTiming(input);
  checkPinnedVersion(pipeline, input.version);
  const row = await db.schedule.create({
    data: {
      workspaceId: actor.workspaceId,
      pipelineId: pipeline.id,
      pattern: timing.pattern,
      timeZone: timing.timeZone,
      version: input.version,
      parameters: input.parameters as Prisma.InputJsonValue,
      overlap: input.overlap,
      enabled: input.enabled,
      createdById: actor.userId,
    },
    include: scheduleInclude,
  });
  const warnings = [
    ...(await startWarnings(db, pipeline, input.version, input.parameters)),
    ...(await mirrorWarnings(deps, row.id)),
  ];
  return { schedule: toView(row), warnings };
}

export async function updateSchedule(
  deps: MirrorDeps,
  workspaceId: string,
  input: z.output<typeof UpdateScheduleInput>,
): Promise<ScheduleWriteResult> {
  const { db } = deps;
  const current = await db.schedule.findFirst({ where: { id: input.id, workspaceId } });
  if (!current) throw scheduleNotFound();
  const pipeline = await findPipeline(db, workspaceId, current.pipelineId);
  const timing = checkTiming({
    pattern: input.pattern ?? current.pattern,
    timeZone: input.timeZone ?? current.timeZone,
  });
  const version = input.version === undefined ? current.version : input.version;
  checkPinnedVersion(pipeline, version);
  const parameters = input.parameters ?? (current.parameters as Parameters);
  const enabled = input.enabled ?? current.enabled;
  const overlap = input.overlap ?? current.overlap;
  const updated = await db.schedule.updateMany({
    where: { id: current.id, workspaceId },
    data: {
      pattern: timing.pattern,
      timeZone: timing.timeZone,
      version,
      parameters: parameters as Prisma.InputJsonValue,
      overlap,
      enabled,
      // A fire waiting for the active run belongs to an enabled QUEUE schedule; otherwise it is dropped.
      ...(!enabled || overlap !== "QUEUE" ? { pendingSince: null } : {}),
    },
  });
  if (updated.count === 0) throw scheduleNotFound(); // deleted meanwhile
  const warnings = [
    ...(await startWarnings(db, pipeline, version, parameters)),
    ...(await mirrorWarnings(deps, current.id)),
  ];
  return { schedule: await getSchedule(db, workspaceId, current.id), warnings };
}

export async function deleteSchedule(deps: MirrorDeps, workspaceId: string, id: string): Promise<void> {
  const { count } = await deps.db.schedule.deleteMany({ where: { id, workspaceId } });
  if (count === 0) throw scheduleNotFound();
  // If Redis cannot be reached now, the orphaned scheduler is removed by the start-up sync or by its next fire.
  await mirrorSchedule(deps, id).catch(() => undefined);
}

/** "Run now": fires the schedule at once with its overlap policy, and says what happened. */
export async function fireScheduleNow(deps: FireDeps, workspaceId: string, id: string): Promise<FireResult> {
  const found = await deps.db.schedule.findFirst({ where: { id, workspaceId }, select: { id: true } });
  if (!found) throw scheduleNotFound();
  return fireSchedule(deps, id, { kind: "manual" });
}
