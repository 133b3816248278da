"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/trpc/react";

export type WorkspaceRole = "OWNER" | "ADMIN" | "EDITOR" | "VIEWER";

/**
 * The signed-in user's role in the workspace the API acts on. The web app sends no workspace header, so the API
 * takes the first membership of the session (workspaceProcedure in packages/api/src/trpc.ts); so does this.
 * `canEdit` is false until the role is known, so an action is never offered to someone the API would refuse.
 */
export function useWorkspaceRole(): { role: WorkspaceRole | null; canEdit: boolean; known: boolean } {
  const trpc = useTRPC();
  const me = useQuery(trpc.auth.me.queryOptions(undefined, { staleTime: 60_000 }));
  const role = me.data?.workspaces[0]?.role ?? null;
  return { role, canEdit: role !== null && role !== "VIEWER", known: me.isSuccess };
}
