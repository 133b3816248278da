"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { RouterOutputs } from "@/components/api-types";
import { CopyButton } from "@/components/copy-button";
import { errorMessage } from "@/lib/errors";
import { formatAbsolute, formatIso, formatRelative } from "@/lib/format";
import { useWorkspaceRole } from "@/lib/use-workspace-role";
import { useTRPC } from "@/trpc/react";
import "./share-links.css";

// A template's or a run's share links, as those who may manage them see them: the address of a new one (shown once:
// only a hash of the token is kept), and the list of them with who made each, when it expires and was last opened,
// whether it opens, and Revoke.

type ShareLink = RouterOutputs["shares"]["list"][number];
type LinksOf = { templateId: string } | { runId: string };

/** The address a share link's token opens. */
export function shareUrl(token: string): string {
  return `${window.location.origin}/share/${token}`;
}

function When({ at }: { at: Date }) {
  return (
    <time dateTime={formatIso(at)} title={formatAbsolute(at)}>
      {formatRelative(at)}
    </time>
  );
}

/** A link just made: its address, to copy now, and when it stops opening. */
export function NewShareLink({ url, expiresAt }: { url: string; expiresAt: Date | null }) {
  return (
    <div className="share-created" role="status">
      <p>
        <strong>Copy the link now:</strong> it will not be shown again.
        {expiresAt ? (
          <>
            {" "}
            It expires <When at={expiresAt} /> ({formatAbsolute(expiresAt)}).
          </>
        ) : null}
      </p>
      <div className="share-created-row">
        <code className="share-link-url" data-testid="share-link-url">
          {url}
        </code>
        <CopyButton text={url} what="share link" />
      </div>
    </div>
  );
}

function LinkState({ link }: { link: ShareLink }) {
  if (link.revokedAt) {
    return (
      <span className="status status-stopped" title={formatAbsolute(link.revokedAt)}>
        Revoked
      </span>
    );
  }
  if (link.active) return <span className="status status-running">Active</span>;
  // Not revoked yet not opening: a run's link has expired; a template's is no longer shared by link.
  return <span className="status status-stopped">{link.expiresAt ? "Expired" : "Not opening"}</span>;
}

/** The share links of one template or run; `empty` says there are none, `onRevoked` runs once one is revoked. */
export function ShareLinks({ of, empty, onRevoked }: { of: LinksOf; empty: string; onRevoked?: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { why } = useWorkspaceRole();
  const refusal = why("shareLinks");
  const links = useQuery(trpc.shares.list.queryOptions(of, { staleTime: 0 }));
  const [error, setError] = useState<string | null>(null);
  const revoke = useMutation(
    trpc.shares.revoke.mutationOptions({
      onSuccess: () => onRevoked?.(),
      onError: (err) => setError(`Could not revoke the link: ${errorMessage(err)}`),
      // A failed revoke may still have changed the link (revoked meanwhile, or gone): show it as it is.
      onSettled: () => queryClient.invalidateQueries(trpc.shares.list.queryFilter(of)),
    }),
  );

  if (links.isPending) return <p className="muted">Loading the links…</p>;
  if (links.isError) {
    return (
      <p className="form-error" role="alert">
        Could not load the links: {errorMessage(links.error)}
      </p>
    );
  }
  if (links.data.length === 0) return <p className="muted">{empty}</p>;
  const expiring = links.data.some((l) => l.expiresAt !== null);
  return (
    <>
      {error ? (
        <p className="form-error" role="alert">
          {error}
        </p>
      ) : null}
      <div className="table-card">
        <table className="table" aria-label="Share links">
          <thead>
            <tr>
              <th scope="col">Created by</th>
              <th scope="col">Created</th>
              {expiring ? <th scope="col">Expires</th> : null}
              <th scope="col">Last used</th>
              <th scope="col">State</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {links.data.map((l) => (
              <tr key={l.id} data-testid={`share-link-${l.id}`}>
                <td>{l.createdBy}</td>
                <td>
                  <When at={l.createdAt} />
                </td>
                {expiring ? <td>{l.expiresAt ? <When at={l.expiresAt} /> : "Never"}</td> : null}
                <td className="muted">{l.lastUsedAt ? <When at={l.lastUsedAt} /> : "Never"}</td>
                <td>
                  <LinkState link={l} />
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
                        setError(null);
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
    </>
  );
}
