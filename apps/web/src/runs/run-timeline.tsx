"use client";

import { useQuery } from "@tanstack/react-query";
import { useEffect, useId, useRef } from "react";
import { errorMessage } from "@/lib/errors";
import { formatAbsolute, formatIso } from "@/lib/format";
import { describeRunEvent } from "@/runs/run-timeline-format";
import { useTRPC } from "@/trpc/react";
import "./run-sections.css";

// What happened to the run, oldest first: the user's pauses, stops and restarts, how it ended, and what the fleet
// went through on the way (a worker taking a partition over, retries with their errors, the dead-letter limit).

export function RunTimeline({ runId, active }: { runId: string; active: boolean }) {
  const trpc = useTRPC();
  const titleId = useId();
  const timeline = useQuery(trpc.runs.timeline.queryOptions({ runId }, { refetchInterval: active ? 3000 : false }));
  const events = timeline.data ?? [];
  // The run ended between two refreshes: read once more for how it ended.
  const wasActive = useRef(active);
  const { refetch } = timeline;
  useEffect(() => {
    if (wasActive.current && !active) void refetch();
    wasActive.current = active;
  }, [active, refetch]);

  return (
    <section className="card run-timeline" aria-labelledby={titleId}>
      <div className="card-head">
        <h2 id={titleId} className="card-title">
          Timeline
        </h2>
      </div>
      {timeline.isError ? (
        <p className="run-timeline-empty" role="alert">
          The timeline could not be read: {errorMessage(timeline.error)}
        </p>
      ) : timeline.isPending ? (
        <p className="run-timeline-empty">Reading the timeline…</p>
      ) : events.length === 0 ? (
        <p className="run-timeline-empty">Nothing has happened yet: no worker has started the run.</p>
      ) : (
        <ol className="run-timeline-list" data-testid="run-timeline">
          {events.map((e) => {
            const line = describeRunEvent(e);
            return (
              <li key={e.id} className={`run-timeline-item run-timeline-${line.tone}`} data-kind={e.kind}>
                <span className="run-timeline-mark">{line.mark}</span>
                <div className="run-timeline-body">
                  <time className="run-timeline-time" dateTime={formatIso(e.at)} title={formatIso(e.at)}>
                    {formatAbsolute(e.at)}
                  </time>
                  <p className="run-timeline-text">{line.text}</p>
                  {e.error ? (
                    <details className="run-timeline-error">
                      <summary>Error</summary>
                      <pre>{e.error}</pre>
                    </details>
                  ) : null}
                </div>
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}
