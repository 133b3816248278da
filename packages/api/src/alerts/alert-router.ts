import { z } from "zod";
import { createTRPCRouter, editorProcedure, workspaceProcedure } from "../trpc";
import {
  AlertList,
  Inbox,
  InboxInput,
  ListAlertsInput,
  MarkReadInput,
  SilenceId,
  SilenceInput,
  SilenceView,
} from "./alert-router.types";
import { listAlerts, listInbox, markRead, silence, unsilence } from "./alert-service";

// Any member sees the workspace's alerts and its inbox. The inbox's read state is the workspace's (not yet per
// user), so marking entries read changes what every member sees: it takes the editor role, like silencing, which
// changes what the workspace is told.
export const alertRouter = createTRPCRouter({
  list: workspaceProcedure
    .input(ListAlertsInput)
    .output(AlertList)
    .query(({ ctx, input }) => listAlerts(ctx.db, ctx.workspaceId, input)),
  inbox: workspaceProcedure
    .input(InboxInput)
    .output(Inbox)
    .query(({ ctx, input }) => listInbox(ctx.db, ctx.workspaceId, input)),
  markRead: editorProcedure
    .input(MarkReadInput)
    .output(z.object({ marked: z.number() }))
    .mutation(({ ctx, input }) => markRead(ctx.db, ctx.workspaceId, input)),
  silence: editorProcedure
    .input(SilenceInput)
    .output(SilenceView)
    .mutation(({ ctx, input }) =>
      silence(ctx.db, { workspaceId: ctx.workspaceId, userId: ctx.session.user.id }, input),
    ),
  unsilence: editorProcedure.input(z.strictObject({ id: SilenceId })).mutation(async ({ ctx, input }) => {
    await unsilence(ctx.db, ctx.workspaceId, input.id);
    return { ok: true as const };
  }),
});
