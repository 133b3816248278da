import { z } from "zod";
import { PipelineId } from "../pipelines/pipeline-router.types";
import { VersionNumber } from "../pipelines/version-number";
import { ParameterValues } from "../runs/run-router.types";

// Plain zod, safe in the browser. Whether a pattern and a time zone are ones BullMQ can schedule is checked by the
// service with BullMQ's own parser (schedule-timing.ts), which is server-only.

export const ScheduleId = z.string().min(1).max(64);

/** 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, e.g. "0 3 * * *". */
const CronPattern = z.string().trim().min(1, "give a cron pattern, e.g. 0 3 * * *").max(200);

/** An IANA time zone name such as "UTC" or "Europe/Berlin". */
const TimeZoneName = z.string().trim().min(1, "give a time zone, e.g. UTC").max(64);

const ScheduleOverlap = z.enum(["SKIP", "QUEUE"]);

const ScheduleOutcome = z.enum(["STARTED", "SKIPPED", "QUEUED", "FAILED"]);

/** A pinned version number; null runs the latest version at fire time. */
const PinnedVersion = VersionNumber.nullable();

export const CreateScheduleInput = z.strictObject({
  pipelineId: PipelineId,
  pattern: CronPattern,
  timeZone: TimeZoneName.default("UTC"),
  version: PinnedVersion.default(null),
  parameters: ParameterValues.default({}),
  overlap: ScheduleOverlap.default("SKIP"),
  enabled: z.boolean().default(true),
});

/** Only the fields given change. */
export const UpdateScheduleInput = z.strictObject({
  id: ScheduleId,
  pattern: CronPattern.optional(),
  timeZone: TimeZoneName.optional(),
  version: PinnedVersion.optional(),
  parameters: ParameterValues.optional(),
  overlap: ScheduleOverlap.optional(),
  enabled: z.boolean().optional(),
});

export const ListSchedulesInput = z
  .strictObject({
    /** Only this pipeline's schedules; the whole workspace's when absent. */
    pipelineId: PipelineId.optional(),
  })
  .default({});

export const ScheduleView = z.object({
  id: z.string(),
  pipelineId: z.string(),
  pipelineName: z.string(),
  pattern: z.string(),
  timeZone: z.string(),
  version: z.number().nullable(),
  parameters: ParameterValues,
  overlap: ScheduleOverlap,
  enabled: z.boolean(),
  createdBy: z.string(),
  createdAt: z.date(),
  updatedAt: z.date(),
  lastFiredAt: z.date().nullable(),
  lastRunId: z.string().nullable(),
  lastOutcome: ScheduleOutcome.nullable(),
  lastMessage: z.string().nullable(),
  /** Since when a fire waits for the active run to end (overlap QUEUE). */
  pendingSince: z.date().nullable(),
  /** The next time the pattern fires; null while disabled. */
  nextFireAt: z.date().nullable(),
});
export type ScheduleView = z.infer<typeof ScheduleView>;

export const ScheduleWriteResult = z.object({
  schedule: ScheduleView,
  /** Problems that would make a fire fail right now (the schedule is saved regardless), and mirroring trouble. */
  warnings: z.array(z.string()),
});
export type ScheduleWriteResult = z.infer<typeof ScheduleWriteResult>;

export const FireResult = z.object({
  /** IGNORED: nothing was done (the schedule is gone or disabled, or this fire was already handled). */
  outcome: z.enum([...ScheduleOutcome.options, "IGNORED"]),
  runId: z.string().nullable(),
  message: z.string(),
});
export type FireResult = z.infer<typeof FireResult>;
