import type { Db } from "@sluice/db/client";
import type { Prisma } from "@sluice/db/generated/prisma/client";
import { TRPCError } from "@trpc/server";
import type { Role } from "./roles";

// Every change to who belongs to a workspace, and in which role, runs here: in one transaction that first locks the
// workspace's row (SELECT … FOR UPDATE), so changes to one workspace's members take turns. Each then reads the
// members as they are after the one before it committed; "is this the last owner?" cannot be answered by two
// requests from the same picture, and a workspace cannot be left without an owner.

/** Who acts: a signed-in user in the workspace the request addresses. */
export interface WorkspaceActor {
  userId: string;
  workspaceId: string;
}

export interface LockedWorkspace {
  tx: Prisma.TransactionClient;
  workspace: { id: string; name: string };
  /** The actor's role as it is now, under the lock: it may have changed since the request began. */
  actorRole: Role;
  /** How many owners the workspace has now. */
  owners(): Promise<number>;
}

/** Runs `work` with the workspace locked and the actor's current role read; refuses an actor who is no member now. */
export function withLockedWorkspace<T>(
  db: Db,
  actor: WorkspaceActor,
  work: (locked: LockedWorkspace) => Promise<T>,
): Promise<T> {
  return db.$transaction(async (tx) => {
    const workspace = await lockWorkspace(tx, actor.workspaceId);
    const membership = await tx.membership.findUnique({
      where: { userId_workspaceId: { userId: actor.userId, workspaceId: workspace.id } },
      select: { role: true },
    });
    if (!membership) {
      throw new TRPCError({ code: "FORBIDDEN", message: "you are not a member of that workspace" });
    }
    return work({
      tx,
      workspace,
      actorRole: membership.role,
      owners: () => tx.membership.count({ where: { workspaceId: workspace.id, role: "OWNER" } }),
    });
  });
}

/** Locks the workspace's row until the transaction ends; NOT_FOUND when it is gone. */
export async function lockWorkspace(
  tx: Prisma.TransactionClient,
  workspaceId: string,
): Promise<{ id: string; name: string }> {
  const rows = await tx.$queryRaw<{ id: string; name: string }[]>`
    SELECT "id", "name" FROM "Workspace" WHERE "id" = ${workspaceId} FOR UPDATE`;
  const workspace = rows[0];
  if (!workspace) throw new TRPCError({ code: "NOT_FOUND", message: "that workspace does not exist (any more)" });
  return workspace;
}
