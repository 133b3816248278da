import { OFFSET_LAG_UNITS } from "@sluice/pipeline/control/node-figures";
import { z } from "zod";
import { PipelineId } from "../pipelines/pipeline-router.types";
import { RunId } from "../runs/run-router.types";
import { RESOLUTIONS } from "./history-retention";

/** The widest range one history query may span. */
const MAX_SPAN_MS = 400 * 86_400_000;

const Instant = z
  .number({ error: "a time in milliseconds since the epoch" })
  .int("a whole number of milliseconds since the epoch")
  .min(0, "a time after 1970");

function checkRange(r: { from: number; to: number }, ctx: z.RefinementCtx): void {
  if (r.to <= r.from) {
    ctx.addIssue({ code: "custom", path: ["to"], message: "the end of the range must be after its start" });
  } else if (r.to - r.from > MAX_SPAN_MS) {
    ctx.addIssue({ code: "custom", path: ["to"], message: "a history range spans at most 400 days" });
  }
}

export const RunHistoryInput = z
  .strictObject({
    runId: RunId,
    from: Instant,
    to: Instant,
    /** Bucket width in seconds; chosen to keep each series near 2,000 points where absent. */
    resolution: z
      .union(RESOLUTIONS.map((r) => z.literal(r)) as [z.ZodLiteral<10>, z.ZodLiteral<60>, z.ZodLiteral<3600>], {
        error: "a resolution of 10, 60 or 3600 seconds",
      })
      .optional(),
  })
  .superRefine(checkRange);

export const PipelineHistoryInput = z
  .strictObject({ pipelineId: PipelineId, from: Instant, to: Instant })
  .superRefine(checkRange);

const Gauge = z.array(z.number().nullable());

/** One node's series: a point per bucket that had figures, `t` its start (epoch ms). */
const NodeSeries = z.object({
  t: z.array(z.number()),
  inPerSec: z.array(z.number()),
  outPerSec: z.array(z.number()),
  errPerSec: z.array(z.number()),
  p50Ms: Gauge,
  p99Ms: Gauge,
  /** The largest watermark lag of the bucket's seconds, ms. */
  watermarkLagMs: Gauge,
  stateKeys: Gauge,
  inputLag: Gauge,
  /** A source's largest offset lag of the bucket's seconds, in the unit offsetLagUnits gives for the node. */
  offsetLag: Gauge,
});

const EdgeSeries = z.object({
  t: z.array(z.number()),
  perSec: z.array(z.number()),
  /** The largest backlog of the bucket's seconds. */
  backlog: Gauge,
  /** Seconds of the bucket in which a producer waited on the edge's consumers. */
  backpressuredSeconds: z.array(z.number()),
});

export const HistoryView = z.object({
  /** Bucket width of the points, seconds. */
  resolution: z.number(),
  from: z.number(),
  to: z.number(),
  nodes: z.record(z.string(), NodeSeries),
  edges: z.record(z.string(), EdgeSeries),
  /** The unit of each source node's offset lag series, for the nodes that have one. */
  offsetLagUnits: z.record(z.string(), z.enum(OFFSET_LAG_UNITS)),
});
export type HistoryView = z.infer<typeof HistoryView>;

export const PipelineHistoryView = HistoryView.extend({
  /** The pipeline's runs the range covers, oldest first: the newest MAX_LISTED_RUNS of them. */
  runs: z.array(z.object({ id: z.string(), startedAt: z.number().nullable(), finishedAt: z.number().nullable() })),
  /** More runs cover the range than `runs` lists (the series count them all). */
  truncated: z.boolean(),
});
