import { z } from "zod";
import { PipelineId } from "../pipelines/pipeline-router.types";

export const IngestPipelineInput = z.strictObject({ pipelineId: PipelineId });

export const RotateIngestTokenInput = z.strictObject({
  pipelineId: PipelineId,
  /** How long the token being replaced keeps working, so senders can switch over (default: it stops at once). */
  graceSeconds: z
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 3600)
    .default(0),
});

export const IngestStatusView = z.object({
  /** The ingest URL's path, `/api/ingest/<pipelineId>`. */
  path: z.string(),
  /** A token exists. */
  enabled: z.boolean(),
  tokenCreatedAt: z.date().nullable(),
  /** Until when the token replaced last still works. */
  previousValidUntil: z.date().nullable(),
  /** Records accepted and not yet read by the pipeline. */
  pending: z.number(),
  maxBacklog: z.number(),
  maxBodyBytes: z.number(),
});

export const IngestTokenView = z.object({
  /** Shown once: Sluice keeps only its SHA-256. */
  token: z.string(),
  path: z.string(),
  createdAt: z.date(),
});
