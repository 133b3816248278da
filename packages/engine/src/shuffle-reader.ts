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

function positionField(u: { shuffle: Shuffle; producer: number }): string {
  return `${POSITION_PREFIX}${u.shuffle.id}:${u.producer}`;
}

/** The id just after `id`, for XTRIM MINID (which keeps ids ≥ its argument). */
function nextId(id: string): string {
  const [ms, seq] = id.split("-");
  return `${ms}-${Number(seq) + 1}`;
}

export class ShuffleReader {
  readonly upstreams: Upstream[];
  private pendingTrim = new Map<Upstream, string>();

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
   */
  async read(redis: Redis, perUpstream: number, bound?: Readonly<Record<string, string>>): Promise<UpstreamBatch[]> {
    const open = this.upstreams.filter((u) => !u.ended && (!bound || bound[positionField(u)] !== undefined));
    const results = await Promise.all(
      open.map((u) => {
        const from = u.lastId === "0-0" ? "-" : `(${u.lastId}`;
        return bound
          ? redis.xrangeBuffer(u.key, from, bound[positionField(u)]!)
          : redis.xrangeBuffer(u.key, from, "+", "COUNT", perUpstream);
      }),
    );
    const batches: UpstreamBatch[] = [];
    open.forEach((u, i) => {
      const raw = results[i]!;
      if (raw.length === 0) return;
      batches.push({
        upstream: u,
        entries: raw.map(([id, fields]) => ({ id: id.toString(), entry: decodeEntry(fields[1]!) })),
      });
    });
    return batches;
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
    this.pendingTrim.set(u, id);
  }

  /** The last entry id read in this batch, per upstream that moved (keyed like its position field). */
  extent(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const u of this.pendingTrim.keys()) out[positionField(u)] = u.lastId;
    return out;
  }

  /** Task-state fields holding the positions that moved in this batch. */
  positions(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const u of this.pendingTrim.keys()) {
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

  /** After the commit: drop what this partition has consumed for good. Idempotent. */
  async trim(redis: Redis): Promise<void> {
    const done = [...this.pendingTrim];
    this.pendingTrim = new Map();
    await Promise.all(done.map(([u, id]) => redis.xtrim(u.key, "MINID", nextId(id))));
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
