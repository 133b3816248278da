import { formatDuration } from "@sluice/pipeline/duration";
import type { DataRecord } from "@sluice/pipeline/record-schema";
import { RecordError } from "../record-fields";
import type { Emit } from "../runtime-contract";
import type { LatePolicyName } from "./event-time";

// Event time read from records, and what happens to records that come too late for the state that would have
// taken them: the `late` output or the dead-letter queue (by throwing), never a silent drop.

export function formatTime(ms: number): string {
  if (!Number.isFinite(ms)) return ms > 0 ? "the end of input" : "the beginning";
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}

/** The record's event time in `field` (epoch ms); a missing or non-numeric value fails the record. */
export function readEventTime(record: DataRecord, field: string): number {
  const v = Object.hasOwn(record, field) ? record[field] : undefined;
  if (typeof v === "number" && Number.isFinite(v)) return v;
  throw new RecordError(
    field,
    v === undefined || v === null
      ? "the event time is missing"
      : `the event time must be a timestamp (epoch ms), not ${JSON.stringify(v)}`,
  );
}

/** A record that arrived after the state it belongs to was finally closed; the engine dead-letters it. */
export class LateRecordError extends RecordError {
  override name = "LateRecordError";
  constructor(
    field: string,
    readonly eventTime: number,
    readonly watermark: number,
    readonly allowedLateness: number,
    /** Why that matters, e.g. "its window [12:00, 12:01) was already closed". */
    consequence: string,
  ) {
    const behind =
      allowedLateness > 0
        ? `more than the allowed lateness (${formatDuration(allowedLateness)}) behind the watermark ${formatTime(watermark)}`
        : `behind the watermark ${formatTime(watermark)}`;
    super(
      field,
      `late record: event time ${formatTime(eventTime)} is ${behind}; ${consequence}. Raise allowedLateness, or set late: output to collect such records`,
    );
  }
}

/** Routes a late record per the `late` policy: to `port`, or to the dead-letter queue by throwing. */
export function lateRecord(
  policy: LatePolicyName,
  port: string,
  emit: Emit,
  record: DataRecord,
  error: () => LateRecordError,
): void {
  if (policy === "output") emit(record, port);
  else throw error();
}
