import { RecordHasher } from "@sluice/nodes/record-hash";
import { addToDigest, EMPTY_DIGEST, type RecordDigest } from "@sluice/nodes/sinks/discard-digest";
import { nexmarkDef } from "@sluice/nodes/sources/nexmark.def";
import { nexmarkParams } from "@sluice/nodes/sources/nexmark.run";
import { AUCTION, BID, NexmarkGenerator, nexmarkKind, PERSON } from "@sluice/nodes/sources/nexmark-events";
import type { DataRecord } from "@sluice/pipeline/record-schema";
import type { QueryName } from "./engine-queries";

// The "limit" of each engine benchmark query: the same query written as a plain single-threaded loop over the same
// generated events (NexmarkGenerator.event(i) for i = 0 … N − 1, with the config the source node parses), producing
// records with the same field names and values, digested with sink.discard's own digest (addToDigest). Its digest
// must equal the engine's — that proves the engine computed the same result — and its speed is what one core does
// with no engine at all: no batches, no Redis, no commits, no shuffles.

export interface LimitInput {
  events: number;
  rate: number;
  startTime: number;
}

export interface LimitResult {
  digest: RecordDigest;
  /** Best pass, seconds. */
  seconds: number;
  eventsPerSec: number;
  /** Facts about the result that matter for comparing it (e.g. ties a top-N may break differently). */
  notes: string[];
}

/** Collects output records and digests them in batches of 1,000, as sink.discard does. */
class Digester {
  private readonly batch: DataRecord[] = [];
  private digest: RecordDigest = EMPTY_DIGEST;
  private readonly hasher = new RecordHasher();

  add(record: DataRecord): void {
    this.batch.push(record);
    if (this.batch.length === 1000) this.flush();
  }

  private flush(): void {
    this.digest = addToDigest(this.digest, this.batch, this.hasher);
    this.batch.length = 0;
  }

  result(): RecordDigest {
    this.flush();
    return this.digest;
  }
}

type Loop = (gen: NexmarkGenerator, n: number, out: Digester, notes: string[]) => void;

const num = (r: DataRecord, field: string) => r[field] as number;

const LOOPS: Record<QueryName, Loop> = {
  q0(gen, n, out) {
    for (let i = 0; i < n; i++) {
      const e = gen.event(i);
      if (nexmarkKind(i) === BID) out.add(e);
    }
  },

  q1(gen, n, out) {
    for (let i = 0; i < n; i++) {
      const e = gen.event(i);
      if (nexmarkKind(i) === BID) out.add({ ...e, price: num(e, "price") * 0.908 });
    }
  },

  q2(gen, n, out) {
    for (let i = 0; i < n; i++) {
      const e = gen.event(i);
      if (nexmarkKind(i) === BID && num(e, "auction") % 123 === 0) {
        out.add({ auction: e.auction, price: e.price, dateTime: e.dateTime });
      }
    }
  },

  q5(gen, n, out, notes) {
    // Hopping windows of 10 s every 2 s, aligned to the epoch: a bid at t counts in the windows ending at
    // e = ⌊t / 2 s⌋ · 2 s + 2 s, + 4 s, … + 10 s. Counts per window end and auction.
    const SIZE = 10_000;
    const EVERY = 2_000;
    const counts = new Map<number, Map<number, number>>();
    for (let i = 0; i < n; i++) {
      const e = gen.event(i);
      if (nexmarkKind(i) !== BID) continue;
      const t = num(e, "dateTime");
      const auction = num(e, "auction");
      const first = Math.floor(t / EVERY) * EVERY + EVERY;
      for (let end = first; end <= t + SIZE; end += EVERY) {
        let perAuction = counts.get(end);
        if (perAuction === undefined) {
          perAuction = new Map();
          counts.set(end, perAuction);
        }
        perAuction.set(auction, (perAuction.get(auction) ?? 0) + 1);
      }
    }
    // Per window the auction with the most bids, the lower id on a tie.
    let ties = 0;
    for (const [end, perAuction] of counts) {
      let best = Number.POSITIVE_INFINITY;
      let bids = 0;
      let atTop = 0;
      for (const [auction, c] of perAuction) {
        if (c > bids) {
          bids = c;
          best = auction;
          atTop = 1;
        } else if (c === bids) {
          atTop++;
          if (auction < best) best = auction;
        }
      }
      if (atTop > 1) ties++;
      out.add({ auction: best, window_start: end - SIZE, window_end: end, window_time: end - 1, bids, rank: 1 });
    }
    notes.push(`${counts.size} windows, ${ties} with several auctions at the top count (broken by the lower id)`);
  },

  q7(gen, n, out, notes) {
    // Tumbling 10 s windows: the highest bid of each; the first one (in event order) on a tie.
    const SIZE = 10_000;
    let end = Number.NEGATIVE_INFINITY;
    let best: DataRecord | undefined;
    let tied = false;
    let windows = 0;
    let ties = 0;
    const emit = () => {
      if (best === undefined) return;
      windows++;
      if (tied) ties++;
      out.add({ ...best, rank: 1, window_start: end - SIZE, window_end: end, window_time: end - 1 });
    };
    for (let i = 0; i < n; i++) {
      const e = gen.event(i);
      if (nexmarkKind(i) !== BID) continue;
      const t = num(e, "dateTime");
      const w = Math.floor(t / SIZE) * SIZE + SIZE;
      if (w !== end) {
        // Event times never decrease (no out-of-orderness configured), so a window is complete when the next starts.
        emit();
        end = w;
        best = e;
        tied = false;
      } else if (num(e, "price") > num(best!, "price")) {
        best = e;
        tied = false;
      } else if (num(e, "price") === num(best!, "price")) {
        tied = true;
      }
    }
    emit();
    notes.push(`${windows} windows, ${ties} with a tie for the highest price (arrival order would decide those)`);
  },

  q8(gen, n, out, notes) {
    // Tumbling 10 s windows; within one, every auction whose seller registered in the same window joins that person.
    const SIZE = 10_000;
    let end = Number.NEGATIVE_INFINITY;
    let persons = new Map<number, DataRecord>();
    let auctions: DataRecord[] = [];
    let pairs = 0;
    const flush = () => {
      for (const a of auctions) {
        const p = persons.get(num(a, "seller"));
        if (p === undefined) continue;
        pairs++;
        out.add({ id: p.id, name: p.name, reserve: a.reserve, window_start: end - SIZE, window_end: end });
      }
    };
    for (let i = 0; i < n; i++) {
      const e = gen.event(i);
      const kind = nexmarkKind(i);
      if (kind === BID) continue;
      const w = Math.floor(num(e, "dateTime") / SIZE) * SIZE + SIZE;
      if (w !== end) {
        flush();
        end = w;
        persons = new Map();
        auctions = [];
      }
      if (kind === PERSON) persons.set(num(e, "id"), e);
      else if (kind === AUCTION) auctions.push(e);
    }
    flush();
    notes.push(`${pairs} (person, auction) pairs`);
  },

  latency(gen, n, out, notes) {
    // Dedupe by the bid's fields (all but url) within 1 s: a bid passes unless the same key passed less than 1 s
    // (event time) before it.
    const WITHIN = 1_000;
    const seen = new Map<string, number>();
    let dropped = 0;
    let sweptAt = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      const e = gen.event(i);
      if (nexmarkKind(i) !== BID) continue;
      const t = num(e, "dateTime");
      const key = JSON.stringify([e.auction, e.bidder, e.price, e.channel, t, e.extra]);
      const expiry = seen.get(key);
      if (expiry !== undefined && t < expiry) {
        dropped++;
        continue;
      }
      seen.set(key, t + WITHIN);
      out.add(e);
      if (t - sweptAt >= WITHIN) {
        for (const [k, x] of seen) if (x <= t) seen.delete(k);
        sweptAt = t;
      }
    }
    notes.push(`${dropped} duplicates dropped`);
  },
};

/** Runs the query's loop `passes` times (the first warms the JIT up); the digest must be the same every time. */
export function runLimit(query: QueryName, input: LimitInput, passes = 2): LimitResult {
  const config = nexmarkDef.config.parse({ events: input.events, rate: input.rate, startTime: input.startTime });
  let best = Number.POSITIVE_INFINITY;
  let digest: RecordDigest | undefined;
  let notes: string[] = [];
  for (let pass = 0; pass < Math.max(1, passes); pass++) {
    const gen = new NexmarkGenerator(nexmarkParams(config, input.startTime));
    const out = new Digester();
    const passNotes: string[] = [];
    const start = process.hrtime.bigint();
    LOOPS[query](gen, input.events, out, passNotes);
    const d = out.result();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
    if (digest !== undefined && (digest.sum1 !== d.sum1 || digest.sum2 !== d.sum2 || digest.count !== d.count)) {
      throw new Error(`the ${query} limit loop is not deterministic: two passes gave different digests`);
    }
    digest = d;
    notes = passNotes;
  }
  return { digest: digest!, seconds: best, eventsPerSec: Math.round(input.events / best), notes };
}
