"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import type { RouterOutputs } from "@/components/api-types";
import { RunStatusBadge } from "@/components/run-status-badge";
import { errorMessage } from "@/lib/errors";
import { formatAbsolute, formatIso, formatLag, formatRate, formatRelative } from "@/lib/format";
import { formatCount } from "@/runs/run-format";
import { useTRPC } from "@/trpc/react";
import { sparklinePath } from "./sparkline-path";

// The home page: what is going in the workspace and whether it is well, worst first. A run counts as well only while
// records move: one that is running but moved nothing for a minute, or that no worker holds, is red, not green.

type Overview = RouterOutputs["overview"]["get"];
type OverviewRun = Overview["runs"][number];
type Laggard = Overview["laggards"][number];

/** How often the overview is read again: the figures behind it are per second, the verdicts need no finer. */
const REFRESH_MS = 3000;
const SPARK_WIDTH = 120;
const SPARK_HEIGHT = 24;

const VERDICT_LABELS: Record<OverviewRun["verdict"], string> = {
  failing: "Failing",
  alerting: "Alerting",
  stalled: "Stalled",
  lagging: "Lagging",
  healthy: "Healthy",
};

/** The badge colour: red for what needs someone now, amber for what may, green only for records moving. */
function verdictClass(run: OverviewRun): string {
  switch (run.verdict) {
    case "failing":
    case "stalled":
      return "status-failed";
    case "alerting":
      return run.alerts.severity === "critical" ? "status-failed" : "status-paused";
    case "lagging":
      return "status-paused";
    case "healthy":
      return run.status === "running" ? "status-running" : "status-queued";
  }
}

function Sparkline({ run }: { run: OverviewRun }) {
  const { inPerSec, stepMs } = run.sparkline;
  const peak = Math.max(0, ...inPerSec.map((v) => v ?? 0));
  const minutes = Math.round((inPerSec.length * stepMs) / 60_000);
  const label = `Records in per second over the last ${minutes} minutes, peak ${formatRate(peak)}`;
  return (
    <svg
      className={`overview-spark${run.stall ? " is-stalled" : ""}`}
      width={SPARK_WIDTH}
      height={SPARK_HEIGHT}
      viewBox={`0 0 ${SPARK_WIDTH} ${SPARK_HEIGHT}`}
      role="img"
      aria-label={label}
    >
      <title>{label}</title>
      <path d={sparklinePath(inPerSec, SPARK_WIDTH, SPARK_HEIGHT)} />
    </svg>
  );
}

function Health({ run }: { run: OverviewRun }) {
  return (
    <>
      <span className={`status ${verdictClass(run)}`} data-testid="run-verdict">
        {VERDICT_LABELS[run.verdict]}
      </span>
      <div className={`table-sub${run.verdict === "healthy" ? "" : " table-sub-error"}`} data-testid="run-reason">
        {run.reason}
      </div>
      {/* A stall under a worse verdict is still said: the run is failing *and* has stopped moving. */}
      {run.stall && run.verdict !== "stalled" ? (
        <div className="table-sub table-sub-error">{run.stall.summary}</div>
      ) : null}
    </>
  );
}

function RunTable({ runs }: { runs: OverviewRun[] }) {
  return (
    <div className="table-card">
      <table className="table" aria-label="Going runs">
        <thead>
          <tr>
            <th scope="col">Pipeline</th>
            <th scope="col">Health</th>
            <th scope="col">Status</th>
            <th scope="col">In</th>
            <th scope="col">Out</th>
            <th scope="col">Last 15 min</th>
            <th scope="col">Errors (1 h)</th>
            <th scope="col">Alerts</th>
            <th scope="col">Started</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => (
            <tr key={r.runId} data-run={r.runId} data-verdict={r.verdict}>
              <td>
                <Link href={`/runs/${r.runId}`} className="table-link">
                  {r.pipelineName}
                </Link>
                <div className="table-sub mono">{r.runId.slice(-8)}</div>
              </td>
              <td>
                <Health run={r} />
              </td>
              <td>
                <RunStatusBadge status={r.status} />
                {r.partitions.total > 0 ? (
                  <div className="table-sub">
                    {r.partitions.held} of {r.partitions.total - r.partitions.done} partition
                    {r.partitions.total - r.partitions.done === 1 ? "" : "s"} held
                  </div>
                ) : null}
              </td>
              <td data-testid="run-in-rate">{formatRate(r.inPerSec)}</td>
              <td>{formatRate(r.outPerSec)}</td>
              <td>
                <Sparkline run={r} />
              </td>
              <td className={r.errorsLastHour > 0 ? "overview-errors" : undefined}>{formatCount(r.errorsLastHour)}</td>
              <td>
                {r.alerts.firing > 0 ? (
                  <Link href="/alerts" className="table-link">
                    {r.alerts.firing} firing{r.alerts.severity ? ` (${r.alerts.severity})` : ""}
                  </Link>
                ) : (
                  <span className="muted">none</span>
                )}
              </td>
              <td title={r.startedAt !== null ? formatIso(r.startedAt) : undefined}>
                {r.startedAt !== null ? formatRelative(r.startedAt) : <span className="muted">not yet</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function FailedTable({ failed }: { failed: Overview["failedLastHour"] }) {
  return (
    <div className="table-card">
      <table className="table" aria-label="Failed in the last hour">
        <thead>
          <tr>
            <th scope="col">Pipeline</th>
            <th scope="col">Error</th>
            <th scope="col">Failed</th>
          </tr>
        </thead>
        <tbody>
          {failed.map((f) => (
            <tr key={f.runId}>
              <td>
                <Link href={`/runs/${f.runId}`} className="table-link">
                  {f.pipelineName}
                </Link>
                <div className="table-sub mono">{f.runId.slice(-8)}</div>
              </td>
              <td>
                <div className="table-sub-error" title={f.error ?? undefined}>
                  {f.error ?? "no error recorded"}
                </div>
              </td>
              <td title={formatIso(f.finishedAt)}>{formatAbsolute(f.finishedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function LaggardTable({ laggards }: { laggards: Laggard[] }) {
  // Offset lag shows once any source reports one.
  const offsets = laggards.some((l) => l.offsetLag !== null);
  return (
    <div className="table-card">
      <table className="table" aria-label="Worst laggards">
        <thead>
          <tr>
            <th scope="col">Node</th>
            <th scope="col">Pipeline</th>
            <th scope="col">Own lag</th>
            <th scope="col">End-to-end lag</th>
            <th scope="col">Input lag</th>
            {offsets ? <th scope="col">Offset lag</th> : null}
          </tr>
        </thead>
        <tbody>
          {laggards.map((l) => (
            <tr key={`${l.runId}:${l.nodeId}`} data-laggard={`${l.runId}:${l.nodeId}`}>
              <td>
                {/* The pipeline's canvas shows its going run; ?node= selects the node there. */}
                <Link
                  href={`/pipelines/${l.pipelineId}?node=${encodeURIComponent(l.nodeId)}`}
                  className="table-link mono"
                >
                  {l.nodeId}
                </Link>
                {l.backpressured ? <div className="table-sub table-sub-error">backpressured</div> : null}
              </td>
              <td>
                <Link href={`/runs/${l.runId}`} className="table-link">
                  {l.pipelineName}
                </Link>
                <div className="table-sub mono">{l.runId.slice(-8)}</div>
              </td>
              <td>{formatLag(l.ownLagMs)}</td>
              <td>{formatLag(l.endToEndLagMs)}</td>
              <td>{l.inputLag !== null ? formatCount(l.inputLag) : <span className="muted">—</span>}</td>
              {offsets ? (
                <td>
                  {l.offsetLag ? (
                    `${formatCount(l.offsetLag.value)} ${l.offsetLag.unit}`
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function OverviewHome() {
  const trpc = useTRPC();
  const overview = useQuery(trpc.overview.get.queryOptions(undefined, { refetchInterval: REFRESH_MS }));
  const data = overview.data;
  const unwell = data?.runs.filter((r) => r.verdict !== "healthy").length ?? 0;
  return (
    <main className="page">
      <div className="page-header">
        <div>
          <h1 className="page-title">Overview</h1>
          <p className="page-subtitle">
            What is running in this workspace, worst first: failing and alerting runs, then runs that stopped moving
            records. Refreshed every {REFRESH_MS / 1000} seconds.
          </p>
        </div>
      </div>
      {overview.isPending ? (
        <p className="muted" aria-live="polite">
          Loading the overview…
        </p>
      ) : overview.isError ? (
        <p className="form-error" role="alert">
          {errorMessage(overview.error)}
        </p>
      ) : data ? (
        <>
          {data.runs.length === 0 ? (
            <div className="empty-state">
              <h2>Nothing is running</h2>
              <p>Start a run from a pipeline and it shows here, with its throughput and whether it is well.</p>
              <Link href="/pipelines" className="button button-primary">
                Go to pipelines
              </Link>
            </div>
          ) : (
            <>
              <h2 className="section-title">
                Going runs{" "}
                <span className="muted" aria-live="polite">
                  {unwell === 0 ? `all ${data.runs.length} healthy` : `${unwell} of ${data.runs.length} need a look`}
                </span>
              </h2>
              <RunTable runs={data.runs} />
            </>
          )}
          {data.failedLastHour.length > 0 ? (
            <>
              <h2 className="section-title">Failed in the last hour</h2>
              <FailedTable failed={data.failedLastHour} />
            </>
          ) : null}
          {data.runs.length > 0 ? (
            <>
              <h2 className="section-title">Worst laggards</h2>
              {data.laggards.length === 0 ? (
                <p className="muted">No node of a running pipeline reports a lag.</p>
              ) : (
                <LaggardTable laggards={data.laggards} />
              )}
            </>
          ) : null}
        </>
      ) : null}
    </main>
  );
}
