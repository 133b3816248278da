"use client";

import { useState } from "react";
import { Dialog } from "@/components/dialog";
import { type NewTokenInput, TokenForm } from "@/components/token-form";
import { TokenSecret } from "@/components/token-secret";
import { type TokenItem, TokenTable } from "@/components/token-table";
import { errorMessage } from "@/lib/errors";

// Everything a token page does, whichever tokens it holds: make one (its secret shown once), list them, revoke one at
// once. The personal and workspace pages give it their own procedures.

interface TokenPanelProps {
  /** "personal tokens", "workspace tokens": how the panel names what it lists. */
  what: string;
  tokens: readonly TokenItem[] | undefined;
  loadError: unknown;
  withRole: boolean;
  /** Makes the token; its answer carries the secret, which the panel shows until dismissed (and keeps nowhere). */
  create: { run: (input: NewTokenInput) => Promise<{ secret: string }>; pending: boolean; error: unknown };
  revoke: { run: (token: TokenItem) => Promise<unknown>; pending: boolean; error: unknown };
}

export function TokenPanel({ what, tokens, loadError, withRole, create, revoke }: TokenPanelProps) {
  const [confirm, setConfirm] = useState<TokenItem | null>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const make = (input: NewTokenInput) => {
    setSecret(null);
    // A refusal shows in the form, from `create.error`.
    create.run(input).then(
      (made) => setSecret(made.secret),
      () => {},
    );
  };
  return (
    <>
      <TokenForm withRole={withRole} pending={create.pending} error={create.error} onCreate={make} />
      {secret ? <TokenSecret secret={secret} onDismiss={() => setSecret(null)} testId="new-token-secret" /> : null}
      {loadError ? (
        <p className="form-error" role="alert">
          {errorMessage(loadError)}
        </p>
      ) : null}
      {revoke.error ? (
        <p className="form-error" role="alert">
          Could not revoke the token: {errorMessage(revoke.error)}
        </p>
      ) : null}
      {tokens === undefined ? (
        loadError ? null : (
          <p className="muted" aria-live="polite">
            Loading {what}…
          </p>
        )
      ) : tokens.length === 0 ? (
        <p className="muted">No {what} yet.</p>
      ) : (
        <TokenTable
          tokens={tokens}
          label={what[0]!.toUpperCase() + what.slice(1)}
          showRole={withRole}
          showCreator={withRole}
          onRevoke={setConfirm}
          revoking={revoke.pending}
        />
      )}
      <Dialog
        open={confirm !== null}
        onClose={() => setConfirm(null)}
        title={`Revoke “${confirm?.name ?? ""}”?`}
        role="alertdialog"
        dismissible={!revoke.pending}
        description="Every request with it is refused from the next one on. This cannot be undone: make a new token instead."
      >
        <div className="dialog-actions">
          <button type="button" className="button" onClick={() => setConfirm(null)} disabled={revoke.pending}>
            Cancel
          </button>
          <button
            type="button"
            className="button button-danger"
            disabled={revoke.pending}
            onClick={() => {
              if (confirm)
                revoke.run(confirm).then(
                  () => setConfirm(null),
                  () => setConfirm(null),
                );
            }}
          >
            Revoke
          </button>
        </div>
      </Dialog>
    </>
  );
}
