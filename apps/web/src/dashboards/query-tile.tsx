"use client";

import type { SavedChart } from "@sluice/api/saved-queries/saved-query-router.types";
import Link from "next/link";
import { queryHref } from "@/queries/query-url";
import { ResultChart } from "@/queries/result-chart";
import { indexPick } from "@/queries/result-chart-data";
import { formatElapsed } from "@/queries/result-format";
import { ResultsGrid } from "@/queries/results-grid";
import type { SavedQueryRunResult } from "./saved-query-run";

// A QUERY tile: the saved query's result over the dashboard's range, drawn as its saved chart (the query page's own
// chart, without its picker) or as a table; its time; its error, which stays in the tile while the others draw.

/** Where a tile's query stands: never run yet, running (with the last result still shown), done or failed. */
export interface TileRun {
  running: boolean;
  result: SavedQueryRunResult | null;
  error: string | null;
}

export function QueryTileBody({
  savedQuery,
  run,
}: {
  savedQuery: { id: string; name: string; chart: SavedChart | null; sourceProblem: string | null };
  run: TileRun | undefined;
}) {
  if (savedQuery.sourceProblem) {
    return (
      <p className="form-error dashboard-tile-error" role="alert">
        This query cannot run: {savedQuery.sourceProblem}.
      </p>
    );
  }
  const result = run?.result ?? null;
  return (
    <>
      {run?.error ? (
        <p className="form-error dashboard-tile-error" role="alert" data-testid="tile-error">
          {run.error}
        </p>
      ) : null}
      {result ? (
        <QueryResultView result={result} chart={result.savedQuery.chart ?? savedQuery.chart} />
      ) : !run?.error ? (
        <p className="muted" aria-live="polite">
          Running the query…
        </p>
      ) : null}
    </>
  );
}

function QueryResultView({ result, chart }: { result: SavedQueryRunResult; chart: SavedChart | null }) {
  const pick = chart ? indexPick(result.columns, chart) : null;
  // The chart starts from its pick once: a result of other columns starts it afresh.
  const shape = result.columns.map((c) => `${c.name}:${c.kind}`).join("|");
  return (
    <div className="dashboard-tile-result">
      {pick ? (
        <ResultChart key={shape} columns={result.columns} rows={result.rows} initialPick={pick} />
      ) : (
        <div className="dashboard-tile-table">
          <ResultsGrid columns={result.columns} rows={result.rows} />
        </div>
      )}
    </div>
  );
}

/** The tile's footer: how long the query took, and a link to it on the query page. */
export function QueryTileFooter({ savedQueryId, run }: { savedQueryId: string; run: TileRun | undefined }) {
  const result = run?.result;
  return (
    <div className="dashboard-tile-foot">
      <span className="muted" data-testid="tile-elapsed">
        {run?.running
          ? "running…"
          : result
            ? `${formatElapsed(result.elapsedMs)}${result.truncated ? " · more rows than shown" : ""}`
            : ""}
      </span>
      <Link href={queryHref({ saved: savedQueryId, source: null, sql: "" })}>Open in Query</Link>
    </div>
  );
}
