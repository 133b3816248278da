import { TokenView } from "../tokens/token-router.types";
import { createTRPCRouter, editorProcedure, withScope, workspaceProcedure } from "../trpc";
import {
  CreatedIngestTokenView,
  CreateIngestTokenInput,
  IngestPipelineInput,
  IngestStatusView,
  RevokeIngestTokenInput,
} from "./ingest-router.types";
import { createIngestToken, ingestStatus, revokeIngestToken } from "./ingest-service";

// The webhook ingest URL of a pipeline: its status and backlog, and its ingest tokens (API tokens of the kind
// "ingest", bound to this pipeline): made and revoked here, by editors, never with a token.

const editorWithSession = withScope(editorProcedure, "session");

export const ingestRouter = createTRPCRouter({
  status: workspaceProcedure
    .input(IngestPipelineInput)
    .output(IngestStatusView)
    .query(({ ctx, input }) => ingestStatus(ctx, ctx.workspaceId, input.pipelineId)),
  createToken: editorWithSession
    .input(CreateIngestTokenInput)
    .output(CreatedIngestTokenView)
    .mutation(({ ctx, input }) =>
      createIngestToken(ctx, { workspaceId: ctx.workspaceId, userId: ctx.session.user.id }, input.pipelineId, input),
    ),
  revokeToken: editorWithSession
    .input(RevokeIngestTokenInput)
    .output(TokenView)
    .mutation(({ ctx, input }) => revokeIngestToken(ctx, ctx.workspaceId, input.pipelineId, input.id)),
});
