"use client";

import type { Role } from "@sluice/api/workspaces/roles";
import { useQuery } from "@tanstack/react-query";
import { allows, refusalText, type WorkspaceAction } from "@/lib/workspace-actions";
import { useCurrentWorkspaceId, useTRPC } from "@/trpc/react";

export interface WorkspaceRoleView {
  /** The caller's role in the workspace this page addresses; null while unknown or when no longer a member. */
  role: Role | null;
  known: boolean;
  /** The workspace this page addresses, as "who am I" lists it; null when the user is no longer in it. */
  workspace: { id: string; name: string; role: Role } | null;
  /** Whether the role may do `action`: false until the role is known, so nothing is offered the API would refuse. */
  can(action: WorkspaceAction): boolean;
  /**
   * Why not, for the disabled control's title ("Viewers cannot edit pipelines; ask an admin for the editor role.");
   * undefined exactly when `can` is true.
   */
  why(action: WorkspaceAction): string | undefined;
  /** can("editPipelines"): what most of the editor's controls need. */
  canEdit: boolean;
}

/**
 * The one place the web app learns what the signed-in user may do here: their role in the workspace the page
 * addresses, from "who am I" (read again whenever the API refuses something), against the action table in
 * workspace-actions.ts. The API checks every call regardless.
 */
export function useWorkspaceRole(): WorkspaceRoleView {
  const trpc = useTRPC();
  const workspaceId = useCurrentWorkspaceId();
  const me = useQuery(trpc.auth.me.queryOptions(undefined, { staleTime: 30_000 }));
  const workspaces = me.data?.workspaces ?? [];
  const workspace = workspaceId ? (workspaces.find((w) => w.id === workspaceId) ?? null) : (workspaces[0] ?? null);
  const role = workspace?.role ?? null;
  return {
    role,
    known: me.isSuccess,
    workspace,
    can: (action) => allows(role, action),
    why: (action) => (me.isSuccess ? refusalText(role, action) : "Checking your role in this workspace…"),
    canEdit: allows(role, "editPipelines"),
  };
}
