import type { Db } from "@sluice/db/client";
import { Prisma } from "@sluice/db/generated/prisma/client";
import type { DestinationPolicy } from "@sluice/nodes/destination-policy";
import { type AlertRule, AlertRules } from "@sluice/pipeline/alert-rules";
import type { Keys } from "@sluice/pipeline/control/keys";
import { type FiguresReader, readNodeFigures } from "@sluice/pipeline/control/node-figures";
import { type DbRunStatus, fromDbStatus, TERMINAL_DB_STATUSES } from "@sluice/pipeline/control/run-status";
import type { SecretKeys } from "@sluice/pipeline/control/secret-box";
import { edgeKey, type PipelineEdge } from "@sluice/pipeline/definition";
import { withAdvisoryLock } from "../schedules/advisory-lock";
import { evaluateRule, lastActiveMs, ruleWindowMs } from "./alert-evaluation";
import { type AlertNotice, postAlertWebhook, webhookConnectionUrl } from "./alert-webhook";

// Every pass (10 s, under an advisory lock so several web processes do it once): for each run going, or ended
// within ENDED_WITHIN_MS, the rules of its version (spec.alerts) are evaluated against its last seconds of figures
// and its status; the verdict is kept on the run's Alert row. A change between firing and not firing is a
// transition: it is appended to the row's history and, unless a silence covers the rule, becomes an inbox entry
// and a webhook POST. The POST is owed on the alert row (webhookPending, written with the transition) and goes out
// after the lock is released, even when the pass failed, so a transition is never recorded without its webhook.
// A pass stops after PASS_BUDGET_MS, well inside the lock's hold limit; the runs it did not reach come next pass.

export interface AlertLoopDeps {
  db: Db;
  redis: FiguresReader;
  keys: Keys;
  destinations: DestinationPolicy;
  /** Opens the webhook connections' sealed URLs. */
  secretKey: SecretKeys | undefined;
  now?: () => number;
  log?: (message: string, fields?: Record<string, unknown>) => void;
  webhookTimeoutMs?: number;
  /** Tests: a shorter pass budget, or a lock that expires sooner (see withAdvisoryLock). */
  passBudgetMs?: number;
  lockHoldMs?: number;
}

const LOCK_KEY = "sluice:alerts";
/** A run that ended is evaluated this long after, so runFailed fires and the run's other alerts recover. */
const ENDED_WITHIN_MS = 5 * 60_000;
/** "Recent" figures: the seconds since the previous pass, and a little more. Workers publish just after a second. */
const RECENT_SECONDS = 12;
const SETTLE_SECONDS = 1;
/** The transitions kept on an alert. */
const MAX_TRANSITIONS = 50;
/** How long a pass may evaluate runs; the advisory lock's hold limit is 60 s. */
const PASS_BUDGET_MS = 20_000;
/** An owed webhook notice whose delivery keeps failing is given up this long after its transition. */
const PENDING_GIVE_UP_MS = 10 * 60_000;

type Transition = { state: "firing" | "recovered"; at: number; value: number | null; summary: string };

/** One evaluation pass, then the webhooks owed (this pass's and any a failed pass left); returns how many
 * transitions it recorded. */
export async function evaluateAlerts(deps: AlertLoopDeps): Promise<number> {
  try {
    return await withAdvisoryLock(deps.db, LOCK_KEY, () => evaluateUnlocked(deps), deps.lockHoldMs);
  } finally {
    await deliverOwed(deps);
  }
}

/** Sends every owed notice. A row's notices are claimed (cleared) before sending, so processes delivering at once
 * send each one once; the ones that fail are put back for the next pass until PENDING_GIVE_UP_MS. */
async function deliverOwed(deps: AlertLoopDeps): Promise<void> {
  const { db } = deps;
  const owed = await db.alert.findMany({
    where: { webhookPending: { not: Prisma.AnyNull } },
    select: { id: true, workspaceId: true, rule: true, webhookPending: true },
  });
  await Promise.all(
    owed.map(async (alert) => {
      const claimed = await db.alert.updateMany({
        where: { id: alert.id, webhookPending: { equals: alert.webhookPending as Prisma.InputJsonValue } },
        data: { webhookPending: Prisma.DbNull },
      });
      if (claimed.count === 0) return;
      const connection = (alert.rule as { connection?: unknown }).connection;
      if (typeof connection !== "string") return;
      const to = await webhookConnectionUrl(db, deps.secretKey, alert.workspaceId, connection);
      const unsent: AlertNotice[] = [];
      let failure: string | undefined;
      // In order, so a receiver hears of a firing before its recovery.
      for (const notice of alert.webhookPending as unknown as AlertNotice[]) {
        const failed =
          "failure" in to
            ? to.failure
            : await postAlertWebhook(to.url, notice, {
                destinations: deps.destinations,
                ...(deps.webhookTimeoutMs !== undefined ? { timeoutMs: deps.webhookTimeoutMs } : {}),
              });
        if (failed === undefined) continue;
        failure = failed;
        deps.log?.("alert webhook failed", { alertId: alert.id, rule: notice.rule, failure: failed });
        if ((deps.now ?? Date.now)() - Date.parse(notice.at) < PENDING_GIVE_UP_MS) unsent.push(notice);
      }
      await db.alert.update({ where: { id: alert.id }, data: { webhookError: failure ?? null } });
      // Ahead of any a newer pass owed meanwhile.
      if (unsent.length > 0)
        await db.$executeRaw`UPDATE "Alert" SET "webhookPending" = ${JSON.stringify(unsent)}::jsonb || COALESCE("webhookPending", '[]'::jsonb) WHERE "id" = ${alert.id}`;
    }),
  );
}

async function evaluateUnlocked(deps: AlertLoopDeps): Promise<number> {
  const { db } = deps;
  const nowMs = (deps.now ?? Date.now)();
  const startedMs = Date.now();
  const budgetMs = deps.passBudgetMs ?? PASS_BUDGET_MS;
  const runs = await db.run.findMany({
    where: {
      startedAt: { not: null },
      OR: [
        { status: { notIn: [...TERMINAL_DB_STATUSES] } },
        { finishedAt: { gte: new Date(nowMs - ENDED_WITHIN_MS) } },
      ],
    },
    select: {
      id: true,
      workspaceId: true,
      pipelineId: true,
      status: true,
      startedAt: true,
      error: true,
      pipeline: { select: { name: true } },
      version: { select: { definition: true } },
      alerts: true,
    },
    orderBy: { createdAt: "desc" },
    take: 1000,
  });
  let count = 0;
  for (const [i, run] of runs.entries()) {
    if (Date.now() - startedMs > budgetMs) {
      deps.log?.("alert pass ran out of time; the runs left are evaluated next pass", { left: runs.length - i });
      break;
    }
    const spec = (run.version.definition as { spec?: { alerts?: unknown; edges?: PipelineEdge[] } } | null)?.spec;
    const parsed = AlertRules.safeParse(spec?.alerts ?? []);
    // A stored version was valid when saved; one that no longer parses has no rules the evaluator can trust.
    if (!parsed.success || parsed.data.length === 0) continue;
    const rules = parsed.data;
    const edges = spec?.edges ?? [];
    const sinks = sinkNodes(run.version.definition, edges);
    const toSec = Math.floor(nowMs / 1000) - SETTLE_SECONDS;
    const fromSec = toSec - RECENT_SECONDS + 1;
    const recent = await readNodeFigures(deps.redis, deps.keys, run.id, fromSec, toSec);
    // Second by second too, so noData and runStalled know the very second records last moved.
    const seconds = await Promise.all(
      Array.from({ length: RECENT_SECONDS }, (_, i) =>
        readNodeFigures(deps.redis, deps.keys, run.id, fromSec + i, fromSec + i),
      ),
    );
    const windows = new Map<number, Awaited<ReturnType<typeof readNodeFigures>>>();
    for (const r of rules.filter((r) => r.when === "errorRate")) {
      const seconds = Math.max(1, Math.round(ruleWindowMs(r) / 1000));
      if (!windows.has(seconds)) {
        windows.set(seconds, await readNodeFigures(deps.redis, deps.keys, run.id, toSec - seconds + 1, toSec));
      }
    }
    const silences = await db.alertSilence.findMany({
      where: { pipelineId: run.pipelineId, until: { gt: new Date(nowMs) } },
      select: { ruleId: true },
    });
    const status = fromDbStatus(run.status as DbRunStatus);
    for (const rule of rules) {
      const row = run.alerts.find((a) => a.ruleId === rule.id);
      const seen = lastActiveMs(rule, seconds, sinks);
      const before = row?.lastActiveAt?.getTime() ?? null;
      // A run that is not running (paused) is not quiet: its quiet time starts again when it resumes.
      const lastActive = status !== "running" ? nowMs : seen === null ? before : Math.max(seen, before ?? 0);
      const windowed = windows.get(Math.max(1, Math.round(ruleWindowMs(rule) / 1000))) ?? recent;
      const verdict = evaluateRule(rule, {
        status,
        nowMs,
        startedAtMs: run.startedAt?.getTime() ?? null,
        lastActiveMs: lastActive,
        error: run.error,
        recent,
        windowed,
        sinks,
        edgesInto: (node) => edges.filter((e) => e.to === node).map(edgeKey),
      });
      const wasFiring = row?.state === "firing";
      const changed = verdict.firing !== wasFiring && (verdict.firing || row !== undefined);
      const state = changed ? (verdict.firing ? "firing" : "recovered") : (row?.state ?? "quiet");
      const history = ((row?.transitions as Transition[] | undefined) ?? []).slice();
      if (changed) {
        history.push({
          state: state as Transition["state"],
          at: nowMs,
          value: verdict.value,
          summary: verdict.summary,
        });
      }
      const data = {
        rule: rule as unknown as Prisma.InputJsonValue,
        state,
        since: changed || !row ? new Date(nowMs) : row.since,
        lastValue: verdict.value,
        lastActiveAt: lastActive !== null ? new Date(lastActive) : null,
        transitions: history.slice(-MAX_TRANSITIONS) as unknown as Prisma.InputJsonValue,
        evaluatedAt: new Date(nowMs),
        ...(changed ? { summary: verdict.summary } : {}),
      };
      const silenced = silences.some((s) => s.ruleId === null || s.ruleId === rule.id);
      const text = noticeText(run.pipeline.name, rule, state as Transition["state"], verdict.summary);
      const save = (client: Prisma.TransactionClient) =>
        client.alert.upsert({
          where: { runId_ruleId: { runId: run.id, ruleId: rule.id } },
          create: { workspaceId: run.workspaceId, pipelineId: run.pipelineId, runId: run.id, ruleId: rule.id, ...data },
          update: data,
          select: { id: true },
        });
      if (changed) count++;
      if (!changed || silenced) {
        await save(db);
        continue;
      }
      // The transition, its inbox entry and the webhook it owes land together or not at all.
      await db.$transaction(async (tx) => {
        const saved = await save(tx);
        await tx.alertInboxEntry.create({
          data: { workspaceId: run.workspaceId, alertId: saved.id, state, severity: rule.severity, text },
        });
        if (rule.connection === undefined) return;
        const notice: AlertNotice = {
          text,
          state: state as Transition["state"],
          severity: rule.severity,
          pipeline: run.pipeline.name,
          pipelineId: run.pipelineId,
          runId: run.id,
          rule: rule.id,
          node: rule.node ?? null,
          value: verdict.value,
          at: new Date(nowMs).toISOString(),
        };
        // Appended in SQL, so a delivery claiming the row's notices at the same moment loses none.
        await tx.$executeRaw`UPDATE "Alert" SET "webhookPending" = COALESCE("webhookPending", '[]'::jsonb) || ${JSON.stringify([notice])}::jsonb WHERE "id" = ${saved.id}`;
      });
    }
  }
  return count;
}

function noticeText(pipeline: string, rule: AlertRule, state: Transition["state"], summary: string): string {
  const head = state === "firing" ? `[${rule.severity}] Alert "${rule.id}" is firing` : `Alert "${rule.id}" recovered`;
  return `${head} on pipeline "${pipeline}": ${summary}`;
}

/** Nodes no edge leaves: the pipeline's outputs. */
function sinkNodes(definition: unknown, edges: readonly PipelineEdge[]): string[] {
  const nodes = (definition as { spec?: { nodes?: { id: string }[] } } | null)?.spec?.nodes ?? [];
  const from = new Set(edges.map((e) => e.from));
  return nodes.map((n) => n.id).filter((id) => !from.has(id));
}

/** Runs evaluateAlerts every `everyMs` until stopped; a failed pass is logged and the next one comes anyway. */
export function startAlertLoop(deps: AlertLoopDeps, everyMs = 10_000): () => Promise<void> {
  let stopped = false;
  let current: Promise<unknown> = Promise.resolve();
  const tick = () => {
    if (stopped) return;
    current = evaluateAlerts(deps)
      .catch((err) =>
        deps.log?.("alert evaluation failed", { error: err instanceof Error ? err.message : String(err) }),
      )
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, everyMs);
      });
  };
  let timer = setTimeout(tick, 0);
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await current;
  };
}
