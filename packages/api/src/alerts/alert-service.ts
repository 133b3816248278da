import type { Db } from "@sluice/db/client";
import { type AlertKind, AlertRules, type AlertSeverity } from "@sluice/pipeline/alert-rules";
import { TRPCError } from "@trpc/server";
import type { z } from "zod";
import type {
  AlertList,
  AlertView,
  Inbox,
  InboxInput,
  ListAlertsInput,
  MarkReadInput,
  SilenceInput,
  SilenceView,
} from "./alert-router.types";

// The alerts API over the rows the evaluator (alert-loop.ts) keeps. Everything is scoped to the caller's workspace.

type Transition = AlertView["transitions"][number];

export async function listAlerts(
  db: Db,
  workspaceId: string,
  input: z.output<typeof ListAlertsInput>,
): Promise<z.output<typeof AlertList>> {
  const now = new Date();
  const [rows, silences] = await Promise.all([
    db.alert.findMany({
      where: {
        workspaceId,
        state: input.state ?? { in: ["firing", "recovered"] },
        ...(input.pipelineId !== undefined ? { pipelineId: input.pipelineId } : {}),
        ...(input.runId !== undefined ? { runId: input.runId } : {}),
      },
      // Firing first ("firing" sorts before "recovered"), newest change first within each.
      orderBy: [{ state: "asc" }, { since: "desc" }],
      take: input.limit,
      include: { pipeline: { select: { name: true } } },
    }),
    db.alertSilence.findMany({
      where: { workspaceId, until: { gt: now } },
      orderBy: { until: "asc" },
      include: { pipeline: { select: { name: true } } },
    }),
  ]);
  const silencedUntil = (pipelineId: string, ruleId: string) => {
    const ends = silences
      .filter((s) => s.pipelineId === pipelineId && (s.ruleId === null || s.ruleId === ruleId))
      .map((s) => s.until.getTime());
    return ends.length > 0 ? Math.max(...ends) : null;
  };
  return {
    alerts: rows.map((a) => {
      const rule = a.rule as { when: AlertKind; node?: string; severity: AlertSeverity };
      return {
        id: a.id,
        pipelineId: a.pipelineId,
        pipelineName: a.pipeline.name,
        runId: a.runId,
        ruleId: a.ruleId,
        when: rule.when,
        node: rule.node ?? null,
        severity: rule.severity,
        state: a.state as "firing" | "recovered",
        since: a.since.getTime(),
        lastValue: a.lastValue,
        summary: a.summary,
        transitions: a.transitions as Transition[],
        webhookError: a.webhookError,
        silencedUntil: silencedUntil(a.pipelineId, a.ruleId),
      };
    }),
    silences: silences.map((s) => ({
      id: s.id,
      pipelineId: s.pipelineId,
      pipelineName: s.pipeline.name,
      ruleId: s.ruleId,
      until: s.until.getTime(),
    })),
  };
}

export async function listInbox(
  db: Db,
  workspaceId: string,
  input: z.output<typeof InboxInput>,
): Promise<z.output<typeof Inbox>> {
  const [rows, unread] = await Promise.all([
    db.alertInboxEntry.findMany({
      where: { workspaceId, ...(input.unreadOnly ? { readAt: null } : {}) },
      orderBy: { createdAt: "desc" },
      take: input.limit,
      include: { alert: { select: { pipelineId: true, runId: true } } },
    }),
    db.alertInboxEntry.count({ where: { workspaceId, readAt: null } }),
  ]);
  return {
    entries: rows.map((e) => ({
      id: e.id,
      alertId: e.alertId,
      pipelineId: e.alert?.pipelineId ?? null,
      runId: e.alert?.runId ?? null,
      reportId: e.reportId,
      state: e.state as "firing" | "recovered",
      severity: e.severity as AlertSeverity,
      text: e.text,
      createdAt: e.createdAt.getTime(),
      read: e.readAt !== null,
    })),
    unread,
  };
}

export async function markRead(
  db: Db,
  workspaceId: string,
  input: z.output<typeof MarkReadInput>,
): Promise<{ marked: number }> {
  const { count } = await db.alertInboxEntry.updateMany({
    where: { workspaceId, readAt: null, ...("ids" in input ? { id: { in: input.ids } } : {}) },
    data: { readAt: new Date() },
  });
  return { marked: count };
}

export async function silence(
  db: Db,
  by: { workspaceId: string; userId: string },
  input: z.output<typeof SilenceInput>,
): Promise<z.output<typeof SilenceView>> {
  const pipeline = await db.pipeline.findFirst({
    where: { id: input.pipelineId, workspaceId: by.workspaceId },
    select: { id: true, name: true, latestVersion: true },
  });
  if (!pipeline) throw new TRPCError({ code: "NOT_FOUND", message: "no such pipeline in this workspace" });
  if (input.ruleId !== undefined) {
    const latest = await db.pipelineVersion.findUnique({
      where: { pipelineId_number: { pipelineId: pipeline.id, number: pipeline.latestVersion } },
      select: { definition: true },
    });
    const rules = AlertRules.safeParse(
      (latest?.definition as { spec?: { alerts?: unknown } } | null)?.spec?.alerts ?? [],
    );
    if (!rules.success || !rules.data.some((r) => r.id === input.ruleId)) {
      throw new TRPCError({
        code: "BAD_REQUEST",
        message: `Rule: pipeline "${pipeline.name}" has no alert rule "${input.ruleId}" in its latest version.`,
      });
    }
  }
  const row = await db.alertSilence.create({
    data: {
      workspaceId: by.workspaceId,
      pipelineId: pipeline.id,
      ruleId: input.ruleId ?? null,
      until: new Date(Date.now() + input.forMs),
      createdById: by.userId,
    },
  });
  return {
    id: row.id,
    pipelineId: pipeline.id,
    pipelineName: pipeline.name,
    ruleId: row.ruleId,
    until: row.until.getTime(),
  };
}

export async function unsilence(db: Db, workspaceId: string, id: string): Promise<void> {
  const { count } = await db.alertSilence.deleteMany({ where: { id, workspaceId } });
  if (count === 0) throw new TRPCError({ code: "NOT_FOUND", message: "no such silence in this workspace" });
}
