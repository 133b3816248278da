"use client";

import { skipToken, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { TokenPanel } from "@/components/token-panel";
import { useWorkspaceRole } from "@/lib/use-workspace-role";
import { useTRPC } from "@/trpc/react";

// The workspace's own API tokens, for admins: they belong to the workspace rather than to whoever made them, keep
// working when that person leaves, and act with the role they were given.

export function WorkspaceTokensCard() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { can, why } = useWorkspaceRole();
  const allowed = can("manageWorkspaceTokens");
  const list = useQuery(trpc.tokens.workspace.queryOptions(allowed ? undefined : skipToken));
  const refresh = () => queryClient.invalidateQueries(trpc.tokens.workspace.queryFilter());
  const create = useMutation(trpc.tokens.createWorkspace.mutationOptions({ onSuccess: refresh }));
  const revoke = useMutation(trpc.tokens.revokeWorkspace.mutationOptions({ onSuccess: refresh }));
  return (
    <section className="card" aria-labelledby="workspace-tokens-title">
      <div className="card-head">
        <h2 id="workspace-tokens-title" className="card-title">
          API tokens
        </h2>
      </div>
      {allowed ? (
        <>
          <p className="field-hint">
            Tokens of the workspace for CI and other systems: they act with the role chosen here, whoever made them, and
            outlive their maker's membership. Personal tokens are under "API tokens" beside your name in the header.
          </p>
          <TokenPanel
            what="workspace tokens"
            tokens={list.data}
            loadError={list.error}
            withRole
            create={{
              run: ({ role, ...input }) => create.mutateAsync({ ...input, role: role ?? "VIEWER" }),
              pending: create.isPending,
              error: create.error,
            }}
            revoke={{
              run: (token) => revoke.mutateAsync({ id: token.id }),
              pending: revoke.isPending,
              error: revoke.error,
            }}
          />
        </>
      ) : (
        <p className="muted">{why("manageWorkspaceTokens")}</p>
      )}
    </section>
  );
}
