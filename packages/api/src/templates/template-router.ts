import { z } from "zod";
import { PipelineId } from "../pipelines/pipeline-router.types";
import { createTRPCRouter, editorProcedure, workspaceProcedure } from "../trpc";
import {
  GetTemplateInput,
  ListTemplatesInput,
  PipelineTemplateStatus,
  PublishedTemplate,
  PublishTemplateInput,
  TemplateIdInput,
  TemplateListItem,
  TemplateView,
  UpdateTemplateInput,
  UpgradedPipeline,
  UpgradeInput,
  UpgradePlan,
  UpgradePlanInput,
  UsedTemplate,
  UseTemplateInput,
} from "./template-router.types";
import {
  deleteTemplate,
  getTemplate,
  listTemplates,
  pipelineTemplateStatus,
  publishTemplate,
  type TemplateActor,
  updateTemplate,
  upgradePipeline,
  upgradePlan,
  useTemplate,
} from "./template-service";

function actorOf(ctx: {
  db: TemplateActor["db"];
  catalog: TemplateActor["catalog"];
  workspaceId: string;
  role: TemplateActor["role"];
  session: { user: { id: string } };
}): TemplateActor {
  return {
    db: ctx.db,
    catalog: ctx.catalog,
    workspaceId: ctx.workspaceId,
    userId: ctx.session.user.id,
    role: ctx.role,
  };
}

// The template gallery, publishing, using and upgrading (template-service.ts). Reading is any member's; publishing,
// using (it makes a pipeline) and upgrading are editors'. A template's share links are shares.*.
export const templateRouter = createTRPCRouter({
  /** Built-in templates, the workspace's shared ones and the caller's own, with search and filters. */
  list: workspaceProcedure
    .input(ListTemplatesInput)
    .output(z.array(TemplateListItem))
    .query(({ ctx, input }) => listTemplates(actorOf(ctx), input)),
  get: workspaceProcedure
    .input(GetTemplateInput)
    .output(TemplateView)
    .query(({ ctx, input }) => getTemplate(actorOf(ctx), input.id, input.version)),
  /** Saves a pipeline's latest version as a new template, or as a new version of one. */
  publish: editorProcedure
    .input(PublishTemplateInput)
    .output(PublishedTemplate)
    .mutation(({ ctx, input }) => publishTemplate(actorOf(ctx), input)),
  update: editorProcedure
    .input(UpdateTemplateInput)
    .output(z.object({ id: z.string() }))
    .mutation(({ ctx, input }) => updateTemplate(actorOf(ctx), input)),
  delete: editorProcedure.input(TemplateIdInput).mutation(async ({ ctx, input }) => {
    await deleteTemplate(actorOf(ctx), input.id);
    return { ok: true as const };
  }),
  /** A new pipeline from a template (of this workspace, built in, or opened by a share link) with the caller's values. */
  use: editorProcedure
    .input(UseTemplateInput)
    .output(UsedTemplate)
    .mutation(({ ctx, input }) => useTemplate(actorOf(ctx), input)),
  /** The template a pipeline was made from, and the newest version there is; null when none. */
  forPipeline: workspaceProcedure
    .input(z.strictObject({ pipelineId: PipelineId }))
    .output(PipelineTemplateStatus)
    .query(({ ctx, input }) => pipelineTemplateStatus(actorOf(ctx), input.pipelineId)),
  /** What moving a pipeline to another version of its template would change. */
  upgradePlan: workspaceProcedure
    .input(UpgradePlanInput)
    .output(UpgradePlan)
    .query(({ ctx, input }) => upgradePlan(actorOf(ctx), input.pipelineId, input.toVersion)),
  /** Moves a pipeline to another version of its template (a newer one, or an older one to roll back). */
  upgrade: editorProcedure
    .input(UpgradeInput)
    .output(UpgradedPipeline)
    .mutation(({ ctx, input }) => upgradePipeline(actorOf(ctx), input)),
});
