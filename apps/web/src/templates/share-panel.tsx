"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { errorMessage } from "@/lib/errors";
import { useWorkspaceRole } from "@/lib/use-workspace-role";
import { NewShareLink, ShareLinks, shareUrl } from "@/share/share-links";
import { useTRPC } from "@/trpc/react";

// A template's share links: make one (its address is shown once: only a hash of the token is kept), see who made
// each and when it was last opened, revoke one. A link opens the template's read-only page for anyone holding it.

export function SharePanel({ templateId }: { templateId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { why } = useWorkspaceRole();
  const refusal = why("shareLinks");
  const [created, setCreated] = useState<string | null>(null);
  // Making a link shares the template by link: its visibility changes.
  const refreshTemplate = () =>
    Promise.all([
      queryClient.invalidateQueries(trpc.templates.get.queryFilter()),
      queryClient.invalidateQueries(trpc.templates.list.queryFilter()),
    ]);
  const create = useMutation(
    trpc.shares.createTemplateLink.mutationOptions({
      onSuccess: ({ token }) => {
        setCreated(shareUrl(token));
        void queryClient.invalidateQueries(trpc.shares.list.queryFilter({ templateId }));
        void refreshTemplate();
      },
    }),
  );

  return (
    <section className="template-section" aria-labelledby="template-share-heading">
      <h2 id="template-share-heading" className="template-section-title">
        Share
      </h2>
      <p className="muted">
        Anyone holding a link sees this template read only and can make a pipeline of it in their own workspace. Making
        a link shares the template by link.
      </p>
      <button
        type="button"
        className="button"
        onClick={() => {
          setCreated(null);
          create.mutate({ templateId });
        }}
        disabled={create.isPending || refusal !== undefined}
        title={refusal}
      >
        {create.isPending ? "Creating…" : "Create share link"}
      </button>
      {create.error ? (
        <p className="form-error" role="alert">
          Could not create a link: {errorMessage(create.error)}
        </p>
      ) : null}
      {created ? <NewShareLink url={created} expiresAt={null} /> : null}
      <ShareLinks of={{ templateId }} empty="No links yet." onRevoked={() => void refreshTemplate()} />
    </section>
  );
}
