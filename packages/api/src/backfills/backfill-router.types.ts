import { NodeId } from "@sluice/pipeline/definition";
import { z } from "zod";

// Backfills (backfill-service.ts): replaying sources of a pipeline into a shadow table of one of its sink.postgres
// nodes, comparing it with the live table, and swapping it in.

const BackfillId = z.string().min(1).max(64);
const PipelineId = z.string().min(1).max(64);

/** Where a replay starts or ends: a time (epoch ms) or the source's own offset (entry id, sequence, cursor value). */
const ReplayBoundInput = z.union([
  z.strictObject({ time: z.number().int().min(0, "a time is epoch milliseconds ≥ 0").max(8.64e15) }),
  z.strictObject({ offset: z.string().trim().min(1, "give the offset").max(1000) }),
]);

export const PlanInput = z.strictObject({
  pipelineId: PipelineId,
  /** The pipeline version to plan from; the latest without. */
  version: z.number().int().positive().optional(),
});

const SourcePlan = z.object({
  nodeId: z.string(),
  type: z.string(),
  title: z.string(),
  /** How it can be replayed (by time, by offset and what an offset is), or null when it cannot. */
  replay: z.object({ by: z.array(z.enum(["time", "offset"])), offsetLabel: z.string(), note: z.string() }).nullable(),
  /** It reads a bounded stretch and ends by itself: a backfill may run it as it is. */
  endsByItself: z.boolean(),
  /** Why it cannot be replayed, when it cannot and does not end by itself. */
  refusal: z.string().nullable(),
});

const SinkPlan = z.object({
  nodeId: z.string(),
  connection: z.string(),
  table: z.string(),
  mode: z.string(),
  key: z.array(z.string()),
  /** The sources upstream of this sink: all must be replayed or end by themselves. */
  sources: z.array(SourcePlan),
  /** The other sinks of the pipeline, which a backfill of this one leaves out. */
  otherSinks: z.array(z.string()),
  /** A backfill of this sink still in progress (filling, or filled and not swapped or discarded). */
  activeBackfillId: z.string().nullable(),
});

export const BackfillPlan = z.object({
  pipelineId: z.string(),
  version: z.number(),
  sinks: z.array(SinkPlan),
});

export const StartBackfillInput = z.strictObject({
  pipelineId: PipelineId,
  version: z.number().int().positive().optional(),
  sinkNodeId: NodeId,
  /** For each source to replay, by node id: where it starts and (optionally) ends. */
  replay: z
    .record(NodeId, z.strictObject({ from: ReplayBoundInput, to: ReplayBoundInput.optional() }))
    .default({})
    .refine((r) => Object.keys(r).length <= 64, "at most 64 sources"),
});

export const BackfillIdInput = z.strictObject({ id: BackfillId });

export const ListBackfillsInput = z.strictObject({
  pipelineId: PipelineId.optional(),
  limit: z.number().int().min(1).max(100).default(20),
});

export const CompareInput = z.strictObject({
  id: BackfillId,
  /** Columns left out of the comparison (e.g. an updated_at the sink fills with now()). */
  ignoreColumns: z.array(z.string().min(1).max(63)).max(100).default([]),
});

export const SwapInput = z.strictObject({
  id: BackfillId,
  /**
   * With a primary key: copy the live rows whose key the shadow table lacks into it before the swap (rows the live
   * pipeline wrote past the backfill's end). Default on.
   */
  keepUnmatched: z.boolean().default(true),
});

const TableFigures = z.object({ rows: z.number(), checksum: z.string() });

const Difference = z.object({
  /** live: the row is in the live table only; shadow: in the shadow table only. */
  side: z.enum(["live", "shadow"]),
  /** The row's primary key values, when the table has a primary key. */
  key: z.record(z.string(), z.unknown()).nullable(),
  row: z.record(z.string(), z.unknown()),
});

export const Comparison = z.object({
  live: TableFigures,
  shadow: TableFigures,
  equal: z.boolean(),
  /** The columns compared (the table's, without the ignored ones). */
  columns: z.array(z.string()),
  ignoredColumns: z.array(z.string()),
  /** Primary-key columns, empty when the table has none. */
  key: z.array(z.string()),
  /** At most 20 rows each way that the other table does not hold (as whole rows, EXCEPT ALL). */
  differences: z.array(Difference),
  ms: z.number(),
  comparedAt: z.string(),
});
export type Comparison = z.infer<typeof Comparison>;

const SourceProgress = z.object({
  nodeId: z.string(),
  /** Records read so far. */
  read: z.number(),
  /** A bounded read's progress (0..1), when the source knows its end. */
  fraction: z.number().nullable(),
});

export const BackfillView = z.object({
  id: z.string(),
  pipelineId: z.string(),
  pipelineName: z.string(),
  sinkNodeId: z.string(),
  liveTable: z.string(),
  shadowTable: z.string(),
  generation: z.number(),
  replay: z.record(z.string(), z.unknown()),
  state: z.enum(["FILLING", "FILLED", "COMPARED", "SWAPPED", "FAILED", "DISCARDED"]),
  runId: z.string().nullable(),
  runStatus: z.string().nullable(),
  /** Records the sink wrote so far. */
  written: z.number().nullable(),
  sources: z.array(SourceProgress),
  /** Over all sources with a known end: 0..1, null when none knows. */
  fraction: z.number().nullable(),
  comparison: Comparison.nullable(),
  previousTable: z.string().nullable(),
  error: z.string().nullable(),
  createdBy: z.string(),
  createdAt: z.date(),
  updatedAt: z.date(),
  swappedAt: z.date().nullable(),
});
export type BackfillView = z.infer<typeof BackfillView>;
