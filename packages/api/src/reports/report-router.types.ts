import { ALERT_SEVERITIES } from "@sluice/pipeline/alert-rules";
import { z } from "zod";

// Scheduled reports: a saved query run on a cron pattern in a time zone, its result written as a file in the
// workspace's files directory and/or posted to a webhook connection, each run kept as a delivery; with a condition,
// a query alert. Plain zod, safe in the browser: whether the pattern and zone are ones BullMQ can schedule, whether
// the webhook connection exists and the file path is allowed, is checked by the service (report-service.ts).

const ReportId = z.string().min(1).max(64);

export const REPORT_FORMATS = ["CSV", "PARQUET"] as const;
const ReportFormat = z.enum(REPORT_FORMATS);

/** The file extension each format writes. */
export const FORMAT_EXTENSION: Record<(typeof REPORT_FORMATS)[number], string> = { CSV: ".csv", PARQUET: ".parquet" };

/** The windows a report's query may look back over, and their length. */
export const REPORT_RANGES = { "15m": 15 * 60_000, "1h": 3_600_000, "1d": 86_400_000, "7d": 7 * 86_400_000 } as const;
export type ReportRange = keyof typeof REPORT_RANGES;
const RANGE_NAMES = Object.keys(REPORT_RANGES) as [ReportRange, ...ReportRange[]];
const Range = z.enum(RANGE_NAMES, { error: `a range is one of ${RANGE_NAMES.join(", ")}` });

const CONDITION_OPS = [">", ">=", "<", "<=", "=", "!="] as const;
const ConditionOp = z.enum(CONDITION_OPS, { error: `an operator is one of ${CONDITION_OPS.join(" ")}` });
const Threshold = z.number({ error: "a threshold is a number" }).finite("a threshold is a finite number");

/** A query alert: a test on the result's row count, or on one column of its first row. */
export const ReportCondition = z.discriminatedUnion(
  "kind",
  [
    z.strictObject({ kind: z.literal("rows"), op: ConditionOp, value: Threshold }),
    z.strictObject({
      kind: z.literal("value"),
      column: z.string().trim().min(1, "name the column the condition tests").max(200),
      op: ConditionOp,
      value: Threshold,
    }),
  ],
  { error: 'a condition has kind "rows" (the row count) or "value" (a column of the first row)' },
);
export type ReportCondition = z.infer<typeof ReportCondition>;

const Name = z.string().trim().min(1, "give the report a name").max(100, "a report's name is at most 100 characters");
const CronPattern = z.string().trim().min(1, "give a cron pattern, e.g. 0 6 * * *").max(200);
const TimeZoneName = z.string().trim().min(1, "give a time zone, e.g. UTC").max(64);
/** Relative to the workspace's files directory; `{date}` and `{time}` are filled in at fire time. */
const FilePath = z
  .string()
  .trim()
  .min(1, "give a file path, or none")
  .max(300, "a file path is at most 300 characters");
const WebhookName = z.string().trim().min(1, "name a webhook connection, or none").max(100);
const Severity = z.enum(ALERT_SEVERITIES);

export const CreateReportInput = z.strictObject({
  name: Name,
  savedQueryId: z.string().min(1).max(64),
  pattern: CronPattern,
  timeZone: TimeZoneName.default("UTC"),
  /** Null: the query's own defaults for `from` and `to`. */
  range: Range.nullable().default(null),
  format: ReportFormat.default("CSV"),
  filePath: FilePath.nullable().default(null),
  webhookConnection: WebhookName.nullable().default(null),
  condition: ReportCondition.nullable().default(null),
  severity: Severity.default("warning"),
  enabled: z.boolean().default(true),
});

/** Only the fields given change. */
export const UpdateReportInput = z.strictObject({
  id: ReportId,
  name: Name.optional(),
  savedQueryId: z.string().min(1).max(64).optional(),
  pattern: CronPattern.optional(),
  timeZone: TimeZoneName.optional(),
  range: Range.nullable().optional(),
  format: ReportFormat.optional(),
  filePath: FilePath.nullable().optional(),
  webhookConnection: WebhookName.nullable().optional(),
  condition: ReportCondition.nullable().optional(),
  severity: Severity.optional(),
  enabled: z.boolean().optional(),
});

export const ReportIdInput = z.strictObject({ id: ReportId });
export const EnableReportInput = z.strictObject({ id: ReportId, enabled: z.boolean() });

const DeliveryOutcome = z.enum(["running", "delivered", "failed"]);

export const DeliveryView = z.object({
  id: z.string(),
  trigger: z.enum(["schedule", "manual"]),
  startedAt: z.date(),
  finishedAt: z.date().nullable(),
  outcome: DeliveryOutcome,
  rows: z.number().nullable(),
  bytes: z.number().nullable(),
  /** Relative to the workspace's files directory. */
  file: z.string().nullable(),
  webhookStatus: z.number().nullable(),
  conditionMet: z.boolean().nullable(),
  error: z.string().nullable(),
});
export type DeliveryView = z.infer<typeof DeliveryView>;

export const ReportView = z.object({
  id: z.string(),
  name: z.string(),
  savedQueryId: z.string(),
  savedQueryName: z.string(),
  pattern: z.string(),
  timeZone: z.string(),
  range: Range.nullable(),
  format: ReportFormat,
  filePath: z.string().nullable(),
  webhookConnection: z.string().nullable(),
  condition: ReportCondition.nullable(),
  severity: Severity,
  enabled: z.boolean(),
  /** Whether the condition held at the last delivery; null before the first or without a condition. */
  conditionMet: z.boolean().nullable(),
  createdBy: z.string(),
  createdAt: z.date(),
  updatedAt: z.date(),
  /** The next slot; null while disabled. */
  nextFireAt: z.date().nullable(),
  /** The newest few, newest first. */
  lastDeliveries: z.array(DeliveryView),
});
export type ReportView = z.infer<typeof ReportView>;

export const ReportWriteResult = z.object({
  report: ReportView,
  /** Trouble that does not stop the save (Redis could not be updated now). */
  warnings: z.array(z.string()),
});

export const DeliveriesInput = z.strictObject({
  reportId: ReportId,
  limit: z.int().min(1).max(100).default(20),
  /** The id of the last delivery of the previous page. */
  cursor: z.string().min(1).max(64).optional(),
  /** Sent by useInfiniteQuery with the cursor; pages only go back in time, so it changes nothing. */
  direction: z.enum(["forward", "backward"]).optional(),
});

export const DeliveryPage = z.object({ deliveries: z.array(DeliveryView), nextCursor: z.string().nullable() });
