"use client";

import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useState } from "react";
import { Dialog } from "@/components/dialog";
import { errorMessage } from "@/lib/errors";
import { formatAbsolute, formatRelative } from "@/lib/format";
import { formatCount } from "@/runs/run-format";
import { useTRPC } from "@/trpc/react";

// A run's dead letters — records an operator could not process, with the node, the error and the time — and
// replaying some or all of them: they go back to where they failed and are processed again while the run runs.

const PAGE = 100;

export function DeadLetters({ runId, active }: { runId: string; active: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const baseId = useId();
  // The cursors of the pages before this one, newest first: Older pushes the page's `next`, Newer pops it. The
  // range shown counts from the newest letter when the first page was read; letters arriving since sit before it.
  const [cursors, setCursors] = useState<readonly string[]>([]);
  const after = cursors[cursors.length - 1];
  const letters = useQuery(
    trpc.runs.deadLetters.queryOptions(
      { runId, limit: PAGE, ...(after ? { after } : {}) },
      { refetchInterval: active ? 3000 : false, placeholderData: keepPreviousData },
    ),
  );
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [confirmAll, setConfirmAll] = useState(false);
  const [outcome, setOutcome] = useState<string | null>(null);
  const replay = useMutation(
    trpc.runs.replayDeadLetters.mutationOptions({
      onSuccess: ({ replayed, runActive }) => {
        setSelected(new Set());
        setConfirmAll(false);
        setCursors([]);
        setOutcome(
          `${formatCount(replayed)} dead letter${replayed === 1 ? "" : "s"} sent back for processing. ${
            runActive
              ? "The run processes them now; any that fail again come back here."
              : "The run is not running: they are processed when it is restarted."
          }`,
        );
        void queryClient.invalidateQueries(trpc.runs.deadLetters.queryFilter({ runId }));
      },
    }),
  );

  const rows = letters.data?.letters ?? [];
  const total = letters.data?.total ?? 0;
  // A later page can come back empty (its letters were replayed meanwhile, perhaps in another tab): with no rows it
  // would have no pager to leave it by, so go back to the first page.
  const emptyLaterPage = cursors.length > 0 && letters.isSuccess && !letters.isPlaceholderData && rows.length === 0;
  useEffect(() => {
    if (emptyLaterPage) setCursors([]);
  }, [emptyLaterPage]);
  const first = cursors.length * PAGE;
  const next = letters.data?.next ?? null;
  const allSelected = rows.length > 0 && rows.every((r) => selected.has(r.id));
  const toggle = (id: string) =>
    setSelected((s) => {
      const chosen = new Set(s);
      if (chosen.has(id)) chosen.delete(id);
      else chosen.add(id);
      return chosen;
    });

  return (
    <section className="card dead-letters" aria-labelledby={`${baseId}-title`}>
      <div className="card-head">
        <h2 id={`${baseId}-title`} className="card-title">
          Dead letters{" "}
          <span className="count-pill count-neutral" data-testid="dead-letter-count">
            {letters.isSuccess ? formatCount(total) : "…"}
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
            disabled={total === 0 || replay.isPending}
            onClick={() => setConfirmAll(true)}
          >
            Replay all
          </button>
        </div>
      </div>
      <p className="card-hint">
        Records an operator could not process, newest first. Fix the cause (a config, a down server), then replay them.
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
      ) : total === 0 ? (
        <p className="muted">No dead letters: every record was processed.</p>
      ) : rows.length === 0 ? (
        <p className="muted">Loading the newest dead letters…</p>
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
                    aria-label="Select the dead letters on this page"
                    checked={allSelected}
                    onChange={() =>
                      setSelected((s) => {
                        const chosen = new Set(s);
                        for (const r of rows) {
                          if (allSelected) chosen.delete(r.id);
                          else chosen.add(r.id);
                        }
                        return chosen;
                      })
                    }
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
                      aria-label={`Select dead letter ${first + i + 1} from ${r.nodeId}`}
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
          <div className="pager">
            <p className="muted" data-testid="dead-letter-range">
              {formatCount(total)} dead letter{total === 1 ? "" : "s"}
              {total > rows.length ? ` · showing ${formatCount(first + 1)}–${formatCount(first + rows.length)}` : ""}
            </p>
            {cursors.length > 0 || next ? (
              <div className="pager-buttons">
                <button
                  type="button"
                  className="button button-small"
                  disabled={cursors.length === 0 || letters.isFetching}
                  onClick={() => setCursors((c) => c.slice(0, -1))}
                >
                  Newer
                </button>
                <button
                  type="button"
                  className="button button-small"
                  disabled={!next || letters.isFetching}
                  onClick={() => next && setCursors((c) => [...c, next])}
                >
                  Older
                </button>
              </div>
            ) : null}
          </div>
        </div>
      )}
      <Dialog
        open={confirmAll}
        onClose={() => setConfirmAll(false)}
        title={`Replay all ${formatCount(total)} dead letter${total === 1 ? "" : "s"}?`}
        description="Every dead letter of this run, on every page, goes back to the node where it failed, to be processed again."
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
