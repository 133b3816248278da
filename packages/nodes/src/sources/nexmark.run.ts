import type { DataRecord } from "@sluice/pipeline/record-schema";
import type { SourceBatch, SourceReader, SourceRuntime } from "../runtime-contract";
import { partitionShare, readGeneratorOffset } from "./generator.run";
import type { NexmarkConfig } from "./nexmark.def";
import {
  DEFAULT_EVENT_TIME_RATE,
  NEXMARK_PORTS,
  NexmarkGenerator,
  type NexmarkParams,
  nexmarkKind,
} from "./nexmark-events";

/**
 * A paced reader hands out the events that fell due at ticks this far apart (at most this much later than due).
 * The ticks are on the wall clock, the same for every partition, so the partitions' batches reach the next stage
 * together and it wakes once for them rather than once for each.
 */
export const PACED_TICK_MS = 10;

/** A paced reader behind its schedule (opened late, paused) catches up at most this much of it at once. */
export const MAX_BEHIND_MS = 1000;

/** The first tick at or after `at` (performance.now() time). */
function nextTick(at: number): number {
  const wall = performance.timeOrigin + at;
  return Math.ceil(wall / PACED_TICK_MS) * PACED_TICK_MS - performance.timeOrigin;
}

export function nexmarkParams(c: NexmarkConfig, runStartedAt: number): NexmarkParams {
  return {
    seed: c.seed,
    baseTime: c.startTime ?? runStartedAt,
    eventTimeRate: c.rate > 0 ? c.rate : DEFAULT_EVENT_TIME_RATE,
    maxOutOfOrder: c.maxOutOfOrder,
    avgEventBytes: c.avgEventBytes,
    hotAuctionRatio: c.hotAuctionRatio,
    hotSellersRatio: c.hotSellersRatio,
    hotBiddersRatio: c.hotBiddersRatio,
  };
}

export const nexmarkRuntime: SourceRuntime<NexmarkConfig> = {
  kind: "source",
  type: "source.nexmark",
  async open(ctx, from): Promise<SourceReader> {
    const c = ctx.config;
    const { partition, partitions } = ctx;
    const generator = new NexmarkGenerator(nexmarkParams(c, ctx.runStartedAt));
    const limit = c.events === undefined ? Number.POSITIVE_INFINITY : partitionShare(c.events, partition, partitions);
    // A preview wants its sample now, whatever the configured pace.
    const perPartitionRate = ctx.mode === "preview" ? 0 : c.rate / partitions;
    let emitted = readGeneratorOffset(from);
    // This partition's k-th event is due at `scheduleStart` + k / rate (performance.now() time): on the run's clock,
    // so that a reader that opened late (the run starting up, a takeover) catches up rather than lagging the run's
    // event time for good, but never more than MAX_BEHIND_MS behind it (a long pause, a restart hours later).
    // The next event is never due later than now, whatever another machine's clock said the run's start was.
    const resumeAt = perPartitionRate > 0 ? performance.now() - (emitted * 1000) / perPartitionRate : 0;
    let scheduleStart = ctx.runStartedAt > 0 ? Math.min(ctx.runStartedAt - performance.timeOrigin, resumeAt) : resumeAt;
    const maxBehind = Math.ceil((MAX_BEHIND_MS / 1000) * perPartitionRate);

    return {
      async read(max): Promise<SourceBatch> {
        let n = Math.max(0, Math.min(max, limit - emitted));
        if (perPartitionRate > 0 && n > 0) {
          const now = performance.now();
          let due = Math.floor(((now - scheduleStart) / 1000) * perPartitionRate) + 1 - emitted;
          if (due > maxBehind) {
            scheduleStart += ((due - maxBehind) * 1000) / perPartitionRate;
            due = maxBehind;
          }
          // Less than a batch is due: the events go out together at the next tick, and until then the reader
          // sleeps (the wait it asks for), so a paced run costs a batch per tick rather than one per loop turn.
          if (due < n) {
            const releaseAt = nextTick(scheduleStart + (emitted * 1000) / perPartitionRate);
            if (now < releaseAt) {
              return { records: [], ports: [], offset: emitted, end: false, idleMs: Math.ceil(releaseAt - now) };
            }
          }
          n = Math.min(n, due);
        }
        const records = new Array<DataRecord>(n);
        const ports = new Array<string>(n);
        for (let k = 0; k < n; k++) {
          const i = partition + (emitted + k) * partitions;
          records[k] = generator.event(i);
          ports[k] = NEXMARK_PORTS[nexmarkKind(i)];
        }
        emitted += n;
        return { records, ports, offset: emitted, end: emitted >= limit };
      },
      async close() {},
    };
  },
};
