import type { Db } from "@sluice/db/client";
import type { Prisma } from "@sluice/db/generated/prisma/client";
import { PipelineDefinition } from "@sluice/pipeline/definition";
import { diffDefinitions, isEmptyDiff } from "@sluice/pipeline/definition-diff";
import type { NodeCatalog } from "@sluice/pipeline/node-definition";
import { TemplateSample, withSampleSources } from "@sluice/pipeline/template-file";
import {
  carryParameterValues,
  parameterValues,
  slotConnections,
  withParameterValues,
} from "@sluice/pipeline/template-ops";
import { validate } from "@sluice/pipeline/validate";
import { TRPCError } from "@trpc/server";
import type { z } from "zod";
import { workspaceConnectionTypes } from "../connections/run-connections";
import { checkDefinitionLimits, createPipeline, getPipeline } from "../pipelines/pipeline-service";
import { refuseErrors, resolveParameters } from "../runs/start-check";
import { templateByShareToken } from "../shares/share-token";
import type { Role } from "../workspaces/roles";
import { mayEdit, visibleTo } from "./template-access";
import type {
  ListTemplatesInput,
  PipelineTemplateStatus,
  PublishedTemplate,
  PublishTemplateInput,
  TemplateListItem,
  TemplateView,
  UpdateTemplateInput,
  UpgradeInput,
  UpgradePlan,
  UseTemplateInput,
} from "./template-router.types";
import { latestDefinitions, listItem, type TemplateRow, templateView, versionList, versionOf } from "./template-view";

// Templates: pipelines others start from. A template is published from a pipeline (its connections become slots),
// gets a new immutable version each time it is published again, and is seen by its author, its workspace, or
// also anyone holding a share link, as its visibility says; built-in ones by everyone. "Use" makes an ordinary
// pipeline with the user's values written in as its parameters' defaults and remembers the version, so when a new
// one appears its owner sees the diff and can move to it (or back) keeping their values.

export interface TemplateActor {
  db: Db;
  catalog: NodeCatalog;
  workspaceId: string;
  userId: string;
  role: Role;
}

function notFound(): TRPCError {
  return new TRPCError({ code: "NOT_FOUND", message: "no such template here" });
}

export async function listTemplates(
  actor: TemplateActor,
  input: z.output<typeof ListTemplatesInput>,
): Promise<z.output<typeof TemplateListItem>[]> {
  const words = input.search?.split(/\s+/).filter(Boolean) ?? [];
  const scope: Prisma.TemplateWhereInput =
    input.scope === "built-in"
      ? { builtIn: true }
      : input.scope === "workspace"
        ? { workspaceId: actor.workspaceId }
        : input.scope === "mine"
          ? { workspaceId: actor.workspaceId, createdById: actor.userId }
          : {};
  const rows = await actor.db.template.findMany({
    where: {
      AND: [
        visibleTo(actor.workspaceId, actor.userId),
        scope,
        ...(input.tag ? [{ tags: { has: input.tag } }] : []),
        ...(input.connector ? [{ connectors: { has: input.connector } }] : []),
        ...words.map((w) => ({
          OR: [
            { title: { contains: w, mode: "insensitive" as const } },
            { name: { contains: w, mode: "insensitive" as const } },
            { description: { contains: w, mode: "insensitive" as const } },
            { tags: { has: w.toLowerCase() } },
          ],
        })),
      ],
    },
    include: { createdBy: { select: { name: true } } },
    // Built-in ones first, then the most used, then the newest.
    orderBy: [{ builtIn: "desc" }, { uses: "desc" }, { updatedAt: "desc" }],
    take: 200,
  });
  const latest = rows.length > 0 ? await latestDefinitions(actor.db, rows) : new Map();
  return rows.map((t) => listItem(t, latest.get(t.id)));
}

/**
 * A template the actor may read: visible to their workspace, or — for a pipeline made from it through a link —
 * still shared by link.
 */
async function readableTemplate(actor: TemplateActor, id: string, viaLink = false): Promise<TemplateRow> {
  const t = await actor.db.template.findFirst({
    where: {
      id,
      OR: [visibleTo(actor.workspaceId, actor.userId), ...(viaLink ? [{ visibility: "LINK" as const }] : [])],
    },
    include: { createdBy: { select: { name: true } } },
  });
  if (!t) throw notFound();
  return t;
}

export async function getTemplate(
  actor: TemplateActor,
  id: string,
  version: number | undefined,
): Promise<z.output<typeof TemplateView>> {
  const t = await readableTemplate(actor, id);
  return templateView(actor.db, t, version, mayEdit(t, actor));
}

function metadataName(title: string): string {
  return (
    title
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, "-")
      .replace(/^[^a-z0-9]+|-+$/g, "")
      .slice(0, 100) || "template"
  );
}

const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === "P2002";

/**
 * Saves the pipeline's latest version as a new template, or as the next version of one. Its connections become
 * slots; a pipeline with errors is refused (a template must be usable as it is).
 */
export async function publishTemplate(
  actor: TemplateActor,
  input: z.output<typeof PublishTemplateInput>,
): Promise<z.output<typeof PublishedTemplate>> {
  const pipeline = await getPipeline(actor.db, actor.workspaceId, input.pipelineId);
  const checked = validate(pipeline.version.definition, actor.catalog);
  refuseErrors(checked.issues, `pipeline "${pipeline.name}"`, "before it can be a template");
  const { definition, connectors } = slotConnections(checked.definition!, actor.catalog);
  checkDefinitionLimits(definition);
  const json = definition as unknown as Prisma.InputJsonValue;
  const given = {
    title: input.title,
    connectors,
    ...(input.description !== undefined ? { description: input.description } : {}),
    ...(input.tags !== undefined ? { tags: [...new Set(input.tags)] } : {}),
    ...(input.visibility !== undefined ? { visibility: input.visibility } : {}),
  };
  if (input.templateId) {
    const existing = await actor.db.template.findFirst({
      where: { id: input.templateId, workspaceId: actor.workspaceId },
    });
    if (!existing || !mayEdit(existing, actor)) throw notFound();
    return actor.db.$transaction(async (tx) => {
      const t = await tx.template.update({
        where: { id: existing.id },
        data: { ...given, latestVersion: { increment: 1 } },
        select: { id: true, latestVersion: true },
      });
      await tx.templateVersion.create({
        data: {
          templateId: t.id,
          number: t.latestVersion,
          definition: json,
          message: input.message || `Published from "${pipeline.name}" v${pipeline.version.number}`,
          createdById: actor.userId,
        },
      });
      return { id: t.id, version: t.latestVersion };
    });
  }
  try {
    return await actor.db.$transaction(async (tx) => {
      const t = await tx.template.create({
        data: {
          description: "",
          tags: [],
          visibility: "WORKSPACE",
          ...given,
          workspaceId: actor.workspaceId,
          name: metadataName(input.title),
          createdById: actor.userId,
          latestVersion: 1,
        },
      });
      await tx.templateVersion.create({
        data: {
          templateId: t.id,
          number: 1,
          definition: json,
          message: input.message || `Published from "${pipeline.name}" v${pipeline.version.number}`,
          createdById: actor.userId,
        },
      });
      return { id: t.id, version: 1 };
    });
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw new TRPCError({
        code: "CONFLICT",
        message: `title: this workspace has a template called "${input.title}" already; publish a new version of it or choose another title`,
      });
    }
    throw err;
  }
}

async function editableTemplate(actor: TemplateActor, id: string) {
  const t = await actor.db.template.findFirst({ where: { id, workspaceId: actor.workspaceId } });
  if (!t || !mayEdit(t, actor)) throw notFound();
  return t;
}

export async function updateTemplate(
  actor: TemplateActor,
  input: z.output<typeof UpdateTemplateInput>,
): Promise<{ id: string }> {
  const t = await editableTemplate(actor, input.id);
  await actor.db.template.update({
    where: { id: t.id },
    data: {
      ...(input.title !== undefined ? { title: input.title } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.tags !== undefined ? { tags: [...new Set(input.tags)] } : {}),
      ...(input.visibility !== undefined ? { visibility: input.visibility } : {}),
    },
  });
  return { id: t.id };
}

/** Deletes a template, its versions and links; pipelines made from it stay and forget it. */
export async function deleteTemplate(actor: TemplateActor, id: string): Promise<void> {
  const t = await editableTemplate(actor, id);
  await actor.db.template.delete({ where: { id: t.id } });
}

/**
 * A new pipeline from a template version: the user's values written in as its parameters' defaults (each checked,
 * a connection slot's against the workspace's connections of its type), on sample data when asked.
 */
export async function useTemplate(
  actor: TemplateActor,
  input: z.output<typeof UseTemplateInput>,
): Promise<{ pipelineId: string; name: string }> {
  const t = input.shareToken
    ? await templateByShareToken(actor.db, input.shareToken)
    : await readableTemplate(actor, input.templateId!);
  const v = await versionOf(actor.db, t.id, input.version ?? t.latestVersion);
  let definition = PipelineDefinition.parse(v.definition);
  if (input.sample) {
    if (v.sample === null) {
      throw new TRPCError({ code: "BAD_REQUEST", message: "sample: this template has no sample data to run on" });
    }
    definition = withSampleSources(definition, TemplateSample.parse(v.sample));
  }
  const unknown = Object.keys(input.values).filter((k) => !definition.spec.parameters.some((p) => p.name === k));
  if (unknown.length > 0) {
    throw new TRPCError({
      code: "BAD_REQUEST",
      message: `values.${unknown[0]}: the template has no parameter "${unknown[0]}"`,
    });
  }
  const connections = await workspaceConnectionTypes(actor.db, actor.workspaceId);
  const resolved = resolveParameters(definition, input.values, connections);
  const made = withParameterValues(definition, resolved);
  const named: PipelineDefinition = { ...made, metadata: { ...made.metadata, name: metadataName(input.name) } };
  const { id } = await createPipeline(actor.db, actor, {
    name: input.name,
    description: t.description.slice(0, 2000),
    definition: named,
    message: `Made from template "${t.title}" v${v.number}${input.sample ? " on sample data" : ""}`,
  });
  await actor.db.$transaction([
    actor.db.pipeline.update({ where: { id }, data: { templateId: t.id, templateVersion: v.number } }),
    actor.db.template.update({ where: { id: t.id }, data: { uses: { increment: 1 } } }),
  ]);
  return { pipelineId: id, name: input.name };
}

async function pipelineWithTemplate(actor: TemplateActor, pipelineId: string) {
  const row = await actor.db.pipeline.findFirst({
    where: { id: pipelineId, workspaceId: actor.workspaceId },
    select: { templateId: true, templateVersion: true },
  });
  if (!row) throw new TRPCError({ code: "NOT_FOUND", message: "no such pipeline in this workspace" });
  if (!row.templateId || row.templateVersion === null) {
    throw new TRPCError({ code: "PRECONDITION_FAILED", message: "this pipeline was not made from a template" });
  }
  const t = await readableTemplate(actor, row.templateId, true);
  return { template: t, fromVersion: row.templateVersion };
}

/** The template a pipeline comes from and whether a newer version exists; null when none can be read. */
export async function pipelineTemplateStatus(
  actor: TemplateActor,
  pipelineId: string,
): Promise<z.output<typeof PipelineTemplateStatus>> {
  const row = await actor.db.pipeline.findFirst({
    where: { id: pipelineId, workspaceId: actor.workspaceId },
    select: { templateId: true, templateVersion: true },
  });
  if (!row) throw new TRPCError({ code: "NOT_FOUND", message: "no such pipeline in this workspace" });
  if (!row.templateId || row.templateVersion === null) return null;
  const t = await actor.db.template.findFirst({
    where: { id: row.templateId, OR: [visibleTo(actor.workspaceId, actor.userId), { visibility: "LINK" }] },
    select: { id: true, title: true, latestVersion: true },
  });
  return t ? { templateId: t.id, title: t.title, version: row.templateVersion, latestVersion: t.latestVersion } : null;
}

/** The pipeline as its template version would make it with its current values and metadata: the no-edits baseline. */
function asMade(template: PipelineDefinition, current: PipelineDefinition): PipelineDefinition {
  const { definition } = carryParameterValues(current, template);
  return { ...definition, metadata: current.metadata };
}

export async function upgradePlan(
  actor: TemplateActor,
  pipelineId: string,
  toVersion: number | undefined,
): Promise<z.output<typeof UpgradePlan>> {
  const { template, fromVersion } = await pipelineWithTemplate(actor, pipelineId);
  const to = toVersion ?? template.latestVersion;
  const [from, target, pipeline] = await Promise.all([
    versionOf(actor.db, template.id, fromVersion),
    versionOf(actor.db, template.id, to),
    getPipeline(actor.db, actor.workspaceId, pipelineId),
  ]);
  const before = PipelineDefinition.parse(from.definition);
  const after = PipelineDefinition.parse(target.definition);
  const current = PipelineDefinition.parse(pipeline.version.definition);
  const carried = carryParameterValues(current, after);
  const local = diffDefinitions(asMade(before, current), current);
  return {
    template: { id: template.id, title: template.title },
    pipelineVersion: pipeline.version.number,
    fromVersion,
    toVersion: to,
    latestVersion: template.latestVersion,
    versions: await versionList(actor.db, template.id),
    diff: diffDefinitions(before, after),
    before,
    after,
    result: { ...carried.definition, metadata: current.metadata },
    parameters: carried.changes,
    localEdits: isEmptyDiff(local) ? null : local,
  };
}

/**
 * Moves the pipeline to another version of its template (newer, or older to roll back): a new pipeline version
 * holding that template version with the pipeline's values carried over and `values` for what could not be.
 */
export async function upgradePipeline(
  actor: TemplateActor,
  input: z.output<typeof UpgradeInput>,
): Promise<{ number: number }> {
  const { template, fromVersion } = await pipelineWithTemplate(actor, input.pipelineId);
  const [target, pipeline] = await Promise.all([
    versionOf(actor.db, template.id, input.toVersion),
    getPipeline(actor.db, actor.workspaceId, input.pipelineId),
  ]);
  const current = PipelineDefinition.parse(pipeline.version.definition);
  const carried = carryParameterValues(current, PipelineDefinition.parse(target.definition));
  const next = withParameterValues(
    { ...carried.definition, metadata: current.metadata },
    { ...parameterValues(carried.definition), ...input.values },
  );
  const missing = carried.changes.find((c) => c.needsValue && !Object.hasOwn(input.values, c.name));
  if (missing) {
    throw new TRPCError({
      code: "BAD_REQUEST",
      message: `values.${missing.name}: version ${input.toVersion} needs a value for "${missing.name}"`,
    });
  }
  const connections = await workspaceConnectionTypes(actor.db, actor.workspaceId);
  resolveParameters(next, {}, connections);
  const verb = input.toVersion < fromVersion ? "Rolled back" : "Upgraded";
  return actor.db.$transaction(async (tx) => {
    const saved = await tx.pipeline.updateMany({
      where: { id: input.pipelineId, workspaceId: actor.workspaceId, latestVersion: input.baseVersion },
      data: { latestVersion: input.baseVersion + 1, templateVersion: input.toVersion },
    });
    if (saved.count === 0) {
      throw new TRPCError({
        code: "CONFLICT",
        message: `baseVersion: the pipeline was saved after version ${input.baseVersion}; look at the upgrade again`,
      });
    }
    const number = input.baseVersion + 1;
    await tx.pipelineVersion.create({
      data: {
        pipelineId: input.pipelineId,
        number,
        definition: next as unknown as Prisma.InputJsonValue,
        message: `${verb} from template "${template.title}" v${fromVersion} to v${input.toVersion}`,
        authorId: actor.userId,
      },
    });
    return { number };
  });
}
