import { RecordHasher } from "../record-hash";
import type { SinkRuntime } from "../runtime-contract";
import type { DiscardConfig } from "./discard.def";
import {
  addToDigest,
  DIGEST_KEY,
  DIGEST_STATE,
  LATENCY_KEY,
  LATENCY_STATE,
  latencyBucket,
  readStoredDigest,
  readStoredHistogram,
} from "./discard-digest";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const discardRuntime: SinkRuntime<DiscardConfig> = {
  kind: "sink",
  type: "sink.discard",
  async open(ctx) {
    const digests = ctx.state(DIGEST_STATE);
    const latencies = ctx.state(LATENCY_STATE);
    const hasher = new RecordHasher();
    const { latencyField, maxRate } = ctx.config;
    const perPartitionRate = maxRate === undefined ? 0 : maxRate / ctx.partitions;
    let readyAt = 0;

    return {
      async write(records, batch) {
        if (records.length === 0) return;
        const previous = readStoredDigest(digests.get(DIGEST_KEY));
        // The same batch again without the state having rolled back (a retried write in this process): its
        // records are already counted. After a crash the state is the last commit's, which lacks this batch.
        if (previous.batch === batch.batchId) return;
        const next = addToDigest(previous, records, hasher);
        digests.set(DIGEST_KEY, { count: next.count, sum1: next.sum1, sum2: next.sum2, batch: batch.batchId });

        if (latencyField !== undefined) {
          const histogram = readStoredHistogram(latencies.get(LATENCY_KEY));
          const now = Date.now();
          for (let i = 0; i < records.length; i++) {
            const t = records[i]![latencyField];
            if (typeof t === "number" && Number.isFinite(t)) histogram.counts[latencyBucket(now - t)]!++;
            else histogram.missing++;
          }
          latencies.set(LATENCY_KEY, { counts: histogram.counts, missing: histogram.missing });
        }

        if (perPartitionRate > 0) {
          // Each batch books its share of time after the previous one's; the write returns when its slot ends.
          const now = performance.now();
          readyAt = Math.max(readyAt, now) + (records.length * 1000) / perPartitionRate;
          if (readyAt > now) await sleep(readyAt - now);
        }
      },
      async close() {},
    };
  },
};
