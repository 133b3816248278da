import type { DataRecord } from "@sluice/pipeline/record-schema";
import type { SourceBatch, SourceReader, SourceRuntime } from "../runtime-contract";
import { type GeneratorConfig, generatorRecordBytes } from "./generator.def";
import { unit, type ValueFn, valueFunction } from "./generator-values";

// Partition p of P emits the global record indexes p, p+P, p+2P, … Its offset is how many it has emitted, so a
// restarted task continues exactly where the last commit left it.

const OUT_OF_ORDER_SLOT = 0x7fff;

/** How many of the `count` global indexes fall into partition `p` of `partitions`. */
export function partitionShare(count: number, partition: number, partitions: number): number {
  return partition < count ? Math.floor((count - partition - 1) / partitions) + 1 : 0;
}

export function readGeneratorOffset(offset: unknown): number {
  return typeof offset === "number" && Number.isSafeInteger(offset) && offset >= 0 ? offset : 0;
}

export function recordFactory(c: GeneratorConfig, runStartedAt: number): (index: number) => DataRecord {
  const names = Object.keys(c.fields);
  const fns: ValueFn[] = names.map((name, slot) => valueFunction(c.fields[name]!, c.seed, slot));
  const interval = c.rate > 0 ? 1000 / c.rate : 1;
  const late = c.maxOutOfOrder;
  const seed = c.seed;
  const timeField = c.timeField;
  return (index) => {
    const record: DataRecord = {};
    for (let f = 0; f < names.length; f++) record[names[f]!] = fns[f]!(index);
    const shift = late > 0 ? Math.floor(unit(seed, index, OUT_OF_ORDER_SLOT) * (late + 1)) : 0;
    record[timeField] = runStartedAt + Math.floor(index * interval) - shift;
    return record;
  };
}

export const generatorRuntime: SourceRuntime<GeneratorConfig> = {
  kind: "source",
  type: "source.generator",
  async open(ctx, from): Promise<SourceReader> {
    const c = ctx.config;
    const { partition, partitions } = ctx;
    const start =
      c.startTime === undefined
        ? ctx.runStartedAt
        : typeof c.startTime === "number"
          ? c.startTime
          : Date.parse(c.startTime);
    const make = recordFactory(c, start);
    const limit = c.count === undefined ? Number.POSITIVE_INFINITY : partitionShare(c.count, partition, partitions);
    // A preview wants its sample now, whatever the configured pace.
    const perPartitionRate = ctx.mode === "preview" ? 0 : c.rate / partitions;
    let emitted = readGeneratorOffset(from);
    const openedAt = performance.now();
    let emittedSinceOpen = 0;

    return {
      recordBytes: generatorRecordBytes(c),
      async read(max): Promise<SourceBatch> {
        let n = Math.min(max, limit - emitted);
        if (perPartitionRate > 0) {
          const due = Math.floor(((performance.now() - openedAt) / 1000) * perPartitionRate) + 1 - emittedSinceOpen;
          if (due <= 0 && n > 0) {
            return { records: [], offset: emitted, end: false, idleMs: Math.ceil(1000 / perPartitionRate) };
          }
          n = Math.min(n, due);
        }
        const records = new Array<DataRecord>(Math.max(n, 0));
        for (let k = 0; k < n; k++) records[k] = make(partition + (emitted + k) * partitions);
        emitted += records.length;
        emittedSinceOpen += records.length;
        const progress = Number.isFinite(limit) ? { done: emitted, total: limit } : undefined;
        return { records, offset: emitted, end: emitted >= limit, ...(progress ? { progress } : {}) };
      },
      async close() {},
    };
  },
};
