import type { HistoryView } from "@sluice/api/history/history-router.types";
import type { EdgeFigureView, NodeFigureView, RunFiguresView } from "@sluice/pipeline/control/node-figures";

// History series (runs.history / pipelines.history) shaped into uPlot's aligned columns: one x column of seconds
// and a y column per line, null where a line has no point at that x.

export type Column = (number | null)[];
/** uPlot's aligned data: x (seconds) first, then one column per line. */
export type ChartColumns = [number[], ...Column[]];

export interface Line {
  label: string;
  /** Times in epoch ms (or ms since a run's start when compared), ascending. */
  t: readonly number[];
  values: readonly (number | null)[];
}

export type NodeMetric = Exclude<keyof HistoryView["nodes"][string], "t">;
export type EdgeMetric = Exclude<keyof HistoryView["edges"][string], "t">;

/** The lines on one shared x column: the union of their times, each line null where it has no point. */
export function alignLines(lines: readonly Line[]): ChartColumns {
  const times = [...new Set(lines.flatMap((l) => l.t))].sort((a, b) => a - b);
  const at = new Map(times.map((t, i) => [t, i]));
  const columns = lines.map((l) => {
    const col: Column = new Array<number | null>(times.length).fill(null);
    l.t.forEach((t, i) => {
      col[at.get(t)!] = l.values[i] ?? null;
    });
    return col;
  });
  return [times.map((t) => t / 1000), ...columns];
}

/** One node's metrics as lines, empty when the node had no figures in the range. */
export function nodeLines(view: HistoryView, nodeId: string, metrics: readonly NodeMetric[]): Line[] {
  const s = view.nodes[nodeId];
  return metrics.map((m) => (s ? { label: m, t: s.t, values: s[m] } : { label: m, t: [], values: [] }));
}

/** One metric of every edge, a line per edge. */
export function edgeLines(view: HistoryView, metric: EdgeMetric): Line[] {
  return Object.entries(view.edges)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([id, s]) => ({ label: id, t: s.t, values: s[metric] }));
}

/** A line moved to time since its run started, so two runs of a pipeline line up from their starts. */
export function sinceStart(line: Line, startedAtMs: number, label = line.label): Line {
  return { label, t: line.t.map((t) => t - startedAtMs), values: line.values };
}

/** The number of non-null points of the y columns: what a chart says it drew. */
export function pointCount(data: ChartColumns): number {
  let n = 0;
  for (const col of data.slice(1) as Column[]) for (const v of col) if (v !== null) n++;
  return n;
}

/**
 * Live seconds added after the history: each second's values appended once it is later than the history's last
 * point and than any second already appended. The history is 10 s buckets, so its last bucket's seconds are skipped.
 */
export function appendLive(
  line: Line,
  seconds: readonly { t: number; value: number | null }[],
  bucketMs: number,
): Line {
  const last = line.t.length > 0 ? line.t[line.t.length - 1]! + bucketMs - 1000 : Number.NEGATIVE_INFINITY;
  const later = seconds.filter((s) => s.t > last);
  if (later.length === 0) return line;
  return {
    label: line.label,
    t: [...line.t, ...later.map((s) => s.t)],
    values: [...line.values, ...later.map((s) => s.value)],
  };
}

export const RANGES = [
  { key: "live", label: "Live 15 min", ms: 15 * 60_000 },
  { key: "1h", label: "1 h", ms: 3_600_000 },
  { key: "6h", label: "6 h", ms: 6 * 3_600_000 },
  { key: "24h", label: "24 h", ms: 86_400_000 },
  { key: "7d", label: "7 d", ms: 7 * 86_400_000 },
  { key: "30d", label: "30 d", ms: 30 * 86_400_000 },
] as const;
export type RangeKey = (typeof RANGES)[number]["key"];

/** The history range a chart asks for: the last `ms` before now, in whole seconds. */
export function rangeEndingNow(key: RangeKey, nowMs: number): { from: number; to: number } {
  const span = RANGES.find((r) => r.key === key)!.ms;
  const to = Math.ceil(nowMs / 1000) * 1000;
  return { from: to - span, to };
}

/**
 * A moment the URL names (`?at=`): an ISO time or epoch milliseconds. Null when it is neither, so a bad link
 * shows live figures rather than failing.
 */
export function parseAt(value: string | null | undefined): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value)) return Number(value);
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

/**
 * The window of a run's history a scrubber shows: the run from its start to its end (now while it goes), and
 * `at` clamped into it. Null before the run has started.
 */
export function scrubWindow(
  run: { startedAt: number | null; finishedAt: number | null },
  at: number | null,
  nowMs: number,
): { from: number; to: number; at: number | null } | null {
  if (run.startedAt === null) return null;
  const from = Math.floor(run.startedAt / 1000) * 1000;
  const to = Math.max(from + 1000, Math.ceil((run.finishedAt ?? nowMs) / 1000) * 1000);
  return { from, to, at: at === null ? null : Math.min(to, Math.max(from, at)) };
}

/** The index of the bucket holding `at` in ascending bucket starts: the last one starting at or before it. */
export function bucketAt(t: readonly number[], at: number): number | null {
  let lo = 0;
  let hi = t.length - 1;
  let found: number | null = null;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (t[mid]! <= at) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** The figures of the history bucket holding `at`, shaped as one live second for the canvas overlay. */
export function momentFigures(view: HistoryView, at: number): Omit<RunFiguresView, "runId"> {
  const nodes: Record<string, NodeFigureView> = {};
  for (const [id, s] of Object.entries(view.nodes)) {
    const i = bucketAt(s.t, at);
    if (i === null || at >= s.t[i]! + view.resolution * 1000) continue;
    const lag = s.watermarkLagMs[i] ?? null;
    const offsetLag = s.offsetLag[i] ?? null;
    nodes[id] = {
      inPerSec: s.inPerSec[i]!,
      outPerSec: s.outPerSec[i]!,
      errPerSec: s.errPerSec[i]!,
      // History keeps rates, not running totals.
      totalIn: 0,
      totalOut: 0,
      totalErr: 0,
      p50Ms: s.p50Ms[i] ?? null,
      p99Ms: s.p99Ms[i] ?? null,
      // The bucket's end less its largest lag: the watermark the overlay names beside the lag.
      watermark: lag === null ? null : s.t[i]! + view.resolution * 1000 - lag,
      watermarkLagMs: lag,
      stateKeys: s.stateKeys[i] ?? null,
      inputLag: s.inputLag[i] ?? null,
      offsetLag,
      offsetLagUnit: offsetLag === null ? null : (view.offsetLagUnits[id] ?? null),
    };
  }
  const edges: Record<string, EdgeFigureView> = {};
  for (const [id, s] of Object.entries(view.edges)) {
    const i = bucketAt(s.t, at);
    if (i === null || at >= s.t[i]! + view.resolution * 1000) continue;
    edges[id] = { perSec: s.perSec[i]!, backlog: s.backlog[i] ?? null, backpressured: s.backpressuredSeconds[i]! > 0 };
  }
  return { sec: Math.floor(at / 1000), nodes, edges };
}
