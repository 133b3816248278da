// The webhook ingest log, shared by its writer (the web app's ingest route, packages/api/src/ingest) and its reader
// (source.webhook): where it lives in Redis and what an entry holds. Pure: no I/O here.
//
// Per pipeline, INGEST_SHARDS streams and one hash, all under the hash tag {ingest:<pipelineId>} so one Lua script
// can check the token and the backlog and append atomically (also on Redis Cluster). The route appends each request
// to one shard, round robin; partition p of a run with P partitions reads the shards s with s mod P = p, so a
// request's records stay together and in order. Entries are trimmed only by the reader, after the engine committed
// their position: nothing unconsumed is ever removed.

/** 24 divides evenly by 1, 2, 3, 4, 6, 8, 12 and 24 partitions; beyond 24 partitions some read nothing. */
export const INGEST_SHARDS = 24;

/** Records per stream entry: a request's records are cut into entries of at most this many. */
export const INGEST_ENTRY_RECORDS = 1000;

/** Fields of an ingest stream entry. */
export const ENTRY = {
  /** Number of records in the entry. */
  count: "n",
  /** The records as JSON Lines (one JSON object per line, validated by the route). */
  records: "r",
  /** When the route received them (epoch ms). */
  receivedAt: "t",
} as const;

/** Fields of the pipeline's ingest hash. */
export const META = {
  /** SHA-256 (hex) of the current token. */
  token: "token",
  tokenCreatedAt: "tokenCreatedAt",
  /** A rotated-out token, still accepted until `previousUntil` (epoch ms). */
  previous: "previous",
  previousUntil: "previousUntil",
  /** Records appended and not yet trimmed: the backlog the route compares with its limit. */
  pending: "pending",
  /** `<runId> <nodeId>` of the webhook source reading the streams: one per pipeline. */
  owner: "owner",
} as const;

/**
 * Key layout (proposed for control/keys.ts as `ingestMeta(pipelineId)` and `ingestStream(pipelineId, shard)`; built
 * here from the deployment's key prefix until then).
 */
export function ingestKeys(prefix: string, pipelineId: string) {
  const tag = `${prefix}:{ingest:${pipelineId}}`;
  return {
    meta: `${tag}:meta`,
    stream: (shard: number) => `${tag}:s:${shard}`,
    streams: () => Array.from({ length: INGEST_SHARDS }, (_, s) => `${tag}:s:${s}`),
  };
}

/** The shards partition `partition` of `partitions` reads. */
export function shardsOf(partition: number, partitions: number): number[] {
  const out: number[] = [];
  for (let s = partition; s < INGEST_SHARDS; s += partitions) out.push(s);
  return out;
}

/** Pipeline ids as the API makes them (cuid), and nothing that could escape a key or a URL. */
export const PIPELINE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The stream id right after `id` (for XTRIM MINID, which keeps entries at or above it). */
export function nextStreamId(id: string): string {
  const dash = id.indexOf("-");
  const ms = id.slice(0, dash);
  const seq = BigInt(id.slice(dash + 1));
  return `${ms}-${(seq + 1n).toString()}`;
}
