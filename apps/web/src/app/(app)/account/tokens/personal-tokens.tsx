"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { TokenPanel } from "@/components/token-panel";
import { useWorkspaceRole } from "@/lib/use-workspace-role";
import { useTRPC } from "@/trpc/react";

// The signed-in user's personal API tokens in the workspace they work in: each acts as them there, with at most the
// role they hold at the moment of each request, and stops when they leave the workspace.

export function PersonalTokens() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { workspace } = useWorkspaceRole();
  const list = useQuery(trpc.tokens.mine.queryOptions());
  const refresh = () => queryClient.invalidateQueries(trpc.tokens.mine.queryFilter());
  const create = useMutation(trpc.tokens.createPersonal.mutationOptions({ onSuccess: refresh }));
  const revoke = useMutation(trpc.tokens.revokePersonal.mutationOptions({ onSuccess: refresh }));
  return (
    <main className="page">
      <div className="page-header">
        <div>
          <h1 className="page-title">Your API tokens</h1>
          <p className="page-subtitle">
            For scripts and tools that call Sluice as you{workspace ? ` in ${workspace.name}` : ""}: send one as{" "}
            <code>Authorization: Bearer …</code>. A token can do what its scopes allow and your role here allows, and
            stops working when you leave the workspace. Making and revoking tokens needs you signed in.
          </p>
        </div>
      </div>
      <section className="card" aria-labelledby="personal-tokens-title">
        <div className="card-head">
          <h2 id="personal-tokens-title" className="card-title">
            Personal tokens
          </h2>
        </div>
        <TokenPanel
          what="personal tokens"
          tokens={list.data}
          loadError={list.error}
          withRole={false}
          create={{ run: create.mutateAsync, pending: create.isPending, error: create.error }}
          revoke={{
            run: (token) => revoke.mutateAsync({ id: token.id }),
            pending: revoke.isPending,
            error: revoke.error,
          }}
        />
      </section>
    </main>
  );
}
