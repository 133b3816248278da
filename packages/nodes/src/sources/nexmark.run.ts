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
    const openedAt = performance.now();
    let emittedSinceOpen = 0;

    return {
      async read(max): Promise<SourceBatch> {
        let n = Math.max(0, Math.min(max, limit - emitted));
        if (perPartitionRate > 0) {
          const due = Math.floor(((performance.now() - openedAt) / 1000) * perPartitionRate) + 1 - emittedSinceOpen;
          if (due <= 0 && n > 0) {
            return { records: [], ports: [], offset: emitted, end: false, idleMs: Math.ceil(1000 / perPartitionRate) };
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
        emittedSinceOpen += n;
        return { records, ports, offset: emitted, end: emitted >= limit };
      },
      async close() {},
    };
  },
};
