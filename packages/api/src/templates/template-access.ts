import type { Prisma } from "@sluice/db/generated/prisma/client";

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

/** Whether the actor may publish versions of, change and delete a template: never a built-in one. */
export function mayEdit(
  t: { builtIn: boolean; workspaceId: string | null; visibility: string; createdById: string | null },
  actor: { workspaceId: string; userId: string },
): boolean {
  if (t.builtIn || t.workspaceId !== actor.workspaceId) return false;
  return t.visibility !== "PRIVATE" || t.createdById === actor.userId;
}
