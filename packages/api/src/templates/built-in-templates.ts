import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { Db } from "@sluice/db/client";
import type { Prisma } from "@sluice/db/generated/prisma/client";
import type { NodeCatalog } from "@sluice/pipeline/node-definition";
import { TemplateFile } from "@sluice/pipeline/template-file";
import { slotConnections } from "@sluice/pipeline/template-ops";
import { parse } from "yaml";

// The built-in templates (templates/*.yaml at the repository root) into the database, at every start: a new file
// becomes a template, a changed one a new version of it (so pipelines made from the old one are offered the
// upgrade), an unchanged one nothing. Built-in templates belong to no workspace and are seen by every one.

export interface SeedReport {
  created: string[];
  updated: string[];
  unchanged: string[];
}

/** A JSON value with every object's keys sorted: what "changed" compares. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

/** Reads and checks every template file in `dir`; a file that does not parse stops the seed, naming the file. */
async function readTemplateFiles(dir: string): Promise<{ file: string; template: TemplateFile }[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".yaml")).sort();
  return Promise.all(
    files.map(async (file) => {
      const parsed = TemplateFile.safeParse(parse(await readFile(path.join(dir, file), "utf8")));
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new Error(`${file}: ${issue.path.join(".") || "(file)"}: ${issue.message}`);
      }
      return { file, template: parsed.data };
    }),
  );
}

export async function seedBuiltInTemplates(db: Db, catalog: NodeCatalog, dir: string): Promise<SeedReport> {
  const report: SeedReport = { created: [], updated: [], unchanged: [] };
  for (const { template } of await readTemplateFiles(dir)) {
    const { definition, connectors } = slotConnections(template.spec.pipeline, catalog);
    const sample = template.spec.sample ?? null;
    const fields = {
      title: template.metadata.title,
      description: template.metadata.description,
      tags: template.metadata.tags,
      connectors,
      visibility: "LINK" as const,
    };
    const json = definition as unknown as Prisma.InputJsonValue;
    const sampleJson = (sample ?? undefined) as Prisma.InputJsonValue | undefined;
    await db.$transaction(async (tx) => {
      const existing = await tx.template.findFirst({
        where: { builtIn: true, workspaceId: null, name: template.metadata.name },
      });
      if (!existing) {
        await tx.template.create({
          data: {
            ...fields,
            name: template.metadata.name,
            builtIn: true,
            latestVersion: 1,
            versions: { create: { number: 1, definition: json, sample: sampleJson, message: "Built in" } },
          },
        });
        report.created.push(template.metadata.name);
        return;
      }
      const latest = await tx.templateVersion.findUnique({
        where: { templateId_number: { templateId: existing.id, number: existing.latestVersion } },
      });
      const same =
        latest &&
        canonical(latest.definition) === canonical(definition) &&
        canonical(latest.sample) === canonical(sample);
      if (same) {
        await tx.template.update({ where: { id: existing.id }, data: fields });
        report.unchanged.push(template.metadata.name);
        return;
      }
      const number = existing.latestVersion + 1;
      await tx.template.update({ where: { id: existing.id }, data: { ...fields, latestVersion: number } });
      await tx.templateVersion.create({
        data: { templateId: existing.id, number, definition: json, sample: sampleJson, message: "Updated with Sluice" },
      });
      report.updated.push(template.metadata.name);
    });
  }
  return report;
}
