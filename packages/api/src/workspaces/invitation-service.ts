import { createHash, randomBytes } from "node:crypto";
import type { Db } from "@sluice/db/client";
import { TRPCError } from "@trpc/server";
import type { z } from "zod";
import { type AuditActor, recordAudit } from "../audit/audit-log";
import type {
  AcceptedInvitation,
  CreatedInvitation,
  CreateInvitationInput,
  InvitationPreview,
  InvitationState,
  InvitationView,
} from "./invitation-router.types";
import { mayGrant, type Role } from "./roles";
import { lockWorkspace, type WorkspaceActor } from "./workspace-lock";

// Invitations by link. The link carries a random token shown once to the admin who made it; the database keeps only
// its sha256, as it does for session ids, so a copy of the database opens no workspace. An invitation works once,
// until it expires or is revoked, and only for the email it names when it names one. It is a grant its maker defers:
// accepting it also needs its maker to be able to grant that role still.

/** Pending invitations one workspace may have at a time. */
const MAX_PENDING_INVITATIONS = 100;

function tokenHash(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

function day(date: Date): string {
  return date.toISOString().slice(0, 10);
}

export async function createInvitation(
  db: Db,
  actor: WorkspaceActor & { role: Role },
  input: z.output<typeof CreateInvitationInput>,
): Promise<z.output<typeof CreatedInvitation>> {
  if (!mayGrant(actor.role, input.role)) {
    throw new TRPCError({ code: "FORBIDDEN", message: "only an owner can invite someone as an owner" });
  }
  const now = new Date();
  const pending = await db.invitation.count({
    where: { workspaceId: actor.workspaceId, acceptedAt: null, revokedAt: null, expiresAt: { gt: now } },
  });
  if (pending >= MAX_PENDING_INVITATIONS) {
    throw new TRPCError({
      code: "PRECONDITION_FAILED",
      message: `this workspace has ${pending} pending invitations, the most it may; revoke some first`,
    });
  }
  if (input.email) {
    const member = await db.membership.findFirst({
      where: { workspaceId: actor.workspaceId, user: { email: input.email } },
      select: { role: true },
    });
    if (member) {
      throw new TRPCError({
        code: "CONFLICT",
        message: `email: ${input.email} is already a member of this workspace, as ${member.role.toLowerCase()}`,
      });
    }
  }
  const token = randomBytes(32).toString("base64url");
  const created = await db.invitation.create({
    data: {
      workspaceId: actor.workspaceId,
      tokenHash: tokenHash(token),
      role: input.role,
      email: input.email ?? null,
      createdById: actor.userId,
      expiresAt: new Date(now.getTime() + input.expiresInDays * 86_400_000),
    },
    select: { id: true, role: true, email: true, expiresAt: true },
  });
  return { ...created, token };
}

/** Invitations not used and not revoked, newest first; expired ones are marked, so they can be seen and cleared. */
export async function listInvitations(db: Db, workspaceId: string): Promise<z.output<typeof InvitationView>[]> {
  const now = Date.now();
  const rows = await db.invitation.findMany({
    where: { workspaceId, acceptedAt: null, revokedAt: null },
    orderBy: { createdAt: "desc" },
    take: MAX_PENDING_INVITATIONS * 2,
    select: {
      id: true,
      role: true,
      email: true,
      createdAt: true,
      expiresAt: true,
      createdBy: { select: { name: true } },
    },
  });
  return rows.map((r) => ({
    id: r.id,
    role: r.role,
    email: r.email,
    invitedBy: r.createdBy.name,
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
    expired: r.expiresAt.getTime() <= now,
  }));
}

/** Revokes a pending invitation at once; revoking it again changes nothing. */
export async function revokeInvitation(db: Db, workspaceId: string, id: string): Promise<void> {
  const { count } = await db.invitation.updateMany({
    where: { id, workspaceId, acceptedAt: null, revokedAt: null },
    data: { revokedAt: new Date() },
  });
  if (count > 0) return;
  const row = await db.invitation.findFirst({ where: { id, workspaceId }, select: { acceptedAt: true } });
  if (!row) throw new TRPCError({ code: "NOT_FOUND", message: "no such invitation in this workspace" });
  if (row.acceptedAt) {
    throw new TRPCError({
      code: "PRECONDITION_FAILED",
      message: "it was already accepted: remove the member instead",
    });
  }
}

interface InvitationRow {
  acceptedAt: Date | null;
  revokedAt: Date | null;
  expiresAt: Date;
}

function stateOf(row: InvitationRow, now: Date): InvitationState {
  if (row.revokedAt) return "revoked";
  if (row.acceptedAt) return "used";
  if (row.expiresAt.getTime() <= now.getTime()) return "expired";
  return "pending";
}

function notFound(): TRPCError {
  return new TRPCError({
    code: "NOT_FOUND",
    message: "this invitation link is not known: check that it was copied whole, or ask for a new one",
  });
}

/** What the link's page shows: the workspace, the role, who invited, and whether it can still be accepted. */
export async function previewInvitation(db: Db, token: string): Promise<z.output<typeof InvitationPreview>> {
  const row = await db.invitation.findUnique({
    where: { tokenHash: tokenHash(token) },
    select: {
      role: true,
      email: true,
      expiresAt: true,
      acceptedAt: true,
      revokedAt: true,
      workspace: { select: { name: true } },
      createdBy: { select: { name: true } },
    },
  });
  if (!row) throw notFound();
  return {
    workspaceName: row.workspace.name,
    role: row.role,
    invitedBy: row.createdBy.name,
    email: row.email,
    expiresAt: row.expiresAt,
    state: stateOf(row, new Date()),
  };
}

function refusal(state: Exclude<InvitationState, "pending">, row: { expiresAt: Date; invitedBy: string }): TRPCError {
  const message = {
    expired: `this invitation expired on ${day(row.expiresAt)}: ask ${row.invitedBy} for a new one`,
    used: "this invitation was already used (each link works once): ask for a new one",
    revoked: "this invitation was revoked: ask an admin of the workspace for a new one",
  }[state];
  return new TRPCError({ code: "PRECONDITION_FAILED", message });
}

/**
 * Makes the signed-in user a member in the invitation's role, and uses the invitation up, in one transaction under
 * the workspace's lock: two accepts of one link cannot both succeed, and the maker's rights are read as they are now.
 * Refusals name why: expired, used, revoked, another email, already a member, or the maker can no longer grant it.
 */
export async function acceptInvitation(
  db: Db,
  user: { id: string; email: string },
  token: string,
  /** Who the audit entry names (the same user, with the request's address). */
  actor: AuditActor,
): Promise<z.output<typeof AcceptedInvitation>> {
  const hash = tokenHash(token);
  const found = await db.invitation.findUnique({ where: { tokenHash: hash }, select: { workspaceId: true } });
  if (!found) throw notFound();
  return db.$transaction(async (tx) => {
    const workspace = await lockWorkspace(tx, found.workspaceId);
    const row = await tx.invitation.findUnique({
      where: { tokenHash: hash },
      select: {
        id: true,
        role: true,
        email: true,
        expiresAt: true,
        acceptedAt: true,
        revokedAt: true,
        createdById: true,
        createdBy: { select: { name: true } },
      },
    });
    if (!row) throw notFound();
    const now = new Date();
    const state = stateOf(row, now);
    if (state !== "pending") throw refusal(state, { expiresAt: row.expiresAt, invitedBy: row.createdBy.name });
    if (row.email && row.email !== user.email) {
      throw new TRPCError({
        code: "FORBIDDEN",
        message: `this invitation is for ${row.email}, and you are signed in as ${user.email}: sign in with that email, or ask for an invitation for yours`,
      });
    }
    const existing = await tx.membership.findUnique({
      where: { userId_workspaceId: { userId: user.id, workspaceId: workspace.id } },
      select: { role: true },
    });
    if (existing) {
      throw new TRPCError({
        code: "CONFLICT",
        message: `you are already a member of ${workspace.name}, as ${existing.role.toLowerCase()}`,
      });
    }
    const maker = await tx.membership.findUnique({
      where: { userId_workspaceId: { userId: row.createdById, workspaceId: workspace.id } },
      select: { role: true },
    });
    if (!maker || !mayGrant(maker.role, row.role)) {
      throw new TRPCError({
        code: "PRECONDITION_FAILED",
        message: `${row.createdBy.name}, who made this invitation, can no longer grant the ${row.role.toLowerCase()} role here: ask an admin of the workspace for a new one`,
      });
    }
    // Conditional, as revoking takes no workspace lock: a revoke that commits first wins, and this finds nothing.
    const claimed = await tx.invitation.updateMany({
      where: { id: row.id, acceptedAt: null, revokedAt: null, expiresAt: { gt: now } },
      data: { acceptedAt: now, acceptedById: user.id },
    });
    if (claimed.count === 0) throw refusal("revoked", { expiresAt: row.expiresAt, invitedBy: row.createdBy.name });
    await tx.membership.create({ data: { userId: user.id, workspaceId: workspace.id, role: row.role } });
    // Outside any workspace rung, so written here: in the same transaction as the membership it records.
    await recordAudit(tx, workspace.id, actor, {
      action: "invitations.accept",
      target: { type: "member", id: user.id, name: user.email },
      details: { role: row.role, invitationId: row.id, invitedBy: row.createdBy.name },
    });
    return { workspaceId: workspace.id, workspaceName: workspace.name, role: row.role };
  });
}
