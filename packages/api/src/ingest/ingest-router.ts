import { createTRPCRouter, editorProcedure, workspaceProcedure } from "../trpc";
import { IngestPipelineInput, IngestStatusView, IngestTokenView, RotateIngestTokenInput } from "./ingest-router.types";
import { ingestStatus, revokeIngestToken, rotateIngestToken } from "./ingest-service";

// The webhook ingest URL of a pipeline: its status and backlog, and its token (created or rotated, revoked).

export const ingestRouter = createTRPCRouter({
  status: workspaceProcedure
    .input(IngestPipelineInput)
    .output(IngestStatusView)
    .query(({ ctx, input }) => ingestStatus(ctx, ctx.workspaceId, input.pipelineId)),
  rotateToken: editorProcedure
    .input(RotateIngestTokenInput)
    .output(IngestTokenView)
    .mutation(({ ctx, input }) => rotateIngestToken(ctx, ctx.workspaceId, input.pipelineId, input.graceSeconds)),
  revokeToken: editorProcedure.input(IngestPipelineInput).mutation(async ({ ctx, input }) => {
    await revokeIngestToken(ctx, ctx.workspaceId, input.pipelineId);
    return { ok: true as const };
  }),
});
