import type { Db } from "@sluice/db/client";
import type { AlertSeverity } from "@sluice/pipeline/alert-rules";
import type { Keys } from "@sluice/pipeline/control/keys";
import {
  FIGURES_TTL_MS,
  type FiguresReader,
  type RunFigures,
  readNodeFigures,
} from "@sluice/pipeline/control/node-figures";
import {
  parseRunMeta,
  parseTaskRetry,
  type RunMeta,
  runTaskRefs,
  TASK_RETRY_FIELD,
} from "@sluice/pipeline/control/protocol";
import { parseRunEvent } from "@sluice/pipeline/control/run-events";
import {
  ACTIVE_DB_STATUSES,
  type DbRunStatus,
  fromDbStatus,
  RUN_STATUS_LABELS,
  type RunStatus,
} from "@sluice/pipeline/control/run-status";
import { edgeKey, type PipelineEdge } from "@sluice/pipeline/definition";
import type { Redis } from "ioredis";
import { readFleet } from "../fleet/fleet-service";
import type { FigureBucket } from "../history/figure-buckets";
import { readBucketsByRun } from "../history/history-store";
import {
  HEALTH_VERDICTS,
  type HealthVerdict,
  type Laggard,
  type OverviewRun,
  type OverviewView,
  type Sparkline,
} from "./overview-router.types";

// The overview home: every going run of a workspace with its rates, a throughput sparkline, its errors of the last
// hour, its firing alerts and a health verdict, worst first; the runs that failed in the last hour; and the nodes
// furthest behind across its running pipelines. Cheap whatever the number of runs: three PostgreSQL queries and one
// read of the fleet, then two pipelined Redis round trips (run metas and figure seconds, then the partitions' retry
// records) — never a round trip per run.
//
// A run looks healthy only while records move: a running run whose nodes moved nothing for STALL_MS, or that no live
// worker holds a partition of, is stalled — the case where other tools' metrics stay green while a job has stopped.
// Either waits for its grace after the run last began to go: its start, or its resume after a pause (its timeline).

/** History points of the sparkline: 15 minutes of 10 s buckets. */
const SPARK_STEP_SEC = 10;
const SPARK_POINTS = 90;
/** The seconds the "now" rates, lags and backpressure are read over. */
const RECENT_SECONDS = 5;
/** Workers publish a second's figures just after it turns; the last second read is one this long ago. */
const READ_AFTER_MS = 300;
/** A running run that moved no record for this long is stalled. */
const STALL_MS = 60_000;
/** A run just started or resumed has this long before no worker holding its partitions counts (leasing, heartbeat). */
const LEASE_GRACE_MS = 15_000;
/** A run whose nodes are this far behind (end-to-end) is lagging. */
const LAGGING_MS = 60_000;
/** Going runs listed at most; a workspace with more is not one the overview is built for. */
const MAX_RUNS = 500;
const MAX_FAILED = 50;
const DEFAULT_LAGGARDS = 10;
const HOUR_MS = 3_600_000;

export interface OverviewDeps {
  db: Db;
  redis: Redis;
  keys: Keys;
  now?: () => number;
}

const SEVERITY_RANK: Record<AlertSeverity, number> = { info: 0, warning: 1, critical: 2 };

interface GraphShape {
  sources: string[];
  sinks: string[];
  /** The nodes feeding each node. */
  upstream: Map<string, string[]>;
  /** The shuffle-edge ids (edgeKey) into each node. */
  edgesInto: Map<string, string[]>;
}

/** Sources and sinks by their type (`source.x`, `sink.x`), and who feeds whom, from a stored definition. */
function graphShape(definition: unknown): GraphShape {
  const spec = (definition as { spec?: { nodes?: { id: string; type: string }[]; edges?: PipelineEdge[] } } | null)
    ?.spec;
  const nodes = spec?.nodes ?? [];
  const edges = spec?.edges ?? [];
  const upstream = new Map<string, string[]>();
  const edgesInto = new Map<string, string[]>();
  for (const e of edges) {
    upstream.set(e.to, [...(upstream.get(e.to) ?? []), e.from]);
    edgesInto.set(e.to, [...(edgesInto.get(e.to) ?? []), edgeKey(e)]);
  }
  return {
    sources: nodes.filter((n) => n.type.startsWith("source.")).map((n) => n.id),
    sinks: nodes.filter((n) => n.type.startsWith("sink.")).map((n) => n.id),
    upstream,
    edgesInto,
  };
}

const sumOf = (values: Iterable<number>) => {
  let n = 0;
  for (const v of values) n += v;
  return n;
};

function moved(f: RunFigures): boolean {
  return Object.values(f.nodes).some((n) => n.in > 0 || n.out > 0);
}

/** Sources' output and sinks' input of some figures (every node's, when the definition names none). */
function flow(figures: RunFigures, g: GraphShape): { in: number; out: number } {
  const ids = Object.keys(figures.nodes);
  const sources = g.sources.length > 0 ? g.sources : ids;
  const sinks = g.sinks.length > 0 ? g.sinks : ids;
  return {
    in: sumOf(sources.map((id) => figures.nodes[id]?.out ?? 0)),
    out: sumOf(sinks.map((id) => figures.nodes[id]?.in ?? 0)),
  };
}

function bucketFlow(b: FigureBucket, g: GraphShape): { in: number; out: number; any: boolean } {
  const sources = g.sources.length > 0 ? g.sources : [...b.nodes.keys()];
  const sinks = g.sinks.length > 0 ? g.sinks : [...b.nodes.keys()];
  return {
    in: sumOf(sources.map((id) => b.nodes.get(id)?.recordsOut ?? 0)),
    out: sumOf(sinks.map((id) => b.nodes.get(id)?.recordsIn ?? 0)),
    any: [...b.nodes.values()].some((n) => n.recordsIn > 0 || n.recordsOut > 0),
  };
}

type RedisReply = [Error | null, unknown];

function replyOf<T>(replies: RedisReply[] | null, i: number, fallback: T): T {
  const reply = replies?.[i];
  if (!reply || reply[0]) return fallback;
  return reply[1] as T;
}

/** The seconds one overview reads, fixed once so every run is judged at the same moment. */
interface Moment {
  nowMs: number;
  /** The last complete second the workers have published. */
  lastSec: number;
  /** The sparkline's first bucket; its last (still filling) one starts SPARK_STEP_SEC × (SPARK_POINTS − 1) later. */
  sparkFrom: number;
  /** The oldest second still in Redis. */
  oldestLive: number;
}

function momentAt(nowMs: number): Moment {
  const lastSec = Math.floor((nowMs - READ_AFTER_MS) / 1000) - 1;
  const sparkEnd = Math.floor(lastSec / SPARK_STEP_SEC) * SPARK_STEP_SEC;
  return {
    nowMs,
    lastSec,
    sparkFrom: sparkEnd - (SPARK_POINTS - 1) * SPARK_STEP_SEC,
    oldestLive: Math.floor((nowMs - FIGURES_TTL_MS) / 1000) + 1,
  };
}

type GoingRun = Awaited<ReturnType<typeof readGoingRuns>>[number];

function readGoingRuns(db: Db, workspaceId: string) {
  return db.run.findMany({
    where: { workspaceId, status: { in: [...ACTIVE_DB_STATUSES] } },
    select: {
      id: true,
      pipelineId: true,
      status: true,
      createdAt: true,
      startedAt: true,
      pipeline: { select: { name: true } },
      version: { select: { definition: true } },
      historyCursor: { select: { rolledTo: true } },
    },
    orderBy: { createdAt: "desc" },
    take: MAX_RUNS,
  });
}

/** The roll-up's cursor: history holds a run's seconds before it, whole (10 s buckets are written complete). */
const rolledToOf = (r: GoingRun) => (r.historyCursor ? Math.floor(r.historyCursor.rolledTo.getTime() / 1000) : null);

/** The first second read from Redis: the ones not rolled up yet, and at least the recent ones, bucket-aligned. */
function liveFromOf(r: GoingRun, m: Moment): number {
  const from = Math.min(rolledToOf(r) ?? m.sparkFrom, m.lastSec - RECENT_SECONDS - 1);
  return Math.max(m.oldestLive, Math.floor(from / SPARK_STEP_SEC) * SPARK_STEP_SEC);
}

interface LiveState {
  meta: RunMeta | undefined;
  /** When the run was last resumed, if that was within STALL_MS: the grace a resumed run gets counts from it. */
  resumedAt: number | null;
  /** Task partitions finished. */
  done: number;
  retrying: number;
  /** Its figure seconds from liveFromOf to the moment's last, oldest first. */
  seconds: RunFigures[];
  recent: RunFigures;
}

/** When the newest "resumed" event among a run's timeline entries (newest first, as XREVRANGE answers) was written. */
function lastResumedAt(newestFirst: readonly [string, string[]][]): number | null {
  for (const [id, flat] of newestFirst) {
    const fields: Record<string, string> = {};
    for (let k = 0; k + 1 < flat.length; k += 2) fields[flat[k]!] = flat[k + 1]!;
    const event = parseRunEvent(id, fields);
    if (event?.kind === "resumed") return event.at;
  }
  return null;
}

/**
 * What Redis holds of the runs, in two pipelined round trips whatever their number: every run's meta, finished
 * partitions, timeline of the last STALL_MS (a resume in it) and figure seconds; then, the partitions being known from
 * the metas, their retry records.
 */
async function readLiveStates(redis: Redis, keys: Keys, runs: readonly GoingRun[], m: Moment): Promise<LiveState[]> {
  if (runs.length === 0) return [];
  const figureKeys: string[] = [];
  const first = redis.pipeline();
  // Only the timeline's recent entries: an older resume no longer shortens anything.
  const resumesFrom = String(Math.max(0, m.nowMs - STALL_MS));
  for (const r of runs) {
    first.hgetall(keys.runMeta(r.id));
    first.scard(keys.runDone(r.id));
    first.xrevrange(keys.runEvents(r.id), "+", resumesFrom);
  }
  for (const r of runs) {
    for (let s = liveFromOf(r, m); s <= m.lastSec; s++) figureKeys.push(keys.runFigures(r.id, s));
  }
  for (const key of figureKeys) first.hgetall(key);
  const replies = (await first.exec()) as RedisReply[] | null;
  const hashes = new Map(figureKeys.map((key, i) => [key, replyOf(replies, runs.length * 3 + i, {})]));
  // readNodeFigures over the hashes already read merges them as it always does.
  const reader: FiguresReader = { hgetall: async (key) => hashes.get(key) ?? {} };
  const metas = runs.map((_, i) => parseRunMeta(replyOf(replies, i * 3, {})));

  const tasks = runs.flatMap((r, i) => runTaskRefs(r.id, metas[i]?.stages ?? []));
  const second = redis.pipeline();
  for (const t of tasks) second.hget(keys.taskState(t), TASK_RETRY_FIELD);
  const retryReplies = tasks.length > 0 ? ((await second.exec()) as RedisReply[] | null) : [];
  const retrying = new Map<string, number>();
  tasks.forEach((t, i) => {
    if (parseTaskRetry(replyOf<string | null>(retryReplies, i, null))) {
      retrying.set(t.runId, (retrying.get(t.runId) ?? 0) + 1);
    }
  });

  return Promise.all(
    runs.map(async (r, i) => {
      const from = liveFromOf(r, m);
      const seconds = await Promise.all(
        Array.from({ length: m.lastSec - from + 1 }, (_, k) => readNodeFigures(reader, keys, r.id, from + k, from + k)),
      );
      return {
        meta: metas[i],
        resumedAt: lastResumedAt(replyOf<[string, string[]][]>(replies, i * 3 + 2, [])),
        done: Number(replyOf(replies, i * 3 + 1, 0)),
        retrying: retrying.get(r.id) ?? 0,
        seconds,
        recent: await readNodeFigures(reader, keys, r.id, m.lastSec - RECENT_SECONDS + 1, m.lastSec),
      };
    }),
  );
}

/** The firing alerts of each run: how many, and the highest severity. */
async function readFiring(db: Db, workspaceId: string, runIds: readonly string[]) {
  const firing = new Map<string, OverviewRun["alerts"]>();
  if (runIds.length === 0) return firing;
  const alerts = await db.alert.findMany({
    where: { workspaceId, state: "firing", runId: { in: [...runIds] } },
    select: { runId: true, rule: true },
  });
  for (const a of alerts) {
    const severity = (a.rule as { severity?: AlertSeverity }).severity ?? "warning";
    const f = firing.get(a.runId) ?? { firing: 0, severity: null };
    f.firing += 1;
    if (f.severity === null || SEVERITY_RANK[severity] > SEVERITY_RANK[f.severity]) f.severity = severity;
    firing.set(a.runId, f);
  }
  return firing;
}

/**
 * The sparkline: history's 10 s buckets before the live seconds, the live seconds folded into buckets from there;
 * and the last second any node moved a record, as far back as either reaches.
 */
function throughput(
  history: readonly FigureBucket[],
  live: readonly RunFigures[],
  liveFrom: number,
  g: GraphShape,
  startedAt: number | null,
  m: Moment,
): { sparkline: Sparkline; lastMovedSec: number | null } {
  const points = new Map<number, { in: number; out: number; seconds: number }>();
  let lastMovedSec: number | null = null;
  for (const b of history) {
    if (b.start >= liveFrom) continue;
    const f = bucketFlow(b, g);
    points.set(b.start, { in: f.in, out: f.out, seconds: SPARK_STEP_SEC });
    if (f.any) lastMovedSec = b.start + SPARK_STEP_SEC - 1;
  }
  for (const s of live) {
    if (moved(s)) lastMovedSec = s.fromSec;
    const start = Math.floor(s.fromSec / SPARK_STEP_SEC) * SPARK_STEP_SEC;
    const p = points.get(start) ?? { in: 0, out: 0, seconds: 0 };
    const f = flow(s, g);
    points.set(start, { in: p.in + f.in, out: p.out + f.out, seconds: p.seconds + 1 });
  }
  const sparkline: Sparkline = { from: m.sparkFrom * 1000, stepMs: SPARK_STEP_SEC * 1000, inPerSec: [], outPerSec: [] };
  for (let k = 0; k < SPARK_POINTS; k++) {
    const start = m.sparkFrom + k * SPARK_STEP_SEC;
    const p = points.get(start);
    // The bucket still filling is a rate over the seconds it has had.
    const width = p && p.seconds > 0 ? p.seconds : SPARK_STEP_SEC;
    const before = startedAt === null || (start + SPARK_STEP_SEC) * 1000 <= startedAt;
    sparkline.inPerSec.push(p ? p.in / width : before ? null : 0);
    sparkline.outPerSec.push(p ? p.out / width : before ? null : 0);
  }
  return { sparkline, lastMovedSec };
}

/** Errors of the last hour: minute buckets hold the seconds before the cursor, the live seconds the ones after. */
function errorsOfHour(minutes: readonly FigureBucket[], live: readonly RunFigures[], rolledTo: number | null): number {
  let errors = 0;
  for (const b of minutes) for (const n of b.nodes.values()) errors += n.errors;
  for (const s of live) {
    if (rolledTo !== null && s.fromSec < rolledTo) continue;
    for (const n of Object.values(s.nodes)) errors += n.err;
  }
  return errors;
}

/**
 * Each node's lags over the recent seconds: end-to-end (now minus its watermark) and its own (what it adds beyond
 * the furthest-behind node feeding it; a source's own lag is its end-to-end one), for the nodes that are behind.
 */
function nodeLags(
  r: GoingRun,
  recent: RunFigures,
  g: GraphShape,
  nowMs: number,
): { laggards: Laggard[]; maxLagMs: number | null; backpressured: boolean } {
  const lags = new Map<string, number>();
  for (const [id, f] of Object.entries(recent.nodes)) {
    if (f.watermark !== null) lags.set(id, Math.max(0, nowMs - f.watermark));
  }
  const waiting = new Set(
    Object.entries(recent.edges)
      .filter(([, e]) => e.backpressured)
      .map(([id]) => id),
  );
  const laggards: Laggard[] = [];
  for (const [id, f] of Object.entries(recent.nodes)) {
    const endToEnd = lags.get(id);
    const backpressured = (g.edgesInto.get(id) ?? []).some((e) => waiting.has(e));
    const behind = (f.inputLag ?? 0) > 0 || (f.offsetLag?.value ?? 0) > 0 || backpressured;
    if (endToEnd === undefined && !behind) continue;
    const feeding = (g.upstream.get(id) ?? []).map((u) => lags.get(u)).filter((l) => l !== undefined);
    laggards.push({
      runId: r.id,
      pipelineId: r.pipelineId,
      pipelineName: r.pipeline.name,
      nodeId: id,
      ownLagMs: endToEnd === undefined ? 0 : Math.max(0, endToEnd - Math.max(0, ...feeding)),
      endToEndLagMs: endToEnd ?? 0,
      inputLag: f.inputLag,
      offsetLag: f.offsetLag,
      backpressured,
    });
  }
  return { laggards, maxLagMs: lags.size > 0 ? Math.max(...lags.values()) : null, backpressured: waiting.size > 0 };
}

type Stall = Omit<NonNullable<OverviewRun["stall"]>, "summary">;

/**
 * Why a run counts as stalled, if it does (see OverviewRun's `stall`). `goingSince` is when it last began to go: its
 * start, or its resume when later. Before STALL_MS (LEASE_GRACE_MS for workers) have passed since then, a quiet
 * stretch that began before it — the pause — does not make it stalled.
 */
function stallOf(
  r: GoingRun,
  status: RunStatus,
  goingSince: number | null,
  quiet: { sinceMs: number; atLeast: boolean },
  partitions: OverviewRun["partitions"],
  nowMs: number,
): Stall | null {
  if (status === "queued") {
    const waited = nowMs - r.createdAt.getTime();
    return waited >= STALL_MS ? { reason: "not-started", quietMs: waited, atLeast: false } : null;
  }
  if (status !== "running") return null;
  const quietMs = nowMs - quiet.sinceMs;
  const goingMs = nowMs - (goingSince ?? nowMs);
  if (quietMs >= STALL_MS && goingMs >= STALL_MS) return { reason: "no-records", quietMs, atLeast: quiet.atLeast };
  const unheld = partitions.total > partitions.done && partitions.held === 0;
  if (unheld && goingMs >= LEASE_GRACE_MS) {
    return { reason: "no-workers", quietMs, atLeast: quiet.atLeast };
  }
  return null;
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? "" : "s"}`;

/** The verdict, worst first, and the sentence saying why. */
function verdictOf(x: {
  status: RunStatus;
  retrying: number;
  recentErrors: number;
  alerts: OverviewRun["alerts"];
  stall: OverviewRun["stall"];
  maxLagMs: number | null;
  backpressured: boolean;
  /** Since when nothing moved, when nothing did in the recent seconds; null while records move. */
  quietSinceMs: number | null;
  nowMs: number;
}): { verdict: HealthVerdict; reason: string } {
  if (x.retrying > 0)
    return { verdict: "failing", reason: `${plural(x.retrying, "partition")} retrying after an error` };
  if (x.recentErrors > 0) {
    return { verdict: "failing", reason: `${plural(x.recentErrors, "record")} failed in the last ${RECENT_SECONDS} s` };
  }
  if (x.alerts.firing > 0) return { verdict: "alerting", reason: `${plural(x.alerts.firing, "alert")} firing` };
  if (x.stall) return { verdict: "stalled", reason: x.stall.summary };
  if (x.maxLagMs !== null && x.maxLagMs >= LAGGING_MS) {
    return { verdict: "lagging", reason: `${roughDuration(x.maxLagMs)} behind` };
  }
  if (x.backpressured) return { verdict: "lagging", reason: "a stage is waiting on the next one" };
  if (x.status !== "running") return { verdict: "healthy", reason: RUN_STATUS_LABELS[x.status] };
  // Quiet for less than STALL_MS: well still, but not said to be moving.
  const reason =
    x.quietSinceMs === null ? "records moving" : `no records for ${roughDuration(x.nowMs - x.quietSinceMs)}`;
  return { verdict: "healthy", reason };
}

export async function readOverview(
  deps: OverviewDeps,
  workspaceId: string,
  input: { laggards?: number | undefined } = {},
): Promise<OverviewView> {
  const { db, redis, keys } = deps;
  const m = momentAt((deps.now ?? Date.now)());
  const [runs, failed, fleet] = await Promise.all([
    readGoingRuns(db, workspaceId),
    db.run.findMany({
      where: { workspaceId, status: "FAILED", finishedAt: { gte: new Date(m.nowMs - HOUR_MS) } },
      select: {
        id: true,
        pipelineId: true,
        error: true,
        startedAt: true,
        finishedAt: true,
        pipeline: { select: { name: true } },
      },
      orderBy: { finishedAt: "desc" },
      take: MAX_FAILED,
    }),
    // Only the workers' heartbeats: which partitions live workers hold. No queue is asked.
    readFleet({ redis, keys, queues: {} }, m.nowMs),
  ]);
  const runIds = runs.map((r) => r.id);
  const hourFrom = Math.floor((m.nowMs - HOUR_MS) / 1000);
  const [live, tenSec, minutes, firing] = await Promise.all([
    readLiveStates(redis, keys, runs, m),
    readBucketsByRun(db, runIds, 10, m.sparkFrom, m.lastSec + 1),
    readBucketsByRun(db, runIds, 60, Math.floor(hourFrom / 60) * 60, m.lastSec + 1),
    readFiring(db, workspaceId, runIds),
  ]);
  const held = new Map<string, number>();
  for (const w of fleet.workers) {
    if (!w.alive) continue;
    for (const p of w.partitions) held.set(p.runId, (held.get(p.runId) ?? 0) + 1);
  }

  const laggards: Laggard[] = [];
  const views = runs.map((r, i): OverviewRun => {
    const state = live[i]!;
    const g = graphShape(r.version.definition);
    // Redis is ahead of the reconciler's copy by up to a second: its status is the one to judge by.
    const status: RunStatus = state.meta?.status ?? fromDbStatus(r.status as DbRunStatus);
    const startedAt = state.meta?.startedAt ?? r.startedAt?.getTime() ?? null;
    const rolledTo = rolledToOf(r);
    const liveFrom = liveFromOf(r, m);
    const { sparkline, lastMovedSec } = throughput(tenSec.get(r.id) ?? [], state.seconds, liveFrom, g, startedAt, m);
    const lags = nodeLags(r, state.recent, g, m.nowMs);
    if (status === "running") laggards.push(...lags.laggards);
    // What the overview can see back to: the sparkline's window with history, the live seconds without.
    const seenFromMs = (rolledTo !== null ? m.sparkFrom : liveFrom) * 1000;
    const quiet = {
      sinceMs: lastMovedSec !== null ? (lastMovedSec + 1) * 1000 : Math.max(seenFromMs, startedAt ?? m.nowMs),
      atLeast: lastMovedSec === null && (startedAt ?? m.nowMs) < seenFromMs,
    };
    // A paused run moves nothing by request: resumed, it has the same grace as a run just started.
    const goingSince = state.resumedAt !== null ? Math.max(state.resumedAt, startedAt ?? 0) : startedAt;
    const partitions = { total: state.meta?.tasksTotal ?? 0, done: state.done, held: held.get(r.id) ?? 0 };
    const stall = stallOf(r, status, goingSince, quiet, partitions, m.nowMs);
    const stalled = stall ? { ...stall, summary: stallSentence(stall) } : null;
    const alerts = firing.get(r.id) ?? { firing: 0, severity: null };
    const now = flow(state.recent, g);
    return {
      runId: r.id,
      pipelineId: r.pipelineId,
      pipelineName: r.pipeline.name,
      status,
      createdAt: r.createdAt.getTime(),
      startedAt,
      inPerSec: now.in / RECENT_SECONDS,
      outPerSec: now.out / RECENT_SECONDS,
      sparkline,
      errorsLastHour: errorsOfHour(minutes.get(r.id) ?? [], state.seconds, rolledTo),
      lastRecordsAt: lastMovedSec === null ? null : (lastMovedSec + 1) * 1000,
      alerts,
      partitions,
      retrying: state.retrying,
      maxLagMs: lags.maxLagMs,
      backpressured: lags.backpressured,
      stall: stalled,
      ...verdictOf({
        status,
        retrying: state.retrying,
        recentErrors: sumOf(Object.values(state.recent.nodes).map((n) => n.err)),
        alerts,
        stall: stalled,
        maxLagMs: lags.maxLagMs,
        backpressured: lags.backpressured,
        quietSinceMs: moved(state.recent) ? null : quiet.sinceMs,
        nowMs: m.nowMs,
      }),
    };
  });

  const rank = (v: HealthVerdict) => HEALTH_VERDICTS.indexOf(v);
  views.sort(
    (a, b) =>
      rank(a.verdict) - rank(b.verdict) ||
      SEVERITY_RANK[b.alerts.severity ?? "info"] - SEVERITY_RANK[a.alerts.severity ?? "info"] ||
      a.pipelineName.localeCompare(b.pipelineName) ||
      a.runId.localeCompare(b.runId),
  );
  laggards.sort(
    (a, b) =>
      b.ownLagMs - a.ownLagMs ||
      b.endToEndLagMs - a.endToEndLagMs ||
      (b.inputLag ?? 0) - (a.inputLag ?? 0) ||
      a.runId.localeCompare(b.runId) ||
      a.nodeId.localeCompare(b.nodeId),
  );
  return {
    at: m.nowMs,
    runs: views,
    failedLastHour: failed.map((f) => ({
      runId: f.id,
      pipelineId: f.pipelineId,
      pipelineName: f.pipeline.name,
      error: f.error,
      startedAt: f.startedAt?.getTime() ?? null,
      finishedAt: f.finishedAt?.getTime() ?? m.nowMs,
    })),
    laggards: laggards.slice(0, input.laggards ?? DEFAULT_LAGGARDS),
  };
}

/** "45 s", "3 min", "2 h": what a glance needs, rounded down. */
function roughDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3600)} h`;
}

function stallSentence(stall: Stall): string {
  const quiet = `${roughDuration(stall.quietMs)}${stall.atLeast ? "+" : ""}`;
  switch (stall.reason) {
    case "no-records":
      return `no records for ${quiet}`;
    case "no-workers":
      return "no worker holds its partitions";
    case "not-started":
      return `waiting ${quiet} for a worker to start it`;
  }
}
