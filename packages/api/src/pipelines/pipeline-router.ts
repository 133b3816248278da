import { PreviewResult } from "@sluice/pipeline/control/protocol";
import { z } from "zod";
import { pipelineHistoryProcedure } from "../history/history-procedures";
import { deleteIngest } from "../ingest/ingest-service";
import { createTRPCRouter, editorProcedure, workspaceProcedure } from "../trpc";
import {
  CreatePipelineInput,
  DuplicatePipelineInput,
  ListPipelinesInput,
  ListVersionsInput,
  PipelineByNameInput,
  PipelineId,
  PipelineListItem,
  PipelineVersionSummary,
  PipelineView,
  PreviewInput,
  RenamePipelineInput,
  SaveVersionInput,
} from "./pipeline-router.types";
import {
  createPipeline,
  deletePipeline,
  duplicatePipeline,
  findPipelineByName,
  getPipeline,
  listPipelines,
  listVersions,
  renamePipeline,
  saveVersion,
} from "./pipeline-service";
import { previewDraft } from "./preview-service";
import { VersionNumber } from "./version-number";

export const pipelineRouter = createTRPCRouter({
  list: workspaceProcedure
    .input(ListPipelinesInput)
    .output(z.array(PipelineListItem))
    .query(({ ctx, input }) => listPipelines(ctx.db, ctx.workspaceId, input)),
  create: editorProcedure
    .input(CreatePipelineInput)
    .output(z.object({ id: z.string() }))
    .mutation(({ ctx, input }) =>
      createPipeline(ctx.db, { workspaceId: ctx.workspaceId, userId: ctx.session.user.id }, input),
    ),
  get: workspaceProcedure
    .input(z.strictObject({ id: PipelineId, version: VersionNumber.optional() }))
    .output(PipelineView)
    .query(({ ctx, input }) => getPipeline(ctx.db, ctx.workspaceId, input.id, input.version)),
  /** The latest version of the pipeline a file names, or null (`sluice apply`, `sluice export`). */
  byName: workspaceProcedure
    .input(PipelineByNameInput)
    .output(PipelineView.nullable())
    .query(({ ctx, input }) => findPipelineByName(ctx.db, ctx.workspaceId, input.name)),
  /** Rolled-up node figures of the pipeline's runs over a time range (history/). */
  history: pipelineHistoryProcedure,
  /** The version history, newest first (definitions are fetched one at a time with `get`). */
  versions: workspaceProcedure
    .input(ListVersionsInput)
    .output(z.array(PipelineVersionSummary))
    .query(({ ctx, input }) => listVersions(ctx.db, ctx.workspaceId, input)),
  rename: editorProcedure
    .input(RenamePipelineInput)
    .output(z.object({ id: z.string(), name: z.string() }))
    .mutation(({ ctx, input }) => renamePipeline(ctx.db, ctx.workspaceId, input)),
  /** A new pipeline from this one's latest version. */
  duplicate: editorProcedure
    .input(DuplicatePipelineInput)
    .output(z.object({ id: z.string(), name: z.string() }))
    .mutation(({ ctx, input }) =>
      duplicatePipeline(ctx.db, { workspaceId: ctx.workspaceId, userId: ctx.session.user.id }, input),
    ),
  saveVersion: editorProcedure
    .input(SaveVersionInput)
    .output(z.object({ number: z.number() }))
    .mutation(({ ctx, input }) =>
      saveVersion(ctx.db, { workspaceId: ctx.workspaceId, userId: ctx.session.user.id }, input),
    ),
  /**
   * Runs the draft on a sample on a worker and returns what each node received and emitted; writes nothing. It reads
   * the live systems behind the draft's connections (any query a draft can hold): editors only.
   */
  preview: editorProcedure
    .input(PreviewInput)
    .output(PreviewResult)
    .mutation(({ ctx, input }) => previewDraft(ctx, ctx.workspaceId, input)),
  delete: editorProcedure.input(z.strictObject({ id: PipelineId })).mutation(async ({ ctx, input }) => {
    await deletePipeline(ctx.db, ctx.workspaceId, input.id);
    // Its ingest token and any records posted and never read go with it: nothing answers that URL any more.
    await deleteIngest(ctx, input.id);
    return { ok: true as const };
  }),
});
