"use client";

import { type Mutation, useMutation, useMutationState, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useState } from "react";
import { Dialog } from "@/components/dialog";
import { useEditor } from "@/editor/editor-context";
import { errorMessage } from "@/lib/errors";
import { formatAbsolute, formatIso } from "@/lib/format";
import { useWorkspaceRole } from "@/lib/use-workspace-role";
import { formatCount } from "@/runs/run-format";
import { useTRPC } from "@/trpc/react";

// The pipeline's webhook ingest URL where a Webhook source is edited: the URL to send records to, and its token —
// created or replaced (shown this once, Sluice keeps only its hash), revoked. Viewers see the URL; editors manage
// the token (the API refuses the rest to viewers anyway). A new token stays on screen until it is dismissed, even
// when another node is selected meanwhile: it lives in the query client's mutation cache, which outlives this
// section but not the page, so a reload never shows it again.

const TOKEN_PLACEHOLDER = "$SLUICE_INGEST_TOKEN";

/** How long the token being replaced keeps working, offered when replacing it. */
const GRACE_CHOICES = [
  { seconds: 0, label: "Stop it at once" },
  { seconds: 3600, label: "Keep it working for 1 hour" },
  { seconds: 24 * 3600, label: "Keep it working for 24 hours" },
] as const;

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
  const { role, canEdit: canManage } = useWorkspaceRole();
  const status = useQuery(trpc.ingest.status.queryOptions({ pipelineId }, { refetchInterval: 5000 }));
  const [confirm, setConfirm] = useState<"replace" | "revoke" | null>(null);
  const [graceSeconds, setGraceSeconds] = useState(0);
  const refresh = () => void queryClient.invalidateQueries(trpc.ingest.status.queryFilter({ pipelineId }));
  const rotateKey = trpc.ingest.rotateToken.mutationKey();
  const ofThisPipeline = (m: Mutation<unknown, Error, unknown>) =>
    (m.state.variables as { pipelineId?: string } | undefined)?.pipelineId === pipelineId;
  // The newest token created here, until dismissed (kept past this section's unmount: see the header).
  const token =
    useMutationState<string | null>({
      filters: { mutationKey: rotateKey, status: "success", predicate: ofThisPipeline },
      select: (m) => (m.state.data as { token?: string } | undefined)?.token ?? null,
    }).at(-1) ?? null;
  const dismissToken = () => {
    const cache = queryClient.getMutationCache();
    for (const m of cache.findAll({ mutationKey: rotateKey, status: "success", predicate: ofThisPipeline }))
      cache.remove(m);
  };
  const rotate = useMutation(
    trpc.ingest.rotateToken.mutationOptions({
      gcTime: Number.POSITIVE_INFINITY,
      onMutate: dismissToken,
      onSuccess: () => {
        setConfirm(null);
        refresh();
      },
    }),
  );
  const revoke = useMutation(
    trpc.ingest.revokeToken.mutationOptions({
      onSuccess: () => {
        dismissToken();
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
                <strong>Copy it now: it is shown once.</strong> Sluice keeps only its hash, so it cannot show this token
                again; it stays here until you dismiss it.
              </p>
              <div className="copy-row">
                <code className="copy-text" data-testid="ingest-token">
                  {token}
                </code>
                <CopyButton text={token} what="the token" />
                <button type="button" className="button button-small" onClick={dismissToken}>
                  I have copied it
                </button>
              </div>
            </div>
          ) : null}

          {canManage ? (
            <div className="card-actions webhook-actions">
              <button
                type="button"
                className="button button-small button-primary"
                disabled={busy}
                onClick={() => (s.enabled ? setConfirm("replace") : rotate.mutate({ pipelineId, graceSeconds: 0 }))}
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
            <p className="field-hint">
              Viewers cannot create or revoke the URL's token; editors of this workspace can.
            </p>
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
            : "A new token is created and shown once. Senders still using the current token are refused once it stops working: give them time to switch over."
        }
      >
        {confirm === "replace" ? (
          <div className="field">
            <label htmlFor={`${baseId}-grace`} className="field-label">
              The current token
            </label>
            <select
              id={`${baseId}-grace`}
              className="input"
              value={graceSeconds}
              onChange={(e) => setGraceSeconds(Number(e.target.value))}
            >
              {GRACE_CHOICES.map((choice) => (
                <option key={choice.seconds} value={choice.seconds}>
                  {choice.label}
                </option>
              ))}
            </select>
          </div>
        ) : null}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={() => setConfirm(null)} disabled={busy}>
            Cancel
          </button>
          <button
            type="button"
            className="button button-danger"
            disabled={busy}
            onClick={() =>
              confirm === "revoke" ? revoke.mutate({ pipelineId }) : rotate.mutate({ pipelineId, graceSeconds })
            }
          >
            {confirm === "revoke" ? "Revoke" : "Replace"}
          </button>
        </div>
      </Dialog>
    </section>
  );
}
