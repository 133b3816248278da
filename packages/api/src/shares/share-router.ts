import { z } from "zod";
import { RECHECK_MS } from "../auth/live-access";
import { runFigureStream } from "../runs/run-figure-stream";
import { createTRPCRouter, editorProcedure, publicProcedure, workspaceProcedure } from "../trpc";
import {
  CreatedShareLink,
  CreateRunLinkInput,
  CreateTemplateLinkInput,
  ListShareLinksInput,
  SharedView,
  ShareLinkIdInput,
  ShareLinkView,
  ShareTokenInput,
} from "./share-router.types";
import {
  createRunLink,
  createTemplateLink,
  listShareLinks,
  revokeShareLink,
  type ShareActor,
  viewShare,
} from "./share-service";
import { runByShareToken } from "./share-token";

function actorOf(ctx: Omit<ShareActor, "userId"> & { session: { user: { id: string } } }): ShareActor {
  return { db: ctx.db, workspaceId: ctx.workspaceId, role: ctx.role, userId: ctx.session.user.id };
}

// Share links (share-service.ts): editors make and revoke them, members list them, and anyone holding one — signed
// in or not — reads what it opens. The token is the key: 32 random bytes, compared by their hash.
export const shareRouter = createTRPCRouter({
  /** A link to a template's read-only page; shown once. The template becomes shared by link. */
  createTemplateLink: editorProcedure
    .input(CreateTemplateLinkInput)
    .output(CreatedShareLink)
    .mutation(({ ctx, input }) => createTemplateLink(actorOf(ctx), input.templateId)),
  /** A link to a run's read-only live view, expiring; shown once. */
  createRunLink: editorProcedure
    .input(CreateRunLinkInput)
    .output(CreatedShareLink)
    .mutation(({ ctx, input }) => createRunLink(actorOf(ctx), input)),
  list: workspaceProcedure
    .input(ListShareLinksInput)
    .output(z.array(ShareLinkView))
    .query(({ ctx, input }) => listShareLinks(actorOf(ctx), input)),
  revoke: editorProcedure.input(ShareLinkIdInput).mutation(async ({ ctx, input }) => {
    await revokeShareLink(actorOf(ctx), input.id);
    return { ok: true as const };
  }),
  /** What a link opens, for anyone holding it. */
  view: publicProcedure
    .input(ShareTokenInput)
    .output(SharedView)
    .query(({ ctx, input }) => viewShare(ctx.db, input.token)),
  /**
   * A shared run's per-second figures over SSE, ending with the run — or with a 404 once the link is revoked or
   * expires, checked again every RECHECK_MS while the stream is open.
   */
  figures: publicProcedure
    .input(
      ShareTokenInput.extend({
        lastEventId: z
          .string()
          .regex(/^\d{1,16}$/)
          .optional(),
      }),
    )
    .subscription(async function* ({ ctx, input, signal }) {
      const { runId } = await runByShareToken(ctx.db, input.token);
      let checkedAt = Date.now();
      for await (const item of runFigureStream(ctx, runId, input.lastEventId, signal)) {
        if (Date.now() - checkedAt >= RECHECK_MS) {
          checkedAt = Date.now();
          await runByShareToken(ctx.db, input.token);
        }
        yield item;
      }
    }),
});
