import { z } from "zod";
import { createTRPCRouter, editorProcedure, workspaceProcedure } from "../trpc";
import {
  CreatedSavedQuery,
  CreateSavedQueryInput,
  SavedQueryIdInput,
  SavedQueryListItem,
  SavedQueryView,
  UpdateSavedQueryInput,
} from "./saved-query-router.types";
import {
  createSavedQuery,
  deleteSavedQuery,
  getSavedQuery,
  listSavedQueries,
  updateSavedQuery,
} from "./saved-query-service";

// Saved queries (saved-query-service.ts): any member reads them; editors save, change and delete them.
export const savedQueryRouter = createTRPCRouter({
  list: workspaceProcedure
    .output(z.array(SavedQueryListItem))
    .query(({ ctx }) => listSavedQueries(ctx, ctx.workspaceId)),
  get: workspaceProcedure
    .input(SavedQueryIdInput)
    .output(SavedQueryView)
    .query(({ ctx, input }) => getSavedQuery(ctx, ctx.workspaceId, input.id)),
  create: editorProcedure
    .input(CreateSavedQueryInput)
    .output(CreatedSavedQuery)
    .mutation(({ ctx, input }) =>
      createSavedQuery(ctx, { workspaceId: ctx.workspaceId, userId: ctx.session.user.id }, input),
    ),
  update: editorProcedure
    .input(UpdateSavedQueryInput)
    .output(SavedQueryView)
    .mutation(({ ctx, input }) => updateSavedQuery(ctx, ctx.workspaceId, input)),
  delete: editorProcedure.input(SavedQueryIdInput).mutation(async ({ ctx, input }) => {
    await deleteSavedQuery(ctx, ctx.workspaceId, input.id);
    return { ok: true as const };
  }),
});
