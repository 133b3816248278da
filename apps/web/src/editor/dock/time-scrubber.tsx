"use client";

import { keepPreviousData, skipToken, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect, useState } from "react";
import { momentFigures, parseAt, scrubWindow } from "@/charts/chart-data";
import { errorMessage } from "@/lib/errors";
import { formatAbsolute } from "@/lib/format";
import { toMs } from "@/runs/run-format";
import { useNow } from "@/runs/use-run-snapshot";
import { useTRPC } from "@/trpc/react";
import { useRun, useRunStore } from "../editor-context";
import { isActive } from "../store/run-store";

// A timeline under the canvas over a run's history: dragging it puts that moment's figures (the history bucket
// holding it) in the overlay, marked with its time, and "Live" goes back. The URL keeps the moment (`?at=`, and
// `run=` for a run other than the current one) so a link opens there.

/** How often a going run's history is read again (the roll-up completes a 10 s bucket this often). */
const REFRESH_MS = 10_000;

const clock = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hour12: false,
});

function writeUrl(at: number | null, runId: string | null): void {
  const url = new URL(window.location.href);
  if (at === null) url.searchParams.delete("at");
  else url.searchParams.set("at", String(at));
  if (at === null || runId === null) url.searchParams.delete("run");
  else url.searchParams.set("run", runId);
  window.history.replaceState(window.history.state, "", url);
}

export function TimeScrubber({ pipelineId }: { pipelineId: string }) {
  const trpc = useTRPC();
  const runStore = useRunStore();
  const currentId = useRun((s) => s.run?.id ?? null);
  const going = useRun((s) => isActive(s.run));
  // The moment and run a link named, read once the page is in the browser.
  const [linked, setLinked] = useState<{ at: number | null; runId: string | null }>({ at: null, runId: null });
  useEffect(() => {
    const params = new URLSearchParams(window.location.search);
    setLinked({ at: parseAt(params.get("at")), runId: params.get("run") });
  }, []);
  const at = linked.at;
  const runId = linked.runId ?? currentId;
  const now = useNow(going, REFRESH_MS);

  const run = useQuery(trpc.runs.get.queryOptions(runId ? { runId } : skipToken, { staleTime: REFRESH_MS }));
  const runs = useQuery(
    trpc.runs.list.queryOptions(runId ? { pipelineId, limit: 20 } : skipToken, { staleTime: REFRESH_MS }),
  );
  const times = run.data ? { startedAt: toMs(run.data.startedAt), finishedAt: toMs(run.data.finishedAt) } : null;
  const span = times ? scrubWindow(times, at, now) : null;
  const history = useQuery(
    trpc.runs.history.queryOptions(runId && span && at !== null ? { runId, from: span.from, to: span.to } : skipToken, {
      placeholderData: keepPreviousData,
    }),
  );

  const shown = span?.at ?? null;
  useEffect(() => {
    if (!runId || shown === null || !history.data) return;
    runStore.getState().showMoment({ runId, at: shown }, momentFigures(history.data, shown));
  }, [runId, shown, history.data, runStore]);
  useEffect(() => {
    if (at === null) runStore.getState().showLive();
  }, [at, runStore]);

  if (!runId || !span) return null;
  const move = (value: number) => {
    const other = linked.runId !== null && linked.runId !== currentId ? linked.runId : null;
    setLinked({ at: value, runId: other });
    writeUrl(value, other);
  };
  // Another run opens at its end (or now, while it goes), the current one at live.
  const pick = (id: string) => {
    const picked = runs.data?.find((r) => r.id === id);
    if (id === currentId || !picked) return live();
    const moment = toMs(picked.finishedAt) ?? Date.now();
    setLinked({ at: moment, runId: id });
    writeUrl(moment, id);
  };
  const live = () => {
    setLinked({ at: null, runId: null });
    writeUrl(null, null);
  };

  return (
    <>
      {shown !== null ? (
        <output className="live-at-badge" data-testid="overlay-at" title={new Date(shown).toISOString()}>
          at {clock.format(shown)}
        </output>
      ) : null}
      <div className="time-scrubber">
        <select
          className="input"
          aria-label="Run to scrub through"
          value={runId}
          onChange={(e) => pick(e.target.value)}
        >
          {(runs.data ?? []).some((r) => r.id === runId) ? null : <option value={runId}>run {runId.slice(-8)}</option>}
          {(runs.data ?? [])
            .filter((r) => r.startedAt)
            .map((r) => (
              <option key={r.id} value={r.id}>
                {r.id === currentId ? "this run" : "run"} {r.id.slice(-8)} ·{" "}
                {r.startedAt ? formatAbsolute(r.startedAt) : ""}
              </option>
            ))}
        </select>
        <input
          id="time-scrubber-range"
          type="range"
          aria-label="Moment of the run to show"
          data-testid="time-scrubber"
          min={span.from}
          max={span.to}
          step={1000}
          value={shown ?? span.to}
          onChange={(e) => move(Number(e.target.value))}
        />
        <span className="time-scrubber-at">{shown !== null ? clock.format(shown) : going ? "live" : "end of run"}</span>
        <button
          type="button"
          className={`button button-small${shown === null ? " button-primary" : ""}`}
          aria-pressed={shown === null}
          onClick={live}
        >
          Live
        </button>
        <Link href={`/pipelines/${pipelineId}/dashboard`} className="button button-small button-ghost">
          Dashboard
        </Link>
        {history.isError ? (
          <span className="form-error" role="alert">
            {errorMessage(history.error)}
          </span>
        ) : null}
      </div>
    </>
  );
}
