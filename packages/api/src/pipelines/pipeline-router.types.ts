import { PipelineDefinition } from "@sluice/pipeline/definition";
import { z } from "zod";
import { RunStatusEnum } from "../runs/run-router.types";
import { DraftVersion } from "./draft-version.types";

export const PipelineId = z.string().min(1).max(64);

const PipelineName = z.string().trim().min(1, "give the pipeline a name").max(100);

export const ListPipelinesInput = z
  .strictObject({
    search: z.string().trim().max(100).optional(),
    limit: z.number().int().min(1).max(200).default(100),
  })
  .default({ limit: 100 });

export const CreatePipelineInput = z.strictObject({
  name: PipelineName,
  description: z.string().max(2000).default(""),
  /** An imported definition; an empty pipeline when absent. */
  definition: PipelineDefinition.optional(),
  /** Version 1's message; "Imported" or "Created" when absent (`sluice apply` names the file). */
  message: z.string().trim().max(500).optional(),
});

/** A pipeline's name in Sluice, or the `metadata.name` of its latest version. */
export const PipelineByNameInput = z.strictObject({ name: z.string().trim().min(1).max(100) });

export const SaveVersionInput = DraftVersion.extend({ id: PipelineId });

export const ListVersionsInput = z.strictObject({
  id: PipelineId,
  limit: z.number().int().min(1).max(500).default(200),
});

export const RenamePipelineInput = z.strictObject({
  id: PipelineId,
  name: PipelineName,
  description: z.string().max(2000).optional(),
});

export const DuplicatePipelineInput = z.strictObject({
  id: PipelineId,
  /** The copy's name; "<name> (copy)" (then "(copy 2)", …) when absent. */
  name: PipelineName.optional(),
  /** What the copy holds: the editor's draft ("Save as copy"); the latest saved version when absent. */
  definition: PipelineDefinition.optional(),
});

/** A version without its definition: what a history list shows. */
export const PipelineVersionSummary = z.object({
  number: z.number(),
  message: z.string(),
  author: z.string(),
  createdAt: z.date(),
  /** How many runs started from this version. */
  runs: z.number(),
});
export type PipelineVersionSummary = z.infer<typeof PipelineVersionSummary>;

const RunSummary = z.object({
  id: z.string(),
  status: RunStatusEnum,
  createdAt: z.date(),
});

export const PipelineListItem = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  latestVersion: z.number(),
  updatedAt: z.date(),
  createdBy: z.string(),
  lastRun: RunSummary.nullable(),
});

const PipelineVersionView = z.object({
  id: z.string(),
  number: z.number(),
  message: z.string(),
  createdAt: z.date(),
  author: z.string(),
  definition: PipelineDefinition,
});

export const PipelineView = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  latestVersion: z.number(),
  createdAt: z.date(),
  updatedAt: z.date(),
  version: PipelineVersionView,
  activeRun: RunSummary.nullable(),
});
export type PipelineView = z.infer<typeof PipelineView>;

export const PreviewInput = z.strictObject({
  /** The draft as it is in the editor, saved or not. */
  definition: PipelineDefinition,
  parameters: z.record(z.string().max(64), z.union([z.string().max(10_000), z.number(), z.boolean()])).default({}),
  limit: z.number().int().min(1).max(500).default(50),
  timeoutMs: z.number().int().min(500).max(20_000).default(5000),
});
