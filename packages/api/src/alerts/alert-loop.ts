import type { Db } from "@sluice/db/client";
import type { Prisma } from "@sluice/db/generated/prisma/client";
import type { DestinationPolicy } from "@sluice/nodes/destination-policy";
import { type AlertRule, AlertRules } from "@sluice/pipeline/alert-rules";
import type { Keys } from "@sluice/pipeline/control/keys";
import { type FiguresReader, readNodeFigures } from "@sluice/pipeline/control/node-figures";
import { type DbRunStatus, fromDbStatus, TERMINAL_DB_STATUSES } from "@sluice/pipeline/control/run-status";
import { edgeKey, type PipelineEdge } from "@sluice/pipeline/definition";
import { withAdvisoryLock } from "../schedules/advisory-lock";
import { evaluateRule, lastActiveMs, ruleWindowMs } from "./alert-evaluation";
import { type AlertNotice, postAlertWebhook } from "./alert-webhook";

// Every pass (10 s, under an advisory lock so several web processes do it once): for each run going, or ended
// within ENDED_WITHIN_MS, the rules of its version (spec.alerts) are evaluated against its last seconds of figures
// and its status; the verdict is kept on the run's Alert row. A change between firing and not firing is a
// transition: it is appended to the row's history and, unless a silence covers the rule, becomes an inbox entry
// and a webhook POST. Webhooks go out after the lock is released, and their failures land on the alert.

export interface AlertLoopDeps {
  db: Db;
  redis: FiguresReader;
  keys: Keys;
  destinations: DestinationPolicy;
  now?: () => number;
  log?: (message: string, fields?: Record<string, unknown>) => void;
  webhookTimeoutMs?: number;
}

const LOCK_KEY = "sluice:alerts";
/** A run that ended is evaluated this long after, so runFailed fires and the run's other alerts recover. */
const ENDED_WITHIN_MS = 5 * 60_000;
/** "Recent" figures: the seconds since the previous pass, and a little more. Workers publish just after a second. */
const RECENT_SECONDS = 12;
const SETTLE_SECONDS = 1;
/** The transitions kept on an alert. */
const MAX_TRANSITIONS = 50;

type Transition = { state: "firing" | "recovered"; at: number; value: number | null; summary: string };

interface Delivery {
  alertId: string;
  url: string;
  notice: AlertNotice;
}

/** One evaluation pass; returns how many transitions it recorded. */
export async function evaluateAlerts(deps: AlertLoopDeps): Promise<number> {
  const deliveries: Delivery[] = [];
  const transitions = await withAdvisoryLock(deps.db, LOCK_KEY, () => evaluateUnlocked(deps, deliveries));
  await Promise.all(
    deliveries.map(async (d) => {
      const failure = await postAlertWebhook(d.url, d.notice, {
        destinations: deps.destinations,
        ...(deps.webhookTimeoutMs !== undefined ? { timeoutMs: deps.webhookTimeoutMs } : {}),
      });
      if (failure !== undefined)
        deps.log?.("alert webhook failed", { alertId: d.alertId, rule: d.notice.rule, failure });
      await deps.db.alert.update({ where: { id: d.alertId }, data: { webhookError: failure ?? null } });
    }),
  );
  return transitions;
}

async function evaluateUnlocked(deps: AlertLoopDeps, deliveries: Delivery[]): Promise<number> {
  const { db } = deps;
  const nowMs = (deps.now ?? Date.now)();
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
    orderBy: { createdAt: "asc" },
    take: 1000,
  });
  let count = 0;
  for (const run of runs) {
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
      const lastActive = seen === null ? before : Math.max(seen, before ?? 0);
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
      const saved = await db.alert.upsert({
        where: { runId_ruleId: { runId: run.id, ruleId: rule.id } },
        create: { workspaceId: run.workspaceId, pipelineId: run.pipelineId, runId: run.id, ruleId: rule.id, ...data },
        update: data,
        select: { id: true },
      });
      if (!changed) continue;
      count++;
      const silenced = silences.some((s) => s.ruleId === null || s.ruleId === rule.id);
      if (silenced) continue;
      const text = noticeText(run.pipeline.name, rule, state as Transition["state"], verdict.summary);
      await db.alertInboxEntry.create({
        data: {
          workspaceId: run.workspaceId,
          alertId: saved.id,
          state,
          severity: rule.severity,
          text,
        },
      });
      if (rule.webhook !== undefined) {
        deliveries.push({
          alertId: saved.id,
          url: rule.webhook,
          notice: {
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
          },
        });
      }
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
