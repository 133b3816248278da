"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useId, useState } from "react";
import { Dialog } from "@/components/dialog";
import { errorMessage } from "@/lib/errors";
import { useWorkspaceRole } from "@/lib/use-workspace-role";
import { useTRPC } from "@/trpc/react";
import { NewShareLink, ShareLinks, shareUrl } from "./share-links";

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
      setMade({ url: shareUrl(link.token), expiresAt: link.expiresAt });
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
      {made ? <NewShareLink url={made.url} expiresAt={made.expiresAt} /> : null}
      <h3 className="field-label" style={{ marginTop: 16 }}>
        Links to this run
      </h3>
      <ShareLinks of={{ runId }} empty="This run has no share links yet." />
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
