"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { CopyButton } from "@/components/copy-button";
import { errorMessage } from "@/lib/errors";
import { formatAbsolute, formatIso, formatRelative } from "@/lib/format";
import { useWorkspaceRole } from "@/lib/use-workspace-role";
import { useTRPC } from "@/trpc/react";

// A template's share links: make one (its address is shown once: only a hash of the token is kept), see who made
// each and when it was last opened, revoke one. A link opens the template's read-only page for anyone holding it.

export function SharePanel({ templateId }: { templateId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { why } = useWorkspaceRole();
  const refusal = why("shareLinks");
  const links = useQuery(trpc.shares.list.queryOptions({ templateId }));
  const [created, setCreated] = useState<string | null>(null);
  const [rowError, setRowError] = useState<string | null>(null);
  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries(trpc.shares.list.queryFilter({ templateId })),
      // Making a link shares the template by link: its visibility changes.
      queryClient.invalidateQueries(trpc.templates.get.queryFilter()),
      queryClient.invalidateQueries(trpc.templates.list.queryFilter()),
    ]);
  const create = useMutation(
    trpc.shares.createTemplateLink.mutationOptions({
      onSuccess: ({ token }) => {
        setCreated(`${window.location.origin}/share/${token}`);
        void refresh();
      },
    }),
  );
  const revoke = useMutation(
    trpc.shares.revoke.mutationOptions({
      onSuccess: () => void refresh(),
      onError: (err) => setRowError(`Could not revoke: ${errorMessage(err)}`),
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
      {created ? (
        <div className="share-created" role="status">
          <p>
            <strong>Copy the link now:</strong> it will not be shown again.
          </p>
          <div className="share-created-row">
            <code className="share-link-url" data-testid="share-link-url">
              {created}
            </code>
            <CopyButton text={created} what="share link" />
          </div>
        </div>
      ) : null}
      {rowError ? (
        <p className="form-error" role="alert">
          {rowError}
        </p>
      ) : null}
      {links.isPending ? (
        <p className="muted">Loading links…</p>
      ) : links.isError ? (
        <p className="form-error" role="alert">
          Could not load the links: {errorMessage(links.error)}
        </p>
      ) : links.data.length === 0 ? (
        <p className="muted">No links yet.</p>
      ) : (
        <div className="table-card">
          <table className="table" aria-label="Share links">
            <thead>
              <tr>
                <th scope="col">Created by</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">State</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {links.data.map((l) => (
                <tr key={l.id}>
                  <td>{l.createdBy}</td>
                  <td>
                    <time title={formatIso(l.createdAt)}>{formatAbsolute(l.createdAt)}</time>
                  </td>
                  <td className="muted">
                    {l.lastUsedAt ? (
                      <time title={formatAbsolute(l.lastUsedAt)}>{formatRelative(l.lastUsedAt)}</time>
                    ) : (
                      "Never"
                    )}
                  </td>
                  <td>
                    {l.active ? (
                      <span className="template-badge template-badge-active">Active</span>
                    ) : l.revokedAt ? (
                      <span className="template-badge" title={formatAbsolute(l.revokedAt)}>
                        Revoked
                      </span>
                    ) : (
                      <span className="template-badge">Not opening</span>
                    )}
                  </td>
                  <td className="cell-actions">
                    {l.revokedAt === null ? (
                      <button
                        type="button"
                        className="button button-ghost button-small button-ghost-danger"
                        aria-label={`Revoke the link created ${formatAbsolute(l.createdAt)}`}
                        disabled={revoke.isPending || refusal !== undefined}
                        title={refusal}
                        onClick={() => {
                          setRowError(null);
                          revoke.mutate({ id: l.id });
                        }}
                      >
                        Revoke
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
