import type { RejectedRecord, RuntimeContext, SourceBatch } from "../../runtime-contract";

// Messages a source could not decode travel with their batch as `rejected`: the engine dead-letters them with the
// batch's commit and counts them as the source's errors. A warning in the worker's log names the first of them, so
// a stream that suddenly carries garbage is visible there too. Server-only.

export function rejectedBatch(
  ctx: RuntimeContext<unknown>,
  batch: Omit<SourceBatch, "rejected">,
  rejected: readonly RejectedRecord[],
): SourceBatch {
  if (rejected.length === 0) return { ...batch };
  ctx.log.warn(`${rejected.length} message${rejected.length === 1 ? "" : "s"} could not be read`, {
    first: rejected[0]!.error,
  });
  return { ...batch, rejected: [...rejected] };
}
