import {
  type LatencyHistogram,
  mergeHistogram,
  type OffsetLagUnit,
  type RunFigures,
} from "@sluice/pipeline/control/node-figures";

// One time bucket of a run's node figures, folded from per-second figures (10 s buckets) or from finer buckets
// (1 min from 10 s, 1 h from 1 min). Counts and latency histograms add up; gauges keep the bucket's largest value.
// Within a second the watermark is the newest reported; a run's watermarks only advance, so over seconds and buckets
// the newest is the largest, and across runs the largest is the most advanced.

export interface NodeBucket {
  recordsIn: number;
  recordsOut: number;
  errors: number;
  latency: LatencyHistogram;
  watermark: number | null;
  maxWatermarkLagMs: number | null;
  maxStateKeys: number | null;
  maxInputLag: number | null;
  /** A source's largest offset lag of the bucket's seconds, and its unit: both null for other nodes. */
  maxOffsetLag: number | null;
  offsetLagUnit: OffsetLagUnit | null;
}

export interface EdgeBucket {
  sent: number;
  maxBacklog: number | null;
  backpressuredSeconds: number;
}

export interface FigureBucket {
  /** Unix second the bucket starts at. */
  start: number;
  nodes: Map<string, NodeBucket>;
  edges: Map<string, EdgeBucket>;
}

export function emptyBucket(start: number): FigureBucket {
  return { start, nodes: new Map(), edges: new Map() };
}

const max = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));

function nodeOf(bucket: FigureBucket, id: string): NodeBucket {
  let node = bucket.nodes.get(id);
  if (!node) {
    node = {
      recordsIn: 0,
      recordsOut: 0,
      errors: 0,
      latency: {},
      watermark: null,
      maxWatermarkLagMs: null,
      maxStateKeys: null,
      maxInputLag: null,
      maxOffsetLag: null,
      offsetLagUnit: null,
    };
    bucket.nodes.set(id, node);
  }
  return node;
}

function edgeOf(bucket: FigureBucket, id: string): EdgeBucket {
  let edge = bucket.edges.get(id);
  if (!edge) {
    edge = { sent: 0, maxBacklog: null, backpressuredSeconds: 0 };
    bucket.edges.set(id, edge);
  }
  return edge;
}

/** Folds one second's merged figures (readNodeFigures of that second alone) into the bucket; oldest second first. */
export function addSecond(bucket: FigureBucket, second: RunFigures): void {
  const endMs = (second.toSec + 1) * 1000;
  for (const [id, f] of Object.entries(second.nodes)) {
    const node = nodeOf(bucket, id);
    node.recordsIn += f.in;
    node.recordsOut += f.out;
    node.errors += f.err;
    mergeHistogram(node.latency, f.latency);
    if (f.watermark !== null) {
      node.watermark = f.watermark;
      node.maxWatermarkLagMs = max(node.maxWatermarkLagMs, Math.max(0, endMs - f.watermark));
    }
    node.maxStateKeys = max(node.maxStateKeys, f.stateKeys);
    node.maxInputLag = max(node.maxInputLag, f.inputLag);
    if (f.offsetLag) {
      node.maxOffsetLag = max(node.maxOffsetLag, f.offsetLag.value);
      node.offsetLagUnit = f.offsetLag.unit;
    }
  }
  for (const [id, e] of Object.entries(second.edges)) {
    const edge = edgeOf(bucket, id);
    edge.sent += e.sent;
    edge.maxBacklog = max(edge.maxBacklog, e.backlog);
    if (e.backpressured) edge.backpressuredSeconds += 1;
  }
}

/** Folds a finer bucket (or another run's bucket of the same time) into `into`; oldest first. */
export function addBucket(into: FigureBucket, from: FigureBucket): void {
  for (const [id, f] of from.nodes) {
    const node = nodeOf(into, id);
    node.recordsIn += f.recordsIn;
    node.recordsOut += f.recordsOut;
    node.errors += f.errors;
    mergeHistogram(node.latency, f.latency);
    node.watermark = max(node.watermark, f.watermark);
    node.maxWatermarkLagMs = max(node.maxWatermarkLagMs, f.maxWatermarkLagMs);
    node.maxStateKeys = max(node.maxStateKeys, f.maxStateKeys);
    node.maxInputLag = max(node.maxInputLag, f.maxInputLag);
    if (f.maxOffsetLag !== null && f.offsetLagUnit !== null) {
      node.maxOffsetLag = max(node.maxOffsetLag, f.maxOffsetLag);
      node.offsetLagUnit = f.offsetLagUnit;
    }
  }
  for (const [id, e] of from.edges) {
    const edge = edgeOf(into, id);
    edge.sent += e.sent;
    edge.maxBacklog = max(edge.maxBacklog, e.maxBacklog);
    edge.backpressuredSeconds += e.backpressuredSeconds;
  }
}

/** Groups buckets (in time order) into buckets `width` seconds wide, aligned to the epoch. */
export function coarsen(buckets: readonly FigureBucket[], width: number): FigureBucket[] {
  const out = new Map<number, FigureBucket>();
  for (const b of buckets) {
    const start = Math.floor(b.start / width) * width;
    let into = out.get(start);
    if (!into) {
      into = emptyBucket(start);
      out.set(start, into);
    }
    addBucket(into, b);
  }
  return [...out.values()];
}

/** A latency histogram as stored: [bucket, count, bucket, count, …], non-zero buckets in order. */
export function packHistogram(histogram: Readonly<LatencyHistogram>): number[] {
  return Object.entries(histogram)
    .map(([b, n]) => [Number(b), n] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => a[0] - b[0])
    .flat();
}

export function unpackHistogram(packed: readonly number[] | null): LatencyHistogram {
  const histogram: LatencyHistogram = {};
  if (!packed) return histogram;
  for (let i = 0; i + 1 < packed.length; i += 2) histogram[packed[i]!] = packed[i + 1]!;
  return histogram;
}
