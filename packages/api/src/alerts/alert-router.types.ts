import { ALERT_KINDS, ALERT_SEVERITIES } from "@sluice/pipeline/alert-rules";
import { z } from "zod";
import { PipelineId } from "../pipelines/pipeline-router.types";
import { RunId } from "../runs/run-router.types";

const AlertState = z.enum(["firing", "recovered"]);
const RuleId = z.string().min(1).max(64);

export const ListAlertsInput = z
  .strictObject({
    state: AlertState.optional(),
    pipelineId: PipelineId.optional(),
    runId: RunId.optional(),
    limit: z.number().int().min(1).max(500).default(100),
  })
  .default({ limit: 100 });

export const AlertView = z.object({
  id: z.string(),
  pipelineId: z.string(),
  pipelineName: z.string(),
  runId: z.string(),
  ruleId: z.string(),
  when: z.enum(ALERT_KINDS),
  node: z.string().nullable(),
  severity: z.enum(ALERT_SEVERITIES),
  state: AlertState,
  /** Since when it is in this state, epoch ms. */
  since: z.number(),
  lastValue: z.number().nullable(),
  summary: z.string(),
  /** Oldest first. */
  transitions: z.array(
    z.object({ state: AlertState, at: z.number(), value: z.number().nullable(), summary: z.string() }),
  ),
  webhookError: z.string().nullable(),
  silencedUntil: z.number().nullable(),
});
export type AlertView = z.infer<typeof AlertView>;

export const SilenceView = z.object({
  id: z.string(),
  pipelineId: z.string(),
  pipelineName: z.string(),
  /** Null: every rule of the pipeline. */
  ruleId: z.string().nullable(),
  until: z.number(),
});

export const AlertList = z.object({ alerts: z.array(AlertView), silences: z.array(SilenceView) });

export const InboxInput = z
  .strictObject({
    unreadOnly: z.boolean().default(false),
    limit: z.number().int().min(1).max(200).default(50),
  })
  .default({ unreadOnly: false, limit: 50 });

/** A run's alert rule changing state (alertId, pipelineId, runId), or a report's query alert (reportId). */
const InboxEntryView = z.object({
  id: z.string(),
  alertId: z.string().nullable(),
  pipelineId: z.string().nullable(),
  runId: z.string().nullable(),
  reportId: z.string().nullable(),
  state: AlertState,
  severity: z.enum(ALERT_SEVERITIES),
  text: z.string(),
  createdAt: z.number(),
  read: z.boolean(),
});

export const Inbox = z.object({ entries: z.array(InboxEntryView), unread: z.number() });

export const MarkReadInput = z.union([
  z.strictObject({ ids: z.array(z.string().min(1).max(64)).min(1, "name at least one inbox entry").max(500) }),
  z.strictObject({ all: z.literal(true) }),
]);

/** The longest one silence lasts. */
const MAX_SILENCE_MS = 30 * 86_400_000;

export const SilenceInput = z.strictObject({
  pipelineId: PipelineId,
  /** Empty: every rule of the pipeline. */
  ruleId: RuleId.optional(),
  forMs: z
    .number({ error: "a silence lasts a number of milliseconds" })
    .int("a silence lasts a whole number of milliseconds")
    .min(60_000, "a silence lasts at least a minute")
    .max(MAX_SILENCE_MS, "a silence lasts at most 30 days"),
});

export const SilenceId = z.string().min(1).max(64);
