import type { Keys, TaskRef } from "@sluice/pipeline/control/keys";
import type { Shuffle } from "@sluice/pipeline/plan";
import type { DataRecord } from "@sluice/pipeline/record-schema";
import { encodeEntry } from "./shuffle-codec";
import type { Partitioner } from "./shuffle-partitioner";

// The producer side of one shuffle in one partition: records are partitioned as they are emitted and sent, once
// per committed batch, as one entry per consumer partition in the batch's commit. Consumers also need the
// producer's watermark when no records flow to them, so watermark-only entries go out when it moves (at most a
// few times a second), and every consumer gets the end or stop marker.

export interface StreamAppend {
  key: string;
  id: string;
  payload: Buffer;
}

/** A watermark-only entry is sent to a quiet consumer at most this often. */
const WATERMARK_ENTRY_EVERY_MS = 100;

export class ShuffleWriter {
  private buffers: DataRecord[][];
  private count = 0;
  private sequence = 0;
  private readonly sentWatermark: number[];
  private readonly sentAt: number[];
  private readonly sentIdle: boolean[];
  readonly streamKeys: string[];

  constructor(
    readonly shuffle: Shuffle,
    keys: Keys,
    producer: TaskRef,
    readonly consumers: number,
    private readonly partitioner: Partitioner,
  ) {
    this.buffers = Array.from({ length: consumers }, () => []);
    this.sentWatermark = new Array<number>(consumers).fill(Number.NEGATIVE_INFINITY);
    this.sentAt = new Array<number>(consumers).fill(0);
    this.sentIdle = new Array<boolean>(consumers).fill(false);
    this.streamKeys = Array.from({ length: consumers }, (_, q) => keys.shuffleStream(producer, shuffle.id, q));
  }

  begin(sequence: number): void {
    this.sequence = sequence;
    this.count = 0;
    for (const b of this.buffers) b.length = 0;
  }

  readonly add = (record: DataRecord): void => {
    this.buffers[this.partitioner(record, this.count++, this.sequence)]!.push(record);
  };

  get pending(): number {
    let n = 0;
    for (const b of this.buffers) n += b.length;
    return n;
  }

  /** The entries of this batch, with the stream id every consumer will see it under. */
  entries(
    state: { watermark: number; idle: boolean; end: boolean; stopGeneration: number },
    now: number,
  ): StreamAppend[] {
    const out: StreamAppend[] = [];
    const id = `${this.sequence}-0`;
    const marker = state.end || state.stopGeneration > 0;
    for (let q = 0; q < this.consumers; q++) {
      const records = this.buffers[q]!;
      const moved = state.watermark > this.sentWatermark[q]! || state.idle !== this.sentIdle[q];
      const due = moved && now - this.sentAt[q]! >= WATERMARK_ENTRY_EVERY_MS;
      if (records.length === 0 && !marker && !due) continue;
      out.push({
        key: this.streamKeys[q]!,
        id,
        payload: encodeEntry({
          watermark: state.watermark,
          idle: state.idle,
          end: state.end,
          stopGeneration: state.stopGeneration,
          records,
        }),
      });
      this.sentWatermark[q] = state.watermark;
      this.sentIdle[q] = state.idle;
      this.sentAt[q] = now;
    }
    return out;
  }
}
