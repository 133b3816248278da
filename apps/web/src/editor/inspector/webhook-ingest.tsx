"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useState } from "react";
import { Dialog } from "@/components/dialog";
import { useEditor } from "@/editor/editor-context";
import { errorMessage } from "@/lib/errors";
import { formatAbsolute, formatIso } from "@/lib/format";
import { useTRPC } from "@/trpc/react";
import { formatCount } from "../../runs/run-format";

// The pipeline's webhook ingest URL where a Webhook source is edited: the URL to send records to, and its token —
// created or replaced (shown this once, Sluice keeps only its hash), revoked. Viewers see the URL; editors manage
// the token (the API refuses the rest to viewers anyway).

const TOKEN_PLACEHOLDER = "$SLUICE_INGEST_TOKEN";

/** A ready-to-paste request that sends two records, as JSON Lines. */
function curlExample(url: string, token: string): string {
  return [
    `curl -X POST '${url}' \\`,
    `  -H 'Authorization: Bearer ${token}' \\`,
    `  -H 'Content-Type: application/x-ndjson' \\`,
    `  --data-binary $'{"order_id":1,"amount":9.5}\\n{"order_id":2,"amount":12}\\n'`,
  ].join("\n");
}

function CopyButton({ text, what }: { text: string; what: string }) {
  const [copied, setCopied] = useState<boolean | null>(null);
  return (
    <button
      type="button"
      className="button button-small"
      aria-label={`Copy ${what}`}
      onClick={() =>
        navigator.clipboard.writeText(text).then(
          () => setCopied(true),
          () => setCopied(false),
        )
      }
    >
      {copied === true ? "Copied" : copied === false ? "Select and copy it" : "Copy"}
    </button>
  );
}

/** The page's own origin, known only in the browser: the ingest URL is absolute, as a sender needs it. */
function useOrigin(): string {
  const [origin, setOrigin] = useState("");
  useEffect(() => setOrigin(window.location.origin), []);
  return origin;
}

export function WebhookIngest() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const baseId = useId();
  const pipelineId = useEditor((s) => s.pipelineId);
  const origin = useOrigin();
  const me = useQuery(trpc.auth.me.queryOptions(undefined, { staleTime: 60_000 }));
  // The workspace the API answers for when a request names none: the first membership.
  const role = me.data?.workspaces[0]?.role;
  const canManage = role !== undefined && role !== "VIEWER";
  const status = useQuery(trpc.ingest.status.queryOptions({ pipelineId }, { refetchInterval: 5000 }));
  const [token, setToken] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<"replace" | "revoke" | null>(null);
  const refresh = () => void queryClient.invalidateQueries(trpc.ingest.status.queryFilter({ pipelineId }));
  const rotate = useMutation(
    trpc.ingest.rotateToken.mutationOptions({
      onSuccess: (created) => {
        setToken(created.token);
        setConfirm(null);
        refresh();
      },
    }),
  );
  const revoke = useMutation(
    trpc.ingest.revokeToken.mutationOptions({
      onSuccess: () => {
        setToken(null);
        setConfirm(null);
        refresh();
      },
    }),
  );
  const busy = rotate.isPending || revoke.isPending;
  const s = status.data;
  const url = s ? `${origin}${s.path}` : "";
  const failure = rotate.error ?? revoke.error;

  return (
    <section className="inspector-section webhook-ingest" aria-labelledby={`${baseId}-title`}>
      <h3 id={`${baseId}-title`} className="section-title">
        Ingest URL
      </h3>
      {status.isError ? (
        <p className="form-error" role="alert">
          {errorMessage(status.error)}
        </p>
      ) : !s ? (
        <p className="muted">Loading the ingest URL…</p>
      ) : (
        <>
          <p className="field-hint">Systems POST records here, as JSON or JSON Lines, with the token.</p>
          <div className="copy-row">
            <code className="copy-text" data-testid="ingest-url">
              {url}
            </code>
            <CopyButton text={url} what="the ingest URL" />
          </div>
          <p className="field-hint" data-testid="ingest-token-state">
            {s.enabled && s.tokenCreatedAt ? (
              <>
                A token is set, created{" "}
                <time title={formatIso(s.tokenCreatedAt)}>{formatAbsolute(s.tokenCreatedAt)}</time>.
              </>
            ) : (
              "No token yet: the URL refuses every request until one is created."
            )}
            {s.previousValidUntil ? (
              <>
                {" "}
                The token it replaced works until{" "}
                <time title={formatIso(s.previousValidUntil)}>{formatAbsolute(s.previousValidUntil)}</time>.
              </>
            ) : null}
            {s.pending > 0 ? ` ${formatCount(s.pending)} records wait for a run to read them.` : null}
          </p>

          {token ? (
            <div className="token-once" role="status">
              <p className="field-hint">
                The new token, shown this once (Sluice keeps only its hash): copy it to the sender now.
              </p>
              <div className="copy-row">
                <code className="copy-text" data-testid="ingest-token">
                  {token}
                </code>
                <CopyButton text={token} what="the token" />
              </div>
            </div>
          ) : null}

          {canManage ? (
            <div className="card-actions webhook-actions">
              <button
                type="button"
                className="button button-small button-primary"
                disabled={busy}
                onClick={() => (s.enabled ? setConfirm("replace") : rotate.mutate({ pipelineId }))}
              >
                {rotate.isPending ? "Creating…" : s.enabled ? "Replace token…" : "Create token"}
              </button>
              {s.enabled ? (
                <button
                  type="button"
                  className="button button-small button-ghost button-ghost-danger"
                  disabled={busy}
                  onClick={() => setConfirm("revoke")}
                >
                  Revoke…
                </button>
              ) : null}
            </div>
          ) : role ? (
            <p className="field-hint">Editors of this workspace create and revoke the URL's token.</p>
          ) : null}
          {failure ? (
            <p className="form-error" role="alert">
              Could not change the token: {errorMessage(failure)}
            </p>
          ) : null}

          <details className="curl-example">
            <summary>Send records with curl</summary>
            <div className="copy-row">
              <pre className="copy-text" data-testid="ingest-curl">
                {curlExample(url, token ?? TOKEN_PLACEHOLDER)}
              </pre>
              <CopyButton text={curlExample(url, token ?? TOKEN_PLACEHOLDER)} what="the curl command" />
            </div>
            {token ? null : (
              <p className="field-hint">Set {TOKEN_PLACEHOLDER} to the token first; it was shown when created.</p>
            )}
          </details>
        </>
      )}
      <Dialog
        open={confirm !== null}
        onClose={() => setConfirm(null)}
        title={confirm === "revoke" ? "Revoke the ingest token?" : "Replace the ingest token?"}
        role="alertdialog"
        dismissible={!busy}
        description={
          confirm === "revoke"
            ? "Every request with it is refused from now on; records already accepted stay for the pipeline to read."
            : "A new token is created and shown once; the current one stops working at once."
        }
      >
        <div className="dialog-actions">
          <button type="button" className="button" onClick={() => setConfirm(null)} disabled={busy}>
            Cancel
          </button>
          <button
            type="button"
            className="button button-danger"
            disabled={busy}
            onClick={() => (confirm === "revoke" ? revoke.mutate({ pipelineId }) : rotate.mutate({ pipelineId }))}
          >
            {confirm === "revoke" ? "Revoke" : "Replace"}
          </button>
        </div>
      </Dialog>
    </section>
  );
}
