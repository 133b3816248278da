"use client";

import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState } from "react";
import { errorMessage } from "@/lib/errors";
import { formatAbsolute, formatRelative } from "@/lib/format";
import { useWorkspaceRole } from "@/lib/use-workspace-role";
import { formatCount } from "@/runs/run-format";
import { useTRPC } from "@/trpc/react";
import {
  type DeadLetter,
  type DeadLetterGroupRef,
  type DeadLetterTarget,
  DiscardDialog,
  FixDialog,
  InspectDialog,
  ReplayDialog,
} from "./dead-letter-dialogs";

// The dead-letter workbench of a run: records an operator could not process, grouped by node and reason over all of
// them; a group filters the pages. Inspect one (and fix its record by hand), fix many with an expression, replay them
// into the running job or discard them with a reason — the selected letters, else the chosen group, else all.

const PAGE = 100;

function plural(n: number): string {
  return `${formatCount(n)} dead letter${n === 1 ? "" : "s"}`;
}

export function DeadLetters({ runId, active }: { runId: string; active: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const baseId = useId();
  const { can, why } = useWorkspaceRole();
  const canEdit = can("actOnDeadLetters");
  const refusal = why("actOnDeadLetters");
  const [group, setGroup] = useState<DeadLetterGroupRef | null>(null);
  // The cursors of the pages before this one, newest first: Older pushes the page's `next`, Newer pops it. The
  // range shown counts from the newest letter when the first page was read; letters arriving since sit before it.
  const [cursors, setCursors] = useState<readonly string[]>([]);
  const after = cursors[cursors.length - 1];
  const refetchInterval = active ? 3000 : false;
  const letters = useQuery(
    trpc.runs.deadLetters.queryOptions(
      { runId, limit: PAGE, ...(after ? { after } : {}), ...(group ? { group } : {}) },
      { refetchInterval, placeholderData: keepPreviousData },
    ),
  );
  const groups = useQuery(trpc.runs.deadLetterGroups.queryOptions({ runId }, { refetchInterval }));
  // Polling stops when the run ends, and its last poll may predate the end: read once more so what the run's end
  // changes (replay is refused once no task runs) shows at once.
  const wasActive = useRef(active);
  useEffect(() => {
    if (wasActive.current && !active) {
      void queryClient.invalidateQueries(trpc.runs.deadLetters.queryFilter({ runId }));
      void queryClient.invalidateQueries(trpc.runs.deadLetterGroups.queryFilter({ runId }));
    }
    wasActive.current = active;
  }, [active, queryClient, trpc, runId]);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [dialog, setDialog] = useState<"replay" | "fix" | "discard" | null>(null);
  const [inspected, setInspected] = useState<DeadLetter | null>(null);
  const [outcome, setOutcome] = useState<string | null>(null);

  const refresh = (message: string) => {
    setSelected(new Set());
    setCursors([]);
    setInspected(null);
    setOutcome(message);
    void queryClient.invalidateQueries(trpc.runs.deadLetters.queryFilter({ runId }));
    void queryClient.invalidateQueries(trpc.runs.deadLetterGroups.queryFilter({ runId }));
    void queryClient.invalidateQueries(trpc.runs.timeline.queryFilter({ runId }));
  };
  const replaySelected = useMutation(
    trpc.runs.replayDeadLetters.mutationOptions({
      onSuccess: ({ replayed }) =>
        refresh(`${plural(replayed)} sent back for processing. Any that fail again come back here.`),
    }),
  );

  const rows = letters.data?.letters ?? [];
  const total = letters.data?.total ?? 0;
  const discarded = letters.data?.discarded ?? 0;
  const replayRefusal = letters.data?.replayRefusal ?? null;
  const groupList = groups.data?.groups ?? [];
  const chosen = group ? groupList.find((g) => g.nodeId === group.nodeId && g.reason === group.reason) : undefined;
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
      const picked = new Set(s);
      if (picked.has(id)) picked.delete(id);
      else picked.add(id);
      return picked;
    });
  const choose = (g: DeadLetterGroupRef | null) => {
    setGroup(g);
    setCursors([]);
    setSelected(new Set());
  };

  // What the actions take: the selected letters, else the chosen group, else every letter of the run.
  const scope: { target: DeadLetterTarget; count: number; label: string; what: string } =
    selected.size > 0
      ? {
          target: { ids: [...selected] },
          count: selected.size,
          label: `selected (${formatCount(selected.size)})`,
          what: `the ${plural(selected.size)} selected`,
        }
      : group
        ? {
            target: { group },
            count: chosen?.count ?? 0,
            label: `group (${formatCount(chosen?.count ?? 0)})`,
            what: `the ${plural(chosen?.count ?? 0)} of this group`,
          }
        : { target: {}, count: total, label: `all (${formatCount(total)})`, what: `all ${plural(total)}` };
  const actTitle = !canEdit ? refusal : scope.count === 0 ? "No dead letters to act on" : undefined;
  const replayTitle = actTitle ?? replayRefusal ?? undefined;
  const context = {
    runId,
    target: scope.target,
    what: scope.what,
    replayRefusal,
    onDone: refresh,
    onClose: () => setDialog(null),
  };

  return (
    <section className="card dead-letters" aria-labelledby={`${baseId}-title`}>
      <div className="card-head">
        <h2 id={`${baseId}-title`} className="card-title">
          Dead letters{" "}
          <span className="count-pill count-neutral" data-testid="dead-letter-count">
            {letters.isSuccess ? formatCount(total) : "…"}
          </span>
          {discarded > 0 ? (
            <span className="muted" data-testid="dead-letter-discarded">
              {" "}
              · {formatCount(discarded)} discarded
            </span>
          ) : null}
        </h2>
        <div className="card-actions">
          <button
            type="button"
            className="button button-small"
            disabled={replayTitle !== undefined || replaySelected.isPending}
            title={replayTitle}
            onClick={() =>
              selected.size > 0 ? replaySelected.mutate({ runId, ids: [...selected] }) : setDialog("replay")
            }
          >
            {replaySelected.isPending ? "Replaying…" : `Replay ${scope.label}`}
          </button>
          <button
            type="button"
            className="button button-small"
            disabled={actTitle !== undefined}
            title={actTitle}
            onClick={() => setDialog("fix")}
          >
            Fix {scope.label}…
          </button>
          <button
            type="button"
            className="button button-small"
            disabled={actTitle !== undefined}
            title={actTitle}
            onClick={() => setDialog("discard")}
          >
            Discard {scope.label}…
          </button>
        </div>
      </div>
      <p className="card-hint">
        Records an operator could not process, newest first. Choose a group to work on one kind of failure; fix the
        cause (a config, a down server) or the records, then replay them. Selected letters come before the group.
      </p>
      {replayRefusal ? <p className="muted">{replayRefusal}</p> : null}
      <div role="status" aria-live="polite">
        {outcome ? <p className="outcome">{outcome}</p> : null}
      </div>
      {replaySelected.error ? (
        <p className="form-error" role="alert">
          Could not replay: {errorMessage(replaySelected.error)}
        </p>
      ) : null}
      {groupList.length > 0 ? (
        <div className="table-scroll">
          <table className="table" data-testid="dead-letter-groups">
            <caption className="visually-hidden">Dead letters by node and reason</caption>
            <thead>
              <tr>
                <th scope="col">Node</th>
                <th scope="col">Reason</th>
                <th scope="col">Count</th>
                <th scope="col">Latest</th>
                <th scope="col">
                  {group ? (
                    <button type="button" className="link-button" onClick={() => choose(null)}>
                      Show all
                    </button>
                  ) : (
                    <span className="visually-hidden">Filter</span>
                  )}
                </th>
              </tr>
            </thead>
            <tbody>
              {groupList.map((g) => {
                const on = group?.nodeId === g.nodeId && group.reason === g.reason;
                return (
                  <tr
                    key={`${g.nodeId}\u0000${g.reason}`}
                    data-testid="dead-letter-group"
                    aria-current={on || undefined}
                  >
                    <td className="mono">{g.nodeId}</td>
                    <td className="dead-letter-error" title={g.example}>
                      {g.reason}
                    </td>
                    <td data-testid="dead-letter-group-count">{formatCount(g.count)}</td>
                    <td className="muted" title={formatAbsolute(g.lastAt)}>
                      {formatRelative(g.lastAt)}
                    </td>
                    <td>
                      <button
                        type="button"
                        className="button button-small"
                        aria-pressed={on}
                        onClick={() => choose(on ? null : { nodeId: g.nodeId, reason: g.reason })}
                      >
                        {on ? "Showing" : "Show"}
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
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
        <p className="muted">{group ? "No dead letters left in this group." : "Loading the newest dead letters…"}</p>
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
                        const picked = new Set(s);
                        for (const r of rows) {
                          if (allSelected) picked.delete(r.id);
                          else picked.add(r.id);
                        }
                        return picked;
                      })
                    }
                  />
                </th>
                <th scope="col">Node</th>
                <th scope="col">Error</th>
                <th scope="col">Record</th>
                <th scope="col">When</th>
                <th scope="col">
                  <span className="visually-hidden">Inspect</span>
                </th>
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
                  <td className="dead-letter-error">
                    {r.error}
                    {r.fixed ? <span className="muted"> (fixed by {r.fixed.by})</span> : null}
                  </td>
                  <td>
                    <pre className="record-json record-json-small">{JSON.stringify(r.record, null, 2)}</pre>
                  </td>
                  <td className="muted" title={formatAbsolute(r.at)}>
                    {formatRelative(r.at)}
                  </td>
                  <td>
                    <button
                      type="button"
                      className="link-button"
                      aria-label={`Inspect dead letter ${first + i + 1} from ${r.nodeId}`}
                      onClick={() => setInspected(r)}
                    >
                      Inspect
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="pager">
            <p className="muted" data-testid="dead-letter-range">
              {group
                ? `${plural(chosen?.count ?? rows.length)} in this group`
                : `${plural(total)}${
                    total > rows.length
                      ? ` · showing ${formatCount(first + 1)}–${formatCount(first + rows.length)}`
                      : ""
                  }`}
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
      <InspectDialog
        runId={runId}
        letter={inspected}
        canEdit={canEdit}
        editTitle={refusal}
        replayRefusal={replayRefusal}
        onDone={refresh}
        onClose={() => setInspected(null)}
      />
      <ReplayDialog open={dialog === "replay"} {...context} />
      <FixDialog open={dialog === "fix"} {...context} />
      <DiscardDialog open={dialog === "discard"} {...context} />
    </section>
  );
}
