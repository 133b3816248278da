import { mkdir, realpath } from "node:fs/promises";
import path from "node:path";
import type { Prisma } from "@sluice/db/generated/prisma/client";
import { secretScrubber } from "@sluice/pipeline/control/secret-scrub";
import { postWebhook, webhookConnectionUrl } from "../alerts/alert-webhook";
import { workspaceFilesRoot } from "../queries/files-engine";
import type { QueryDeps } from "../queries/query-service";
import { writeResultFile } from "../queries/result-files";
import { runSavedQuery } from "../saved-queries/saved-query-service";
import { withAdvisoryLock } from "../schedules/advisory-lock";
import { conditionNotice, evaluateCondition } from "./report-condition";
import { fillFilePath } from "./report-file-path";
import { type DeliveryView, REPORT_RANGES, ReportCondition, type ReportRange } from "./report-router.types";

// What happens when a report fires: run its saved query as the report's creator over [slot - range, slot], write the
// result as a file (atomically, through result-files.ts), post it to the webhook
// connection, evaluate the query alert's condition, and keep the whole as a ReportDelivery. Nothing here throws: a
// failed query, file or webhook is a "failed" delivery with the reason, scrubbed of the webhook's URL.
//
// Exactly once per slot, with any number of web processes and BullMQ re-delivering a job: a cron fire first claims
// its slot by moving the report's lastSlotAt forward, conditionally (as schedules do). The claim commits before the
// query runs, so a process that dies in between loses that one delivery rather than ever making two.

export type ReportFireDeps = QueryDeps;

export type ReportTrigger = { kind: "slot"; at: Date } | { kind: "manual" };

export interface ReportFireOptions {
  webhookTimeoutMs?: number;
  webhookAttempts?: number;
  now?: () => Date;
}

export type ReportFireResult = { outcome: "ignored"; message: string } | { outcome: "done"; delivery: DeliveryView };

/** Rows a report's query returns at most, and how long it may run. */
const REPORT_ROW_LIMIT = 100_000;
const REPORT_TIMEOUT_MS = 120_000;
/** Rows of the result the webhook body carries. */
const WEBHOOK_SAMPLE_ROWS = 20;

const ROLES_THAT_QUERY = new Set(["EDITOR", "ADMIN", "OWNER"]);

function errorText(err: unknown): string {
  return err instanceof Error ? err.message || err.name : String(err);
}

export function deliveryView(row: {
  id: string;
  trigger: string;
  startedAt: Date;
  finishedAt: Date | null;
  outcome: string;
  rows: number | null;
  bytes: number | null;
  file: string | null;
  webhookStatus: number | null;
  conditionMet: boolean | null;
  error: string | null;
}): DeliveryView {
  return {
    id: row.id,
    trigger: row.trigger === "manual" ? "manual" : "schedule",
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    outcome: row.outcome as DeliveryView["outcome"],
    rows: row.rows,
    bytes: row.bytes,
    file: row.file,
    webhookStatus: row.webhookStatus,
    conditionMet: row.conditionMet,
    error: row.error,
  };
}

function filesDirectory(deps: Pick<QueryDeps, "filesDir">): string {
  return path.resolve(deps.filesDir ?? ".sluice/files");
}

/** Writes the result to `relative` under the workspace's folder, atomically; returns the bytes written. */
async function writeReportFile(
  deps: ReportFireDeps,
  workspaceId: string,
  relative: string,
  result: Parameters<typeof writeResultFile>[0],
  format: "csv" | "parquet",
): Promise<number> {
  const root = await workspaceFilesRoot(filesDirectory(deps), workspaceId);
  const target = path.resolve(root, relative);
  if (path.relative(root, target).startsWith("..")) throw new Error(`"${relative}" is outside the files directory`);
  await mkdir(path.dirname(target), { recursive: true });
  // A folder on the way may be a link a File sink or someone else made: the real place must still be inside.
  const realRoot = await realpath(root);
  const realDir = await realpath(path.dirname(target));
  if (realDir !== realRoot && path.relative(realRoot, realDir).startsWith("..")) {
    throw new Error(`"${path.dirname(relative)}" leads outside the files directory`);
  }
  const place = path.join(realDir, path.basename(target));
  try {
    // Written to a temporary name beside it, then renamed: readers never see half a file.
    return (await writeResultFile(result, format, place)).bytes;
  } catch (err) {
    throw new Error(errorText(err).replaceAll(realRoot, "").replaceAll(root, ""));
  }
}

export async function fireReport(
  deps: ReportFireDeps,
  reportId: string,
  trigger: ReportTrigger,
  options: ReportFireOptions = {},
): Promise<ReportFireResult> {
  const { db } = deps;
  const report = await db.report.findUnique({
    where: { id: reportId },
    include: { savedQuery: { select: { name: true } } },
  });
  if (!report) return { outcome: "ignored", message: "the report no longer exists" };
  if (trigger.kind === "slot") {
    if (!report.enabled) return { outcome: "ignored", message: "the report is disabled" };
    const claimed = await db.report.updateMany({
      where: { id: reportId, OR: [{ lastSlotAt: null }, { lastSlotAt: { lt: trigger.at } }] },
      data: { lastSlotAt: trigger.at },
    });
    if (claimed.count === 0) {
      return { outcome: "ignored", message: `the fire for ${trigger.at.toISOString()} was already handled` };
    }
  }
  const slot = trigger.kind === "slot" ? trigger.at : (options.now?.() ?? new Date());
  const delivery = await db.reportDelivery.create({
    data: { reportId, trigger: trigger.kind === "slot" ? "schedule" : "manual", startedAt: new Date() },
  });

  const problems: string[] = [];
  const data: Prisma.ReportDeliveryUncheckedUpdateInput = {};
  let secrets: string[] = [];
  try {
    const membership = await db.membership.findUnique({
      where: { userId_workspaceId: { userId: report.createdById, workspaceId: report.workspaceId } },
      select: { role: true },
    });
    if (!membership || !ROLES_THAT_QUERY.has(membership.role)) {
      throw new Error(
        "reports run as their creator, who can no longer edit this workspace: save the report again as an editor",
      );
    }
    const range = report.range as ReportRange | null;
    const span = range ? REPORT_RANGES[range] : undefined;
    const timeRange =
      span === undefined ? undefined : { from: new Date(slot.getTime() - span).toISOString(), to: slot.toISOString() };
    let result: Awaited<ReturnType<typeof runSavedQuery>>;
    try {
      result = await runSavedQuery(
        deps,
        { workspaceId: report.workspaceId, userId: report.createdById },
        {
          id: report.savedQueryId,
          ...(timeRange ? { timeRange } : {}),
          limit: REPORT_ROW_LIMIT,
          timeoutMs: REPORT_TIMEOUT_MS,
          queryId: `report-${delivery.id}`,
        },
      );
    } catch (err) {
      throw new Error(`the query "${report.savedQuery.name}" failed: ${errorText(err)}`);
    }
    data.rows = result.rows.length;
    if (result.truncated) problems.push(`the result was cut at ${REPORT_ROW_LIMIT} rows`);

    let file: string | null = null;
    if (report.filePath) {
      file = fillFilePath(report.filePath, slot, report.timeZone);
      try {
        data.bytes = await writeReportFile(
          deps,
          report.workspaceId,
          file,
          result,
          report.format === "PARQUET" ? "parquet" : "csv",
        );
        data.file = file;
      } catch (err) {
        problems.push(`writing ${file} failed: ${errorText(err)}`);
        file = null;
      }
    }

    const opened = report.webhookConnection
      ? await webhookConnectionUrl(db, deps.secretKey, report.workspaceId, report.webhookConnection)
      : null;
    if (opened && "url" in opened) secrets = [opened.url];
    const post = async (body: object): Promise<string | undefined> => {
      if (!opened) return undefined;
      if ("failure" in opened) return opened.failure;
      const answer = await postWebhook(opened.url, body, `report webhook of "${report.name}"`, {
        destinations: deps.destinations,
        userAgent: "sluice-reports",
        ...(options.webhookTimeoutMs !== undefined ? { timeoutMs: options.webhookTimeoutMs } : {}),
        ...(options.webhookAttempts !== undefined ? { attempts: options.webhookAttempts } : {}),
      });
      data.webhookStatus = answer.status;
      return answer.failure;
    };

    const rowCount = result.rows.length;
    const failed = await post({
      text: `Report "${report.name}" (${report.savedQuery.name}) for ${slot.toISOString()}: ${rowCount} row${rowCount === 1 ? "" : "s"}${file ? `, written to ${file}` : ""}`,
      kind: "report",
      report: report.name,
      reportId: report.id,
      savedQuery: report.savedQuery.name,
      slot: slot.toISOString(),
      rowCount,
      truncated: result.truncated,
      columns: result.columns.map((c) => ({ name: c.name, type: c.type })),
      rows: result.rows.slice(0, WEBHOOK_SAMPLE_ROWS),
      file,
      format: report.format.toLowerCase(),
    });
    if (failed) problems.push(`posting to the webhook connection "${report.webhookConnection}" failed: ${failed}`);

    const condition = report.condition === null ? null : ReportCondition.safeParse(report.condition);
    if (condition && !condition.success) problems.push("the stored condition is malformed: save the report again");
    if (condition?.success) {
      const verdict = evaluateCondition(condition.data, result);
      if (verdict.problem) problems.push(`the condition cannot be tested: ${verdict.problem}`);
      else {
        data.conditionMet = verdict.met;
        const notice = await recordCondition(deps, report, condition.data, verdict.met, verdict.value, slot);
        if (notice) {
          const noticeFailed = await post(notice);
          if (noticeFailed) problems.push(`posting the alert to "${report.webhookConnection}" failed: ${noticeFailed}`);
        }
      }
    }
  } catch (err) {
    problems.push(errorText(err));
  }
  const scrub = secretScrubber(secrets);
  const finished = await db.reportDelivery.update({
    where: { id: delivery.id },
    data: {
      ...data,
      finishedAt: new Date(),
      outcome: problems.length === 0 ? "delivered" : "failed",
      error: problems.length === 0 ? null : scrub.text(problems.join("; ")).slice(0, 4000),
    },
  });
  return { outcome: "done", delivery: deliveryView(finished) };
}

/**
 * Keeps whether the condition holds on the report and, on a change of truth (false → true: firing, true → false:
 * recovered; the first delivery that finds it false is no change), writes the inbox entry. Returns the notice the
 * webhook is owed, if any. Under a per-report lock, so a "run now" and a cron fire finishing together do not both
 * announce the same change.
 */
async function recordCondition(
  deps: ReportFireDeps,
  report: { id: string; workspaceId: string; name: string; severity: string },
  condition: ReportCondition,
  met: boolean,
  value: number | null,
  slot: Date,
): Promise<object | null> {
  const { db } = deps;
  return withAdvisoryLock(db, `sluice:report-condition:${report.id}`, async () => {
    const current = await db.report.findUnique({ where: { id: report.id }, select: { conditionMet: true } });
    if (!current) return null;
    const before = current.conditionMet ?? false;
    if (met === before) {
      if (current.conditionMet === null) {
        await db.report.update({ where: { id: report.id }, data: { conditionMet: met } });
      }
      return null;
    }
    const state = met ? "firing" : "recovered";
    const text = conditionNotice(report.name, report.severity, condition, state, value);
    await db.$transaction([
      db.report.update({ where: { id: report.id }, data: { conditionMet: met } }),
      db.alertInboxEntry.create({
        data: { workspaceId: report.workspaceId, reportId: report.id, state, severity: report.severity, text },
      }),
    ]);
    return {
      text,
      kind: "query-alert",
      state,
      severity: report.severity,
      report: report.name,
      reportId: report.id,
      condition,
      value,
      threshold: condition.value,
      at: slot.toISOString(),
    };
  });
}
