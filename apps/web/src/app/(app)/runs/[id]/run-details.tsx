"use client";

import { fromDbStatus, isTerminal, type RunStatus } from "@sluice/pipeline/control/run-status";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect, useState } from "react";
import { RunStatusBadge } from "@/components/run-status-badge";
import { errorCode, errorMessage } from "@/lib/errors";
import { formatAbsolute, formatIso } from "@/lib/format";
import { DeadLetters } from "@/runs/dead-letters/dead-letters";
import { pipelineOrder } from "@/runs/node-order";
import { RunCharts } from "@/runs/run-charts";
import { RunControls } from "@/runs/run-controls";
import { CounterTable, RunFacts, RunProgress, RunRetries } from "@/runs/run-facts";
import { toMs } from "@/runs/run-format";
import { RunLogs } from "@/runs/run-logs";
import { RunTimeline } from "@/runs/run-timeline";
import { useDeliveryPlan } from "@/runs/use-delivery-plan";
import { useNow, useRunSnapshot } from "@/runs/use-run-snapshot";
import { ShareRunButton } from "@/share/share-run-dialog";
import { useTRPC } from "@/trpc/react";

// One run: status and controls, live or final counters per node, its error and timing, and its dead letters.

export function RunDetails({ runId }: { runId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const run = useQuery(trpc.runs.get.queryOptions({ runId }));
  // What a control answered, shown until the stored run or the live stream catches up.
  const [answered, setAnswered] = useState<RunStatus | null>(null);
  const stored = run.data ? fromDbStatus(run.data.status) : null;
  const status = answered ?? stored;
  const following = status !== null && !isTerminal(status);
  const snapshot = useRunSnapshot(runId, following);
  const live = snapshot?.status ?? null;
  const shown = live && following ? live : status;
  const now = useNow(following);
  const version = useQuery(
    trpc.pipelines.get.queryOptions(
      { id: run.data?.pipelineId ?? "", version: run.data?.version ?? 1 },
      { enabled: run.isSuccess, staleTime: Number.POSITIVE_INFINITY },
    ),
  );
  // The delivery the run's version gets and which nodes lower it, from the same plan function the editor uses.
  const deliveryPlan = useDeliveryPlan(version.data?.version.definition);

  // The stream reports a new status (ended, paused): the stored run has changed too.
  useEffect(() => {
    if (!live) return;
    setAnswered(null);
    void queryClient.invalidateQueries(trpc.runs.get.queryFilter({ runId }));
  }, [live, runId, queryClient, trpc]);

  if (run.isPending) {
    return (
      <main className="page">
        <p className="muted" aria-live="polite">
          Loading the run…
        </p>
      </main>
    );
  }
  if (run.isError) {
    return (
      <main className="page">
        <h1 className="page-title">
          {errorCode(run.error) === "NOT_FOUND" ? "Run not found" : "Cannot show this run"}
        </h1>
        <p className="form-error" role="alert">
          {errorMessage(run.error)}
        </p>
        <p>
          <Link href="/runs">All runs</Link>
        </p>
      </main>
    );
  }

  const r = run.data;
  const counters = (following && snapshot ? snapshot.nodes : r.counters) ?? {};
  const spec = version.data?.version.definition.spec;
  const order = spec ? pipelineOrder(spec) : undefined;
  const error = (following ? snapshot?.error : null) ?? r.error;

  return (
    <main className="page run-page">
      <nav className="breadcrumbs" aria-label="Breadcrumbs">
        <Link href="/runs">Runs</Link>
        <span aria-hidden="true"> / </span>
        <Link href={`/pipelines/${r.pipelineId}`}>{r.pipelineName}</Link>
      </nav>
      <div className="page-header">
        <div>
          <h1 className="page-title">
            Run of {r.pipelineName} <span className="run-id">{r.id.slice(-8)}</span>
          </h1>
          <p className="page-subtitle">
            Version {r.version} · started by {r.startedBy} · created{" "}
            <time title={formatIso(r.createdAt)}>{formatAbsolute(r.createdAt)}</time>
          </p>
        </div>
        <div className="page-header-actions">
          <ShareRunButton runId={r.id} />
          <span className="run-page-status" data-testid="run-status">
            {shown ? <RunStatusBadge status={shown} /> : null}
          </span>
        </div>
      </div>

      {shown ? <RunControls runId={r.id} status={shown} onStatus={setAnswered} /> : null}

      {error ? (
        <div className="run-error-box" role="alert">
          <h2 className="run-error-title">The run failed</h2>
          <p>{error}</p>
        </div>
      ) : null}

      {following ? <RunRetries retrying={snapshot?.retrying} now={now} /> : null}

      <section className="card" aria-labelledby="run-figures">
        <div className="card-head">
          <h2 id="run-figures" className="card-title">
            {following ? "Live figures" : "Final figures"}
          </h2>
        </div>
        <RunProgress progress={snapshot?.progress ?? null} />
        <RunFacts
          snapshot={snapshot}
          delivery={r.delivery}
          plan={deliveryPlan}
          now={now}
          timing={{
            createdAt: toMs(r.createdAt),
            startedAt: snapshot?.startedAt ?? toMs(r.startedAt),
            finishedAt: following ? null : (toMs(r.finishedAt) ?? snapshot?.finishedAt ?? null),
          }}
        />
        <dl className="run-facts run-times">
          <div>
            <dt>Started</dt>
            <dd>{r.startedAt ? <time title={formatIso(r.startedAt)}>{formatAbsolute(r.startedAt)}</time> : "—"}</dd>
          </div>
          <div>
            <dt>Finished</dt>
            <dd>
              {r.finishedAt ? (
                <time title={formatIso(r.finishedAt)}>{formatAbsolute(r.finishedAt)}</time>
              ) : following ? (
                "still running"
              ) : (
                "—"
              )}
            </dd>
          </div>
        </dl>
        <CounterTable counters={counters} order={order} caption="Records per node" />
      </section>

      <RunCharts
        run={{
          id: r.id,
          pipelineId: r.pipelineId,
          startedAt: snapshot?.startedAt ?? toMs(r.startedAt),
          finishedAt: following ? null : (toMs(r.finishedAt) ?? snapshot?.finishedAt ?? null),
        }}
        following={following}
        order={order}
      />

      <DeadLetters runId={r.id} active={following} />
      <RunTimeline runId={r.id} active={following} />
      <RunLogs runId={r.id} active={following} nodes={order ?? []} />
    </main>
  );
}
