import { z } from "zod";
import { auditActorOf } from "../audit/audit-trail";
import { adminProcedure, authedProcedure, createTRPCRouter, publicProcedure, withScope } from "../trpc";
import {
  AcceptedInvitation,
  CreatedInvitation,
  CreateInvitationInput,
  InvitationIdInput,
  InvitationPreview,
  InvitationTokenInput,
  InvitationView,
} from "./invitation-router.types";
import {
  acceptInvitation,
  createInvitation,
  listInvitations,
  previewInvitation,
  revokeInvitation,
} from "./invitation-service";

/** Inviting is letting someone in: never with an API token (tokens/token-scopes.ts). */
const invitingWithSession = withScope(adminProcedure, "session");

export const invitationRouter = createTRPCRouter({
  /** The link's token is in the answer, once; only owners invite owners. */
  create: invitingWithSession
    .input(CreateInvitationInput)
    .output(CreatedInvitation)
    .mutation(({ ctx, input }) =>
      createInvitation(ctx.db, { userId: ctx.session.user.id, workspaceId: ctx.workspaceId, role: ctx.role }, input),
    ),
  list: invitingWithSession
    .output(z.array(InvitationView))
    .query(({ ctx }) => listInvitations(ctx.db, ctx.workspaceId)),
  revoke: invitingWithSession.input(InvitationIdInput).mutation(async ({ ctx, input }) => {
    await revokeInvitation(ctx.db, ctx.workspaceId, input.id);
    return { ok: true as const };
  }),
  /**
   * For the link's page, signed in or not: the token is the key (32 random bytes), and it shows only the workspace's
   * name, the role, who invited, the email it is for and whether it can still be accepted.
   */
  preview: publicProcedure
    .input(InvitationTokenInput)
    .output(InvitationPreview)
    .query(({ ctx, input }) => previewInvitation(ctx.db, input.token)),
  accept: authedProcedure
    .input(InvitationTokenInput)
    .output(AcceptedInvitation)
    .mutation(({ ctx, input }) =>
      acceptInvitation(ctx.db, ctx.session.user, input.token, auditActorOf({ ...ctx, session: ctx.session })),
    ),
});
