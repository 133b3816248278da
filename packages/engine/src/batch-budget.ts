import type { DataRecord } from "@sluice/pipeline/record-schema";

// A batch's byte budget beside its record count (settings.batchBytes beside settings.batchSize): how many records
// to ask each source for, so that a batch of large records stays near the budget instead of batchSize × record
// size. Sizes are estimated, never measured on every record: from the source's own word (a generator knows its
// record size from its config), then from a few records of each batch it returned.

/** Records asked of a source whose record size is not known yet. */
const FIRST_READ = 16;
/** Shuffle entries read per upstream partition before their size is known. */
const FIRST_ENTRIES = 4;
/** Records of each batch whose size is estimated: first, middle and last. */
const SAMPLES = 3;

export class BatchBudget {
  /** Estimated bytes per record, by source node. */
  private readonly perRecord = new Map<string, number>();
  /** Estimated bytes per shuffle entry (one upstream batch's records for this partition). */
  private perEntry: number | undefined;

  constructor(private readonly bytes: number) {}

  /**
   * How many records a source may add to the next batch: at most `share` (its part of the record count), and no
   * more than its part of the byte budget (the budget is shared by `sources` sources) — but always one.
   */
  recordsFor(nodeId: string, share: number, sources: number, hint: number | undefined): number {
    const size = this.perRecord.get(nodeId) ?? hint;
    if (size === undefined) return Math.min(share, FIRST_READ);
    return Math.max(1, Math.min(share, Math.floor(this.bytes / Math.max(1, sources) / Math.max(1, size))));
  }

  /** Learns the record size from a few of the records a source just returned. */
  observe(nodeId: string, records: readonly DataRecord[]): void {
    if (records.length === 0) return;
    this.perRecord.set(nodeId, follow(this.perRecord.get(nodeId), this.largest(records)));
  }

  /** How many shuffle entries to read from each of `upstreams` upstream partitions: at most `count`, at least one. */
  entriesFor(count: number, upstreams: number): number {
    if (this.perEntry === undefined) return Math.min(count, FIRST_ENTRIES);
    return Math.max(1, Math.min(count, Math.floor(this.bytes / Math.max(1, upstreams) / this.perEntry)));
  }

  /** Learns the entry size from the records of one shuffle entry. */
  observeEntry(records: readonly DataRecord[]): void {
    if (records.length === 0) return;
    this.perEntry = follow(this.perEntry, this.largest(records) * records.length);
  }

  /** The largest estimated size of a few records spread over `records` (not empty). */
  private largest(records: readonly DataRecord[]): number {
    const n = records.length;
    let largest = 0;
    for (let k = 0; k < SAMPLES; k++) {
      const size = estimateBytes(records[Math.floor((k * (n - 1)) / (SAMPLES - 1))], this.bytes);
      if (size > largest) largest = size;
    }
    return largest;
  }
}

/** An estimate that grows at once when sizes grow, and shrinks by halves when they shrink. */
function follow(before: number | undefined, seen: number): number {
  return before === undefined ? seen : Math.max(seen, (before + seen) / 2);
}

/**
 * About how many bytes a value takes as JSON; stops counting past `cap`. Iterative, so a deeply nested value
 * cannot overflow the stack.
 */
export function estimateBytes(value: unknown, cap: number): number {
  let total = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0 && total <= cap) {
    const v = pending.pop();
    switch (typeof v) {
      case "string":
        total += v.length + 2;
        break;
      case "number":
      case "bigint":
        total += 8;
        break;
      case "boolean":
        total += 5;
        break;
      case "object":
        if (v === null) {
          total += 4;
        } else if (Array.isArray(v)) {
          total += 2 + v.length;
          for (const item of v) pending.push(item);
        } else if (ArrayBuffer.isView(v)) {
          total += v.byteLength;
        } else {
          total += 2;
          for (const key in v) {
            total += key.length + 4;
            pending.push((v as Record<string, unknown>)[key]);
          }
        }
        break;
      default:
        total += 4;
    }
  }
  return total;
}
