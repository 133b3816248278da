import { createHash } from "node:crypto";
import type { Db } from "@sluice/db/client";
import { TRPCError } from "@trpc/server";

// What a share link's token opens: looked up by its sha256, refused alike when revoked, expired or never made, so
// a refusal tells nothing about which. The template service uses it for "use in my workspace" from a link, the
// share service for everything else a link shows.

export const tokenHash = (token: string) => createHash("sha256").update(token).digest("hex");

export function gone(): TRPCError {
  return new TRPCError({
    code: "NOT_FOUND",
    message: "this link does not open: it was revoked, it expired, or it was never a link",
  });
}

export async function linkOf(db: Db, token: string) {
  const link = await db.shareLink.findUnique({ where: { tokenHash: tokenHash(token) } });
  const now = new Date();
  if (!link || link.revokedAt || (link.expiresAt && link.expiresAt <= now)) throw gone();
  return link;
}

type ShareLinkRow = Awaited<ReturnType<typeof linkOf>>;

/** The template an open link leads to, or NOT_FOUND; it counts as the link's use. */
export async function templateOfLink(db: Db, link: ShareLinkRow) {
  if (link.kind !== "TEMPLATE" || !link.templateId) throw gone();
  const t = await db.template.findFirst({
    where: { id: link.templateId, visibility: "LINK" },
    include: { createdBy: { select: { name: true } } },
  });
  if (!t) throw gone();
  await db.shareLink.update({ where: { id: link.id }, data: { lastUsedAt: new Date() } });
  return t;
}

/** The template a link's token opens, or NOT_FOUND. */
export async function templateByShareToken(db: Db, token: string) {
  return templateOfLink(db, await linkOf(db, token));
}

/** The run an open live-view link leads to (its id and when the link stops), or NOT_FOUND. */
export function runOfLink(link: ShareLinkRow): { runId: string; expiresAt: Date } {
  if (link.kind !== "RUN" || !link.runId || !link.expiresAt) throw gone();
  return { runId: link.runId, expiresAt: link.expiresAt };
}

/** The run a live-view link's token opens, or NOT_FOUND. */
export async function runByShareToken(db: Db, token: string): Promise<{ runId: string; expiresAt: Date }> {
  return runOfLink(await linkOf(db, token));
}
