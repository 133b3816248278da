import type { Keys } from "./keys";

// Per-second figures per node, published by workers (engine node-figure-publisher.ts) and read by the API. One
// Redis hash per run per second, `<prefix>:{<run>}:fig:<unix second>`, in the run's hash tag; its fields:
//
//   n|<node>|in, n|<node>|out, n|<node>|err   records committed in that second, summed over partitions (HINCRBY)
//   n|<node>|h|<bucket>                        batches the node took part in, by latency bucket (HINCRBY)
//   n|<node>|wm|<partition>                    the partition's watermark, epoch ms (HSET; min over partitions)
//   n|<node>|sk|<partition>                    keys in the node's state stores in that partition (HSET; summed)
//   n|<node>|lag|<partition>                   how far the node's input is behind, in the input's unit (HSET)
//   n|<node>|ol|<partition>|<unit>             a source's offset lag in that partition, in its unit (HSET; summed)
//   e|<edge>|n                                 records sent over a shuffle edge (HINCRBY)
//   e|<edge>|bl|<partition>                    shuffle entries written, not yet consumed, per producer (HSET)
//   e|<edge>|bp|<partition>                    1: the producer waited on the edge's consumers that second (HSET)
//
// Node ids never contain "|" (definition.ts), edge ids are fused-stage.ts's `from.port->to.port`. The hashes
// expire on their own a few minutes after their second (FIGURES_TTL_MS), so run-state.ts's runKeys does not list
// them: they are gone by the end of any run's retention margin. Figures are best-effort: a lost publish is a gap.

/** How long a second's figures stay in Redis. Long-term history is rolled up elsewhere. */
export const FIGURES_TTL_MS = 5 * 60_000;

// Batch latency histogram: fixed log buckets, 4 per doubling from 1/16 ms, so histograms of any partitions and
// seconds merge by adding counts. A percentile reads as its bucket's upper bound (at most 19 % high).
const BUCKETS_PER_DOUBLING = 4;
const SMALLEST_MS = 1 / 16;
export const LATENCY_BUCKETS = 100;

/** Counts per bucket index, only the non-zero ones. */
export type LatencyHistogram = Record<number, number>;

/** The bucket a batch of `ms` milliseconds falls in. */
export function latencyBucket(ms: number): number {
  if (!(ms > SMALLEST_MS)) return 0;
  const i = Math.ceil(Math.log2(ms / SMALLEST_MS) * BUCKETS_PER_DOUBLING - 1e-9);
  return Math.min(LATENCY_BUCKETS - 1, i);
}

/** The largest latency bucket `i` holds, in ms. */
export function bucketUpperMs(i: number): number {
  return SMALLEST_MS * 2 ** (i / BUCKETS_PER_DOUBLING);
}

/** Adds `from`'s counts into `into`. */
export function mergeHistogram(into: LatencyHistogram, from: Readonly<LatencyHistogram>): LatencyHistogram {
  for (const [bucket, n] of Object.entries(from)) {
    const i = Number(bucket);
    into[i] = (into[i] ?? 0) + n;
  }
  return into;
}

/** The latency below which a fraction `q` (0..1] of the batches fell, in ms; null for an empty histogram. */
export function percentile(histogram: Readonly<LatencyHistogram>, q: number): number | null {
  const buckets = Object.entries(histogram)
    .map(([b, n]) => [Number(b), n] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => a[0] - b[0]);
  const total = buckets.reduce((sum, [, n]) => sum + n, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const [bucket, n] of buckets) {
    seen += n;
    if (seen >= rank) return bucketUpperMs(bucket);
  }
  return bucketUpperMs(buckets[buckets.length - 1]![0]);
}

/** What a source's offset lag counts: bytes (WAL, files), broker messages, or stream entries. */
export const OFFSET_LAG_UNITS = ["bytes", "messages", "entries"] as const;
export type OffsetLagUnit = (typeof OFFSET_LAG_UNITS)[number];

/** How far a source is behind what its system holds for it, in the system's own unit. */
export interface OffsetLag {
  value: number;
  unit: OffsetLagUnit;
}

/** Field names of a figures hash (see the layout above). */
export const figureField = {
  count: (node: string, counter: "in" | "out" | "err") => `n|${node}|${counter}`,
  latency: (node: string, bucket: number) => `n|${node}|h|${bucket}`,
  watermark: (node: string, partition: number) => `n|${node}|wm|${partition}`,
  stateKeys: (node: string, partition: number) => `n|${node}|sk|${partition}`,
  inputLag: (node: string, partition: number) => `n|${node}|lag|${partition}`,
  offsetLag: (node: string, partition: number, unit: OffsetLagUnit) => `n|${node}|ol|${partition}|${unit}`,
  edgeSent: (edge: string) => `e|${edge}|n`,
  edgeBacklog: (edge: string, partition: number) => `e|${edge}|bl|${partition}`,
  edgeBackpressured: (edge: string, partition: number) => `e|${edge}|bp|${partition}`,
};

/** One node's figures over some seconds, merged over partitions. */
export interface NodeSeconds {
  in: number;
  out: number;
  err: number;
  latency: LatencyHistogram;
  /** Lowest watermark of the partitions that reported one (epoch ms), in the last second that had any. */
  watermark: number | null;
  /** Keys in its state stores, over partitions; null for a node without state. */
  stateKeys: number | null;
  /** How far its input is behind (shuffle entries, or the source's own unit); null where the input cannot say. */
  inputLag: number | null;
  /** A source's offset lag, summed over its partitions; null where the source cannot say. */
  offsetLag: OffsetLag | null;
}

/** One shuffle edge's figures over some seconds, merged over partitions. */
export interface EdgeSeconds {
  sent: number;
  /** Entries waiting for the next stage, over producers, in the last second that reported any. */
  backlog: number | null;
  /** A producer waited on this edge's consumers in any of the seconds. */
  backpressured: boolean;
}

export interface RunFigures {
  fromSec: number;
  toSec: number;
  nodes: Record<string, NodeSeconds>;
  edges: Record<string, EdgeSeconds>;
}

/** The Redis reads the figures need; an ioredis client satisfies it structurally. */
export interface FiguresReader {
  hgetall(key: string): Promise<Record<string, string>>;
}

function emptyNode(): NodeSeconds {
  return { in: 0, out: 0, err: 0, latency: {}, watermark: null, stateKeys: null, inputLag: null, offsetLag: null };
}

/**
 * Figures of seconds `fromSec`..`toSec` (unix seconds, inclusive) merged over the run's partitions: counts and
 * latency histograms add up, gauges (watermark, state, lag, backlog) are those of the newest second reporting them.
 */
export async function readNodeFigures(
  redis: FiguresReader,
  keys: Keys,
  runId: string,
  fromSec: number,
  toSec: number,
): Promise<RunFigures> {
  const secs: number[] = [];
  for (let s = fromSec; s <= toSec; s++) secs.push(s);
  const hashes = await Promise.all(secs.map((s) => redis.hgetall(keys.runFigures(runId, s))));
  const out: RunFigures = { fromSec, toSec, nodes: {}, edges: {} };
  // Oldest first, so a newer second's gauges replace an older one's.
  for (const hash of hashes) mergeSecond(out, hash);
  return out;
}

function mergeSecond(out: RunFigures, hash: Readonly<Record<string, string>>): void {
  const gauges = new Map<string, Map<string, number[]>>();
  const gauge = (owner: string, name: string, value: number) => {
    const g = gauges.get(owner) ?? new Map<string, number[]>();
    gauges.set(owner, g);
    g.set(name, [...(g.get(name) ?? []), value]);
  };
  for (const [field, raw] of Object.entries(hash)) {
    const value = Number(raw);
    if (!Number.isFinite(value)) continue;
    const parts = field.split("|");
    const [kind, id, what, extra, unit] = parts;
    if (!id || !what) continue;
    if (kind === "n") {
      const node = out.nodes[id] ?? emptyNode();
      out.nodes[id] = node;
      if (what === "in" || what === "out" || what === "err") node[what] += value;
      else if (what === "h" && extra !== undefined) mergeHistogram(node.latency, { [Number(extra)]: value });
      else if (what === "ol") {
        if (isOffsetLagUnit(unit)) gauge(`n|${id}`, `ol|${unit}`, value);
      } else gauge(`n|${id}`, what, value);
    } else if (kind === "e") {
      const edge = out.edges[id] ?? { sent: 0, backlog: null, backpressured: false };
      out.edges[id] = edge;
      if (what === "n") edge.sent += value;
      else if (what === "bp") edge.backpressured ||= value > 0;
      else gauge(`e|${id}`, what, value);
    }
  }
  for (const [owner, byName] of gauges) {
    const [kind, id] = owner.split("|") as [string, string];
    const sum = (name: string) => byName.get(name)?.reduce((a, b) => a + b, 0);
    if (kind === "e") {
      const backlog = sum("bl");
      if (backlog !== undefined) out.edges[id]!.backlog = backlog;
      continue;
    }
    const node = out.nodes[id]!;
    const wm = byName.get("wm");
    if (wm) node.watermark = Math.min(...wm);
    node.stateKeys = sum("sk") ?? node.stateKeys;
    node.inputLag = sum("lag") ?? node.inputLag;
    // One unit per source type; should partitions ever disagree, the first unit found is kept.
    const unit = OFFSET_LAG_UNITS.find((u) => byName.has(`ol|${u}`));
    if (unit) node.offsetLag = { value: sum(`ol|${unit}`)!, unit };
  }
}

function isOffsetLagUnit(unit: string | undefined): unit is OffsetLagUnit {
  return (OFFSET_LAG_UNITS as readonly (string | undefined)[]).includes(unit);
}

/** What the live view shows of one node for one second. */
export interface NodeFigureView {
  inPerSec: number;
  outPerSec: number;
  errPerSec: number;
  /** Committed totals since the run started (the run snapshot's counters). */
  totalIn: number;
  totalOut: number;
  totalErr: number;
  p50Ms: number | null;
  p99Ms: number | null;
  watermark: number | null;
  /** The end of the second minus the watermark, ms. */
  watermarkLagMs: number | null;
  stateKeys: number | null;
  inputLag: number | null;
  /** A source's offset lag over its partitions (offsetLagUnit says in what); null where the source cannot say. */
  offsetLag: number | null;
  offsetLagUnit: OffsetLagUnit | null;
}

/** What the live view shows of one shuffle edge for one second. */
export interface EdgeFigureView {
  perSec: number;
  backlog: number | null;
  backpressured: boolean;
}

/** One second of a run's figures, as `runs.figures` yields it. */
export interface RunFiguresView {
  runId: string;
  /** The unix second shown. */
  sec: number;
  nodes: Record<string, NodeFigureView>;
  edges: Record<string, EdgeFigureView>;
}

/** Turns one second's merged figures and the run's running totals into the live view. */
export function figuresView(
  runId: string,
  figures: RunFigures,
  totals: Readonly<Record<string, { in: number; out: number; errors: number }>>,
): RunFiguresView {
  const seconds = figures.toSec - figures.fromSec + 1;
  const endMs = (figures.toSec + 1) * 1000;
  const nodes: Record<string, NodeFigureView> = {};
  for (const id of new Set([...Object.keys(totals), ...Object.keys(figures.nodes)])) {
    const f = figures.nodes[id] ?? emptyNode();
    const t = totals[id];
    nodes[id] = {
      inPerSec: f.in / seconds,
      outPerSec: f.out / seconds,
      errPerSec: f.err / seconds,
      totalIn: t?.in ?? 0,
      totalOut: t?.out ?? 0,
      totalErr: t?.errors ?? 0,
      p50Ms: percentile(f.latency, 0.5),
      p99Ms: percentile(f.latency, 0.99),
      watermark: f.watermark,
      watermarkLagMs: f.watermark === null ? null : Math.max(0, endMs - f.watermark),
      stateKeys: f.stateKeys,
      inputLag: f.inputLag,
      offsetLag: f.offsetLag?.value ?? null,
      offsetLagUnit: f.offsetLag?.unit ?? null,
    };
  }
  const edges: Record<string, EdgeFigureView> = {};
  for (const [id, e] of Object.entries(figures.edges)) {
    edges[id] = { perSec: e.sent / seconds, backlog: e.backlog, backpressured: e.backpressured };
  }
  return { runId, sec: figures.toSec, nodes, edges };
}
