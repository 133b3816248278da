import { z } from "zod";
import { createTRPCRouter, editorProcedure, withScope, workspaceProcedure } from "../trpc";
import { scheduleQueueFor } from "./schedule-queue";
import {
  CreateScheduleInput,
  FireResult,
  ListSchedulesInput,
  ScheduleId,
  ScheduleView,
  ScheduleWriteResult,
  UpdateScheduleInput,
} from "./schedule-router.types";
import {
  createSchedule,
  deleteSchedule,
  fireScheduleNow,
  getSchedule,
  listSchedules,
  updateSchedule,
} from "./schedule-service";

export const scheduleRouter = createTRPCRouter({
  list: workspaceProcedure
    .input(ListSchedulesInput)
    .output(z.array(ScheduleView))
    .query(({ ctx, input }) => listSchedules(ctx.db, ctx.workspaceId, input)),
  get: workspaceProcedure
    .input(z.strictObject({ id: ScheduleId }))
    .output(ScheduleView)
    .query(({ ctx, input }) => getSchedule(ctx.db, ctx.workspaceId, input.id)),
  create: editorProcedure
    .input(CreateScheduleInput)
    .output(ScheduleWriteResult)
    .mutation(({ ctx, input }) =>
      createSchedule(
        { db: ctx.db, scheduleQueue: scheduleQueueFor(ctx) },
        { workspaceId: ctx.workspaceId, userId: ctx.session.user.id },
        input,
      ),
    ),
  update: editorProcedure
    .input(UpdateScheduleInput)
    .output(ScheduleWriteResult)
    .mutation(({ ctx, input }) =>
      updateSchedule({ db: ctx.db, scheduleQueue: scheduleQueueFor(ctx) }, ctx.workspaceId, input),
    ),
  delete: editorProcedure.input(z.strictObject({ id: ScheduleId })).mutation(async ({ ctx, input }) => {
    await deleteSchedule({ db: ctx.db, scheduleQueue: scheduleQueueFor(ctx) }, ctx.workspaceId, input.id);
    return { ok: true as const };
  }),
  /**
   * Fires the schedule at once (the UI's "Run now"), overlap policy included, and says what happened. It starts a run,
   * so an API token needs the `run` scope for it, as for starting one directly.
   */
  fireNow: withScope(editorProcedure, "run")
    .input(z.strictObject({ id: ScheduleId }))
    .output(FireResult)
    .mutation(({ ctx, input }) => fireScheduleNow(ctx, ctx.workspaceId, input.id)),
});
