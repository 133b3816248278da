import { z } from "zod";
import { adminProcedure, createTRPCRouter, ownerProcedure, withScope, workspaceProcedure } from "../trpc";
import { MemberChange, MemberInput, MemberView, SetRoleInput } from "./member-router.types";
import { leaveWorkspace, listMembers, removeMember, setMemberRole, transferOwnership } from "./member-service";

const actorOf = (ctx: { session: { user: { id: string } }; workspaceId: string }) => ({
  userId: ctx.session.user.id,
  workspaceId: ctx.workspaceId,
});

/** Changing who belongs, and how: never with an API token, so a leaked one cannot let anyone in or lock anyone out. */
const membersWithSession = withScope(adminProcedure, "session");

export const memberRouter = createTRPCRouter({
  /** Every member sees who else sees the workspace, and in which role: whom to ask for more. */
  list: workspaceProcedure.output(z.array(MemberView)).query(({ ctx }) => listMembers(ctx.db, actorOf(ctx))),
  /** Admins grant up to admin; only owners grant, or take, the owner role; the last owner keeps it. */
  setRole: membersWithSession
    .input(SetRoleInput)
    .output(MemberChange)
    .mutation(({ ctx, input }) => setMemberRole(ctx.db, actorOf(ctx), input)),
  /** Admins remove members up to admin; only owners remove owners; the last owner stays. */
  remove: membersWithSession.input(MemberInput).mutation(async ({ ctx, input }) => {
    await removeMember(ctx.db, actorOf(ctx), input.userId);
    return { ok: true as const };
  }),
  /** Any member leaves; the last owner cannot. */
  leave: workspaceProcedure.mutation(async ({ ctx }) => {
    await leaveWorkspace(ctx.db, actorOf(ctx));
    return { ok: true as const };
  }),
  /** The member becomes an owner, the caller an admin, at once. */
  transferOwnership: ownerProcedure
    .input(MemberInput)
    .output(z.object({ changed: z.array(MemberChange) }))
    .mutation(({ ctx, input }) => transferOwnership(ctx.db, actorOf(ctx), input.userId)),
});
