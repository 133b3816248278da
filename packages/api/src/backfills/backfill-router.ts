import { z } from "zod";
import { createTRPCRouter, editorProcedure, withScope, workspaceProcedure } from "../trpc";
import {
  BackfillIdInput,
  BackfillPlan,
  BackfillView,
  CompareInput,
  ListBackfillsInput,
  PlanInput,
  StartBackfillInput,
  SwapInput,
} from "./backfill-router.types";
import {
  compareBackfill,
  discardBackfill,
  dropPreviousTable,
  getBackfill,
  listBackfills,
  planBackfill,
  startBackfill,
  swapBackfill,
} from "./backfill-service";

// Backfills (backfill-service.ts): any member sees the plan and the progress (Sluice's own records and the run's
// figures, no connection is opened); editors start one (a run: a token needs the `run` scope), compare, swap and
// drop tables, which act on the sink's database.
export const backfillRouter = createTRPCRouter({
  plan: workspaceProcedure
    .input(PlanInput)
    .output(BackfillPlan)
    .query(({ ctx, input }) => planBackfill(ctx, ctx.workspaceId, input)),
  start: withScope(editorProcedure, "run")
    .input(StartBackfillInput)
    .output(z.object({ id: z.string(), runId: z.string(), shadowTable: z.string(), generation: z.number() }))
    .mutation(({ ctx, input }) =>
      startBackfill(ctx, { workspaceId: ctx.workspaceId, userId: ctx.session.user.id }, input),
    ),
  get: workspaceProcedure
    .input(BackfillIdInput)
    .output(BackfillView)
    .query(({ ctx, input }) => getBackfill(ctx, ctx.workspaceId, input.id)),
  list: workspaceProcedure
    .input(ListBackfillsInput)
    .output(z.array(BackfillView))
    .query(({ ctx, input }) => listBackfills(ctx, ctx.workspaceId, input)),
  compare: editorProcedure
    .input(CompareInput)
    .output(BackfillView)
    .mutation(({ ctx, input }) => compareBackfill(ctx, ctx.workspaceId, input)),
  swap: editorProcedure
    .input(SwapInput)
    .output(BackfillView.extend({ carried: z.number() }))
    .mutation(({ ctx, input }) => swapBackfill(ctx, ctx.workspaceId, input)),
  discard: editorProcedure
    .input(BackfillIdInput)
    .output(BackfillView)
    .mutation(({ ctx, input }) => discardBackfill(ctx, ctx.workspaceId, input.id)),
  dropPrevious: editorProcedure
    .input(BackfillIdInput)
    .output(BackfillView)
    .mutation(({ ctx, input }) => dropPreviousTable(ctx, ctx.workspaceId, input.id)),
});
