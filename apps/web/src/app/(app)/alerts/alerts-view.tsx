"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import type { RouterOutputs } from "@/components/api-types";
import { errorMessage } from "@/lib/errors";
import { formatAbsolute, formatIso, formatRelative } from "@/lib/format";
import { useWorkspaceRole } from "@/lib/use-workspace-role";
import { useTRPC } from "@/trpc/react";

// The workspace's alerts (rules live in each pipeline's settings, spec.alerts): the inbox of firings and
// recoveries, every alert that has fired with the firing ones first, and the silences in force. Any member reads
// them and marks the inbox read; editors silence.

type Alert = RouterOutputs["alerts"]["list"]["alerts"][number];

const REFRESH_MS = 5000;
const SILENCE_FOR_MS = 60 * 60_000;

const WHEN_LABELS: Record<Alert["when"], string> = {
  errorRate: "Error rate",
  noData: "No data",
  lagAbove: "Lag",
  backlogAbove: "Backlog",
  runFailed: "Run failed",
  runStalled: "Run stalled",
};

function AlertState({ alert }: { alert: Alert }) {
  return alert.state === "firing" ? (
    <span className="status status-failed">Firing</span>
  ) : (
    <span className="status status-completed">Recovered</span>
  );
}

export function AlertsView() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { can, why } = useWorkspaceRole();
  const canEdit = can("manageAlerts");
  const refusal = why("manageAlerts");
  const inbox = useQuery(trpc.alerts.inbox.queryOptions({ limit: 50 }, { refetchInterval: REFRESH_MS }));
  const alerts = useQuery(trpc.alerts.list.queryOptions({ limit: 200 }, { refetchInterval: REFRESH_MS }));
  const markRead = useMutation(trpc.alerts.markRead.mutationOptions());
  const silence = useMutation(trpc.alerts.silence.mutationOptions());
  const unsilence = useMutation(trpc.alerts.unsilence.mutationOptions());
  const [actionError, setActionError] = useState<string | null>(null);
  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries(trpc.alerts.inbox.queryFilter()),
      queryClient.invalidateQueries(trpc.alerts.list.queryFilter()),
    ]);
  const act = async (run: () => Promise<unknown>) => {
    setActionError(null);
    try {
      await run();
      await refresh();
    } catch (err) {
      setActionError(errorMessage(err));
    }
  };

  return (
    <main className="page">
      <div className="page-header">
        <div>
          <h1 className="page-title">Alerts</h1>
          <p className="page-subtitle">
            Alert rules are part of each pipeline (its Settings, Alerts section) and are checked every 10 seconds
            against its running jobs. Refreshed every {REFRESH_MS / 1000} seconds.
          </p>
        </div>
      </div>
      {actionError ? (
        <p className="form-error" role="alert">
          {actionError}
        </p>
      ) : null}

      <h2 className="section-title">
        Inbox{" "}
        {inbox.data ? (
          <span className="muted" aria-live="polite">
            {inbox.data.unread} unread
          </span>
        ) : null}
      </h2>
      {inbox.isError ? (
        <p className="form-error" role="alert">
          {errorMessage(inbox.error)}
        </p>
      ) : inbox.data && inbox.data.entries.length > 0 ? (
        <>
          <button
            type="button"
            className="button button-small"
            disabled={!canEdit || inbox.data.unread === 0 || markRead.isPending}
            title={refusal}
            onClick={() => void act(() => markRead.mutateAsync({ all: true }))}
          >
            Mark all read
          </button>
          <div className="table-card">
            <table className="table" aria-label="Inbox">
              <tbody>
                {inbox.data.entries.map((e) => (
                  <tr key={e.id} className={e.read ? "muted" : undefined} data-entry={e.state}>
                    <td title={formatIso(e.createdAt)}>{formatRelative(e.createdAt)}</td>
                    <td>
                      {e.read ? null : <strong>• </strong>}
                      {e.text}
                    </td>
                    <td>
                      {e.runId ? (
                        <Link href={`/runs/${e.runId}`} className="table-link">
                          Run
                        </Link>
                      ) : e.reportId ? (
                        <Link href={`/reports?report=${e.reportId}`} className="table-link">
                          Report
                        </Link>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : inbox.isPending ? (
        <p className="muted">Loading the inbox…</p>
      ) : (
        <p className="muted">Nothing yet: firings and recoveries of every pipeline’s alerts arrive here.</p>
      )}

      <h2 className="section-title">Alerts</h2>
      {alerts.isError ? (
        <p className="form-error" role="alert">
          {errorMessage(alerts.error)}
        </p>
      ) : alerts.isPending ? (
        <p className="muted">Loading alerts…</p>
      ) : alerts.data.alerts.length === 0 ? (
        <div className="empty-state">
          <h2>No alert has fired</h2>
          <p>Add rules in a pipeline’s Settings (Alerts section), save, and run it.</p>
        </div>
      ) : (
        <div className="table-card">
          <table className="table" aria-label="Alerts">
            <thead>
              <tr>
                <th scope="col">State</th>
                <th scope="col">Pipeline</th>
                <th scope="col">Rule</th>
                <th scope="col">What happened</th>
                <th scope="col">Since</th>
                <th scope="col">Silence</th>
              </tr>
            </thead>
            <tbody>
              {alerts.data.alerts.map((a) => (
                <tr key={a.id} data-alert={a.ruleId}>
                  <td>
                    <AlertState alert={a} />
                    <div className="table-sub">{a.severity}</div>
                  </td>
                  <td>
                    <Link href={`/pipelines/${a.pipelineId}`} className="table-link">
                      {a.pipelineName}
                    </Link>
                    <div className="table-sub">
                      <Link href={`/runs/${a.runId}`} className="table-link mono">
                        run {a.runId.slice(-8)}
                      </Link>
                    </div>
                  </td>
                  <td>
                    <span className="mono">{a.ruleId}</span>
                    <div className="table-sub">
                      {WHEN_LABELS[a.when]}
                      {a.node ? ` · node ${a.node}` : ""}
                    </div>
                  </td>
                  <td>
                    {a.summary}
                    {a.webhookError ? <p className="field-error">Webhook: {a.webhookError}</p> : null}
                  </td>
                  <td title={formatIso(a.since)}>{formatRelative(a.since)}</td>
                  <td>
                    {a.silencedUntil !== null ? (
                      <span className="muted">until {formatAbsolute(a.silencedUntil)}</span>
                    ) : (
                      <button
                        type="button"
                        className="button button-small"
                        disabled={!canEdit || silence.isPending}
                        title={refusal}
                        aria-label={`Silence rule ${a.ruleId} of ${a.pipelineName} for an hour`}
                        onClick={() =>
                          void act(() =>
                            silence.mutateAsync({ pipelineId: a.pipelineId, ruleId: a.ruleId, forMs: SILENCE_FOR_MS }),
                          )
                        }
                      >
                        Silence 1 h
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      {alerts.data && alerts.data.silences.length > 0 ? (
        <>
          <h2 className="section-title">Silences</h2>
          <div className="table-card">
            <table className="table" aria-label="Silences">
              <tbody>
                {alerts.data.silences.map((s) => (
                  <tr key={s.id}>
                    <td>{s.pipelineName}</td>
                    <td>{s.ruleId ? <span className="mono">{s.ruleId}</span> : "every rule"}</td>
                    <td title={formatIso(s.until)}>until {formatAbsolute(s.until)}</td>
                    <td>
                      <button
                        type="button"
                        className="button button-small"
                        disabled={!canEdit || unsilence.isPending}
                        title={refusal}
                        onClick={() => void act(() => unsilence.mutateAsync({ id: s.id }))}
                      >
                        End silence
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </main>
  );
}
