import { NodeCounters, RunSnapshot } from "@sluice/pipeline/control/protocol";
import { z } from "zod";
import { VersionNumber } from "../pipelines/version-number";

export const RunId = z.string().min(1).max(64);

export const ParameterValues = z.record(z.string().max(64), z.union([z.string().max(10_000), z.number(), z.boolean()]));

export const StartRunInput = z.strictObject({
  pipelineId: z.string().min(1).max(64),
  /** Version to run; the latest when absent. */
  version: VersionNumber.optional(),
  parameters: ParameterValues.default({}),
});

export const RunStatusEnum = z.enum(["QUEUED", "RUNNING", "PAUSED", "STOPPING", "COMPLETED", "STOPPED", "FAILED"]);

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

export const LiveRunOutput = RunSnapshot;

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

export const DeadLettersInput = z.strictObject({
  runId: RunId,
  limit: z.number().int().min(1).max(1000).default(100),
});

export const DeadLetterView = z.object({
  id: z.string(),
  stage: z.number(),
  partition: z.number(),
  nodeId: z.string(),
  port: z.string().nullable(),
  error: z.string(),
  record: z.unknown(),
  at: z.number(),
});

export const ReplayInput = z.strictObject({
  runId: RunId,
  /** Dead letter ids as listed; all of the run's dead letters when absent. */
  ids: z
    .array(z.string().regex(/^\d+\.\d+\.\d+-\d+$/, "a dead letter id as listed, e.g. 0.2.1700000000000-0"))
    .max(10_000)
    .optional(),
});
