"use client";

import type { RunFiguresView } from "@sluice/pipeline/control/node-figures";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useCallback, useId, useMemo, useState } from "react";
import { type Line, RANGES, type RangeKey, rangeEndingNow, scrubWindow } from "@/charts/chart-data";
import { errorMessage } from "@/lib/errors";
import { formatAbsolute } from "@/lib/format";
import { useTRPC } from "@/trpc/react";
import { type ChartSource, HistoryCharts, historyNodeIds } from "./history-charts";
import { addSecond, withLiveSeconds } from "./live-seconds";
import { toMs } from "./run-format";
import { useLiveFigures } from "./use-live-figures";
import { useNow } from "./use-run-snapshot";

// The run page's charts: the run's history over a range (the live range adds each second from runs.figures as it
// comes), or the whole run beside another run of the same pipeline, both from their starts. Everything but the
// newest seconds is read from history, so a reload loses nothing. When the live stream drops (a server restart), it
// reopens by itself, the seconds missed come first, and the history is read again (live-seconds.ts).

/** Seconds of live figures kept: the live range's span. */
const LIVE_SECONDS = 15 * 60;
/** How often the history of a moving range is read again (the roll-up completes a 10 s bucket this often). */
const REFRESH_MS = 10_000;

interface RunTimes {
  id: string;
  pipelineId: string;
  startedAt: number | null;
  finishedAt: number | null;
}

export function RunCharts({
  run,
  following,
  order,
}: {
  run: RunTimes;
  following: boolean;
  /** The run's nodes in pipeline order. */
  order: readonly string[] | undefined;
}) {
  const trpc = useTRPC();
  const headingId = useId();
  const [range, setRange] = useState<RangeKey>("live");
  const [compareId, setCompareId] = useState<string>("");
  const [picked, setPicked] = useState<string | null>(null);
  const live = following && range === "live" && !compareId;
  // A moving range is read again every REFRESH_MS; a finished run's ranges end where it ended.
  const now = useNow(following, REFRESH_MS);
  const end = following ? now : (run.finishedAt ?? now);

  const [seconds, setSeconds] = useState<RunFiguresView[]>([]);
  const liveState = useLiveFigures(
    live ? run.id : null,
    (view) => setSeconds((prev) => addSecond(prev, view, LIVE_SECONDS)),
    // Back after a drop: what history has rolled up since is read again; the seconds after it come on the stream.
    { onResumed: () => void history.refetch() },
  );

  const runs = useQuery(
    trpc.runs.list.queryOptions({ pipelineId: run.pipelineId, limit: 50 }, { staleTime: REFRESH_MS }),
  );
  const other = runs.data?.find((r) => r.id === compareId);
  const otherTimes = other ? { startedAt: toMs(other.startedAt), finishedAt: toMs(other.finishedAt) } : null;

  const ownSpan = compareId ? scrubWindow(run, null, now) : null;
  const otherSpan = otherTimes ? scrubWindow(otherTimes, null, now) : null;
  const ownRange = ownSpan ? { from: ownSpan.from, to: ownSpan.to } : rangeEndingNow(range, end);
  const history = useQuery(
    trpc.runs.history.queryOptions(
      { runId: run.id, ...ownRange },
      { enabled: run.startedAt !== null, placeholderData: keepPreviousData },
    ),
  );
  const otherHistory = useQuery(
    trpc.runs.history.queryOptions(
      otherSpan ? { runId: compareId, from: otherSpan.from, to: otherSpan.to } : { runId: run.id, from: 0, to: 1 },
      { enabled: otherSpan !== null },
    ),
  );

  const extend = useCallback<NonNullable<ChartSource["extend"]>>(
    (line: Line, key) => {
      const bucketMs = (history.data?.resolution ?? 10) * 1000;
      const values = seconds.map((s) => ({ t: s.sec * 1000, value: liveValue(s, key) }));
      return withLiveSeconds(line, values, bucketMs);
    },
    [seconds, history.data?.resolution],
  );

  const sources = useMemo<ChartSource[]>(() => {
    if (!history.data) return [];
    if (!compareId) return [{ view: history.data, ...(live ? { extend } : {}) }];
    const out: ChartSource[] = [{ view: history.data, startedAt: run.startedAt ?? 0, name: "this run" }];
    if (otherHistory.data && otherTimes?.startedAt != null) {
      out.push({ view: otherHistory.data, startedAt: otherTimes.startedAt, name: `run ${compareId.slice(-8)}` });
    }
    return out;
  }, [history.data, otherHistory.data, compareId, live, extend, run.startedAt, otherTimes?.startedAt]);

  const nodeIds = historyNodeIds(
    sources.map((s) => s.view),
    order,
  );
  const nodeId = picked && nodeIds.includes(picked) ? picked : (nodeIds[0] ?? "");
  const candidates = (runs.data ?? []).filter((r) => r.id !== run.id && r.startedAt);

  return (
    <section className="card run-charts" aria-labelledby={headingId}>
      <div className="card-head">
        <h2 id={headingId} className="card-title">
          Charts
        </h2>
        <div className="card-actions run-chart-controls">
          <fieldset className="segmented" disabled={compareId !== ""}>
            <legend className="visually-hidden">Range</legend>
            {RANGES.map((r) => (
              <button
                key={r.key}
                type="button"
                className={`button button-small${r.key === range ? " button-primary" : ""}`}
                aria-pressed={r.key === range}
                onClick={() => setRange(r.key)}
              >
                {r.key === "live" && !following ? "15 min" : r.label}
              </button>
            ))}
          </fieldset>
          {live && liveState === "reconnecting" ? (
            <span className="muted run-chart-reconnecting" role="status" data-testid="live-reconnecting">
              Reconnecting…
            </span>
          ) : null}
          <Link href={`/pipelines/${run.pipelineId}/dashboard`} className="button button-small button-ghost">
            Pipeline dashboard
          </Link>
          <label className="run-compare">
            <span>Compare with</span>
            <select className="input" value={compareId} onChange={(e) => setCompareId(e.target.value)}>
              <option value="">no other run</option>
              {candidates.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.id.slice(-8)} · {r.startedAt ? formatAbsolute(r.startedAt) : ""}
                </option>
              ))}
            </select>
          </label>
        </div>
      </div>
      {run.startedAt === null ? (
        <p className="muted">The run has not started yet: its charts begin when it does.</p>
      ) : history.isError ? (
        <p className="form-error" role="alert">
          {errorMessage(history.error)}
        </p>
      ) : otherHistory.isError ? (
        <p className="form-error" role="alert">
          {errorMessage(otherHistory.error)}
        </p>
      ) : !history.data ? (
        <p className="muted" aria-live="polite">
          Loading the run's history…
        </p>
      ) : (
        <HistoryCharts sources={sources} nodeIds={nodeIds} nodeId={nodeId} onNode={setPicked} />
      )}
    </section>
  );
}

/** A second's value of the metric a history line draws; the live view has no backpressured-seconds count. */
function liveValue(second: RunFiguresView, key: Parameters<NonNullable<ChartSource["extend"]>>[1]): number | null {
  if ("node" in key) return second.nodes[key.node]?.[key.metric] ?? null;
  const edge = second.edges[key.edge];
  if (!edge) return null;
  if (key.metric === "backpressuredSeconds") return edge.backpressured ? 1 : 0;
  return edge[key.metric];
}
