import { compileExpression } from "@sluice/pipeline/expr/compile";
import type { ParameterInfo } from "@sluice/pipeline/expr/types";
import type { DataRecord, RecordSchema } from "@sluice/pipeline/record-schema";

// Which partition of the next stage a record goes to. Keyed shuffles hash the key values (records with equal keys
// always meet in one partition); a rebalance spreads records by their position in the batch, which is the same
// on a replay, so a re-run batch lands exactly where the first attempt would have.

export class PartitionerError extends Error {
  override name = "PartitionerError";
}

export type Partitioner = (record: DataRecord, indexInBatch: number, sequence: number) => number;

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A stable text for a key value: equal SQL values give equal text, whatever their JS representation. */
function keyText(v: unknown): string {
  if (v === null || v === undefined) return "\u0000";
  switch (typeof v) {
    case "string":
      return `s${v}`;
    case "number":
      return `n${Object.is(v, -0) ? 0 : v}`;
    case "boolean":
      return v ? "t" : "f";
    default:
      return `j${JSON.stringify(v)}`;
  }
}

export function createPartitioner(
  keys: readonly string[] | null,
  schema: RecordSchema,
  partitions: number,
  parameters: Readonly<Record<string, ParameterInfo>>,
): Partitioner {
  if (partitions <= 1) return () => 0;
  if (keys === null) return (_r, i, seq) => (seq * 31 + i) % partitions;
  if (keys.length === 0) return () => 0;
  const compiled = keys.map((source) => {
    const r = compileExpression(source, { schema, parameters });
    if (!r.ok) throw new PartitionerError(`key "${source}": ${r.errors.map((e) => e.message).join("; ")}`);
    return r.value.evaluate;
  });
  if (compiled.length === 1) {
    const one = compiled[0]!;
    return (r) => fnv1a(keyText(one(r))) % partitions;
  }
  return (r) => {
    let text = "";
    for (const k of compiled) text += `${keyText(k(r))}\u0001`;
    return fnv1a(text) % partitions;
  };
}
