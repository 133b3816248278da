import type { Db } from "@sluice/db/client";
import { z } from "zod";
import { createTRPCRouter, editorProcedure, withScope, workspaceProcedure } from "../trpc";
import { reportQueueFor } from "./report-queue";
import {
  CreateReportInput,
  DeliveriesInput,
  DeliveryPage,
  DeliveryView,
  EnableReportInput,
  ReportIdInput,
  ReportView,
  ReportWriteResult,
  UpdateReportInput,
} from "./report-router.types";
import {
  createReport,
  deleteReport,
  getReport,
  listDeliveries,
  listReports,
  runReportNow,
  setReportEnabled,
  updateReport,
} from "./report-service";

// Scheduled reports (report-service.ts): any member sees them and their deliveries; editors create, change, enable,
// delete and run them.
const mirror = (ctx: Parameters<typeof reportQueueFor>[0] & { db: Db }) => ({
  db: ctx.db,
  reportQueue: reportQueueFor(ctx),
});

export const reportRouter = createTRPCRouter({
  list: workspaceProcedure.output(z.array(ReportView)).query(({ ctx }) => listReports(ctx, ctx.workspaceId)),
  get: workspaceProcedure
    .input(ReportIdInput)
    .output(ReportView)
    .query(({ ctx, input }) => getReport(ctx, ctx.workspaceId, input.id)),
  deliveries: workspaceProcedure
    .input(DeliveriesInput)
    .output(DeliveryPage)
    .query(({ ctx, input }) => listDeliveries(ctx, ctx.workspaceId, input)),
  create: editorProcedure
    .input(CreateReportInput)
    .output(ReportWriteResult)
    .mutation(({ ctx, input }) =>
      createReport(mirror(ctx), { workspaceId: ctx.workspaceId, userId: ctx.session.user.id }, input),
    ),
  update: editorProcedure
    .input(UpdateReportInput)
    .output(ReportWriteResult)
    .mutation(({ ctx, input }) =>
      updateReport(mirror(ctx), { workspaceId: ctx.workspaceId, userId: ctx.session.user.id }, input),
    ),
  enable: editorProcedure
    .input(EnableReportInput)
    .output(ReportWriteResult)
    .mutation(({ ctx, input }) => setReportEnabled(mirror(ctx), ctx.workspaceId, input)),
  delete: editorProcedure.input(ReportIdInput).mutation(async ({ ctx, input }) => {
    await deleteReport(mirror(ctx), ctx.workspaceId, input.id);
    return { ok: true as const };
  }),
  /**
   * Delivers the report at once (the UI's "Run now") and returns the delivery. It runs the saved query with the
   * report creator's rights and writes or posts what it gives, so an API token needs the `run` scope, as for firing a
   * schedule.
   */
  runNow: withScope(editorProcedure, "run")
    .input(ReportIdInput)
    .output(DeliveryView)
    .mutation(({ ctx, input }) => runReportNow(ctx, ctx.workspaceId, input.id)),
});
