import type { DataRecord } from "@sluice/pipeline/record-schema";
import { hashHex, RecordHasher } from "../record-hash";
import type { JsonValue } from "../runtime-contract";

// What sink.discard keeps in its state, and the pure functions that read it: the engine and the benchmarks combine
// the partitions' digests and latency histograms with these. Each partition has its own state; summing digests and
// adding histograms bucket by bucket gives the figures for the whole node, whatever the partitioning.

/** State store and key holding a partition's RecordDigest. */
export const DIGEST_STATE = "digest";
export const DIGEST_KEY = "total";
/** State store and key holding a partition's LatencyHistogram. */
export const LATENCY_STATE = "latency";
export const LATENCY_KEY = "histogram";

/**
 * How many records, and an order-independent 64-bit digest of them: the sums mod 2^32 of the two lanes of each
 * record's structural hash (record-hash.ts). Any order, batching or partitioning of the same records gives the same
 * digest; one record more, less or twice changes it.
 */
export interface RecordDigest {
  count: number;
  sum1: number;
  sum2: number;
}

export const EMPTY_DIGEST: RecordDigest = Object.freeze({ count: 0, sum1: 0, sum2: 0 });

/** Adds records to a digest (returns a new one). */
export function addToDigest(
  digest: RecordDigest,
  records: readonly DataRecord[],
  hasher = new RecordHasher(),
): RecordDigest {
  let { sum1, sum2 } = digest;
  for (let i = 0; i < records.length; i++) {
    hasher.hash(records[i]);
    sum1 = (sum1 + hasher.h1) >>> 0;
    sum2 = (sum2 + hasher.h2) >>> 0;
  }
  return { count: digest.count + records.length, sum1, sum2 };
}

/** The digest of all records of several digests (e.g. one per partition). */
export function combineDigests(digests: Iterable<RecordDigest>): RecordDigest {
  let count = 0;
  let sum1 = 0;
  let sum2 = 0;
  for (const d of digests) {
    count += d.count;
    sum1 = (sum1 + d.sum1) >>> 0;
    sum2 = (sum2 + d.sum2) >>> 0;
  }
  return { count, sum1, sum2 };
}

/** A digest as text, `<count>:<16 hex digits>`, for printing and comparing. */
export function digestText(d: RecordDigest): string {
  return `${d.count}:${hashHex(d.sum1, d.sum2)}`;
}

// ---- latency -------------------------------------------------------------------------------------------------

/** Buckets per factor of ten: each bucket spans 12.2 % (10^(1/20)), so a percentile is known within that. */
export const LATENCY_BUCKETS_PER_DECADE = 20;

/**
 * Upper bounds of the latency buckets in milliseconds: 1 ms × 10^(k/20) for k = 0…96 (1 ms … 63.1 s). Bucket 0 holds
 * latencies under 1 ms (and negative ones, from clock skew), bucket k holds [bound k-1, bound k), and the last bucket
 * (index 97) everything from 63.1 s up.
 */
export const LATENCY_BOUNDS_MS: readonly number[] = Array.from(
  { length: 97 },
  (_, k) => 10 ** (k / LATENCY_BUCKETS_PER_DECADE),
);
export const LATENCY_BUCKETS = LATENCY_BOUNDS_MS.length + 1;

/** A partition's latency counts per bucket, and how many records had no usable time to measure from. */
export interface LatencyHistogram {
  counts: number[];
  missing: number;
}

export function emptyHistogram(): LatencyHistogram {
  return { counts: new Array<number>(LATENCY_BUCKETS).fill(0), missing: 0 };
}

export function latencyBucket(ms: number): number {
  if (!(ms >= 1)) return 0;
  return Math.min(LATENCY_BUCKETS - 1, Math.floor(Math.log10(ms) * LATENCY_BUCKETS_PER_DECADE) + 1);
}

export function combineHistograms(histograms: Iterable<LatencyHistogram>): LatencyHistogram {
  const out = emptyHistogram();
  for (const h of histograms) {
    out.missing += h.missing;
    for (let i = 0; i < LATENCY_BUCKETS; i++) out.counts[i]! += h.counts[i] ?? 0;
  }
  return out;
}

/**
 * The latency below which a share `q` (0 < q ≤ 1, e.g. 0.99) of the measured records fall, as the upper bound of
 * the bucket holding that rank: an overestimate by at most one bucket width (12.2 %). Under 1 ms reads as 1; the
 * overflow bucket reads as its lower bound, 63.1 s. Undefined when nothing was measured.
 */
export function latencyPercentile(counts: readonly number[], q: number): number | undefined {
  let total = 0;
  for (const c of counts) total += c;
  if (total === 0) return undefined;
  const rank = Math.max(1, Math.ceil(Math.min(Math.max(q, 0), 1) * total));
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i] ?? 0;
    if (seen >= rank) return LATENCY_BOUNDS_MS[Math.min(i, LATENCY_BOUNDS_MS.length - 1)]!;
  }
  return LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1]!;
}

// ---- reading the state ---------------------------------------------------------------------------------------

/** A partition's stored digest: the digest and the id of the last batch it includes. */
export type StoredDigest = RecordDigest & { batch?: string };

function num(v: unknown): number {
  return typeof v === "number" && Number.isFinite(v) ? v : 0;
}

/** The stored digest, read defensively: state written by an older version must not crash the sink. */
export function readStoredDigest(value: JsonValue | undefined): StoredDigest {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return { ...EMPTY_DIGEST };
  const batch = typeof value.batch === "string" ? { batch: value.batch } : {};
  return { count: num(value.count), sum1: num(value.sum1) >>> 0, sum2: num(value.sum2) >>> 0, ...batch };
}

/** A partition's stored latency histogram, read defensively like the digest. */
export function readStoredHistogram(value: JsonValue | undefined): LatencyHistogram {
  const h = emptyHistogram();
  if (value === null || typeof value !== "object" || Array.isArray(value)) return h;
  const counts = Array.isArray(value.counts) ? value.counts : [];
  for (let i = 0; i < LATENCY_BUCKETS; i++) h.counts[i] = num(counts[i]);
  h.missing = num(value.missing);
  return h;
}
