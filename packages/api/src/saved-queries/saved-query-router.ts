import { z } from "zod";
import { createTRPCRouter, editorProcedure, workspaceProcedure } from "../trpc";
import {
  CreatedSavedQuery,
  CreateSavedQueryInput,
  ExportSavedQueryInput,
  RunSavedQueryInput,
  SavedQueryIdInput,
  SavedQueryListItem,
  SavedQueryResult,
  SavedQueryView,
  UpdateSavedQueryInput,
} from "./saved-query-router.types";
import {
  createSavedQuery,
  deleteSavedQuery,
  getSavedQuery,
  listSavedQueries,
  runSavedQuery,
  savedQueryToRun,
  updateSavedQuery,
} from "./saved-query-service";

// Saved queries (saved-query-service.ts): any member reads and runs them (their SQL is fixed); editors save, change
// and delete them.
export const savedQueryRouter = createTRPCRouter({
  list: workspaceProcedure
    .output(z.array(SavedQueryListItem))
    .query(({ ctx }) => listSavedQueries(ctx, ctx.workspaceId)),
  get: workspaceProcedure
    .input(SavedQueryIdInput)
    .output(SavedQueryView)
    .query(({ ctx, input }) => getSavedQuery(ctx, ctx.workspaceId, input.id)),
  /**
   * Runs a saved query as saved, with parameter values and a time range; a query (it only reads), so dashboards'
   * tiles can refetch it. A token needs read.
   */
  run: workspaceProcedure
    .input(RunSavedQueryInput)
    .output(SavedQueryResult)
    .query(({ ctx, input }) =>
      runSavedQuery(ctx, { workspaceId: ctx.workspaceId, userId: ctx.session.user.id }, input),
    ),
  /** Checks a download of a saved query's result (POST /api/queries/export calls it first); the file comes from the route. */
  exportPlan: workspaceProcedure.input(ExportSavedQueryInput).query(async ({ ctx, input }) => {
    const saved = await savedQueryToRun(ctx, ctx.workspaceId, input.id);
    return { workspaceId: ctx.workspaceId, userId: ctx.session.user.id, name: saved.name, ...input };
  }),
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
