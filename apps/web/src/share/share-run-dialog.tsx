"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState } from "react";
import type { RouterOutputs } from "@/components/api-types";
import { CopyButton } from "@/components/copy-button";
import { Dialog } from "@/components/dialog";
import { errorMessage } from "@/lib/errors";
import { formatAbsolute, formatIso, formatRelative } from "@/lib/format";
import { useWorkspaceRole } from "@/lib/use-workspace-role";
import { useTRPC } from "@/trpc/react";

// A run's live view, shared by link (shares.createRunLink): anyone holding the link sees the run's graph and figures
// until it expires or is revoked, signed in or not. The token is shown once, when made; the list shows the run's
// links so they can be revoked.

const EXPIRY_CHOICES = [
  { hours: 1, label: "1 hour" },
  { hours: 24, label: "24 hours" },
  { hours: 7 * 24, label: "7 days" },
  { hours: 30 * 24, label: "30 days" },
] as const;
const DEFAULT_EXPIRY_HOURS = 24;

type ShareLink = RouterOutputs["shares"]["list"][number];

function When({ at }: { at: Date | null }) {
  if (!at) return <>—</>;
  return (
    <time dateTime={formatIso(at)} title={formatAbsolute(at)}>
      {formatRelative(at)}
    </time>
  );
}

function linkState(link: ShareLink): string {
  if (link.revokedAt) return "revoked";
  return link.active ? "active" : "expired";
}

function RunLinks({ runId }: { runId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { can, why } = useWorkspaceRole();
  const links = useQuery(trpc.shares.list.queryOptions({ runId }, { staleTime: 0 }));
  const revoke = useMutation(trpc.shares.revoke.mutationOptions());
  const [error, setError] = useState<string | null>(null);

  const revokeLink = async (id: string) => {
    setError(null);
    try {
      await revoke.mutateAsync({ id });
    } catch (err) {
      setError(`Could not revoke the link: ${errorMessage(err)}`);
    }
    await queryClient.invalidateQueries(trpc.shares.list.queryFilter({ runId }));
  };

  if (links.isError) {
    return (
      <p className="form-error" role="alert">
        Could not list the links: {errorMessage(links.error)}
      </p>
    );
  }
  if (!links.data) return <p className="muted">Loading the links…</p>;
  if (links.data.length === 0) return <p className="muted">This run has no share links yet.</p>;
  return (
    <>
      <table className="versions-table" aria-label="Share links">
        <thead>
          <tr>
            <th scope="col">Created by</th>
            <th scope="col">Created</th>
            <th scope="col">Expires</th>
            <th scope="col">Last used</th>
            <th scope="col">State</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {links.data.map((link) => (
            <tr key={link.id} data-testid={`share-link-${link.id}`}>
              <td>{link.createdBy}</td>
              <td>
                <When at={link.createdAt} />
              </td>
              <td>
                <When at={link.expiresAt} />
              </td>
              <td>{link.lastUsedAt ? <When at={link.lastUsedAt} /> : "never"}</td>
              <td>{linkState(link)}</td>
              <td>
                {link.revokedAt ? null : (
                  <button
                    type="button"
                    className="button button-small button-danger"
                    disabled={!can("shareLinks") || revoke.isPending}
                    title={why("shareLinks")}
                    onClick={() => void revokeLink(link.id)}
                  >
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {error ? (
        <p className="form-error" role="alert">
          {error}
        </p>
      ) : null}
    </>
  );
}

function ShareRunBody({ runId }: { runId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { can, why } = useWorkspaceRole();
  const expiryId = useId();
  const [hours, setHours] = useState<number>(DEFAULT_EXPIRY_HOURS);
  const create = useMutation(trpc.shares.createRunLink.mutationOptions());
  const [made, setMade] = useState<{ url: string; expiresAt: Date | null } | null>(null);

  const submit = async () => {
    try {
      const link = await create.mutateAsync({ runId, expiresInHours: hours });
      setMade({ url: `${window.location.origin}/share/${link.token}`, expiresAt: link.expiresAt });
    } catch {
      return; // shown from create.error
    }
    await queryClient.invalidateQueries(trpc.shares.list.queryFilter({ runId }));
  };

  return (
    <>
      <div className="versions-pickers">
        <label htmlFor={expiryId} className="field-label">
          Expires after
        </label>
        <select id={expiryId} className="input" value={hours} onChange={(e) => setHours(Number(e.target.value))}>
          {EXPIRY_CHOICES.map((c) => (
            <option key={c.hours} value={c.hours}>
              {c.label}
            </option>
          ))}
        </select>
        <button
          type="button"
          className="button button-primary"
          disabled={!can("shareLinks") || create.isPending}
          title={why("shareLinks")}
          onClick={() => void submit()}
        >
          Create link
        </button>
      </div>
      {create.error ? (
        <p className="form-error" role="alert">
          {errorMessage(create.error)}
        </p>
      ) : null}
      {made ? (
        <div className="field" role="status">
          <p className="field-label">The new link</p>
          <div className="versions-pickers">
            <code className="input mono" data-testid="share-link-url" style={{ overflowWrap: "anywhere" }}>
              {made.url}
            </code>
            <CopyButton text={made.url} what="link" />
          </div>
          <p className="field-hint">
            Copy it now: it will not be shown again.
            {made.expiresAt ? (
              <>
                {" "}
                It expires <When at={made.expiresAt} /> ({formatAbsolute(made.expiresAt)}).
              </>
            ) : null}
          </p>
        </div>
      ) : null}
      <h3 className="field-label" style={{ marginTop: 16 }}>
        Links to this run
      </h3>
      <RunLinks runId={runId} />
    </>
  );
}

/** "Share live view…" on the run page, and the dialog it opens. */
export function ShareRunButton({ runId }: { runId: string }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" className="button button-small" onClick={() => setOpen(true)}>
        Share live view…
      </button>
      <Dialog
        open={open}
        onClose={() => setOpen(false)}
        title="Share live view"
        description="Anyone with the link can watch this run's graph and figures, without signing in, until it expires or you revoke it."
        size="wide"
      >
        <ShareRunBody runId={runId} />
        <div className="dialog-actions">
          <button type="button" className="button" onClick={() => setOpen(false)}>
            Close
          </button>
        </div>
      </Dialog>
    </>
  );
}
