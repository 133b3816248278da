import { PipelineDefinition } from "@sluice/pipeline/definition";
import { z } from "zod";
import { MAX_VERSION } from "./version-number";

/** An edited definition to save as the next version (pipelines.saveVersion, and runs.start's save-and-start). */
export const DraftVersion = z.strictObject({
  /** The version the edit started from; the save is refused if someone saved a newer one meanwhile. */
  baseVersion: z
    .number()
    .int()
    .min(0)
    .max(MAX_VERSION - 1, `a version number is at most ${MAX_VERSION}`),
  definition: PipelineDefinition,
  message: z.string().trim().max(500).default(""),
});
