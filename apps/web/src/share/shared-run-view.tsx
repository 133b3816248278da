"use client";

import type { RunFiguresView } from "@sluice/pipeline/control/node-figures";
import { fromDbStatus, isTerminal } from "@sluice/pipeline/control/run-status";
import { useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useEffect, useMemo, useRef, useState } from "react";
import type { RouterOutputs } from "@/components/api-types";
import { RunStatusBadge } from "@/components/run-status-badge";
import { useEditorRuntime } from "@/editor/use-editor-runtime";
import { errorMessage } from "@/lib/errors";
import { formatAbsolute, formatIso, formatRelative } from "@/lib/format";
import { pipelineOrder } from "@/runs/node-order";
import { CounterTable } from "@/runs/run-facts";
import { useNow } from "@/runs/use-run-snapshot";
import { ReadOnlyCanvas } from "@/templates/read-only-canvas";
import { useTRPC } from "@/trpc/react";
import { runBadges, runTotals } from "./shared-run-figures";
// The run page's cards, facts and counter table: the share page lives outside the (app) layout that loads them.
import "@/app/(app)/pages.css";

// A run's live view as its share link opens it, for someone who need not be signed in: only public procedures
// (shares.view, shares.figures) — the link's token is the key. The server ends the figures with an error once the
// link is revoked or expires, and ends them cleanly with the run.

type SharedRun = Extract<RouterOutputs["shares"]["view"], { kind: "run" }>["run"];

function When({ at, empty }: { at: Date | null; empty: string }) {
  if (!at) return <>{empty}</>;
  return (
    <time dateTime={formatIso(at)} title={formatIso(at)}>
      {formatAbsolute(at)}
    </time>
  );
}

/** Follows shares.figures while the run goes: the newest second, and whether the stream ended in an error. */
function useSharedFigures(token: string, live: boolean) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [view, setView] = useState<RunFiguresView | null>(null);
  const sub = useSubscription(
    trpc.shares.figures.subscriptionOptions({ token }, { enabled: live, onData: (event) => setView(event.data) }),
  );
  // A stream that flowed and went idle has ended with the run: read the run again for its final status.
  const started = useRef(false);
  useEffect(() => {
    if (sub.status === "pending") started.current = true;
    if (sub.status === "idle" && started.current) {
      started.current = false;
      void queryClient.invalidateQueries(trpc.shares.view.queryFilter({ token }));
    }
  }, [sub.status, queryClient, trpc, token]);
  return { view, ended: sub.status === "error" ? sub.error : null, connecting: sub.status === "connecting" };
}

/** The public live view of a shared run (kind "run" of shares.view). */
export function SharedRunView({ token, run }: { token: string; run: SharedRun }) {
  const runtime = useEditorRuntime();
  const status = fromDbStatus(run.status);
  const following = !isTerminal(status);
  const figures = useSharedFigures(token, following);
  const now = useNow(true, 30_000);
  // Once the run has ended its stored counters are final; the last second seen may be older.
  const latest = following ? figures.view : null;
  const badges = useMemo(() => runBadges(latest, run.counters), [latest, run.counters]);
  const totals = useMemo(() => runTotals(latest, run.counters), [latest, run.counters]);
  const order = useMemo(() => pipelineOrder(run.definition.spec), [run.definition]);
  const expired = run.expiresAt.getTime() <= now;

  return (
    <main className="page run-page">
      <div className="page-header">
        <div>
          <h1 className="page-title">{run.pipelineName}</h1>
          <p className="page-subtitle">Version {run.version} · a live view shared by link</p>
          <p className="page-subtitle">
            {expired ? (
              "This view has expired."
            ) : (
              <>
                This view expires{" "}
                <time dateTime={formatIso(run.expiresAt)} title={formatAbsolute(run.expiresAt)}>
                  {formatRelative(run.expiresAt, now)}
                </time>
                .
              </>
            )}
          </p>
        </div>
        <span className="run-page-status" data-testid="run-status">
          <RunStatusBadge status={status} />
        </span>
      </div>

      {figures.ended ? (
        <div className="run-error-box" role="alert">
          <p>This live view has ended: the link was revoked or expired.</p>
          <p className="muted">{errorMessage(figures.ended)}</p>
        </div>
      ) : following && figures.connecting ? (
        <p className="muted" aria-live="polite">
          Connecting to the run's live figures…
        </p>
      ) : null}

      <dl className="run-facts run-times">
        <div>
          <dt>Started</dt>
          <dd>
            <When at={run.startedAt} empty="not yet" />
          </dd>
        </div>
        <div>
          <dt>Finished</dt>
          <dd>
            <When at={run.finishedAt} empty={following ? "still running" : "—"} />
          </dd>
        </div>
      </dl>

      <section className="card" aria-labelledby="shared-graph">
        <div className="card-head">
          <h2 id="shared-graph" className="card-title">
            {following ? "Live figures" : "Final figures"}
          </h2>
        </div>
        {runtime.isError ? (
          <p className="form-error" role="alert">
            Cannot draw the pipeline: {errorMessage(runtime.error)}
          </p>
        ) : runtime.data ? (
          <ReadOnlyCanvas
            definition={run.definition}
            catalog={runtime.data.catalog}
            badges={badges}
            label="Pipeline graph with live figures"
          />
        ) : (
          <p className="muted">Drawing the pipeline…</p>
        )}
      </section>

      <section className="card" aria-labelledby="shared-totals">
        <div className="card-head">
          <h2 id="shared-totals" className="card-title">
            Totals per node
          </h2>
        </div>
        <CounterTable counters={totals} order={order} caption="Totals per node" />
      </section>
    </main>
  );
}
