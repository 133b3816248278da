"use client";

import { keepPreviousData, skipToken, useQuery } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useEffect, useId, useState } from "react";
import type { RouterOutputs } from "@/components/api-types";
import { errorMessage } from "@/lib/errors";
import { formatAbsolute, formatIso } from "@/lib/format";
import { useTRPC } from "@/trpc/react";
import "./run-sections.css";

// The workers' log lines about the run, newest first: filtered by level and node, a page at a time, or followed
// live while the run goes. Lines are kept in Redis (10,000 a run at most) for as long as the run's state is.

type LogLine = RouterOutputs["runs"]["logs"]["lines"][number];
type Level = LogLine["level"];

const PAGE = 100;
/** Lines the live tail shows at most: the newest. */
const TAIL_KEEP = 500;
const LEVELS: Level[] = ["debug", "info", "warn", "error"];

export function RunLogs({ runId, active, nodes }: { runId: string; active: boolean; nodes: readonly string[] }) {
  const trpc = useTRPC();
  const baseId = useId();
  const [level, setLevel] = useState<Level>("info");
  const [node, setNode] = useState("");
  const [follow, setFollow] = useState(active);
  const tailing = follow && active;
  const [cursors, setCursors] = useState<readonly string[]>([]);
  const filter = { runId, level, ...(node ? { node } : {}) };
  // A new filter starts from the newest lines again.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the reset is what a change of these means
  useEffect(() => setCursors([]), [level, node]);
  const after = cursors[cursors.length - 1];
  const page = useQuery(
    trpc.runs.logs.queryOptions(
      { ...filter, limit: PAGE, ...(after ? { after } : {}) },
      { enabled: !tailing, placeholderData: keepPreviousData },
    ),
  );
  const [live, setLive] = useState<LogLine[]>([]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new filter or a new start of the tail starts afresh
  useEffect(() => setLive([]), [tailing, level, node]);
  useSubscription(
    trpc.runs.logTail.subscriptionOptions(tailing ? filter : skipToken, {
      onData: (lines) => setLive((shown) => [...[...lines].reverse(), ...shown].slice(0, TAIL_KEEP)),
    }),
  );
  const lines = tailing ? live : (page.data?.lines ?? []);
  const next = page.data?.next ?? null;

  return (
    <section className="card run-logs" aria-labelledby={`${baseId}-title`}>
      <div className="card-head">
        <h2 id={`${baseId}-title`} className="card-title">
          Logs
        </h2>
        <div className="card-actions run-logs-filters">
          <label>
            Level{" "}
            <select value={level} onChange={(e) => setLevel(e.target.value as Level)}>
              {LEVELS.map((l) => (
                <option key={l} value={l}>
                  {l} and above
                </option>
              ))}
            </select>
          </label>
          <label>
            Node{" "}
            <select value={node} onChange={(e) => setNode(e.target.value)}>
              <option value="">all nodes</option>
              {nodes.map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </label>
          <label>
            <input type="checkbox" checked={tailing} disabled={!active} onChange={(e) => setFollow(e.target.checked)} />{" "}
            Live tail
          </label>
        </div>
      </div>
      {!tailing && page.isError ? (
        <p className="run-timeline-empty" role="alert">
          The log could not be read: {errorMessage(page.error)}
        </p>
      ) : lines.length === 0 ? (
        <p className="run-timeline-empty">
          {tailing ? "Waiting for lines…" : page.isPending ? "Reading the log…" : "No lines match."}
        </p>
      ) : (
        <ol className="run-logs-list" data-testid="run-logs">
          {lines.map((l) => (
            <li key={l.id} className={`run-logs-line run-logs-${l.level}`}>
              <time dateTime={formatIso(l.at)} title={formatIso(l.at)}>
                {formatAbsolute(l.at)}
              </time>
              <span className="run-logs-level">{l.level}</span>
              <span className="run-logs-where">
                {[l.node, l.partition === undefined ? undefined : `p${l.partition}`, l.worker]
                  .filter(Boolean)
                  .join(" · ")}
              </span>
              <span className="run-logs-message">{l.message}</span>
              {Object.keys(l.fields).length > 0 ? (
                <code className="run-logs-fields">{JSON.stringify(l.fields)}</code>
              ) : null}
            </li>
          ))}
        </ol>
      )}
      {tailing ? null : (
        <div className="run-logs-pager">
          <button
            type="button"
            className="button button-small"
            disabled={cursors.length === 0}
            onClick={() => setCursors([])}
          >
            Newest
          </button>
          <button
            type="button"
            className="button button-small"
            disabled={!next}
            onClick={() => next && setCursors((c) => [...c, next])}
          >
            Older
          </button>
        </div>
      )}
    </section>
  );
}
