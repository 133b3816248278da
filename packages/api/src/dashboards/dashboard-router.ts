import { z } from "zod";
import { createTRPCRouter, editorProcedure, workspaceProcedure } from "../trpc";
import {
  AddedTile,
  AddTileInput,
  CreateDashboardInput,
  CreatedDashboard,
  DashboardIdInput,
  DashboardListItem,
  DashboardView,
  LayoutInput,
  RemoveTileInput,
  RenameTileInput,
  UpdateDashboardInput,
} from "./dashboard-router.types";
import {
  addTile,
  createDashboard,
  deleteDashboard,
  getDashboard,
  listDashboards,
  removeTile,
  renameTile,
  setLayout,
  updateDashboard,
} from "./dashboard-service";

// Dashboards (dashboard-service.ts): any member opens them (their tiles run through savedQueries.run and
// runs.figures, which check the caller again); editors make, change and delete them and their tiles.
export const dashboardRouter = createTRPCRouter({
  list: workspaceProcedure.output(z.array(DashboardListItem)).query(({ ctx }) => listDashboards(ctx, ctx.workspaceId)),
  get: workspaceProcedure
    .input(DashboardIdInput)
    .output(DashboardView)
    .query(({ ctx, input }) => getDashboard(ctx, ctx.workspaceId, input.id)),
  create: editorProcedure
    .input(CreateDashboardInput)
    .output(CreatedDashboard)
    .mutation(({ ctx, input }) =>
      createDashboard(ctx, { workspaceId: ctx.workspaceId, userId: ctx.session.user.id }, input),
    ),
  /** Name, description, time range and refresh period; what is left out stays. */
  update: editorProcedure
    .input(UpdateDashboardInput)
    .output(DashboardView)
    .mutation(({ ctx, input }) => updateDashboard(ctx, ctx.workspaceId, input)),
  delete: editorProcedure.input(DashboardIdInput).mutation(async ({ ctx, input }) => {
    await deleteDashboard(ctx, ctx.workspaceId, input.id);
    return { ok: true as const };
  }),
  addTile: editorProcedure
    .input(AddTileInput)
    .output(AddedTile)
    .mutation(({ ctx, input }) => addTile(ctx, ctx.workspaceId, input)),
  /** Every tile's place at once; refused, naming the tiles, when one leaves the grid or two overlap. */
  layout: editorProcedure
    .input(LayoutInput)
    .output(DashboardView)
    .mutation(({ ctx, input }) => setLayout(ctx, ctx.workspaceId, input)),
  renameTile: editorProcedure.input(RenameTileInput).mutation(async ({ ctx, input }) => {
    await renameTile(ctx, ctx.workspaceId, input);
    return { ok: true as const };
  }),
  removeTile: editorProcedure.input(RemoveTileInput).mutation(async ({ ctx, input }) => {
    await removeTile(ctx, ctx.workspaceId, input);
    return { ok: true as const };
  }),
});
