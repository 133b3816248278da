"use client";

import type { RunSnapshot, RunStatus } from "@sluice/pipeline/control/protocol";
import { skipToken, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import Link from "next/link";
import { useEffect, useState } from "react";
import { RunStatusBadge } from "@/components/run-status-badge";
import { useEditor, useEditorStore } from "@/editor/editor-context";
import { isDirty } from "@/editor/editor-store";
import { errorMessage } from "@/lib/errors";
import { formatAbsolute, formatRelative } from "@/lib/format";
import { useTRPC } from "@/trpc/react";
import { RunControls } from "./run-controls";
import { CounterTable, RunFacts, RunProgress, RunRetries } from "./run-facts";
import { formatDuration, isFinished, toMs } from "./run-format";

// The pipeline's current run in the editor: its controls, live figures (status, counters, progress, watermark) and
// the history of earlier runs, each linking to its run page (final counters, error, dead letters).

/** The current time, ticking while `live`. */
export function useNow(live: boolean, everyMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!live) return;
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [live, everyMs]);
  return now;
}

/**
 * Follows a run's snapshot over SSE until it ends (paused runs included), handing each one to `onSnapshot`.
 * Returns the newest snapshot.
 */
export function useRunSnapshot(
  runId: string | null,
  follow: boolean,
  onSnapshot?: (snapshot: RunSnapshot) => void,
): RunSnapshot | null {
  const trpc = useTRPC();
  const [snapshot, setSnapshot] = useState<RunSnapshot | null>(null);
  useEffect(() => {
    if (snapshot && snapshot.runId !== runId) setSnapshot(null);
  }, [runId, snapshot]);
  useSubscription(
    trpc.runs.live.subscriptionOptions(runId && follow ? { runId } : skipToken, {
      onData: (event) => {
        setSnapshot(event.data);
        onSnapshot?.(event.data);
      },
    }),
  );
  return snapshot && snapshot.runId === runId ? snapshot : null;
}

export function RunPanel() {
  const trpc = useTRPC();
  const store = useEditorStore();
  const queryClient = useQueryClient();
  const pipelineId = useEditor((s) => s.pipelineId);
  const run = useEditor((s) => s.run);
  const dirty = useEditor(isDirty);
  const nodeOrder = useEditor((s) => s.nodes.map((n) => n.id).join("\n"));
  const status = run?.status ?? null;
  const following = run !== null && !isFinished(run.status);
  const snapshot = useRunSnapshot(run?.id ?? null, following, (s) => store.getState().applySnapshot(s));
  const details = useQuery(trpc.runs.get.queryOptions(run ? { runId: run.id } : skipToken));
  const history = useQuery(trpc.runs.list.queryOptions({ pipelineId, limit: 20 }));
  const now = useNow(following);
  const start = useMutation(trpc.runs.start.mutationOptions());
  const [startError, setStartError] = useState<string | null>(null);

  // A status change (started, paused, ended) changes the history and the run's stored figures.
  useEffect(() => {
    if (!status) return;
    void queryClient.invalidateQueries(trpc.runs.list.queryFilter({ pipelineId, limit: 20 }));
    if (run) void queryClient.invalidateQueries(trpc.runs.get.queryFilter({ runId: run.id }));
  }, [status, run?.id, pipelineId, queryClient, trpc, run]);

  const onStatus = (next: RunStatus) => {
    const current = store.getState().run;
    if (!current) return;
    // A restart runs the same run again: start its counters over until the stream reports them.
    const restarted = isFinished(current.status) && !isFinished(next);
    store.getState().setRun({ ...current, status: next, ...(restarted ? { counters: {}, error: null } : {}) });
  };

  const startRun = async () => {
    setStartError(null);
    try {
      const { id } = await start.mutateAsync({ pipelineId });
      store.getState().setRun({ id, status: "queued", counters: {}, error: null });
      void queryClient.invalidateQueries(trpc.pipelines.list.queryFilter());
    } catch (err) {
      setStartError(`Could not start: ${errorMessage(err)}`);
    }
  };

  const view = details.data;
  const timing = {
    createdAt: toMs(view?.createdAt) ?? null,
    startedAt: snapshot?.startedAt ?? toMs(view?.startedAt),
    finishedAt: following ? null : (snapshot?.finishedAt ?? toMs(view?.finishedAt)),
  };

  return (
    <div className="panel-body run-panel">
      <section className="run-current" aria-label="Current run">
        {run ? (
          <>
            <div className="run-head">
              <span className="run-head-status" data-testid="run-panel-status">
                <RunStatusBadge status={run.status} />
              </span>
              <Link href={`/runs/${run.id}`} className="run-link">
                Run {run.id.slice(-8)}
              </Link>
              {view ? (
                <span className="muted">
                  v{view.version} · started by {view.startedBy}
                </span>
              ) : null}
              <span className="run-head-controls">
                <RunControls runId={run.id} status={run.status} onStatus={onStatus} />
              </span>
            </div>
            {run.error ? (
              <p className="form-error" role="alert">
                The run failed: {run.error}
              </p>
            ) : null}
            {following ? <RunRetries retrying={snapshot?.retrying} now={now} /> : null}
            <RunProgress progress={snapshot?.progress ?? null} />
            <RunFacts snapshot={snapshot} delivery={view?.delivery ?? null} timing={timing} now={now} />
            <CounterTable counters={run.counters} order={nodeOrder.split("\n")} caption="Records per node" />
          </>
        ) : (
          <p className="muted">This pipeline has not run yet.</p>
        )}
        {!following ? (
          <div className="run-start">
            <button
              type="button"
              className="button button-small button-primary"
              onClick={() => void startRun()}
              disabled={dirty || start.isPending}
            >
              <span className="play-triangle" aria-hidden="true" />
              {start.isPending ? "Starting…" : run ? "Start a new run" : "Start"}
            </button>
            {dirty ? (
              <span className="muted">Save the draft first: runs start from a saved version.</span>
            ) : (
              <span className="muted">Runs the newest saved version.</span>
            )}
            {startError ? (
              <p className="form-error" role="alert">
                {startError}
              </p>
            ) : null}
          </div>
        ) : null}
      </section>

      <section className="run-history" aria-labelledby="run-history-title">
        <h3 id="run-history-title" className="panel-section-title">
          History
        </h3>
        {history.isPending ? (
          <p className="muted">Loading runs…</p>
        ) : history.isError ? (
          <p className="form-error">{errorMessage(history.error)}</p>
        ) : history.data.length === 0 ? (
          <p className="muted">No runs yet.</p>
        ) : (
          <ul className="history-list">
            {history.data.map((r) => {
              const started = toMs(r.startedAt);
              const finished = toMs(r.finishedAt);
              return (
                <li key={r.id} className="history-row">
                  <Link
                    href={`/runs/${r.id}`}
                    className="history-link"
                    aria-label={`Run of ${formatAbsolute(r.createdAt)}, ${r.status.toLowerCase()}`}
                  >
                    <RunStatusBadge status={r.status} />
                    <span className="history-when" title={formatAbsolute(r.createdAt)}>
                      {formatRelative(r.createdAt)}
                    </span>
                    <span className="muted">v{r.version}</span>
                    <span className="muted">
                      {started !== null && finished !== null ? formatDuration(finished - started) : ""}
                    </span>
                  </Link>
                </li>
              );
            })}
          </ul>
        )}
      </section>
    </div>
  );
}
