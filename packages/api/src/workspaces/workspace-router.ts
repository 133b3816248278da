import { auditActorOf } from "../audit/audit-trail";
import { scheduleQueueFor } from "../schedules/schedule-queue";
import { adminProcedure, authedProcedure, createTRPCRouter, ownerProcedure } from "../trpc";
import {
  CreateWorkspaceInput,
  DeleteWorkspaceInput,
  RenameWorkspaceInput,
  WorkspaceView,
} from "./workspace-router.types";
import { createWorkspace, deleteWorkspace, renameWorkspace } from "./workspace-service";

// The workspace a request addresses (header `x-sluice-workspace`), except `create`, which makes a new one. Which
// workspaces the caller belongs to, and their role in each, is `auth.me`.

export const workspaceRouter = createTRPCRouter({
  /** Any signed-in user makes a workspace of their own, and is its owner. */
  create: authedProcedure
    .input(CreateWorkspaceInput)
    .output(WorkspaceView)
    .mutation(({ ctx, input }) =>
      createWorkspace(ctx.db, ctx.session.user.id, input.name, auditActorOf({ ...ctx, session: ctx.session })),
    ),
  rename: adminProcedure
    .input(RenameWorkspaceInput)
    .output(WorkspaceView)
    .mutation(({ ctx, input }) => renameWorkspace(ctx.db, ctx.workspaceId, input.name)),
  /** Everything in it goes: pipelines, runs, connections, schedules, members, invitations. */
  delete: ownerProcedure.input(DeleteWorkspaceInput).mutation(async ({ ctx, input }) => {
    await deleteWorkspace(
      { db: ctx.db, scheduleQueue: scheduleQueueFor(ctx) },
      { userId: ctx.session.user.id, workspaceId: ctx.workspaceId },
      input,
    );
    return { ok: true as const };
  }),
});
