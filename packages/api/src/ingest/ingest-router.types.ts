import { z } from "zod";
import { PipelineId } from "../pipelines/pipeline-router.types";
import { ExpiresInDays, TokenId, TokenName, TokenView } from "../tokens/token-router.types";

export const IngestPipelineInput = z.strictObject({ pipelineId: PipelineId });

export const CreateIngestTokenInput = z.strictObject({
  pipelineId: PipelineId,
  name: TokenName.default("Webhook"),
  expiresInDays: ExpiresInDays.default(365),
});

export const RevokeIngestTokenInput = z.strictObject({ pipelineId: PipelineId, id: TokenId });

export const IngestStatusView = z.object({
  /** The ingest URL's path, `/api/ingest/<pipelineId>`. */
  path: z.string(),
  /** An ingest token of the pipeline works now. */
  enabled: z.boolean(),
  /** The pipeline's ingest tokens, newest first, revoked and expired ones included; never their secrets. */
  tokens: z.array(TokenView),
  /** Records accepted and not yet read by the pipeline. */
  pending: z.number(),
  maxBacklog: z.number(),
  maxBodyBytes: z.number(),
});

export const CreatedIngestTokenView = z.object({
  /** Shown once: Sluice keeps only its SHA-256. */
  secret: z.string(),
  path: z.string(),
  token: TokenView,
});
