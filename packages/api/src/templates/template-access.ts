import type { Prisma } from "@sluice/db/generated/prisma/client";
import { type Role, roleAtLeast } from "../workspaces/roles";

// Who sees a template and who may change it: one place, for the template and share services.

/** The templates a member of `workspaceId` sees: built-in ones, the workspace's shared ones, and their own. */
export function visibleTo(workspaceId: string, userId: string): Prisma.TemplateWhereInput {
  return {
    OR: [
      { builtIn: true },
      { workspaceId, visibility: { in: ["WORKSPACE", "LINK"] } },
      { workspaceId, createdById: userId },
    ],
  };
}

/**
 * Whether the actor may publish versions of, change and delete a template: an editor of its workspace (its author
 * only, while it is private); never a built-in one.
 */
export function mayEdit(
  t: { builtIn: boolean; workspaceId: string | null; visibility: string; createdById: string | null },
  actor: { workspaceId: string; userId: string; role: Role },
): boolean {
  if (t.builtIn || t.workspaceId !== actor.workspaceId || !roleAtLeast(actor.role, "EDITOR")) return false;
  return t.visibility !== "PRIVATE" || t.createdById === actor.userId;
}
