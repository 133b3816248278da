import { NodeCounters } from "@sluice/pipeline/control/protocol";
import { RUN_EVENT_KINDS } from "@sluice/pipeline/control/run-events";
import { RUN_LOG_LEVELS } from "@sluice/pipeline/control/run-logs";
import { parseDeadLetterId } from "@sluice/pipeline/control/run-reader";
import { RUN_STATUSES, toDbStatus } from "@sluice/pipeline/control/run-status";
import { z } from "zod";
import { DraftVersion } from "../pipelines/draft-version.types";
import { VersionNumber } from "../pipelines/version-number";

export const RunId = z.string().min(1).max(64);

export const ParameterValues = z.record(z.string().max(64), z.union([z.string().max(10_000), z.number(), z.boolean()]));

export const StartRunInput = z
  .strictObject({
    pipelineId: z.string().min(1).max(64),
    /** Version to run; the latest when absent. */
    version: VersionNumber.optional(),
    parameters: ParameterValues.default({}),
    /** The editor's unsaved draft: saved as a new version and run, only if it could start (else nothing is saved). */
    draft: DraftVersion.optional(),
  })
  .refine((input) => input.version === undefined || input.draft === undefined, {
    message: "give either a version to run or a draft to save and run, not both",
    path: ["draft"],
  });

/** A run status as the database spells it (see run-status.ts). */
export const RunStatusEnum = z.enum(RUN_STATUSES.map(toDbStatus));

export const RunView = z.object({
  id: z.string(),
  pipelineId: z.string(),
  pipelineName: z.string(),
  version: z.number(),
  status: RunStatusEnum,
  delivery: z.string().nullable(),
  error: z.string().nullable(),
  createdAt: z.date(),
  startedAt: z.date().nullable(),
  finishedAt: z.date().nullable(),
  startedBy: z.string(),
  counters: z.record(z.string(), NodeCounters).nullable(),
});
export type RunView = z.infer<typeof RunView>;

export const ListRunsInput = z
  .strictObject({
    pipelineId: z.string().min(1).max(64).optional(),
    limit: z.number().int().min(1).max(200).default(50),
  })
  .default({ limit: 50 });

export const TailInput = z.strictObject({
  runId: RunId,
  nodeId: z.string().min(1).max(64),
  limit: z.number().int().min(1).max(1000).default(50),
});

export const RestartRunInput = z.strictObject({
  runId: RunId,
  /** Start over: delete the run's offsets and state first. */
  reset: z.boolean().default(false),
});

const DeadLetterId = z
  .string()
  .max(64)
  .refine((id) => parseDeadLetterId(id) !== undefined, "a dead letter id as listed, e.g. 0.2.1700000000000-0");

export const DeadLettersInput = z.strictObject({
  runId: RunId,
  limit: z.number().int().min(1).max(1000).default(100),
  /** The `next` of the page before: the id of its last letter. The newest letters when absent. */
  after: DeadLetterId.optional(),
});

const DeadLetterView = z.object({
  id: z.string(),
  stage: z.number(),
  partition: z.number(),
  nodeId: z.string(),
  port: z.string().nullable(),
  error: z.string(),
  record: z.unknown(),
  at: z.number(),
});

/** One page of a run's dead letters, newest first, and how many the run holds in all. */
export const DeadLetterPageView = z.object({
  total: z.number(),
  letters: z.array(DeadLetterView),
  next: z.string().nullable(),
});

export const ReplayInput = z.strictObject({
  runId: RunId,
  /** Dead letter ids as listed; all of the run's dead letters when absent. */
  ids: z.array(DeadLetterId).max(10_000).optional(),
});

/** One event of a run's timeline (pipeline/src/control/run-events.ts). */
export const RunEventView = z.object({
  id: z.string(),
  at: z.number(),
  kind: z.enum(RUN_EVENT_KINDS),
  error: z.string().optional(),
  stage: z.number().optional(),
  partition: z.number().optional(),
  worker: z.string().optional(),
  previousWorker: z.string().optional(),
  attempt: z.number().optional(),
  generation: z.number().optional(),
  reset: z.boolean().optional(),
});

const RunLogFilter = {
  runId: RunId,
  /** Lines at this level and above. */
  level: z.enum(RUN_LOG_LEVELS).optional(),
  /** Lines about this node only. */
  node: z.string().min(1).max(200).optional(),
};

export const RunLogsInput = z.strictObject({
  ...RunLogFilter,
  /** The `next` of the page before. */
  after: z.string().max(64).optional(),
  limit: z.number().int().min(1).max(500).default(100),
});

export const RunLogTailInput = z.strictObject(RunLogFilter);

const RunLogLineView = z.object({
  id: z.string(),
  at: z.number(),
  level: z.enum(RUN_LOG_LEVELS),
  message: z.string(),
  worker: z.string().optional(),
  stage: z.number().optional(),
  partition: z.number().optional(),
  node: z.string().optional(),
  fields: z.record(z.string(), z.unknown()),
});

export const RunLogPageView = z.object({ lines: z.array(RunLogLineView), next: z.string().nullable() });
