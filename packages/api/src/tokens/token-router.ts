import { z } from "zod";
import { adminProcedure, createTRPCRouter, withScope, workspaceProcedure } from "../trpc";
import {
  CreatedTokenView,
  CreatePersonalTokenInput,
  CreateWorkspaceTokenInput,
  TokenIdInput,
  TokenView,
} from "./token-router.types";
import { createToken, listTokens, revokeToken } from "./token-service";

// API tokens of the workspace the request addresses: any member manages their own personal tokens, admins the
// workspace's tokens. None of this can be done with a token ("session"), so a token that leaks cannot make more.
// Webhook ingest tokens are managed with their pipeline (ingest/ingest-router.ts).

const memberWithSession = withScope(workspaceProcedure, "session");
const adminWithSession = withScope(adminProcedure, "session");

export const tokenRouter = createTRPCRouter({
  /** The caller's own personal tokens in this workspace, newest first, revoked and expired ones included. */
  mine: memberWithSession
    .output(z.array(TokenView))
    .query(({ ctx }) =>
      listTokens(ctx.db, { workspaceId: ctx.workspaceId, kind: "PERSONAL", createdById: ctx.session.user.id }),
    ),
  /** A token that acts as the caller in this workspace, with at most the role they hold there at each request. */
  createPersonal: memberWithSession
    .input(CreatePersonalTokenInput)
    .output(CreatedTokenView)
    .mutation(({ ctx, input }) =>
      createToken(ctx.db, {
        ...input,
        workspaceId: ctx.workspaceId,
        kind: "PERSONAL",
        createdById: ctx.session.user.id,
      }),
    ),
  revokePersonal: memberWithSession
    .input(TokenIdInput)
    .output(TokenView)
    .mutation(({ ctx, input }) =>
      revokeToken(
        ctx.db,
        { workspaceId: ctx.workspaceId, kind: "PERSONAL", createdById: ctx.session.user.id },
        input.id,
      ),
    ),
  /** The workspace's own tokens, whoever made them. */
  workspace: adminWithSession
    .output(z.array(TokenView))
    .query(({ ctx }) => listTokens(ctx.db, { workspaceId: ctx.workspaceId, kind: "WORKSPACE" })),
  /**
   * A token of the workspace: it keeps working when its creator leaves, with the role it was given (viewer, editor or
   * admin: never owner, so never above the admin or owner who makes it).
   */
  createWorkspace: adminWithSession
    .input(CreateWorkspaceTokenInput)
    .output(CreatedTokenView)
    .mutation(({ ctx, input }) =>
      createToken(ctx.db, {
        ...input,
        workspaceId: ctx.workspaceId,
        kind: "WORKSPACE",
        createdById: ctx.session.user.id,
      }),
    ),
  revokeWorkspace: adminWithSession
    .input(TokenIdInput)
    .output(TokenView)
    .mutation(({ ctx, input }) => revokeToken(ctx.db, { workspaceId: ctx.workspaceId, kind: "WORKSPACE" }, input.id)),
});
