"use client";

import { fromDbStatus, isActive } from "@sluice/pipeline/control/run-status";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { RunStatusBadge } from "@/components/run-status-badge";
import { errorMessage } from "@/lib/errors";
import { formatAbsolute, formatRelative } from "@/lib/format";
import { formatDuration, toMs } from "@/runs/run-format";
import { useTRPC } from "@/trpc/react";

/** Every run in the workspace, newest first. */
export function RunList() {
  const trpc = useTRPC();
  const runs = useQuery(
    trpc.runs.list.queryOptions(
      { limit: 100 },
      { refetchInterval: (q) => (q.state.data?.some((r) => isActive(fromDbStatus(r.status))) ? 3000 : false) },
    ),
  );
  return (
    <main className="page">
      <div className="page-header">
        <div>
          <h1 className="page-title">Runs</h1>
          <p className="page-subtitle">Every run of every pipeline in this workspace, newest first.</p>
        </div>
      </div>
      {runs.isPending ? (
        <p className="muted" aria-live="polite">
          Loading runs…
        </p>
      ) : runs.isError ? (
        <p className="form-error" role="alert">
          {errorMessage(runs.error)}
        </p>
      ) : runs.data.length === 0 ? (
        <div className="empty-state">
          <h2>No runs yet</h2>
          <p>
            Open a pipeline and press Start. <Link href="/pipelines">Go to pipelines</Link>
          </p>
        </div>
      ) : (
        <div className="table-card">
          <table className="table" aria-label="Runs">
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Pipeline</th>
                <th scope="col">Status</th>
                <th scope="col">Started by</th>
                <th scope="col">When</th>
                <th scope="col">Duration</th>
              </tr>
            </thead>
            <tbody>
              {runs.data.map((r) => {
                const started = toMs(r.startedAt);
                const finished = toMs(r.finishedAt);
                return (
                  <tr key={r.id}>
                    <td>
                      <Link href={`/runs/${r.id}`} className="table-link mono">
                        {r.id.slice(-8)}
                      </Link>
                    </td>
                    <td>
                      <Link href={`/pipelines/${r.pipelineId}`}>{r.pipelineName}</Link>{" "}
                      <span className="muted">v{r.version}</span>
                    </td>
                    <td>
                      <RunStatusBadge status={r.status} />
                      {r.error ? (
                        <div className="table-sub table-sub-error" title={r.error}>
                          {r.error}
                        </div>
                      ) : null}
                    </td>
                    <td className="muted">{r.startedBy}</td>
                    <td className="muted" title={formatAbsolute(r.createdAt)}>
                      {formatRelative(r.createdAt)}
                    </td>
                    <td className="muted">
                      {started !== null ? formatDuration((finished ?? Date.now()) - started) : "—"}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </main>
  );
}
