"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { RANGES, type RangeKey, rangeEndingNow } from "@/charts/chart-data";
import { errorCode, errorMessage } from "@/lib/errors";
import { useTRPC } from "@/trpc/react";
import { HistoryCharts, historyNodeIds } from "./history-charts";
import { pipelineOrder } from "./node-order";
import { useNow } from "./use-run-snapshot";

// A pipeline's dashboard: the charts of the run page across all its runs in a range (pipelines.history; runs that
// overlap add up), read again as the roll-up completes buckets.

const REFRESH_MS = 10_000;

export function PipelineDashboard({ pipelineId }: { pipelineId: string }) {
  const trpc = useTRPC();
  const [range, setRange] = useState<RangeKey>("1h");
  const [picked, setPicked] = useState<string | null>(null);
  const now = useNow(true, REFRESH_MS);
  const pipeline = useQuery(trpc.pipelines.get.queryOptions({ id: pipelineId }));
  const history = useQuery(
    trpc.pipelines.history.queryOptions(
      { pipelineId, ...rangeEndingNow(range, now) },
      { placeholderData: keepPreviousData },
    ),
  );

  if (pipeline.isError) {
    return (
      <main className="page">
        <h1 className="page-title">
          {errorCode(pipeline.error) === "NOT_FOUND" ? "Pipeline not found" : "Cannot show this pipeline"}
        </h1>
        <p className="form-error" role="alert">
          {errorMessage(pipeline.error)}
        </p>
      </main>
    );
  }
  const spec = pipeline.data?.version.definition.spec;
  const nodeIds = historyNodeIds(history.data ? [history.data] : [], spec ? pipelineOrder(spec) : undefined);
  const nodeId = picked && nodeIds.includes(picked) ? picked : (nodeIds[0] ?? "");
  const runs = history.data?.runs.length ?? 0;

  return (
    <main className="page">
      <nav className="breadcrumbs" aria-label="Breadcrumbs">
        <Link href="/pipelines">Pipelines</Link>
        <span aria-hidden="true"> / </span>
        <Link href={`/pipelines/${pipelineId}`}>{pipeline.data?.name ?? "Pipeline"}</Link>
      </nav>
      <div className="page-header">
        <div>
          <h1 className="page-title">Dashboard of {pipeline.data?.name ?? "the pipeline"}</h1>
          <p className="page-subtitle" data-testid="dashboard-runs">
            {history.data
              ? history.data.truncated
                ? `More than ${runs} runs in this range; the charts add up all of them.`
                : `${runs} ${runs === 1 ? "run" : "runs"} in this range`
              : "Loading…"}
          </p>
        </div>
      </div>
      <section className="card" aria-label="Charts">
        <div className="card-head">
          <fieldset className="segmented">
            <legend className="visually-hidden">Range</legend>
            {RANGES.map((r) => (
              <button
                key={r.key}
                type="button"
                className={`button button-small${r.key === range ? " button-primary" : ""}`}
                aria-pressed={r.key === range}
                onClick={() => setRange(r.key)}
              >
                {r.key === "live" ? "15 min" : r.label}
              </button>
            ))}
          </fieldset>
        </div>
        {history.isError ? (
          <p className="form-error" role="alert">
            {errorMessage(history.error)}
          </p>
        ) : history.data ? (
          <HistoryCharts sources={[{ view: history.data }]} nodeIds={nodeIds} nodeId={nodeId} onNode={setPicked} />
        ) : (
          <p className="muted" aria-live="polite">
            Loading the pipeline's history…
          </p>
        )}
      </section>
    </main>
  );
}
