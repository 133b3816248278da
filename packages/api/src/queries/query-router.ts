import { z } from "zod";
import { createTRPCRouter, editorProcedure, withScope, workspaceProcedure } from "../trpc";
import {
  CancelQueryInput,
  ExportQueryInput,
  QueryResult,
  QuerySchema,
  QuerySourceView,
  RunQueryInput,
  SchemaInput,
} from "./query-router.types";
import { cancelQuery, listQuerySources, querySchema, runQuery } from "./query-service";

export const queryRouter = createTRPCRouter({
  /** Where the workspace's queries can go: its PostgreSQL and MariaDB connections, and its files. */
  sources: workspaceProcedure
    .output(z.array(QuerySourceView))
    .query(({ ctx }) => listQuerySources(ctx, ctx.workspaceId)),
  /**
   * Runs one read-only statement. It opens a connection to a live system with the connection's credentials (as Test
   * and discovery do), so it takes the editor role; a mutation, since every run is new, but it only reads: an API
   * token needs the read scope.
   */
  run: withScope(editorProcedure, "read")
    .input(RunQueryInput)
    .output(QueryResult)
    .mutation(({ ctx, input }) => runQuery(ctx, { workspaceId: ctx.workspaceId, userId: ctx.session.user.id }, input)),
  /** Cancels the caller's own query in flight with that id; its `run` then fails with "cancelled". */
  cancel: withScope(editorProcedure, "read")
    .input(CancelQueryInput)
    .output(z.object({ cancelled: z.boolean() }))
    .mutation(({ ctx, input }) =>
      cancelQuery(ctx, { workspaceId: ctx.workspaceId, userId: ctx.session.user.id }, input),
    ),
  /**
   * Checks a download of ad-hoc SQL (POST /api/queries/export calls it first, so the ladder's rules decide who may:
   * editors, as for `run`; an API token needs read) and names the caller it runs as; the file comes from the route.
   */
  exportPlan: withScope(editorProcedure, "read")
    .input(ExportQueryInput)
    .query(({ ctx, input }) => ({ workspaceId: ctx.workspaceId, userId: ctx.session.user.id, ...input })),
  /** Tables and views of a connection, or the workspace's data files, with their columns. */
  schema: editorProcedure
    .input(SchemaInput)
    .output(QuerySchema)
    .query(({ ctx, input }) => querySchema(ctx, ctx.workspaceId, input)),
});
