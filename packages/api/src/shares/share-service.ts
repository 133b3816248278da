import { randomBytes } from "node:crypto";
import type { Db } from "@sluice/db/client";
import type { NodeCounters } from "@sluice/pipeline/control/protocol";
import { PipelineDefinition } from "@sluice/pipeline/definition";
import { TRPCError } from "@trpc/server";
import type { z } from "zod";
import { mayEdit } from "../templates/template-access";
import { templateView } from "../templates/template-view";
import type { Role } from "../workspaces/roles";
import type {
  CreatedShareLink,
  CreateRunLinkInput,
  ListShareLinksInput,
  SharedView,
  ShareLinkView,
} from "./share-router.types";
import { gone, linkOf, runOfLink, templateOfLink, tokenHash } from "./share-token";

// Share links: a template's read-only page, or a run's read-only live view, for anyone holding the link, signed in
// or not. The link carries 32 random bytes shown once to whoever made it; only their sha256 is kept, as for
// invitations and sessions. A link opens until it is revoked (and a run's until it expires, which it always does);
// a template's only while the template is still shared by link. What a link shows is secret-free by construction:
// definitions name connections, never hold them, and a run's view leaves out who started it and its error text.

export interface ShareActor {
  db: Db;
  workspaceId: string;
  userId: string;
  role: Role;
}

/** Links a template or run may have open at once: enough for every audience, few enough to review. */
const MAX_ACTIVE_LINKS = 50;

async function activeLinks(db: Db, where: { templateId?: string; runId?: string }): Promise<number> {
  return db.shareLink.count({
    where: { ...where, revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: new Date() } }] },
  });
}

async function newLink(
  actor: ShareActor,
  data: { kind: "TEMPLATE" | "RUN"; templateId?: string; runId?: string; expiresAt?: Date },
): Promise<z.output<typeof CreatedShareLink>> {
  const open = await activeLinks(actor.db, { templateId: data.templateId, runId: data.runId });
  if (open >= MAX_ACTIVE_LINKS) {
    throw new TRPCError({
      code: "PRECONDITION_FAILED",
      message: `this ${data.kind === "RUN" ? "run" : "template"} has ${open} open links, the most it may; revoke some first`,
    });
  }
  const token = randomBytes(32).toString("base64url");
  const link = await actor.db.shareLink.create({
    data: { ...data, workspaceId: actor.workspaceId, tokenHash: tokenHash(token), createdById: actor.userId },
  });
  return { id: link.id, token, expiresAt: link.expiresAt };
}

/** A link to a template's page; the template becomes shared by link if it was not. */
export async function createTemplateLink(
  actor: ShareActor,
  templateId: string,
): Promise<z.output<typeof CreatedShareLink>> {
  const t = await actor.db.template.findFirst({ where: { id: templateId, workspaceId: actor.workspaceId } });
  if (!t || !mayEdit(t, actor)) throw new TRPCError({ code: "NOT_FOUND", message: "no such template here" });
  if (t.visibility !== "LINK") {
    await actor.db.template.update({ where: { id: t.id }, data: { visibility: "LINK" } });
  }
  return newLink(actor, { kind: "TEMPLATE", templateId: t.id });
}

/** A link to a run's live view, expiring after `expiresInHours`. */
export async function createRunLink(
  actor: ShareActor,
  input: z.output<typeof CreateRunLinkInput>,
): Promise<z.output<typeof CreatedShareLink>> {
  const run = await actor.db.run.findFirst({ where: { id: input.runId, workspaceId: actor.workspaceId } });
  if (!run) throw new TRPCError({ code: "NOT_FOUND", message: "no such run in this workspace" });
  const expiresAt = new Date(Date.now() + input.expiresInHours * 3_600_000);
  return newLink(actor, { kind: "RUN", runId: run.id, expiresAt });
}

export async function listShareLinks(
  actor: ShareActor,
  input: z.output<typeof ListShareLinksInput>,
): Promise<z.output<typeof ShareLinkView>[]> {
  const links = await actor.db.shareLink.findMany({
    where: {
      workspaceId: actor.workspaceId,
      ...(input.templateId ? { templateId: input.templateId } : { runId: input.runId }),
    },
    orderBy: { createdAt: "desc" },
    take: 200,
    include: { createdBy: { select: { name: true } }, template: { select: { visibility: true } } },
  });
  const now = new Date();
  return links.map((l) => ({
    id: l.id,
    kind: l.kind,
    createdBy: l.createdBy.name,
    createdAt: l.createdAt,
    expiresAt: l.expiresAt,
    revokedAt: l.revokedAt,
    lastUsedAt: l.lastUsedAt,
    active:
      !l.revokedAt && (!l.expiresAt || l.expiresAt > now) && (l.kind === "RUN" || l.template?.visibility === "LINK"),
  }));
}

/** Revokes a link at once: the next request with it, and any live view open on it, is refused. */
export async function revokeShareLink(actor: ShareActor, id: string): Promise<void> {
  const { count } = await actor.db.shareLink.updateMany({
    where: { id, workspaceId: actor.workspaceId, revokedAt: null },
    data: { revokedAt: new Date() },
  });
  if (count === 0) {
    const exists = await actor.db.shareLink.findFirst({ where: { id, workspaceId: actor.workspaceId } });
    if (!exists) throw new TRPCError({ code: "NOT_FOUND", message: "no such link in this workspace" });
  }
}

/** What a link shows, for anyone holding it. */
export async function viewShare(db: Db, token: string): Promise<z.output<typeof SharedView>> {
  // One lookup of the token serves the whole answer.
  const link = await linkOf(db, token);
  if (link.kind === "TEMPLATE") {
    const t = await templateOfLink(db, link);
    return { kind: "template", template: await templateView(db, t, undefined, false) };
  }
  const { runId, expiresAt } = runOfLink(link);
  const run = await db.run.findUnique({
    where: { id: runId },
    include: { pipeline: { select: { name: true } }, version: { select: { number: true, definition: true } } },
  });
  if (!run) throw gone();
  await db.shareLink.update({ where: { id: link.id }, data: { lastUsedAt: new Date() } });
  return {
    kind: "run",
    run: {
      runId: run.id,
      pipelineName: run.pipeline.name,
      version: run.version.number,
      status: run.status,
      startedAt: run.startedAt,
      finishedAt: run.finishedAt,
      counters: (run.counters as Record<string, z.output<typeof NodeCounters>> | null) ?? null,
      definition: PipelineDefinition.parse(run.version.definition),
      expiresAt,
    },
  };
}
