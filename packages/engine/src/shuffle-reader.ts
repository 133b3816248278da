import type { Keys } from "@sluice/pipeline/control/keys";
import type { Shuffle } from "@sluice/pipeline/plan";
import type { Redis } from "ioredis";
import { decodeEntry, type ShuffleEntry } from "./shuffle-codec";

// The consumer side of a stage's shuffles in one partition: one upstream per (shuffle, producer partition), each
// a stream only this partition reads. Positions, watermarks and end/stop markers per upstream are committed in
// the task state with each batch; what has been committed is trimmed from the streams afterwards.

export interface Upstream {
  shuffle: Shuffle;
  producer: number;
  key: string;
  /** Id of the last entry committed as consumed ("0-0": none). */
  lastId: string;
  watermark: number;
  idle: boolean;
  ended: boolean;
  stopGeneration: number;
}

export interface UpstreamBatch {
  upstream: Upstream;
  entries: { id: string; entry: ShuffleEntry }[];
}

const POSITION_PREFIX = "u:";

type RawEntry = [id: Buffer, fields: Buffer[]];

function batchOf(u: Upstream, raw: readonly RawEntry[]): UpstreamBatch[] {
  if (raw.length === 0) return [];
  return [{ upstream: u, entries: raw.map(([id, fields]) => ({ id: id.toString(), entry: decodeEntry(fields[1]!) })) }];
}

function positionField(u: { shuffle: Shuffle; producer: number }): string {
  return `${POSITION_PREFIX}${u.shuffle.id}:${u.producer}`;
}

/** The id just after `id`, for XTRIM MINID (which keeps ids ≥ its argument). */
function nextId(id: string): string {
  const [ms, seq] = id.split("-");
  return `${ms}-${Number(seq) + 1}`;
}

/**
 * One XREAD over the streams of `upstreams`, each after its committed position or after what `into` holds of it
 * already, at most `count` entries each in all; what it reads is added to `into`. Whether anything came.
 */
async function xread(
  redis: Redis,
  upstreams: readonly Upstream[],
  count: number,
  into: Map<Upstream, RawEntry[]>,
  blockMs?: number,
): Promise<boolean> {
  const keys = upstreams.map((u) => u.key);
  const ids = upstreams.map((u) => into.get(u)?.at(-1)?.[0].toString() ?? u.lastId);
  const reply =
    blockMs === undefined
      ? await redis.xreadBuffer("COUNT", count, "STREAMS", ...keys, ...ids)
      : await redis.xreadBuffer("COUNT", count, "BLOCK", blockMs, "STREAMS", ...keys, ...ids);
  if (!reply) return false;
  const byKey = new Map(upstreams.map((u) => [u.key, u]));
  for (const [key, entries] of reply) {
    const u = byKey.get(key.toString());
    if (!u || entries.length === 0) continue;
    const held = into.get(u);
    if (held) held.push(...entries.slice(0, count - held.length));
    else into.set(u, entries);
  }
  return reply.length > 0;
}

export class ShuffleReader {
  readonly upstreams: Upstream[];
  /** The upstreams the current batch moved: the last entry it took from each, and how many. */
  private moved = new Map<Upstream, { id: string; entries: number }>();
  /** Committed as consumed but still in the streams: the last such entry per upstream, and how many. */
  private untrimmed = new Map<Upstream, { id: string; entries: number }>();

  constructor(
    shuffles: readonly Shuffle[],
    producerPartitions: (stage: number) => number,
    keys: Keys,
    runId: string,
    partition: number,
    state: Readonly<Record<string, string>>,
  ) {
    this.upstreams = [];
    for (const shuffle of shuffles) {
      for (let p = 0; p < producerPartitions(shuffle.fromStage); p++) {
        const u: Upstream = {
          shuffle,
          producer: p,
          key: keys.shuffleStream({ runId, stage: shuffle.fromStage, partition: p }, shuffle.id, partition),
          lastId: "0-0",
          watermark: Number.NEGATIVE_INFINITY,
          idle: false,
          ended: false,
          stopGeneration: 0,
        };
        const saved = state[positionField(u)];
        if (saved) {
          const s = JSON.parse(saved) as { id: string; w: number | null; i: number; e: number; s: number };
          u.lastId = s.id;
          u.watermark = s.w ?? Number.NEGATIVE_INFINITY;
          u.idle = s.i === 1;
          u.ended = s.e === 1;
          u.stopGeneration = s.s;
        }
        this.upstreams.push(u);
      }
    }
  }

  /**
   * Reads up to `perUpstream` entries after the committed position of every upstream that has not ended. With
   * `bound` (a batch's recorded extent, see extent()), reads exactly up to it: upstreams it does not name give none.
   * With `block`, waits up to `block.ms` on that connection (one only this partition uses) for an entry to arrive.
   */
  async read(
    redis: Redis,
    perUpstream: number,
    bound?: Readonly<Record<string, string>>,
    block?: { client: Redis; ms: number },
  ): Promise<UpstreamBatch[]> {
    const open = this.upstreams.filter((u) => !u.ended && (!bound || bound[positionField(u)] !== undefined));
    if (open.length === 0) return [];
    if (bound) {
      const results = await Promise.all(
        open.map((u) => redis.xrangeBuffer(u.key, u.lastId === "0-0" ? "-" : `(${u.lastId}`, bound[positionField(u)]!)),
      );
      return open.flatMap((u, i) => batchOf(u, results[i]!));
    }
    // Each upstream's stream carries its producer's hash tag: on a cluster they live in different slots, so each is
    // read on its own there. On one node, one XREAD reads them all (and can wait for the next entry).
    if (redis.isCluster) {
      const results = await Promise.all(
        open.map((u) =>
          redis.xrangeBuffer(u.key, u.lastId === "0-0" ? "-" : `(${u.lastId}`, "+", "COUNT", perUpstream),
        ),
      );
      return open.flatMap((u, i) => batchOf(u, results[i]!));
    }
    const raw = new Map<Upstream, RawEntry[]>();
    if (block) {
      const woke = await xread(block.client, open, perUpstream, raw, block.ms);
      if (!woke) return [];
      // It woke for the first entry to arrive; what the other producers committed at the same time is there by
      // now. Taking it too makes one batch of what would otherwise be one batch per producer.
      const more = open.filter((u) => !raw.has(u));
      if (more.length > 0) await xread(redis, more, perUpstream, raw);
    } else {
      await xread(redis, open, perUpstream, raw);
    }
    return open.flatMap((u) => batchOf(u, raw.get(u) ?? []));
  }

  /** Moves an upstream past `id` after its entry was processed; written with the next commit. */
  advance(u: Upstream, id: string, entry: ShuffleEntry): void {
    u.lastId = id;
    if (entry.watermark > u.watermark) u.watermark = entry.watermark;
    u.idle = entry.idle;
    if (entry.end) {
      u.ended = true;
      u.watermark = Number.POSITIVE_INFINITY;
    }
    if (entry.stopGeneration > u.stopGeneration) u.stopGeneration = entry.stopGeneration;
    this.moved.set(u, { id, entries: (this.moved.get(u)?.entries ?? 0) + 1 });
  }

  /** The last entry id read in this batch, per upstream that moved (keyed like its position field). */
  extent(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const u of this.moved.keys()) out[positionField(u)] = u.lastId;
    return out;
  }

  /** Task-state fields holding the positions that moved in this batch. */
  positions(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const u of this.moved.keys()) {
      out[positionField(u)] = JSON.stringify({
        id: u.lastId,
        w: Number.isFinite(u.watermark) ? u.watermark : u.watermark > 0 ? 8.64e15 : null,
        i: u.idle ? 1 : 0,
        e: u.ended ? 1 : 0,
        s: u.stopGeneration,
      });
    }
    return out;
  }

  /** The batch was committed: what it read is consumed for good, and may be trimmed (see trim()). */
  committed(): void {
    for (const [u, { id, entries }] of this.moved) {
      this.untrimmed.set(u, { id, entries: (this.untrimmed.get(u)?.entries ?? 0) + entries });
    }
    this.moved = new Map();
  }

  /** The most entries committed as consumed that one stream still holds. */
  get pendingTrim(): number {
    let most = 0;
    for (const { entries } of this.untrimmed.values()) most = Math.max(most, entries);
    return most;
  }

  /** Drops what this partition has consumed for good (committed() was called for it). Idempotent. */
  async trim(redis: Redis): Promise<void> {
    const done = [...this.untrimmed].map(([u, { id }]) => [u, id] as const);
    this.untrimmed = new Map();
    if (done.length === 0) return;
    if (redis.isCluster || done.length === 1) {
      await Promise.all(done.map(([u, id]) => redis.xtrim(u.key, "MINID", nextId(id))));
      return;
    }
    // One write and one reply for all of them.
    const results = await redis.pipeline(done.map(([u, id]) => ["xtrim", u.key, "MINID", nextId(id)])).exec();
    const failed = results?.find(([err]) => err);
    if (failed) throw failed[0];
  }

  /** The minimum watermark over upstreams that are neither idle nor ended (all ended: +Infinity). */
  watermark(): number {
    let min = Number.POSITIVE_INFINITY;
    let active = 0;
    for (const u of this.upstreams) {
      if (u.ended || u.idle) continue;
      active++;
      if (u.watermark < min) min = u.watermark;
    }
    if (active > 0) return min;
    // Every upstream is idle or done: the idle ones hold event time where they left it.
    let held = Number.POSITIVE_INFINITY;
    for (const u of this.upstreams) if (!u.ended && u.watermark < held) held = u.watermark;
    return held;
  }

  get allEnded(): boolean {
    return this.upstreams.every((u) => u.ended);
  }

  /** Every upstream ended or stopped in generation `generation`. */
  allStopped(generation: number): boolean {
    return this.upstreams.every((u) => u.ended || u.stopGeneration >= generation);
  }
}
