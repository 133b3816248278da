import type { Db } from "@sluice/db/client";
import { percentile } from "@sluice/pipeline/control/node-figures";
import { TRPCError } from "@trpc/server";
import type { z } from "zod";
import type { FigureBucket } from "./figure-buckets";
import { type HistoryRetention, RESOLUTIONS, type Resolution } from "./history-retention";
import type { HistoryView, PipelineHistoryView } from "./history-router.types";
import { readBuckets } from "./history-store";

// runs.history and pipelines.history: the rolled-up figures of a range as per-node and per-edge series.

/** Points per series a query aims to stay under when it picks the resolution itself. */
export const TARGET_POINTS = 2000;
/** Points per series a query may ask for with an explicit resolution. */
const MAX_POINTS = 20_000;

/**
 * The finest resolution whose buckets still cover `from` (by retention) and give at most TARGET_POINTS over the
 * range; the coarsest where none does.
 */
export function pickResolution(fromMs: number, toMs: number, nowMs: number, retention: HistoryRetention): Resolution {
  for (const r of RESOLUTIONS) {
    const points = Math.ceil((toMs - fromMs) / (r * 1000));
    if (points <= TARGET_POINTS && fromMs >= nowMs - retention[r]) return r;
  }
  return RESOLUTIONS[RESOLUTIONS.length - 1]!;
}

interface Range {
  from: number;
  to: number;
  resolution?: Resolution | undefined;
}

function resolutionFor(range: Range, nowMs: number, retention: HistoryRetention): Resolution {
  if (range.resolution === undefined) return pickResolution(range.from, range.to, nowMs, retention);
  const points = Math.ceil((range.to - range.from) / (range.resolution * 1000));
  if (points > MAX_POINTS) {
    throw new TRPCError({
      code: "BAD_REQUEST",
      message: `a ${range.resolution} s resolution gives ${points} points over this range; ask for at most ${MAX_POINTS} (a coarser resolution or a shorter range)`,
    });
  }
  return range.resolution;
}

async function seriesOf(
  db: Db,
  runs: string[] | { pipelineId: string },
  range: Range,
  resolution: Resolution,
  nowMs: number,
): Promise<HistoryView> {
  const fromSec = Math.floor(range.from / 1000 / resolution) * resolution;
  const toSec = Math.ceil(range.to / 1000);
  return toView(await readBuckets(db, runs, resolution, fromSec, toSec), range, resolution, nowMs);
}

function emptyNodeSeries(): HistoryView["nodes"][string] {
  return {
    t: [],
    inPerSec: [],
    outPerSec: [],
    errPerSec: [],
    p50Ms: [],
    p99Ms: [],
    watermarkLagMs: [],
    stateKeys: [],
    inputLag: [],
    offsetLag: [],
  };
}

function toView(buckets: readonly FigureBucket[], range: Range, resolution: Resolution, nowMs: number): HistoryView {
  const view: HistoryView = {
    resolution,
    from: range.from,
    to: range.to,
    nodes: {},
    edges: {},
    offsetLagUnits: {},
  };
  for (const b of buckets) {
    const t = b.start * 1000;
    // The bucket still filling has only had the seconds so far; its rate is over those.
    const seconds = Math.max(1, Math.min(resolution, Math.floor((nowMs - t) / 1000)));
    for (const [id, n] of b.nodes) {
      const s = view.nodes[id] ?? emptyNodeSeries();
      view.nodes[id] = s;
      s.t.push(t);
      s.inPerSec.push(n.recordsIn / seconds);
      s.outPerSec.push(n.recordsOut / seconds);
      s.errPerSec.push(n.errors / seconds);
      s.p50Ms.push(percentile(n.latency, 0.5));
      s.p99Ms.push(percentile(n.latency, 0.99));
      s.watermarkLagMs.push(n.maxWatermarkLagMs);
      s.stateKeys.push(n.maxStateKeys);
      s.inputLag.push(n.maxInputLag);
      s.offsetLag.push(n.maxOffsetLag);
      if (n.offsetLagUnit !== null) view.offsetLagUnits[id] = n.offsetLagUnit;
    }
    for (const [id, e] of b.edges) {
      const s = view.edges[id] ?? { t: [], perSec: [], backlog: [], backpressuredSeconds: [] };
      view.edges[id] = s;
      s.t.push(t);
      s.perSec.push(e.sent / seconds);
      s.backlog.push(e.maxBacklog);
      s.backpressuredSeconds.push(e.backpressuredSeconds);
    }
  }
  return view;
}

export interface HistoryDeps {
  db: Db;
  retention: HistoryRetention;
  now?: () => number;
}

export async function runHistory(
  deps: HistoryDeps,
  workspaceId: string,
  input: Range & { runId: string },
): Promise<HistoryView> {
  const run = await deps.db.run.findFirst({ where: { id: input.runId, workspaceId }, select: { id: true } });
  if (!run) throw new TRPCError({ code: "NOT_FOUND", message: "no such run in this workspace" });
  const nowMs = (deps.now ?? Date.now)();
  return seriesOf(deps.db, [run.id], input, resolutionFor(input, nowMs, deps.retention), nowMs);
}

/** Runs listed with a pipeline's history at most: the newest in the range. */
export const MAX_LISTED_RUNS = 1000;

/** The figures of every run of the pipeline that overlaps the range, runs at the same time adding up; the series
 * are read across all its runs in SQL, the list of runs is the newest MAX_LISTED_RUNS. */
export async function pipelineHistory(
  deps: HistoryDeps,
  workspaceId: string,
  input: Range & { pipelineId: string },
): Promise<z.infer<typeof PipelineHistoryView>> {
  const pipeline = await deps.db.pipeline.findFirst({
    where: { id: input.pipelineId, workspaceId },
    select: { id: true },
  });
  if (!pipeline) throw new TRPCError({ code: "NOT_FOUND", message: "no such pipeline in this workspace" });
  const runs = await deps.db.run.findMany({
    where: {
      pipelineId: pipeline.id,
      startedAt: { not: null, lt: new Date(input.to) },
      OR: [{ finishedAt: null }, { finishedAt: { gte: new Date(input.from) } }],
    },
    select: { id: true, startedAt: true, finishedAt: true },
    orderBy: [{ startedAt: "desc" }, { id: "desc" }],
    take: MAX_LISTED_RUNS + 1,
  });
  const truncated = runs.length > MAX_LISTED_RUNS;
  const listed = runs.slice(0, MAX_LISTED_RUNS).reverse();
  const nowMs = (deps.now ?? Date.now)();
  const view = await seriesOf(
    deps.db,
    { pipelineId: pipeline.id },
    input,
    resolutionFor(input, nowMs, deps.retention),
    nowMs,
  );
  return {
    ...view,
    truncated,
    runs: listed.map((r) => ({
      id: r.id,
      startedAt: r.startedAt?.getTime() ?? null,
      finishedAt: r.finishedAt?.getTime() ?? null,
    })),
  };
}
