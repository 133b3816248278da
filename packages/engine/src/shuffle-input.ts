import type { Redis } from "ioredis";
import type { BatchBudget } from "./batch-budget";
import type { FusedStage } from "./fused-stage";
import type { ShuffleReader } from "./shuffle-reader";
import { type InputBatch, type InputRead, MAX_IDLE_SLEEP_MS, type TaskInput } from "./task-input";

// The input of a stage fed by shuffles: each batch reads the entries after the committed position of every
// upstream (producer partition) and hands their records to the nodes the shuffles lead to. Positions are committed
// with the batch; the consumed entries are trimmed from the streams after the commit.

export class ShuffleInput implements TaskInput {
  /** The wait after a quiet batch, doubling while nothing arrives. */
  private idleSleep = 1;

  constructor(
    private readonly redis: Redis,
    private readonly reader: ShuffleReader,
    private readonly stage: FusedStage,
    private readonly budget: BatchBudget,
    private readonly batchSize: number,
  ) {}

  async read({ set, bound }: InputBatch): Promise<InputRead> {
    const { reader, stage, budget } = this;
    const perUpstream = budget.entriesFor(Math.max(1, Math.ceil(this.batchSize / 256)), reader.upstreams.length);
    const batches = await reader.read(this.redis, perUpstream, bound?.upstreams);
    let records = 0;
    for (const { upstream, entries } of batches) {
      for (const { id, entry } of entries) {
        if (entry.records.length > 0) {
          stage.enter(upstream.shuffle.toNode, upstream.shuffle.toPort, entry.records);
          budget.observeEntry(entry.records);
        }
        records += entry.records.length;
        reader.advance(upstream, id, entry);
      }
    }
    Object.assign(set, reader.positions());
    return {
      records,
      ended: reader.allEnded,
      idleMs: MAX_IDLE_SLEEP_MS,
      extent: { sources: {}, upstreams: reader.extent() },
    };
  }

  drained(generation: number): boolean {
    return this.reader.allStopped(generation);
  }

  watermark(): { value: number; idle: boolean } {
    const idle = this.reader.upstreams.every((u) => u.ended || u.idle);
    return { value: this.reader.watermark(), idle };
  }

  committed(): Promise<void> {
    return this.reader.trim(this.redis);
  }

  quietWait(): number {
    const wait = this.idleSleep;
    this.idleSleep = Math.min(this.idleSleep * 2, MAX_IDLE_SLEEP_MS);
    return wait;
  }

  busy(): void {
    this.idleSleep = 1;
  }

  /** Entries waiting in the streams of the upstreams still open, per node they feed. */
  async lag(): Promise<Record<string, number>> {
    const open = this.reader.upstreams.filter((u) => !u.ended);
    const lengths = await Promise.all(open.map((u) => this.redis.xlen(u.key)));
    const out: Record<string, number> = {};
    open.forEach((u, i) => {
      out[u.shuffle.toNode] = (out[u.shuffle.toNode] ?? 0) + lengths[i]!;
    });
    return out;
  }
}
