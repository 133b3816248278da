import { ParameterValueSchema, PipelineDefinition } from "@sluice/pipeline/definition";
import { TemplateSample, TemplateTag } from "@sluice/pipeline/template-file";
import { z } from "zod";
import { PipelineId } from "../pipelines/pipeline-router.types";

export const TemplateId = z.string().min(1).max(64);
const TemplateVisibility = z.enum(["PRIVATE", "WORKSPACE", "LINK"]);
const VersionNumber = z.int().min(1).max(1_000_000);

/** The random part of a share link: 32 bytes, base64url. */
export const ShareToken = z
  .string()
  .regex(/^[A-Za-z0-9_-]{43}$/, "this is not the token of a share link: copy the whole link");

export const ListTemplatesInput = z
  .strictObject({
    /** Words looked for in the title, name, description and tags. */
    search: z.string().trim().max(100).optional(),
    tag: TemplateTag.optional(),
    /** A connection type the template uses, e.g. "postgres". */
    connector: z.string().trim().min(1).max(100).optional(),
    /** Built-in ones, this workspace's, or those the caller published. */
    scope: z.enum(["all", "built-in", "workspace", "mine"]).default("all"),
  })
  .default({ scope: "all" });

const Thumbnail = z.object({
  nodes: z.array(z.object({ x: z.number(), y: z.number(), kind: z.string() })),
  edges: z.array(z.tuple([z.number(), z.number()])),
});

const ParameterSummary = z.object({
  name: z.string(),
  type: z.string(),
  label: z.string().nullable(),
  connectorType: z.string().nullable(),
});

export const TemplateListItem = z.object({
  id: z.string(),
  name: z.string(),
  title: z.string(),
  description: z.string(),
  tags: z.array(z.string()),
  connectors: z.array(z.string()),
  builtIn: z.boolean(),
  visibility: TemplateVisibility,
  author: z.string().nullable(),
  latestVersion: z.number(),
  uses: z.number(),
  updatedAt: z.date(),
  /** It can run on generated data in place of its sources. */
  hasSample: z.boolean(),
  parameters: z.array(ParameterSummary),
  thumbnail: Thumbnail,
});

export const GetTemplateInput = z.strictObject({
  id: TemplateId,
  /** The latest when absent. */
  version: VersionNumber.optional(),
});

const TemplateVersionSummary = z.object({
  number: z.number(),
  message: z.string(),
  author: z.string().nullable(),
  createdAt: z.date(),
});

export const TemplateView = TemplateListItem.extend({
  version: z.number(),
  definition: PipelineDefinition,
  sample: TemplateSample.nullable(),
  versions: z.array(TemplateVersionSummary),
  /** The caller may publish versions, change and delete it (never a built-in one). */
  canEdit: z.boolean(),
});

export const PublishTemplateInput = z.strictObject({
  pipelineId: PipelineId,
  /** A new version of this template; a new template when absent. */
  templateId: TemplateId.optional(),
  title: z.string().trim().min(1, "give the template a title").max(200),
  /** For a new version, what is left out stays as it was; a new template has none, no tags and WORKSPACE. */
  description: z.string().max(10_000).optional(),
  tags: z.array(TemplateTag).max(20).optional(),
  visibility: TemplateVisibility.optional(),
  /** What changed, for a new version. */
  message: z.string().trim().max(500).default(""),
});

export const PublishedTemplate = z.object({ id: z.string(), version: z.number() });

export const UpdateTemplateInput = z.strictObject({
  id: TemplateId,
  title: z.string().trim().min(1, "give the template a title").max(200).optional(),
  description: z.string().max(10_000).optional(),
  tags: z.array(TemplateTag).max(20).optional(),
  visibility: TemplateVisibility.optional(),
});

export const TemplateIdInput = z.strictObject({ id: TemplateId });

export const UseTemplateInput = z
  .strictObject({
    templateId: TemplateId.optional(),
    /** A share link's token, for a template of another workspace. */
    shareToken: ShareToken.optional(),
    /** The latest when absent. */
    version: VersionNumber.optional(),
    /** The new pipeline's name. */
    name: z.string().trim().min(1, "give the pipeline a name").max(100),
    /** Parameter values; a connection slot's value is the name of one of the workspace's connections. */
    values: z.record(z.string().max(64), ParameterValueSchema).default({}),
    /** Run on the template's generated sample data in place of its sources. */
    sample: z.boolean().default(false),
  })
  .refine((v) => (v.templateId === undefined) !== (v.shareToken === undefined), {
    message: "give either templateId or shareToken",
    path: ["templateId"],
  });

export const UsedTemplate = z.object({ pipelineId: z.string(), name: z.string() });

export const UpgradePlanInput = z.strictObject({
  pipelineId: PipelineId,
  /** The template version to move to; the latest when absent (an older one rolls back). */
  toVersion: VersionNumber.optional(),
});

const ParameterChangeView = z.object({
  name: z.string(),
  change: z.enum(["added", "removed", "changed", "kept"]),
  value: ParameterValueSchema.optional(),
  dropped: z.string().optional(),
  needsValue: z.boolean(),
});

const DiffView = z.object({
  nodes: z.object({
    added: z.array(z.string()),
    removed: z.array(z.string()),
    changed: z.array(z.object({ id: z.string(), keys: z.array(z.string()) })),
  }),
  edges: z.object({ added: z.array(z.string()), removed: z.array(z.string()) }),
  settings: z.array(z.string()),
  parameters: z.array(z.string()),
  alerts: z.array(z.string()),
  metadata: z.array(z.string()),
});

/** Where the pipeline stands against its template, and what moving to `toVersion` would do. */
export const UpgradePlan = z.object({
  template: z.object({ id: z.string(), title: z.string() }),
  /** The pipeline's own latest version, the base an upgrade saves over. */
  pipelineVersion: z.number(),
  fromVersion: z.number(),
  toVersion: z.number(),
  latestVersion: z.number(),
  versions: z.array(TemplateVersionSummary),
  /** What the template changed between the two versions. */
  diff: DiffView,
  /** The two template versions, for the graph diff. */
  before: PipelineDefinition,
  after: PipelineDefinition,
  /** What the pipeline will be: `to` with the pipeline's values carried over. */
  result: PipelineDefinition,
  parameters: z.array(ParameterChangeView),
  /** What the pipeline's owner changed since it was made from (or last moved to) its version; null when nothing. */
  localEdits: DiffView.nullable(),
});

export const UpgradeInput = z.strictObject({
  pipelineId: PipelineId,
  toVersion: VersionNumber,
  /** The pipeline version the plan was made against: a save since then is a conflict, not overwritten. */
  baseVersion: VersionNumber,
  /** Values for parameters the new version adds or could not keep. */
  values: z.record(z.string().max(64), ParameterValueSchema).default({}),
});

export const UpgradedPipeline = z.object({ number: z.number() });

/** The template a pipeline comes from, when it does and its template is still readable. */
export const PipelineTemplateStatus = z
  .object({
    templateId: z.string(),
    title: z.string(),
    version: z.number(),
    latestVersion: z.number(),
  })
  .nullable();
