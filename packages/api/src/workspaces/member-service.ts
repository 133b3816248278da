import type { Db } from "@sluice/db/client";
import { TRPCError } from "@trpc/server";
import type { MemberView } from "./member-router.types";
import { mayGrant, type Role, roleAtLeast } from "./roles";
import { type LockedWorkspace, type WorkspaceActor, withLockedWorkspace } from "./workspace-lock";

// A workspace's members and their roles. Admins manage members up to admin; only owners make, change or remove owners;
// the last owner can neither leave nor be demoted or removed. Each change runs under the workspace's lock
// (workspace-lock.ts) and checks the actor's role as it is then, not as it was when the request began.

const ORDER: Record<Role, number> = { OWNER: 0, ADMIN: 1, EDITOR: 2, VIEWER: 3 };

export async function listMembers(db: Db, actor: WorkspaceActor): Promise<MemberView[]> {
  const rows = await db.membership.findMany({
    where: { workspaceId: actor.workspaceId },
    select: { role: true, createdAt: true, user: { select: { id: true, name: true, email: true } } },
  });
  return rows
    .map((m) => ({
      userId: m.user.id,
      name: m.user.name,
      email: m.user.email,
      role: m.role,
      joinedAt: m.createdAt,
      you: m.user.id === actor.userId,
    }))
    .sort((a, b) => ORDER[a.role] - ORDER[b.role] || a.name.localeCompare(b.name) || a.email.localeCompare(b.email));
}

function forbidden(message: string): TRPCError {
  return new TRPCError({ code: "FORBIDDEN", message });
}

/** The actor must (still) be an admin or owner: the ladder checked it when the request began. */
function mustManage(actorRole: Role): void {
  if (!roleAtLeast(actorRole, "ADMIN")) {
    throw forbidden(`managing members needs the admin role in this workspace; yours is ${actorRole.toLowerCase()}`);
  }
}

async function memberOf(locked: LockedWorkspace, userId: string): Promise<{ role: Role; name: string }> {
  const row = await locked.tx.membership.findUnique({
    where: { userId_workspaceId: { userId, workspaceId: locked.workspace.id } },
    select: { role: true, user: { select: { name: true } } },
  });
  if (!row) throw new TRPCError({ code: "NOT_FOUND", message: "no such member in this workspace" });
  return { role: row.role, name: row.user.name };
}

/** Refuses taking the owner role from `name` when they hold the workspace's last one. */
async function keepAnOwner(locked: LockedWorkspace, name: string, you: boolean): Promise<void> {
  if ((await locked.owners()) > 1) return;
  const who = you ? "you are" : `${name} is`;
  throw new TRPCError({
    code: "PRECONDITION_FAILED",
    message: `${who} the last owner of ${locked.workspace.name}: make another member owner first`,
  });
}

export async function setMemberRole(
  db: Db,
  actor: WorkspaceActor,
  input: { userId: string; role: Role },
): Promise<{ userId: string; role: Role }> {
  return withLockedWorkspace(db, actor, async (locked) => {
    mustManage(locked.actorRole);
    const target = await memberOf(locked, input.userId);
    if (target.role === input.role) return { userId: input.userId, role: input.role };
    if (!mayGrant(locked.actorRole, target.role)) throw forbidden("only an owner can change an owner's role");
    if (!mayGrant(locked.actorRole, input.role)) throw forbidden("only an owner can make someone an owner");
    if (target.role === "OWNER") await keepAnOwner(locked, target.name, input.userId === actor.userId);
    await locked.tx.membership.update({
      where: { userId_workspaceId: { userId: input.userId, workspaceId: locked.workspace.id } },
      data: { role: input.role },
    });
    return { userId: input.userId, role: input.role };
  });
}

export async function removeMember(db: Db, actor: WorkspaceActor, userId: string): Promise<void> {
  await withLockedWorkspace(db, actor, async (locked) => {
    mustManage(locked.actorRole);
    const target = await memberOf(locked, userId);
    if (!mayGrant(locked.actorRole, target.role)) throw forbidden("only an owner can remove an owner");
    if (target.role === "OWNER") await keepAnOwner(locked, target.name, userId === actor.userId);
    await locked.tx.membership.delete({
      where: { userId_workspaceId: { userId, workspaceId: locked.workspace.id } },
    });
  });
}

/** The actor leaves the workspace; its last owner cannot (they can hand it over, or delete it). */
export async function leaveWorkspace(db: Db, actor: WorkspaceActor): Promise<void> {
  await withLockedWorkspace(db, actor, async (locked) => {
    if (locked.actorRole === "OWNER" && (await locked.owners()) <= 1) {
      throw new TRPCError({
        code: "PRECONDITION_FAILED",
        message: `you are the last owner of ${locked.workspace.name}: make another member owner first, or delete the workspace`,
      });
    }
    await locked.tx.membership.delete({
      where: { userId_workspaceId: { userId: actor.userId, workspaceId: locked.workspace.id } },
    });
  });
}

/** Makes `userId` an owner and the actor, an owner, an admin: one step, so the workspace is never without an owner. */
export async function transferOwnership(
  db: Db,
  actor: WorkspaceActor,
  userId: string,
): Promise<{ changed: { userId: string; role: Role }[] }> {
  return withLockedWorkspace(db, actor, async (locked) => {
    if (locked.actorRole !== "OWNER") throw forbidden("only an owner can hand the workspace over");
    if (userId === actor.userId) {
      throw new TRPCError({ code: "BAD_REQUEST", message: "userId: choose another member; you own it already" });
    }
    await memberOf(locked, userId);
    const { tx, workspace } = locked;
    await tx.membership.update({
      where: { userId_workspaceId: { userId, workspaceId: workspace.id } },
      data: { role: "OWNER" },
    });
    await tx.membership.update({
      where: { userId_workspaceId: { userId: actor.userId, workspaceId: workspace.id } },
      data: { role: "ADMIN" },
    });
    return {
      changed: [
        { userId, role: "OWNER" },
        { userId: actor.userId, role: "ADMIN" },
      ],
    };
  });
}
