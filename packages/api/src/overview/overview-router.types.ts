import { ALERT_SEVERITIES } from "@sluice/pipeline/alert-rules";
import { OFFSET_LAG_UNITS } from "@sluice/pipeline/control/node-figures";
import { RUN_STATUSES } from "@sluice/pipeline/control/run-status";
import { z } from "zod";

// overview.get: the workspace's going runs with a health verdict each, the runs that failed in the last hour, and
// the nodes furthest behind across its running pipelines.

export const OverviewInput = z
  .strictObject({
    /** How many of the worst laggards to list (10 where absent). */
    laggards: z.number().int().min(1, "list at least 1 laggard").max(50, "list at most 50 laggards").optional(),
  })
  .optional();

/** Worst first: the order the overview lists runs in. */
export const HEALTH_VERDICTS = ["failing", "alerting", "stalled", "lagging", "healthy"] as const;
export const HealthVerdict = z.enum(HEALTH_VERDICTS);
export type HealthVerdict = z.infer<typeof HealthVerdict>;

/** Why a run counts as stalled. */
const Stall = z.object({
  /**
   * `no-records`: running, and no node moved a record for `quietMs`; `no-workers`: running with partitions left to
   * do, and no live worker holds any of them; `not-started`: queued for `quietMs` without a worker taking it.
   */
  reason: z.enum(["no-records", "no-workers", "not-started"]),
  /** How long it has been quiet (or waiting), ms; a lower bound when `atLeast`. */
  quietMs: z.number(),
  /** Nothing moved within the sparkline's window either: the run has been quiet at least `quietMs`. */
  atLeast: z.boolean(),
  /** The same in words: "no records for 3 min". */
  summary: z.string(),
});

export const Sparkline = z.object({
  /** Start of the first point's bucket (epoch ms); points are `stepMs` apart, the last one still filling. */
  from: z.number(),
  stepMs: z.number(),
  /** Records the run's sources emitted per second; null before the run started. */
  inPerSec: z.array(z.number().nullable()),
  /** Records its sinks took in per second. */
  outPerSec: z.array(z.number().nullable()),
});
export type Sparkline = z.infer<typeof Sparkline>;

export const OverviewRun = z.object({
  runId: z.string(),
  pipelineId: z.string(),
  pipelineName: z.string(),
  status: z.enum(RUN_STATUSES),
  createdAt: z.number(),
  startedAt: z.number().nullable(),
  /** Records in (sources' output) and out (sinks' input) per second over the last few seconds. */
  inPerSec: z.number(),
  outPerSec: z.number(),
  sparkline: Sparkline,
  /** Records that failed at a node (dead letters) in the last hour. */
  errorsLastHour: z.number(),
  /** When any node last moved a record (epoch ms); null when none did within the sparkline's window. */
  lastRecordsAt: z.number().nullable(),
  alerts: z.object({
    firing: z.number(),
    /** The highest severity of the firing ones; null when none fires. */
    severity: z.enum(ALERT_SEVERITIES).nullable(),
  }),
  /** Task partitions: all of them, those finished, and those a live worker holds now. */
  partitions: z.object({ total: z.number(), done: z.number(), held: z.number() }),
  /** Partitions waiting to try again after an error (a source or sink out of reach). */
  retrying: z.number(),
  /** The largest end-to-end lag of its nodes (now minus the watermark), ms; null where no node has a watermark. */
  maxLagMs: z.number().nullable(),
  /** A shuffle edge's producers waited on its consumers in the last few seconds. */
  backpressured: z.boolean(),
  verdict: HealthVerdict,
  /** Why it is stalled; set even when a worse verdict (failing, alerting) is shown. */
  stall: Stall.nullable(),
  /** One sentence saying why the verdict is what it is. */
  reason: z.string(),
});
export type OverviewRun = z.infer<typeof OverviewRun>;

const FailedRun = z.object({
  runId: z.string(),
  pipelineId: z.string(),
  pipelineName: z.string(),
  error: z.string().nullable(),
  startedAt: z.number().nullable(),
  finishedAt: z.number(),
});

export const Laggard = z.object({
  runId: z.string(),
  pipelineId: z.string(),
  pipelineName: z.string(),
  nodeId: z.string(),
  /** The lag this node adds: its end-to-end lag minus that of the furthest-behind node feeding it, ms. */
  ownLagMs: z.number(),
  /** Now minus the node's watermark (the event time it has reached), ms. */
  endToEndLagMs: z.number(),
  /** How far its input is behind, in the input's unit (shuffle entries, or the source's own); null where unknown. */
  inputLag: z.number().nullable(),
  /** A source's offset lag: how far it is behind what its system holds for it; null where it cannot say. */
  offsetLag: z.object({ value: z.number(), unit: z.enum(OFFSET_LAG_UNITS) }).nullable(),
  /** An edge into it was backpressured in the last few seconds. */
  backpressured: z.boolean(),
});
export type Laggard = z.infer<typeof Laggard>;

export const OverviewView = z.object({
  /** When the overview was read (epoch ms). */
  at: z.number(),
  runs: z.array(OverviewRun),
  failedLastHour: z.array(FailedRun),
  laggards: z.array(Laggard),
});
export type OverviewView = z.infer<typeof OverviewView>;
