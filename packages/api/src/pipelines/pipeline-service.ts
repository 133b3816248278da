import type { Db } from "@sluice/db/client";
import type { Prisma } from "@sluice/db/generated/prisma/client";
import { ACTIVE_DB_STATUSES } from "@sluice/pipeline/control/run-status";
import { emptyDefinition, type PipelineDefinition } from "@sluice/pipeline/definition";
import { TRPCError } from "@trpc/server";
import type { z } from "zod";
import { findInputProblem, pathText } from "../input-guard";
import type {
  CreatePipelineInput,
  DuplicatePipelineInput,
  ListPipelinesInput,
  ListVersionsInput,
  PipelineListItem,
  PipelineVersionSummary,
  PipelineView,
  RenamePipelineInput,
  SaveVersionInput,
} from "./pipeline-router.types";

// Pipelines and their immutable versions, always scoped to one workspace.

export interface Actor {
  workspaceId: string;
  userId: string;
}

function metadataName(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, "-")
      .replace(/^[^a-z0-9]+|-+$/g, "")
      .slice(0, 100) || "pipeline"
  );
}

const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === "P2002";

function nameTaken(name: string): TRPCError {
  return new TRPCError({ code: "CONFLICT", message: `name: a pipeline called "${name}" already exists` });
}

function notFound(): TRPCError {
  return new TRPCError({ code: "NOT_FOUND", message: "no such pipeline in this workspace" });
}

/**
 * How big a definition may be, in bytes of its JSON (UTF-8) and in nesting. The whole: the schema allows 10,000
 * nodes and 20,000 edges, and a node of the examples takes about 300 bytes with its position, so 4 MiB holds the
 * largest pipeline the schema allows and no more (the 10 MB `ui` block of issue 12 is refused). A node's
 * settings: the largest example's are under 1 KiB; 64 KiB leaves room for long queries and scripts. The `ui` blocks
 * carry positions, labels, notes and the editor's view, never semantics: 256 KiB for the pipeline's, 32 KiB for a
 * node's (its note alone may be 10,000 characters), 4 KiB for an edge's.
 */
export const DEFINITION_LIMITS = {
  bytes: 4 * 1024 * 1024,
  uiBytes: 256 * 1024,
  nodeConfigBytes: 64 * 1024,
  nodeUiBytes: 32 * 1024,
  edgeUiBytes: 4 * 1024,
  /** Levels of nesting inside a node's settings or a `ui` block. */
  depth: 32,
} as const;

function sizeText(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
}

/**
 * Refuses a definition over DEFINITION_LIMITS with PAYLOAD_TOO_LARGE (too big) or BAD_REQUEST (too deep), naming
 * the part: `definition.spec.nodes.3.config (node "orders")`. Depth is checked first and without recursion, so
 * measuring the rest cannot overflow the stack. Text PostgreSQL cannot store was refused before, by the input guard
 * every procedure passes (trpc.ts).
 */
export function checkDefinitionLimits(definition: PipelineDefinition, field = "definition"): void {
  const parts: { path: (string | number)[]; what: string; value: unknown; limit: number; description: string }[] = [
    {
      path: ["ui"],
      what: "",
      value: definition.ui,
      limit: DEFINITION_LIMITS.uiBytes,
      description: "the pipeline's ui block",
    },
  ];
  definition.spec.nodes.forEach((node, i) => {
    const what = ` (node "${node.id}")`;
    parts.push(
      {
        path: ["spec", "nodes", i, "config"],
        what,
        value: node.config,
        limit: DEFINITION_LIMITS.nodeConfigBytes,
        description: "a node's settings",
      },
      {
        path: ["spec", "nodes", i, "ui"],
        what,
        value: node.ui,
        limit: DEFINITION_LIMITS.nodeUiBytes,
        description: "a node's ui block",
      },
    );
  });
  definition.spec.edges.forEach((edge, i) => {
    const what = ` (edge ${edge.from} → ${edge.to})`;
    parts.push({
      path: ["spec", "edges", i, "ui"],
      what,
      value: edge.ui,
      limit: DEFINITION_LIMITS.edgeUiBytes,
      description: "an edge's ui block",
    });
  });
  for (const part of parts) {
    if (part.value === undefined) continue;
    const problem = findInputProblem(part.value, DEFINITION_LIMITS.depth, false);
    if (problem) {
      const where = pathText([field, ...part.path, ...problem.path]);
      throw new TRPCError({ code: "BAD_REQUEST", message: `${where}${part.what}: ${problem.message}` });
    }
  }
  for (const part of parts) {
    if (part.value === undefined) continue;
    const bytes = Buffer.byteLength(JSON.stringify(part.value), "utf8");
    if (bytes > part.limit) {
      throw new TRPCError({
        code: "PAYLOAD_TOO_LARGE",
        message: `${pathText([field, ...part.path])}${part.what}: ${sizeText(bytes)} is more than the ${sizeText(part.limit)} ${part.description} may take`,
      });
    }
  }
  const bytes = Buffer.byteLength(JSON.stringify(definition), "utf8");
  if (bytes > DEFINITION_LIMITS.bytes) {
    throw new TRPCError({
      code: "PAYLOAD_TOO_LARGE",
      message: `${field}: ${sizeText(bytes)} is more than the ${sizeText(DEFINITION_LIMITS.bytes)} a pipeline definition may take; split the pipeline`,
    });
  }
}

export async function listPipelines(
  db: Db,
  workspaceId: string,
  input: z.output<typeof ListPipelinesInput>,
): Promise<z.infer<typeof PipelineListItem>[]> {
  const rows = await db.pipeline.findMany({
    where: {
      workspaceId,
      ...(input.search ? { name: { contains: input.search, mode: "insensitive" } } : {}),
    },
    orderBy: { updatedAt: "desc" },
    take: input.limit,
    include: {
      createdBy: { select: { name: true } },
      runs: { orderBy: { createdAt: "desc" }, take: 1, select: { id: true, status: true, createdAt: true } },
    },
  });
  return rows.map((p) => ({
    id: p.id,
    name: p.name,
    description: p.description,
    latestVersion: p.latestVersion,
    updatedAt: p.updatedAt,
    createdBy: p.createdBy.name,
    lastRun: p.runs[0] ?? null,
  }));
}

export async function createPipeline(
  db: Db,
  actor: Actor,
  input: z.output<typeof CreatePipelineInput>,
): Promise<{ id: string }> {
  const definition: PipelineDefinition = input.definition ?? emptyDefinition(metadataName(input.name));
  checkDefinitionLimits(definition);
  try {
    return await db.$transaction(async (tx) => {
      const pipeline = await tx.pipeline.create({
        data: {
          workspaceId: actor.workspaceId,
          name: input.name,
          description: input.description,
          latestVersion: 1,
          createdById: actor.userId,
        },
      });
      await tx.pipelineVersion.create({
        data: {
          pipelineId: pipeline.id,
          number: 1,
          definition: definition as unknown as Prisma.InputJsonValue,
          message: input.message ?? (input.definition ? "Imported" : "Created"),
          authorId: actor.userId,
        },
      });
      return { id: pipeline.id };
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw nameTaken(input.name);
    throw err;
  }
}

export async function getPipeline(
  db: Db,
  workspaceId: string,
  id: string,
  versionNumber?: number,
): Promise<PipelineView> {
  const pipeline = await db.pipeline.findFirst({
    where: { id, workspaceId },
    include: {
      runs: {
        where: { status: { in: [...ACTIVE_DB_STATUSES] } },
        orderBy: { createdAt: "desc" },
        take: 1,
        select: { id: true, status: true, createdAt: true },
      },
    },
  });
  if (!pipeline) throw notFound();
  const version = await db.pipelineVersion.findUnique({
    where: { pipelineId_number: { pipelineId: id, number: versionNumber ?? pipeline.latestVersion } },
    include: { author: { select: { name: true } } },
  });
  if (!version) throw new TRPCError({ code: "NOT_FOUND", message: `version ${versionNumber} does not exist` });
  return {
    id: pipeline.id,
    name: pipeline.name,
    description: pipeline.description,
    latestVersion: pipeline.latestVersion,
    createdAt: pipeline.createdAt,
    updatedAt: pipeline.updatedAt,
    version: {
      id: version.id,
      number: version.number,
      message: version.message,
      createdAt: version.createdAt,
      author: version.author.name,
      definition: version.definition as unknown as PipelineDefinition,
    },
    activeRun: pipeline.runs[0] ?? null,
  };
}

/**
 * The pipeline a pipeline file names (`sluice apply`, `sluice export NAME`): the one called `name` in Sluice, else the
 * one whose latest version's `metadata.name` is `name` (a pipeline renamed in the UI keeps its file name). Null when
 * none is; CONFLICT when two latest versions carry that metadata name, since either could be meant.
 */
export async function findPipelineByName(db: Db, workspaceId: string, name: string): Promise<PipelineView | null> {
  const named = await db.pipeline.findFirst({ where: { workspaceId, name }, select: { id: true } });
  if (named) return getPipeline(db, workspaceId, named.id);
  const versions = await db.pipelineVersion.findMany({
    where: { pipeline: { workspaceId }, definition: { path: ["metadata", "name"], equals: name } },
    select: { number: true, pipeline: { select: { id: true, latestVersion: true } } },
  });
  const ids = [...new Set(versions.filter((v) => v.number === v.pipeline.latestVersion).map((v) => v.pipeline.id))];
  if (ids.length > 1) {
    throw new TRPCError({
      code: "CONFLICT",
      message: `name: ${ids.length} pipelines have "${name}" as their metadata name; rename one so the name says which`,
    });
  }
  return ids[0] ? getPipeline(db, workspaceId, ids[0]) : null;
}

/**
 * Saves a new immutable version. Optimistic concurrency: the pipeline's latestVersion must still be the version the
 * editor started from, so two editors never overwrite each other silently; the loser gets CONFLICT.
 */
export async function saveVersion(
  db: Db,
  actor: Actor,
  input: z.output<typeof SaveVersionInput>,
): Promise<{ number: number }> {
  return db.$transaction((tx) => saveVersionIn(tx, actor, input));
}

/** saveVersion inside a transaction the caller holds (save-and-start records the run in the same one). */
export async function saveVersionIn(
  tx: Prisma.TransactionClient,
  actor: Actor,
  input: z.output<typeof SaveVersionInput>,
): Promise<{ number: number }> {
  checkDefinitionLimits(input.definition);
  const claimed = await tx.pipeline.updateMany({
    where: { id: input.id, workspaceId: actor.workspaceId, latestVersion: input.baseVersion },
    data: { latestVersion: input.baseVersion + 1 },
  });
  if (claimed.count === 0) {
    const current = await tx.pipeline.findFirst({
      where: { id: input.id, workspaceId: actor.workspaceId },
      select: { latestVersion: true },
    });
    if (!current) throw notFound();
    throw new TRPCError({
      code: "CONFLICT",
      message: `version ${current.latestVersion} was saved after the version ${input.baseVersion} you edited: reload it or save yours as a copy`,
    });
  }
  const number = input.baseVersion + 1;
  await tx.pipelineVersion.create({
    data: {
      pipelineId: input.id,
      number,
      definition: input.definition as unknown as Prisma.InputJsonValue,
      message: input.message,
      authorId: actor.userId,
    },
  });
  return { number };
}

export async function deletePipeline(db: Db, workspaceId: string, id: string): Promise<void> {
  const pipeline = await db.pipeline.findFirst({ where: { id, workspaceId }, select: { id: true } });
  if (!pipeline) throw notFound();
  const active = await db.run.count({ where: { pipelineId: id, status: { in: [...ACTIVE_DB_STATUSES] } } });
  if (active > 0)
    throw new TRPCError({ code: "PRECONDITION_FAILED", message: "stop the pipeline's running run first" });
  await db.pipeline.delete({ where: { id } });
}

/** The pipeline's versions, newest first, without their definitions. */
export async function listVersions(
  db: Db,
  workspaceId: string,
  input: z.output<typeof ListVersionsInput>,
): Promise<PipelineVersionSummary[]> {
  const pipeline = await db.pipeline.findFirst({ where: { id: input.id, workspaceId }, select: { id: true } });
  if (!pipeline) throw notFound();
  const versions = await db.pipelineVersion.findMany({
    where: { pipelineId: pipeline.id },
    orderBy: { number: "desc" },
    take: input.limit,
    select: {
      number: true,
      message: true,
      createdAt: true,
      author: { select: { name: true } },
      _count: { select: { runs: true } },
    },
  });
  return versions.map((v) => ({
    number: v.number,
    message: v.message,
    author: v.author.name,
    createdAt: v.createdAt,
    runs: v._count.runs,
  }));
}

/** Renames a pipeline (and changes its description when given). Versions are immutable and keep what they say. */
export async function renamePipeline(
  db: Db,
  workspaceId: string,
  input: z.output<typeof RenamePipelineInput>,
): Promise<{ id: string; name: string }> {
  try {
    const { count } = await db.pipeline.updateMany({
      where: { id: input.id, workspaceId },
      data: { name: input.name, ...(input.description !== undefined ? { description: input.description } : {}) },
    });
    if (count === 0) throw notFound();
  } catch (err) {
    if (isUniqueViolation(err)) throw nameTaken(input.name);
    throw err;
  }
  return { id: input.id, name: input.name };
}

const MAX_COPY_ATTEMPTS = 50;

/** "<name> (copy)", "<name> (copy 2)", …, cut so the whole stays within the 100 characters a name may have. */
export function copyName(name: string, attempt: number): string {
  const suffix = attempt === 1 ? " (copy)" : ` (copy ${attempt})`;
  return `${name.slice(0, 100 - suffix.length).trimEnd()}${suffix}`;
}

/**
 * A new pipeline whose version 1 is the latest version of another (or the draft given with it), renamed in its
 * metadata. Without a name given, the first free "<name> (copy …)" is taken: the one place copies are named.
 */
export async function duplicatePipeline(
  db: Db,
  actor: Actor,
  input: z.output<typeof DuplicatePipelineInput>,
): Promise<{ id: string; name: string }> {
  const source = await getPipeline(db, actor.workspaceId, input.id);
  if (input.definition) checkDefinitionLimits(input.definition);
  const base = input.definition ?? source.version.definition;
  const message = input.definition
    ? `Saved as a copy of "${source.name}" (edited from v${source.version.number})`
    : `Duplicated from "${source.name}" v${source.version.number}`;
  const names = input.name
    ? [input.name]
    : Array.from({ length: MAX_COPY_ATTEMPTS }, (_, i) => copyName(source.name, i + 1));
  for (const name of names) {
    const definition: PipelineDefinition = { ...base, metadata: { ...base.metadata, name: metadataName(name) } };
    try {
      const id = await db.$transaction(async (tx) => {
        const pipeline = await tx.pipeline.create({
          data: {
            workspaceId: actor.workspaceId,
            name,
            description: source.description,
            latestVersion: 1,
            createdById: actor.userId,
          },
        });
        await tx.pipelineVersion.create({
          data: {
            pipelineId: pipeline.id,
            number: 1,
            definition: definition as unknown as Prisma.InputJsonValue,
            message,
            authorId: actor.userId,
          },
        });
        return pipeline.id;
      });
      return { id, name };
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      if (input.name) throw nameTaken(input.name);
    }
  }
  throw new TRPCError({
    code: "CONFLICT",
    message: `name: "${source.name}" already has ${MAX_COPY_ATTEMPTS} copies; give this one a name`,
  });
}
