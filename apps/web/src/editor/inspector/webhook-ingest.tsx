"use client";

import { type Mutation, useMutation, useMutationState, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useState } from "react";
import { CopyButton } from "@/components/copy-button";
import { Dialog } from "@/components/dialog";
import { TokenSecret } from "@/components/token-secret";
import { type TokenItem, TokenTable } from "@/components/token-table";
import { useEditor } from "@/editor/editor-context";
import { errorMessage } from "@/lib/errors";
import { formatAbsolute, formatIso } from "@/lib/format";
import { useWorkspaceRole } from "@/lib/use-workspace-role";
import { formatCount } from "@/runs/run-format";
import { useTRPC } from "@/trpc/react";

// The pipeline's webhook ingest URL where a Webhook source is edited: the URL to send records to, and its ingest
// tokens (API tokens that only this URL accepts) — made here (the secret shown this once: Sluice keeps only its hash),
// listed with when each was last used, revoked one by one. To replace a token without a gap, make the new one, switch
// the senders, then revoke the old one. Viewers see the URL and the list; editors manage the tokens (the API refuses
// the rest to viewers anyway). A new secret stays on screen until it is dismissed, even when another node is selected
// meanwhile: it lives in the query client's mutation cache, which outlives this section but not the page, so a reload
// never shows it again.

const TOKEN_PLACEHOLDER = "$SLUICE_INGEST_TOKEN";

const EXPIRY_CHOICES = [
  { days: 30, label: "30 days" },
  { days: 90, label: "90 days" },
  { days: 365, label: "1 year" },
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
  const { can, why } = useWorkspaceRole();
  const canManage = can("manageIngestTokens");
  const status = useQuery(trpc.ingest.status.queryOptions({ pipelineId }, { refetchInterval: 5000 }));
  const [revoking, setRevoking] = useState<TokenItem | null>(null);
  const [expiresInDays, setExpiresInDays] = useState<number>(365);
  const refresh = () => void queryClient.invalidateQueries(trpc.ingest.status.queryFilter({ pipelineId }));
  const createKey = trpc.ingest.createToken.mutationKey();
  const ofThisPipeline = (m: Mutation<unknown, Error, unknown>) =>
    (m.state.variables as { pipelineId?: string } | undefined)?.pipelineId === pipelineId;
  // The newest secret made here, until dismissed (kept past this section's unmount: see the header).
  const secret =
    useMutationState<string | null>({
      filters: { mutationKey: createKey, status: "success", predicate: ofThisPipeline },
      select: (m) => (m.state.data as { secret?: string } | undefined)?.secret ?? null,
    }).at(-1) ?? null;
  const dismissSecret = () => {
    const cache = queryClient.getMutationCache();
    for (const m of cache.findAll({ mutationKey: createKey, status: "success", predicate: ofThisPipeline }))
      cache.remove(m);
  };
  const create = useMutation(
    trpc.ingest.createToken.mutationOptions({
      gcTime: Number.POSITIVE_INFINITY,
      onMutate: dismissSecret,
      onSuccess: refresh,
    }),
  );
  const revoke = useMutation(
    trpc.ingest.revokeToken.mutationOptions({
      onSuccess: () => {
        setRevoking(null);
        refresh();
      },
    }),
  );
  const busy = create.isPending || revoke.isPending;
  const s = status.data;
  const url = s ? `${origin}${s.path}` : "";
  const active = s?.tokens.filter((t) => t.state === "active") ?? [];
  const newest = active[0];
  const failure = create.error ?? revoke.error;

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
          <p className="field-hint">Systems POST records here, as JSON or JSON Lines, with an ingest token.</p>
          <div className="copy-row">
            <code className="copy-text" data-testid="ingest-url">
              {url}
            </code>
            <CopyButton text={url} what="the ingest URL" />
          </div>
          <p className="field-hint" data-testid="ingest-token-state">
            {newest ? (
              <>
                {active.length === 1 ? "A token works" : `${active.length} tokens work`}; the newest was created{" "}
                <time title={formatIso(newest.createdAt)}>{formatAbsolute(newest.createdAt)}</time>.
              </>
            ) : (
              "No token works: the URL refuses every request until one is created."
            )}
            {s.pending > 0 ? ` ${formatCount(s.pending)} records wait for a run to read them.` : null}
          </p>

          {secret ? <TokenSecret secret={secret} onDismiss={dismissSecret} testId="ingest-token" /> : null}

          {canManage ? (
            <div className="card-actions webhook-actions">
              <select
                className="input input-small"
                aria-label="The new token expires after"
                value={expiresInDays}
                onChange={(e) => setExpiresInDays(Number(e.target.value))}
              >
                {EXPIRY_CHOICES.map((choice) => (
                  <option key={choice.days} value={choice.days}>
                    Expires after {choice.label}
                  </option>
                ))}
              </select>
              <button
                type="button"
                className="button button-small button-primary"
                disabled={busy}
                onClick={() => create.mutate({ pipelineId, expiresInDays })}
              >
                {create.isPending ? "Creating…" : "Create token"}
              </button>
            </div>
          ) : (
            <p className="field-hint">{why("manageIngestTokens")}</p>
          )}
          {failure ? (
            <p className="form-error" role="alert">
              Could not change the tokens: {errorMessage(failure)}
            </p>
          ) : null}
          {s.tokens.length > 0 ? (
            <div className="ingest-tokens">
              <TokenTable
                tokens={s.tokens}
                label="Ingest tokens"
                {...(canManage ? { onRevoke: setRevoking, revoking: busy } : {})}
              />
            </div>
          ) : null}

          <details className="curl-example">
            <summary>Send records with curl</summary>
            <div className="copy-row">
              <pre className="copy-text" data-testid="ingest-curl">
                {curlExample(url, secret ?? TOKEN_PLACEHOLDER)}
              </pre>
              <CopyButton text={curlExample(url, secret ?? TOKEN_PLACEHOLDER)} what="the curl command" />
            </div>
            {secret ? null : (
              <p className="field-hint">Set {TOKEN_PLACEHOLDER} to a token first; it was shown when created.</p>
            )}
          </details>
        </>
      )}
      <Dialog
        open={revoking !== null}
        onClose={() => setRevoking(null)}
        title="Revoke the ingest token?"
        role="alertdialog"
        dismissible={!busy}
        description={`“${revoking?.name ?? ""}” (${revoking?.prefix ?? ""}…) is refused from the next request on; records already accepted stay for the pipeline to read.`}
      >
        <div className="dialog-actions">
          <button type="button" className="button" onClick={() => setRevoking(null)} disabled={busy}>
            Cancel
          </button>
          <button
            type="button"
            className="button button-danger"
            disabled={busy}
            onClick={() => revoking && revoke.mutate({ pipelineId, id: revoking.id })}
          >
            Revoke
          </button>
        </div>
      </Dialog>
    </section>
  );
}
