import type { FiguresReader } from "@sluice/pipeline/control/node-figures";
import type { RunStateReader } from "@sluice/pipeline/control/run-reader";

// Watchers of a run's live figures who come back together after a dropped connection (a web server restart drops
// all of them) ask for the same missed seconds in the same instant (figures-resume.ts). Through one SharedReads per
// Redis connection those reads are made once per web process and shared: a read started less than REUSE_MS ago is
// answered by its promise. The live seconds themselves come from one feed per run (figures-feed.ts).

const REUSE_MS = 200;

type LiveReader = FiguresReader & RunStateReader;

class SharedReads implements LiveReader {
  private readonly recent = new Map<string, { at: number; value: Promise<unknown> }>();
  private sweptAt = 0;

  constructor(private readonly redis: LiveReader) {}

  private once<T>(key: string, read: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = this.recent.get(key);
    if (hit && now - hit.at <= REUSE_MS) return hit.value as Promise<T>;
    const value = read();
    this.recent.set(key, { at: now, value });
    // A failed read is not shared on: the next caller tries again.
    value.catch(() => {
      if (this.recent.get(key)?.value === value) this.recent.delete(key);
    });
    if (now - this.sweptAt > 1000) {
      this.sweptAt = now;
      for (const [k, v] of this.recent) if (now - v.at > REUSE_MS) this.recent.delete(k);
    }
    return value;
  }

  hgetall(key: string): Promise<Record<string, string>> {
    return this.once(`hgetall ${key}`, () => this.redis.hgetall(key));
  }
  scard(key: string): Promise<number> {
    return this.once(`scard ${key}`, () => this.redis.scard(key));
  }
  xlen(key: string): Promise<number> {
    return this.once(`xlen ${key}`, () => this.redis.xlen(key));
  }
  xrevrange(key: string, end: string, start: string, count: "COUNT", n: number): Promise<[string, string[]][]> {
    return this.once(`xrevrange ${key} ${end} ${start} ${n}`, () => this.redis.xrevrange(key, end, start, count, n));
  }
}

const byConnection = new WeakMap<LiveReader, SharedReads>();

/** The shared reader over `redis` (one per connection, so per web process). */
export function sharedReads(redis: LiveReader): LiveReader {
  let shared = byConnection.get(redis);
  if (!shared) {
    shared = new SharedReads(redis);
    byConnection.set(redis, shared);
  }
  return shared;
}
