"use client";

import type { RunFiguresView } from "@sluice/pipeline/control/node-figures";
import { isTerminal } from "@sluice/pipeline/control/run-status";
import Link from "next/link";
import { useMemo, useState } from "react";
import { TimeChart } from "@/charts/time-chart";
import type { RouterOutputs } from "@/components/api-types";
import { RunStatusBadge } from "@/components/run-status-badge";
import { formatCompact, formatLag, formatRate } from "@/lib/format";
import { addSecond } from "@/runs/live-seconds";
import { useLiveFigures } from "@/runs/use-live-figures";
import { pipelineSecond, sparkline } from "./pipeline-figures";

// A PIPELINE_FIGURES tile: the pipeline's newest run, live while it goes — the same per-second figures (runs.figures)
// and the same chart the run page draws, kept for the last few minutes. It follows the run on its own, second by
// second; the dashboard's refresh only learns whether a newer run has started.

type PipelineTileView = Extract<RouterOutputs["dashboards"]["get"]["tiles"][number], { kind: "PIPELINE_FIGURES" }>;

/** Seconds the sparkline spans. */
const SPARK_SECONDS = 5 * 60;

export function PipelineTileBody({ tile }: { tile: PipelineTileView }) {
  const run = tile.run;
  if (!run) {
    return (
      <p className="muted">
        This pipeline has not run yet. <Link href={`/pipelines/${tile.pipeline.id}`}>Open the pipeline</Link>
      </p>
    );
  }
  // A new run gets a fresh tile body, so no second of the old run is drawn beside the new one's.
  return <RunFigures key={run.id} run={run} />;
}

function RunFigures({ run }: { run: NonNullable<PipelineTileView["run"]> }) {
  const following = !isTerminal(run.status);
  const [seconds, setSeconds] = useState<RunFiguresView[]>([]);
  const live = useLiveFigures(following ? run.id : null, (view) =>
    setSeconds((prev) => addSecond(prev, view, SPARK_SECONDS)),
  );
  const newest = seconds.at(-1);
  const now = newest ? pipelineSecond(newest, run) : null;
  const data = useMemo(() => sparkline(seconds, run), [seconds, run]);
  return (
    <div className="dashboard-pipeline">
      <dl className="dashboard-pipeline-facts">
        <div>
          <dt>Status</dt>
          <dd data-testid="tile-run-status">
            <RunStatusBadge status={run.status} />
          </dd>
        </div>
        {following ? (
          <>
            <div>
              <dt>In</dt>
              <dd data-testid="tile-rate-in">{now ? formatRate(now.inPerSec) : "—"}</dd>
            </div>
            <div>
              <dt>Out</dt>
              <dd data-testid="tile-rate-out">{now ? formatRate(now.outPerSec) : "—"}</dd>
            </div>
            {now?.lagMs != null ? (
              <div>
                <dt>Lag</dt>
                <dd>{formatLag(now.lagMs)}</dd>
              </div>
            ) : null}
            {now?.backlog != null ? (
              <div>
                <dt>Backlog</dt>
                <dd>{formatCompact(now.backlog)}</dd>
              </div>
            ) : null}
          </>
        ) : (
          <>
            <div>
              <dt>Records in</dt>
              <dd>{formatCompact(run.totalIn)}</dd>
            </div>
            <div>
              <dt>Records out</dt>
              <dd>{formatCompact(run.totalOut)}</dd>
            </div>
          </>
        )}
      </dl>
      {following ? (
        seconds.length > 1 ? (
          <TimeChart title="Records a second" labels={["in", "out"]} data={data} unit="records/s" />
        ) : (
          <p className="muted" aria-live="polite">
            {live === "reconnecting" ? "Reconnecting to the run's figures…" : "Waiting for the run's figures…"}
          </p>
        )
      ) : null}
      <div className="dashboard-tile-foot">
        <span />
        <Link href={`/runs/${run.id}`}>Open the run</Link>
      </div>
    </div>
  );
}
