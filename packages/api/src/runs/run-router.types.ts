import { NodeCounters } from "@sluice/pipeline/control/protocol";
import { RUN_EVENT_KINDS } from "@sluice/pipeline/control/run-events";
import { RUN_LOG_LEVELS } from "@sluice/pipeline/control/run-logs";
import { parseDeadLetterId } from "@sluice/pipeline/control/run-reader";
import { RUN_STATUSES, toDbStatus } from "@sluice/pipeline/control/run-status";
import { z } from "zod";
import { DraftVersion } from "../pipelines/draft-version.types";
import { VersionNumber } from "../pipelines/version-number";

export const RunId = z.string().min(1).max(64);

/**
 * A run's live stream (runs.live, runs.figures). `lastEventId` is the id of the last event the client got, which
 * tRPC's client sends when it reconnects after a dropped stream (the browser's EventSource, or retryLink): runs.figures
 * resumes after it; runs.live, whose every event is the whole state, starts from now.
 */
export const LiveRunInput = z.strictObject({
  runId: RunId,
  lastEventId: z
    .string()
    .regex(/^\d{1,16}$/, "the id of an event of this stream")
    .optional(),
});

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

/** A group of dead letters as listed by deadLetterGroups: one node's letters that failed for one reason. */
const DeadLetterGroupRef = z.strictObject({
  nodeId: z.string().min(1).max(200),
  reason: z.string().max(2000),
});

export const DeadLettersInput = z.strictObject({
  runId: RunId,
  limit: z.number().int().min(1).max(1000).default(100),
  /** The `next` of the page before: the id of its last letter. The newest letters when absent. */
  after: DeadLetterId.optional(),
  /** Only this group's letters. */
  group: DeadLetterGroupRef.optional(),
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
  sequence: z.number().nullable(),
  fixed: z.object({ by: z.string(), at: z.number(), how: z.string() }).nullable(),
});

/** One page of a run's dead letters, newest first, how many the run holds in all and how many were discarded. */
export const DeadLetterPageView = z.object({
  total: z.number(),
  discarded: z.number(),
  /** Why replaying cannot work now (the run has ended); null while it can. */
  replayRefusal: z.string().nullable(),
  letters: z.array(DeadLetterView),
  next: z.string().nullable(),
});

export const DeadLetterGroupsView = z.object({
  total: z.number(),
  groups: z.array(
    z.object({ nodeId: z.string(), reason: z.string(), count: z.number(), example: z.string(), lastAt: z.number() }),
  ),
});

/** Which dead letters an action takes: the ids given, a group, or with neither all the run holds. */
const DeadLetterTargetInput = {
  runId: RunId,
  /** Dead letter ids as listed. */
  ids: z.array(DeadLetterId).min(1).max(10_000).optional(),
  group: DeadLetterGroupRef.optional(),
};

const oneTarget = (input: { ids?: unknown; group?: unknown }) => input.ids === undefined || input.group === undefined;
const ONE_TARGET = { message: "give either ids or a group (or neither, for all), not both", path: ["group"] };

export const ReplayInput = z.strictObject(DeadLetterTargetInput).refine(oneTarget, ONE_TARGET);

export const DiscardInput = z
  .strictObject({
    ...DeadLetterTargetInput,
    /** Why: kept on the run's timeline. */
    reason: z.string().trim().min(3, "say why these dead letters are discarded (at least 3 characters)").max(500),
  })
  .refine(oneTarget, ONE_TARGET);

/** Assignments, one a line: `price = CAST(price AS double)`. */
const FixExpression = z.string().trim().min(1, "write an assignment, e.g. price = CAST(price AS double)").max(65_536);

export const FixPreviewInput = z
  .strictObject({ ...DeadLetterTargetInput, expression: FixExpression })
  .refine(oneTarget, ONE_TARGET);

export const FixPreviewView = z.object({
  rows: z.array(z.object({ id: z.string(), before: z.unknown(), after: z.unknown(), error: z.string().nullable() })),
});

export const FixInput = z
  .strictObject({
    ...DeadLetterTargetInput,
    expression: FixExpression,
    /** Send the fixed letters back at once; otherwise they stay dead letters, marked fixed. */
    replay: z.boolean().default(false),
  })
  .refine(oneTarget, ONE_TARGET);

export const FixOneInput = z.strictObject({
  runId: RunId,
  id: DeadLetterId,
  /** The record as JSON text (an object). */
  record: z
    .string()
    .min(2)
    .max(1024 * 1024, "a record of at most 1 MiB of JSON"),
  replay: z.boolean().default(false),
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
  by: z.string().optional(),
  count: z.number().optional(),
  scope: z.string().optional(),
  reason: z.string().optional(),
  fix: z.string().optional(),
  replayed: z.boolean().optional(),
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
