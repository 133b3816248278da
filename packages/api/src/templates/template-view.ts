import type { Db } from "@sluice/db/client";
import type { Prisma } from "@sluice/db/generated/prisma/client";
import { PipelineDefinition } from "@sluice/pipeline/definition";
import { TemplateSample } from "@sluice/pipeline/template-file";
import { templateThumbnail } from "@sluice/pipeline/template-ops";
import { TRPCError } from "@trpc/server";
import type { z } from "zod";
import type { TemplateListItem, TemplateView } from "./template-router.types";

// How templates are shown — a gallery card, a template's page with one of its versions — for the template service
// and for share links, which show a template to people outside its workspace.

export type TemplateRow = Prisma.TemplateGetPayload<{
  include: { createdBy: { select: { name: true } } };
}>;

export async function latestDefinitions(db: Db, templates: readonly { id: string; latestVersion: number }[]) {
  const versions = await db.templateVersion.findMany({
    where: { OR: templates.map((t) => ({ templateId: t.id, number: t.latestVersion })) },
    select: { templateId: true, definition: true, sample: true },
  });
  return new Map(versions.map((v) => [v.templateId, v]));
}

export function listItem(
  t: TemplateRow,
  latest: { definition: unknown; sample: unknown } | undefined,
): z.output<typeof TemplateListItem> {
  const definition = PipelineDefinition.parse(latest?.definition);
  return {
    id: t.id,
    name: t.name,
    title: t.title,
    description: t.description,
    tags: t.tags,
    connectors: t.connectors,
    builtIn: t.builtIn,
    visibility: t.visibility,
    author: t.builtIn ? "Sluice" : (t.createdBy?.name ?? null),
    latestVersion: t.latestVersion,
    uses: t.uses,
    updatedAt: t.updatedAt,
    hasSample: latest?.sample !== null && latest?.sample !== undefined,
    parameters: definition.spec.parameters.map((p) => ({
      name: p.name,
      type: p.type,
      label: p.label ?? null,
      connectorType: p.connectorType ?? null,
    })),
    thumbnail: templateThumbnail(definition),
  };
}

export async function versionOf(db: Db, templateId: string, number: number) {
  const v = await db.templateVersion.findUnique({
    where: { templateId_number: { templateId, number } },
    include: { createdBy: { select: { name: true } } },
  });
  if (!v) throw new TRPCError({ code: "NOT_FOUND", message: `version: this template has no version ${number}` });
  return v;
}

export async function versionList(db: Db, templateId: string) {
  const versions = await db.templateVersion.findMany({
    where: { templateId },
    orderBy: { number: "desc" },
    select: { number: true, message: true, createdAt: true, createdBy: { select: { name: true } } },
  });
  return versions.map((v) => ({
    number: v.number,
    message: v.message,
    author: v.createdBy?.name ?? null,
    createdAt: v.createdAt,
  }));
}

/** A template as its page shows it; `t` is already known to be readable. */
export async function templateView(
  db: Db,
  t: TemplateRow,
  version: number | undefined,
  canEdit: boolean,
): Promise<z.output<typeof TemplateView>> {
  const v = await versionOf(db, t.id, version ?? t.latestVersion);
  const item = listItem(t, v);
  return {
    ...item,
    version: v.number,
    definition: PipelineDefinition.parse(v.definition),
    sample: v.sample === null ? null : TemplateSample.parse(v.sample),
    versions: await versionList(db, t.id),
    canEdit,
  };
}
