"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import type { RouterOutputs } from "@/components/api-types";
import { errorMessage } from "@/lib/errors";
import { useWorkspaceRole } from "@/lib/use-workspace-role";
import { useTRPC } from "@/trpc/react";
import { localInput, type ReplayChoice, type ReplayRow, replayChoice } from "./replay-form";
import "./backfills.css";

type SinkPlan = RouterOutputs["backfills"]["plan"]["sinks"][number];
type SourcePlan = SinkPlan["sources"][number];

// Starting a backfill of one sink.postgres: where each source's replay starts and ends, what the run will write
// (the shadow table), and what it leaves out (the pipeline's other sinks).

export function BackfillStart({
  pipelineId,
  sinkNodeId,
  version,
}: {
  pipelineId: string;
  sinkNodeId: string;
  version?: number;
}) {
  const trpc = useTRPC();
  const plan = useQuery(
    trpc.backfills.plan.queryOptions({ pipelineId, ...(version ? { version } : {}) }, { staleTime: 10_000 }),
  );
  if (plan.isPending) return <p className="muted">Loading the pipeline…</p>;
  if (plan.isError) {
    return (
      <p className="form-error" role="alert">
        {errorMessage(plan.error)}
      </p>
    );
  }
  const sink = plan.data.sinks.find((s) => s.nodeId === sinkNodeId);
  if (!sink) {
    return (
      <p className="form-error" role="alert">
        Version {plan.data.version} has no PostgreSQL sink “{sinkNodeId}”.
      </p>
    );
  }
  return <StartForm pipelineId={pipelineId} version={plan.data.version} sink={sink} />;
}

function initialRow(source: SourcePlan): ReplayRow {
  const hourAgo = Date.now() - 3_600_000;
  return source.replay?.by.includes("time")
    ? { by: "time", from: localInput(hourAgo), to: localInput(Date.now()) }
    : { by: "offset", from: "", to: "" };
}

function StartForm({ pipelineId, version, sink }: { pipelineId: string; version: number; sink: SinkPlan }) {
  const trpc = useTRPC();
  const router = useRouter();
  const { can, why } = useWorkspaceRole();
  // Sources that end by themselves may still be replayed; the others must be.
  const [rows, setRows] = useState<Record<string, ReplayRow & { replay: boolean }>>(() =>
    Object.fromEntries(
      sink.sources.map((s) => [s.nodeId, { ...initialRow(s), replay: s.replay !== null && !s.endsByItself }]),
    ),
  );
  const [problems, setProblems] = useState<Record<string, { from?: string; to?: string }>>({});
  const start = useMutation(
    trpc.backfills.start.mutationOptions({ onSuccess: (r) => router.push(`/backfills/${r.id}`) }),
  );
  const blocked = sink.sources.filter((s) => s.replay === null && !s.endsByItself);

  const submit = () => {
    const replay: Record<string, ReplayChoice> = {};
    const found: Record<string, { from?: string; to?: string }> = {};
    for (const s of sink.sources) {
      const row = rows[s.nodeId];
      if (!row?.replay) continue;
      const r = replayChoice(row);
      if (r.ok) replay[s.nodeId] = r.choice;
      else found[s.nodeId] = { ...(r.from ? { from: r.from } : {}), ...(r.to ? { to: r.to } : {}) };
    }
    setProblems(found);
    if (Object.keys(found).length > 0) return;
    start.mutate({ pipelineId, version, sinkNodeId: sink.nodeId, replay });
  };
  const set = (nodeId: string, change: Partial<ReplayRow & { replay: boolean }>) =>
    setRows((all) => ({ ...all, [nodeId]: { ...all[nodeId]!, ...change } }));

  return (
    <form
      className="card backfill-form"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <dl className="facts">
        <div>
          <dt className="fact-label">Sink</dt>
          <dd className="fact-value mono">{sink.nodeId}</dd>
        </div>
        <div>
          <dt className="fact-label">Live table</dt>
          <dd className="fact-value mono">{sink.table}</dd>
        </div>
        <div>
          <dt className="fact-label">Mode</dt>
          <dd className="fact-value">
            {sink.mode}
            {sink.key.length > 0 ? ` by ${sink.key.join(", ")}` : ""}
          </dd>
        </div>
        <div>
          <dt className="fact-label">Version</dt>
          <dd className="fact-value">{version}</dd>
        </div>
      </dl>
      <p className="field-hint">
        The run writes a new shadow table beside <span className="mono">{sink.table}</span> (named{" "}
        <span className="mono">{sink.table}__g…</span>, made like it) and ends when every source has read its range.
        {sink.otherSinks.length > 0 ? (
          <>
            {" "}
            Only this sink and the nodes that feed it run: the pipeline's other sinks (
            <span className="mono">{sink.otherSinks.join(", ")}</span>) receive none of the backfill's records.
          </>
        ) : null}{" "}
        The live run, if any, goes on.
      </p>
      {sink.activeBackfillId ? (
        <p className="page-notice">
          This sink has a backfill in progress: <Link href={`/backfills/${sink.activeBackfillId}`}>open it</Link> to
          swap or discard it before starting another.
        </p>
      ) : null}

      <h2 className="card-title">Sources</h2>
      {sink.sources.map((s) => {
        const row = rows[s.nodeId]!;
        const p = problems[s.nodeId] ?? {};
        return (
          <fieldset key={s.nodeId} className="backfill-source" aria-label={`Source ${s.nodeId}`}>
            <legend>
              <span className="mono">{s.nodeId}</span> · {s.title}
            </legend>
            {s.replay === null ? (
              <p className={s.endsByItself ? "field-hint" : "form-error"}>
                {s.endsByItself ? "Reads a bounded stretch and ends by itself: it runs as configured." : s.refusal}
              </p>
            ) : (
              <>
                {s.endsByItself ? (
                  <label className="checkbox">
                    <input
                      type="checkbox"
                      checked={row.replay}
                      onChange={(e) => set(s.nodeId, { replay: e.target.checked })}
                    />{" "}
                    Replay a range (otherwise it runs as configured: it ends by itself)
                  </label>
                ) : null}
                {row.replay ? (
                  <div className="backfill-range">
                    <label className="field">
                      <span className="field-label">By</span>
                      <select
                        className="input"
                        value={row.by}
                        onChange={(e) =>
                          set(s.nodeId, {
                            ...(e.target.value === "offset" ? { from: "", to: "" } : initialRow(s)),
                            by: e.target.value as ReplayRow["by"],
                          })
                        }
                      >
                        {s.replay.by.map((b) => (
                          <option key={b} value={b}>
                            {b === "time" ? "Time" : s.replay!.offsetLabel}
                          </option>
                        ))}
                      </select>
                    </label>
                    <label className="field">
                      <span className="field-label">From</span>
                      <input
                        className="input"
                        type={row.by === "time" ? "datetime-local" : "text"}
                        step={row.by === "time" ? 1 : undefined}
                        value={row.from}
                        placeholder={row.by === "offset" ? s.replay.offsetLabel : undefined}
                        aria-invalid={p.from ? true : undefined}
                        onChange={(e) => set(s.nodeId, { from: e.target.value })}
                      />
                      {p.from ? <span className="field-error">{p.from}</span> : null}
                    </label>
                    <label className="field">
                      <span className="field-label">To (empty: what exists at the start)</span>
                      <input
                        className="input"
                        type={row.by === "time" ? "datetime-local" : "text"}
                        step={row.by === "time" ? 1 : undefined}
                        value={row.to}
                        placeholder={row.by === "offset" ? s.replay.offsetLabel : undefined}
                        aria-invalid={p.to ? true : undefined}
                        onChange={(e) => set(s.nodeId, { to: e.target.value })}
                      />
                      {p.to ? <span className="field-error">{p.to}</span> : null}
                    </label>
                  </div>
                ) : null}
                <p className="field-hint">{s.replay.note}</p>
              </>
            )}
          </fieldset>
        );
      })}

      {start.isError ? (
        <p className="form-error" role="alert">
          {errorMessage(start.error)}
        </p>
      ) : null}
      <div className="card-actions">
        <button
          type="submit"
          className="button button-primary"
          disabled={!can("controlRuns") || blocked.length > 0 || start.isPending || sink.activeBackfillId !== null}
          title={why("controlRuns")}
        >
          {start.isPending ? "Starting…" : "Start backfill"}
        </button>
        <Link href={`/pipelines/${pipelineId}`} className="button button-ghost">
          Back to the pipeline
        </Link>
      </div>
    </form>
  );
}
