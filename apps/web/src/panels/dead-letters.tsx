"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState } from "react";
import { Dialog } from "@/components/dialog";
import { errorMessage } from "@/lib/errors";
import { formatAbsolute, formatRelative } from "@/lib/format";
import { useTRPC } from "@/trpc/react";

// A run's dead letters — records an operator could not process, with the node, the error and the time — and
// replaying some or all of them: they go back to where they failed and are processed again while the run runs.

const LIMIT = 500;

export function DeadLetters({ runId, active }: { runId: string; active: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const baseId = useId();
  const letters = useQuery(
    trpc.runs.deadLetters.queryOptions({ runId, limit: LIMIT }, { refetchInterval: active ? 3000 : false }),
  );
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [confirmAll, setConfirmAll] = useState(false);
  const [outcome, setOutcome] = useState<string | null>(null);
  const replay = useMutation(
    trpc.runs.replayDeadLetters.mutationOptions({
      onSuccess: ({ replayed, runActive }) => {
        setSelected(new Set());
        setConfirmAll(false);
        setOutcome(
          `${replayed} dead letter${replayed === 1 ? "" : "s"} sent back for processing. ${
            runActive
              ? "The run processes them now; any that fail again come back here."
              : "The run is not running: they are processed when it is restarted."
          }`,
        );
        void queryClient.invalidateQueries(trpc.runs.deadLetters.queryFilter({ runId }));
      },
    }),
  );

  const rows = letters.data ?? [];
  const allSelected = rows.length > 0 && rows.every((r) => selected.has(r.id));
  const toggle = (id: string) =>
    setSelected((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  return (
    <section className="card dead-letters" aria-labelledby={`${baseId}-title`}>
      <div className="card-head">
        <h2 id={`${baseId}-title`} className="card-title">
          Dead letters{" "}
          <span className="count-pill count-neutral" data-testid="dead-letter-count">
            {letters.isSuccess ? (rows.length >= LIMIT ? `${LIMIT}+` : rows.length) : "…"}
          </span>
        </h2>
        <div className="card-actions">
          <button
            type="button"
            className="button button-small"
            disabled={selected.size === 0 || replay.isPending}
            onClick={() => replay.mutate({ runId, ids: [...selected] })}
          >
            {replay.isPending && selected.size > 0 ? "Replaying…" : `Replay selected (${selected.size})`}
          </button>
          <button
            type="button"
            className="button button-small"
            disabled={rows.length === 0 || replay.isPending}
            onClick={() => setConfirmAll(true)}
          >
            Replay all
          </button>
        </div>
      </div>
      <p className="card-hint">
        Records an operator could not process. Fix the cause (a config, a down server), then replay them.
        {rows.length >= LIMIT ? ` The newest ${LIMIT} are listed; Replay all sends back every one of them.` : ""}
      </p>
      <div role="status" aria-live="polite">
        {outcome ? <p className="outcome">{outcome}</p> : null}
      </div>
      {replay.error ? (
        <p className="form-error" role="alert">
          Could not replay: {errorMessage(replay.error)}
        </p>
      ) : null}
      {letters.isPending ? (
        <p className="muted">Loading dead letters…</p>
      ) : letters.isError ? (
        <p className="form-error" role="alert">
          {errorMessage(letters.error)}
        </p>
      ) : rows.length === 0 ? (
        <p className="muted">No dead letters: every record was processed.</p>
      ) : (
        <div className="table-scroll">
          <table className="table dead-letter-table">
            <caption className="visually-hidden">Dead letters of this run</caption>
            <thead>
              <tr>
                <th scope="col" className="cell-check">
                  <input
                    type="checkbox"
                    className="checkbox"
                    aria-label="Select all dead letters"
                    checked={allSelected}
                    onChange={() => setSelected(allSelected ? new Set() : new Set(rows.map((r) => r.id)))}
                  />
                </th>
                <th scope="col">Node</th>
                <th scope="col">Error</th>
                <th scope="col">Record</th>
                <th scope="col">When</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r, i) => (
                <tr key={r.id} data-testid="dead-letter">
                  <td className="cell-check">
                    <input
                      type="checkbox"
                      className="checkbox"
                      aria-label={`Select dead letter ${i + 1} from ${r.nodeId}`}
                      checked={selected.has(r.id)}
                      onChange={() => toggle(r.id)}
                    />
                  </td>
                  <td className="mono">
                    {r.nodeId}
                    {r.port ? <span className="muted">.{r.port}</span> : null}
                  </td>
                  <td className="dead-letter-error">{r.error}</td>
                  <td>
                    <pre className="record-json record-json-small">{JSON.stringify(r.record, null, 2)}</pre>
                  </td>
                  <td className="muted" title={formatAbsolute(r.at)}>
                    {formatRelative(r.at)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {rows.length === LIMIT ? <p className="muted">Showing the first {LIMIT}.</p> : null}
        </div>
      )}
      <Dialog
        open={confirmAll}
        onClose={() => setConfirmAll(false)}
        title={`Replay all ${rows.length} dead letters?`}
        description="Every dead letter of this run goes back to the node where it failed, to be processed again."
        dismissible={!replay.isPending}
      >
        <div className="dialog-actions">
          <button type="button" className="button" onClick={() => setConfirmAll(false)} disabled={replay.isPending}>
            Cancel
          </button>
          <button
            type="button"
            className="button button-primary"
            disabled={replay.isPending}
            onClick={() => replay.mutate({ runId })}
          >
            {replay.isPending ? "Replaying…" : "Replay all"}
          </button>
        </div>
      </Dialog>
    </section>
  );
}
