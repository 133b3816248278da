import type { DataRecord } from "@sluice/pipeline/record-schema";

// "Keep the newest by": a sink in upsert mode that is fed by two writers (a batch layer and a speed layer) keeps, for
// each key, the row with the greatest value of one column, whatever order the writes arrive in. The table does it
// with `ON CONFLICT … DO UPDATE … WHERE stored IS NULL OR stored < incoming`; a batch is first reduced to one record
// per key the same way, so the batch ends the table exactly as writing its records one by one would. Pure.

/** Values of a version column: numbers (epoch ms timestamps, versions), bigints, strings; null/undefined = none. */
function greater(a: unknown, b: unknown): boolean {
  if (typeof a === "number" && typeof b === "number") return a > b;
  if (typeof a === "bigint" || typeof b === "bigint") {
    try {
      return BigInt(a as never) > BigInt(b as never);
    } catch {
      return String(a) > String(b);
    }
  }
  if (typeof a === "string" && typeof b === "string") return a > b;
  if (typeof a === "boolean" && typeof b === "boolean") return a && !b;
  return String(a) > String(b);
}

const none = (v: unknown) => v === null || v === undefined;

/**
 * Whether `incoming` replaces `stored` under newest-wins: the stored one has no version, or the incoming one's is
 * greater. On a tie the stored one stays — as the table's `stored < incoming` does.
 */
export function replacesStored(stored: unknown, incoming: unknown): boolean {
  if (none(stored)) return true;
  if (none(incoming)) return false;
  return greater(incoming, stored);
}

export interface KeyedRecord {
  /** Index of the record in the batch. */
  index: number;
  row: DataRecord;
}

/**
 * One record per key: with `newerBy`, the one that would be left after applying them in order with newest-wins
 * (the greatest value; the first of equal ones; any with a value over those without); without, the last. Keys are
 * compared by their JSON. The chosen records come back in batch order.
 */
export function reduceByKey(items: readonly KeyedRecord[], key: readonly string[], newerBy?: string): KeyedRecord[] {
  const byKey = new Map<string, KeyedRecord>();
  for (const item of items) {
    const k = JSON.stringify(key.map((name) => item.row[name] ?? null));
    const held = byKey.get(k);
    if (held !== undefined && newerBy !== undefined && !replacesStored(held.row[newerBy], item.row[newerBy])) continue;
    byKey.set(k, item);
  }
  return [...byKey.values()].sort((a, b) => a.index - b.index);
}
