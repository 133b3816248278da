import { Prisma } from "@sluice/db/generated/prisma/client";
import { TRPCError } from "@trpc/server";
import type { z } from "zod";
import type { Actor } from "../pipelines/pipeline-service";
import { fieldError } from "../schedules/field-error";
import { checkTiming, nextFireAt } from "../schedules/schedule-timing";
import { filePathProblem } from "./report-file-path";
import { deliveryView, fireReport, type ReportFireDeps } from "./report-fire";
import { mirrorReport, type ReportMirrorDeps } from "./report-mirror";
import {
  type CreateReportInput,
  type DeliveriesInput,
  type DeliveryPage,
  type DeliveryView,
  type EnableReportInput,
  ReportCondition,
  type ReportRange,
  type ReportView,
  type ReportWriteResult,
  type UpdateReportInput,
} from "./report-router.types";

// A workspace's scheduled reports. Every write checks the whole report as it will be (pattern and zone with
// BullMQ's parser, file path, webhook connection, condition), commits the row, then mirrors it to its job scheduler.

const LAST_DELIVERIES = 5;

const reportInclude = {
  savedQuery: { select: { name: true } },
  createdBy: { select: { name: true } },
  deliveries: { orderBy: [{ startedAt: "desc" }, { id: "desc" }], take: LAST_DELIVERIES },
} satisfies Prisma.ReportInclude;

type ReportRow = Prisma.ReportGetPayload<{ include: typeof reportInclude }>;

function toView(row: ReportRow, now = Date.now()): ReportView {
  const condition = ReportCondition.safeParse(row.condition);
  return {
    id: row.id,
    name: row.name,
    savedQueryId: row.savedQueryId,
    savedQueryName: row.savedQuery.name,
    pattern: row.pattern,
    timeZone: row.timeZone,
    range: row.range as ReportRange | null,
    format: row.format,
    filePath: row.filePath,
    webhookConnection: row.webhookConnection,
    condition: condition.success ? condition.data : null,
    severity: row.severity as ReportView["severity"],
    enabled: row.enabled,
    conditionMet: row.conditionMet,
    createdBy: row.createdBy.name,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    nextFireAt: row.enabled ? nextFireAt(row, now) : null,
    lastDeliveries: row.deliveries.map(deliveryView),
  };
}

function reportNotFound(): TRPCError {
  return new TRPCError({ code: "NOT_FOUND", message: "no such report in this workspace" });
}

function nameTaken(name: string): TRPCError {
  return fieldError("name", `a report called "${name}" already exists`, name);
}

const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === "P2002";

type Fields = Omit<z.output<typeof CreateReportInput>, "name" | "enabled">;

/** Checks a report as it will be saved; returns the timing to store. */
async function checkFields(deps: ReportMirrorDeps, workspaceId: string, f: Fields) {
  const { db } = deps;
  const query = await db.savedQuery.findFirst({ where: { id: f.savedQueryId, workspaceId }, select: { id: true } });
  if (!query) throw fieldError("savedQueryId", "no such saved query in this workspace", f.savedQueryId);
  const timing = checkTiming({ pattern: f.pattern, timeZone: f.timeZone });
  if (f.filePath !== null) {
    const problem = filePathProblem(f.filePath, f.format);
    if (problem) throw fieldError("filePath", problem, f.filePath);
  }
  if (f.webhookConnection !== null) {
    const row = await db.connection.findUnique({
      where: { workspaceId_name: { workspaceId, name: f.webhookConnection } },
      select: { type: true },
    });
    if (!row) {
      throw fieldError("webhookConnection", `no connection called "${f.webhookConnection}"`, f.webhookConnection);
    }
    if (row.type !== "webhook") {
      throw fieldError(
        "webhookConnection",
        `"${f.webhookConnection}" is a ${row.type} connection, not a webhook connection`,
        f.webhookConnection,
      );
    }
  }
  if (f.filePath === null && f.webhookConnection === null && f.condition === null) {
    throw fieldError(
      "filePath",
      "a report delivers somewhere: give a file path, a webhook connection or a condition",
      null,
    );
  }
  return timing;
}

/** Mirrors the report to Redis; trouble there becomes a warning, since the row is saved and start-up re-syncs. */
async function mirrorWarnings(deps: ReportMirrorDeps, id: string): Promise<string[]> {
  try {
    await mirrorReport(deps, id);
    return [];
  } catch (err) {
    return [
      `saved, but its schedule in Redis could not be updated (${(err as Error).message}); it is re-synced within a minute`,
    ];
  }
}

const conditionValue = (c: ReportCondition | null) => (c === null ? Prisma.DbNull : (c as Prisma.InputJsonValue));

export async function listReports(deps: Pick<ReportMirrorDeps, "db">, workspaceId: string): Promise<ReportView[]> {
  const rows = await deps.db.report.findMany({
    where: { workspaceId },
    orderBy: { name: "asc" },
    include: reportInclude,
    take: 500,
  });
  const now = Date.now();
  return rows.map((r) => toView(r, now));
}

export async function getReport(
  deps: Pick<ReportMirrorDeps, "db">,
  workspaceId: string,
  id: string,
): Promise<ReportView> {
  const row = await deps.db.report.findFirst({ where: { id, workspaceId }, include: reportInclude });
  if (!row) throw reportNotFound();
  return toView(row);
}

export async function createReport(
  deps: ReportMirrorDeps,
  actor: Actor,
  input: z.output<typeof CreateReportInput>,
): Promise<z.output<typeof ReportWriteResult>> {
  const timing = await checkFields(deps, actor.workspaceId, input);
  let id: string;
  try {
    ({ id } = await deps.db.report.create({
      data: {
        workspaceId: actor.workspaceId,
        name: input.name,
        savedQueryId: input.savedQueryId,
        pattern: timing.pattern,
        timeZone: timing.timeZone,
        range: input.range,
        format: input.format,
        filePath: input.filePath,
        webhookConnection: input.webhookConnection,
        condition: conditionValue(input.condition),
        severity: input.severity,
        enabled: input.enabled,
        createdById: actor.userId,
      },
      select: { id: true },
    }));
  } catch (err) {
    if (isUniqueViolation(err)) throw nameTaken(input.name);
    throw err;
  }
  const warnings = await mirrorWarnings(deps, id);
  return { report: await getReport(deps, actor.workspaceId, id), warnings };
}

/**
 * Changes the fields given. Whoever saves a report becomes the one it runs as, so an editor's save takes over a
 * report whose creator has lost the right to query.
 */
export async function updateReport(
  deps: ReportMirrorDeps,
  actor: Actor,
  input: z.output<typeof UpdateReportInput>,
): Promise<z.output<typeof ReportWriteResult>> {
  const current = await deps.db.report.findFirst({ where: { id: input.id, workspaceId: actor.workspaceId } });
  if (!current) throw reportNotFound();
  const stored = ReportCondition.safeParse(current.condition);
  const pick = <K extends keyof typeof input>(key: K, fallback: NonNullable<(typeof input)[K]> | null) =>
    input[key] === undefined ? fallback : input[key];
  const fields: Fields = {
    savedQueryId: input.savedQueryId ?? current.savedQueryId,
    pattern: input.pattern ?? current.pattern,
    timeZone: input.timeZone ?? current.timeZone,
    range: pick("range", current.range as ReportRange | null) as ReportRange | null,
    format: input.format ?? current.format,
    filePath: pick("filePath", current.filePath) as string | null,
    webhookConnection: pick("webhookConnection", current.webhookConnection) as string | null,
    condition: pick("condition", stored.success ? stored.data : null) as ReportCondition | null,
    severity: input.severity ?? (current.severity as Fields["severity"]),
  };
  const timing = await checkFields(deps, actor.workspaceId, fields);
  const conditionChanged = JSON.stringify(fields.condition) !== JSON.stringify(stored.success ? stored.data : null);
  try {
    const { count } = await deps.db.report.updateMany({
      where: { id: current.id, workspaceId: actor.workspaceId },
      data: {
        ...(input.name !== undefined ? { name: input.name } : {}),
        savedQueryId: fields.savedQueryId,
        pattern: timing.pattern,
        timeZone: timing.timeZone,
        range: fields.range,
        format: fields.format,
        filePath: fields.filePath,
        webhookConnection: fields.webhookConnection,
        condition: conditionValue(fields.condition),
        severity: fields.severity,
        enabled: input.enabled ?? current.enabled,
        createdById: actor.userId,
        // A new condition starts from "not known": its first delivery decides without a notice when it is false.
        ...(conditionChanged ? { conditionMet: null } : {}),
      },
    });
    if (count === 0) throw reportNotFound();
  } catch (err) {
    if (isUniqueViolation(err)) throw nameTaken(input.name ?? current.name);
    throw err;
  }
  const warnings = await mirrorWarnings(deps, current.id);
  return { report: await getReport(deps, actor.workspaceId, current.id), warnings };
}

export async function setReportEnabled(
  deps: ReportMirrorDeps,
  workspaceId: string,
  input: z.output<typeof EnableReportInput>,
): Promise<z.output<typeof ReportWriteResult>> {
  const { count } = await deps.db.report.updateMany({
    where: { id: input.id, workspaceId },
    data: { enabled: input.enabled },
  });
  if (count === 0) throw reportNotFound();
  const warnings = await mirrorWarnings(deps, input.id);
  return { report: await getReport(deps, workspaceId, input.id), warnings };
}

export async function deleteReport(deps: ReportMirrorDeps, workspaceId: string, id: string): Promise<void> {
  const { count } = await deps.db.report.deleteMany({ where: { id, workspaceId } });
  if (count === 0) throw reportNotFound();
  // If Redis cannot be reached now, the orphaned scheduler is removed by the next sync or by its next fire.
  await mirrorReport(deps, id).catch(() => undefined);
}

/** "Run now": one delivery at once, whether or not the report is enabled, and what came of it. */
export async function runReportNow(deps: ReportFireDeps, workspaceId: string, id: string): Promise<DeliveryView> {
  const found = await deps.db.report.findFirst({ where: { id, workspaceId }, select: { id: true } });
  if (!found) throw reportNotFound();
  const result = await fireReport(deps, id, { kind: "manual" });
  if (result.outcome === "ignored") throw new TRPCError({ code: "NOT_FOUND", message: result.message });
  return result.delivery;
}

export async function listDeliveries(
  deps: Pick<ReportMirrorDeps, "db">,
  workspaceId: string,
  input: z.output<typeof DeliveriesInput>,
): Promise<z.output<typeof DeliveryPage>> {
  const found = await deps.db.report.findFirst({ where: { id: input.reportId, workspaceId }, select: { id: true } });
  if (!found) throw reportNotFound();
  const rows = await deps.db.reportDelivery.findMany({
    where: { reportId: found.id },
    orderBy: [{ startedAt: "desc" }, { id: "desc" }],
    take: input.limit + 1,
    ...(input.cursor ? { cursor: { id: input.cursor }, skip: 1 } : {}),
  });
  const page = rows.slice(0, input.limit);
  return {
    deliveries: page.map(deliveryView),
    nextCursor: rows.length > input.limit ? (page.at(-1)?.id ?? null) : null,
  };
}
