"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import type { RouterOutputs } from "@/components/api-types";
import { Dialog } from "@/components/dialog";
import { errorMessage } from "@/lib/errors";
import { formatAbsolute } from "@/lib/format";
import { useWorkspaceRole } from "@/lib/use-workspace-role";
import { useTRPC } from "@/trpc/react";

type Backfill = RouterOutputs["backfills"]["get"];
type Comparison = NonNullable<Backfill["comparison"]>;

const STATE_TEXT: Record<Backfill["state"], string> = {
  FILLING: "Filling the shadow table",
  FILLED: "Filled: compare it with the live table",
  COMPARED: "Compared",
  SWAPPED: "Swapped in",
  FAILED: "Failed",
  DISCARDED: "Discarded",
};

// One backfill: its progress while the run fills the shadow table, then Compare (counts, checksums, sample
// differences), Swap (after a confirmation) or Discard, and after a swap, dropping the table it replaced.

export function BackfillDetails({ id }: { id: string }) {
  const trpc = useTRPC();
  const backfill = useQuery(
    trpc.backfills.get.queryOptions(
      { id },
      // Read every second while the run fills; reading it is what marks it filled.
      { refetchInterval: (q) => (q.state.data?.state === "FILLING" ? 1000 : false) },
    ),
  );
  if (backfill.isPending) return <p className="muted">Loading the backfill…</p>;
  if (backfill.isError) {
    return (
      <p className="form-error" role="alert">
        {errorMessage(backfill.error)}
      </p>
    );
  }
  return <BackfillPanel b={backfill.data} />;
}

function BackfillPanel({ b }: { b: Backfill }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { can, why } = useWorkspaceRole();
  const canAct = can("controlRuns");
  const refresh = (data: Backfill) => queryClient.setQueryData(trpc.backfills.get.queryKey({ id: b.id }), data);
  const [ignore, setIgnore] = useState(b.comparison?.ignoredColumns.join(", ") ?? "");
  const [confirming, setConfirming] = useState<"swap" | "discard" | "drop" | null>(null);
  const [keepUnmatched, setKeepUnmatched] = useState(true);
  const compare = useMutation(trpc.backfills.compare.mutationOptions({ onSuccess: refresh }));
  const swap = useMutation(
    trpc.backfills.swap.mutationOptions({
      onSuccess: (data) => {
        refresh(data);
        setConfirming(null);
      },
    }),
  );
  const discard = useMutation(
    trpc.backfills.discard.mutationOptions({
      onSuccess: (data) => {
        refresh(data);
        setConfirming(null);
      },
    }),
  );
  const drop = useMutation(
    trpc.backfills.dropPrevious.mutationOptions({
      onSuccess: (data) => {
        refresh(data);
        setConfirming(null);
      },
    }),
  );
  const failure = [compare, swap, discard, drop].find((m) => m.isError)?.error;
  const ready = b.state === "FILLED" || b.state === "COMPARED";
  const busy = compare.isPending || swap.isPending || discard.isPending || drop.isPending;

  return (
    <>
      <section className="card" aria-label="Backfill">
        <p className="page-subtitle" data-testid="backfill-state">
          {STATE_TEXT[b.state]}
        </p>
        <dl className="facts">
          <div>
            <dt className="fact-label">Pipeline</dt>
            <dd className="fact-value">
              <Link href={`/pipelines/${b.pipelineId}`}>{b.pipelineName}</Link> · sink{" "}
              <span className="mono">{b.sinkNodeId}</span>
            </dd>
          </div>
          <div>
            <dt className="fact-label">Live table</dt>
            <dd className="fact-value mono">{b.liveTable}</dd>
          </div>
          <div>
            <dt className="fact-label">Shadow table</dt>
            <dd className="fact-value mono">{b.shadowTable}</dd>
          </div>
          <div>
            <dt className="fact-label">Run</dt>
            <dd className="fact-value">
              {b.runId ? <Link href={`/runs/${b.runId}`}>{b.runStatus?.toLowerCase() ?? "run"}</Link> : "—"}
            </dd>
          </div>
          <div>
            <dt className="fact-label">Started</dt>
            <dd className="fact-value">
              {formatAbsolute(new Date(b.createdAt))} by {b.createdBy}
            </dd>
          </div>
          {b.previousTable ? (
            <div>
              <dt className="fact-label">Previous table</dt>
              <dd className="fact-value mono">{b.previousTable}</dd>
            </div>
          ) : null}
        </dl>
        {b.state === "FILLING" || b.state === "FILLED" ? <FillProgress b={b} /> : null}
        {b.error ? (
          <p className="form-error" role="alert">
            {b.error}
          </p>
        ) : null}
      </section>

      {ready || b.comparison ? (
        <section className="card" aria-labelledby="backfill-compare">
          <h2 id="backfill-compare" className="card-title">
            Compare
          </h2>
          {ready ? (
            <form
              className="inline-form"
              onSubmit={(e) => {
                e.preventDefault();
                const ignoreColumns = ignore
                  .split(",")
                  .map((c) => c.trim())
                  .filter(Boolean);
                compare.mutate({ id: b.id, ignoreColumns });
              }}
            >
              <label className="field">
                <span className="field-label">Ignore columns (comma-separated)</span>
                <input
                  className="input"
                  value={ignore}
                  placeholder="updated_at"
                  onChange={(e) => setIgnore(e.target.value)}
                />
              </label>
              <button type="submit" className="button" disabled={!canAct || busy} title={why("controlRuns")}>
                {compare.isPending ? "Comparing…" : b.comparison ? "Compare again" : "Compare"}
              </button>
            </form>
          ) : null}
          {b.comparison ? <ComparisonView c={b.comparison} /> : null}
        </section>
      ) : null}

      {failure ? (
        <p className="form-error" role="alert">
          {errorMessage(failure)}
        </p>
      ) : null}
      <div className="card-actions">
        {ready ? (
          <button
            type="button"
            className="button button-primary"
            disabled={!canAct || busy}
            title={why("controlRuns")}
            onClick={() => setConfirming("swap")}
          >
            Swap…
          </button>
        ) : null}
        {b.state === "FILLING" || ready || b.state === "FAILED" ? (
          <button
            type="button"
            className="button button-danger"
            disabled={!canAct || busy}
            title={why("controlRuns")}
            onClick={() => setConfirming("discard")}
          >
            Discard…
          </button>
        ) : null}
        {b.state === "SWAPPED" && b.previousTable ? (
          <button
            type="button"
            className="button button-danger"
            disabled={!canAct || busy}
            title={why("controlRuns")}
            onClick={() => setConfirming("drop")}
          >
            Drop previous table…
          </button>
        ) : null}
      </div>

      <Dialog
        open={confirming === "swap"}
        onClose={() => setConfirming(null)}
        dismissible={!swap.isPending}
        title={`Swap ${b.shadowTable} in as ${b.liveTable}?`}
        description={
          <>
            In one transaction the live table is locked, renamed to keep it, and the shadow table takes its name.
            Readers see the old table or the new one, never neither.
            {b.comparison && !b.comparison.equal ? " The last comparison found differences." : ""}
            {!b.comparison ? " The tables have not been compared." : ""}
          </>
        }
      >
        <label className="checkbox">
          <input type="checkbox" checked={keepUnmatched} onChange={(e) => setKeepUnmatched(e.target.checked)} /> Keep
          live rows whose key the shadow table lacks (rows written after the backfill's range; needs a primary key)
        </label>
        <div className="dialog-actions">
          <button type="button" className="button" onClick={() => setConfirming(null)} disabled={swap.isPending}>
            Cancel
          </button>
          <button
            type="button"
            className="button button-primary"
            disabled={swap.isPending}
            onClick={() => swap.mutate({ id: b.id, keepUnmatched })}
          >
            {swap.isPending ? "Swapping…" : "Swap"}
          </button>
        </div>
      </Dialog>
      <Dialog
        open={confirming === "discard"}
        onClose={() => setConfirming(null)}
        dismissible={!discard.isPending}
        title={`Discard this backfill?`}
        description={
          <>
            The shadow table <span className="mono">{b.shadowTable}</span> is dropped
            {b.state === "FILLING" ? " and its run stopped" : ""}. The live table is not touched.
          </>
        }
      >
        <div className="dialog-actions">
          <button type="button" className="button" onClick={() => setConfirming(null)} disabled={discard.isPending}>
            Cancel
          </button>
          <button
            type="button"
            className="button button-danger"
            disabled={discard.isPending}
            onClick={() => discard.mutate({ id: b.id })}
          >
            {discard.isPending ? "Discarding…" : "Discard"}
          </button>
        </div>
      </Dialog>
      <Dialog
        open={confirming === "drop"}
        onClose={() => setConfirming(null)}
        dismissible={!drop.isPending}
        title={`Drop ${b.previousTable ?? "the previous table"}?`}
        description="The table the swap replaced is dropped for good; the live table is not touched."
      >
        <div className="dialog-actions">
          <button type="button" className="button" onClick={() => setConfirming(null)} disabled={drop.isPending}>
            Cancel
          </button>
          <button
            type="button"
            className="button button-danger"
            disabled={drop.isPending}
            onClick={() => drop.mutate({ id: b.id })}
          >
            {drop.isPending ? "Dropping…" : "Drop"}
          </button>
        </div>
      </Dialog>
    </>
  );
}

function FillProgress({ b }: { b: Backfill }) {
  const share = b.fraction;
  return (
    <div className="run-progress">
      <div
        className="progress-bar"
        role="progressbar"
        aria-label="Backfill progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={share === null ? undefined : Math.round(share * 100)}
        aria-valuetext={share === null ? "reading; the end is not known" : `${Math.floor(share * 100)}%`}
      >
        <span className="progress-fill" style={{ width: `${((share ?? 0) * 100).toFixed(1)}%` }} />
      </div>
      <span className="progress-text">
        {share === null ? "" : `${Math.floor(share * 100)}% · `}
        {b.sources.map((s) => `${s.nodeId}: ${s.read.toLocaleString("en-US")} read`).join(" · ")}
        {b.written !== null ? ` · ${b.written.toLocaleString("en-US")} written` : ""}
      </span>
    </div>
  );
}

function cell(value: unknown): string {
  return value === null || value === undefined
    ? "NULL"
    : typeof value === "object"
      ? JSON.stringify(value)
      : String(value);
}

function ComparisonView({ c }: { c: Comparison }) {
  const columns = c.columns;
  // Keyed rows side by side: a row changed in one table shows its two versions together.
  const differences = [...c.differences].sort((a, b) =>
    a.key && b.key ? JSON.stringify(a.key).localeCompare(JSON.stringify(b.key)) : 0,
  );
  return (
    <div data-testid="backfill-comparison">
      <p className={c.equal ? "test-ok" : "test-bad"} role="status">
        {c.equal ? "Equal: same rows in both tables." : "Different."} Compared {formatAbsolute(new Date(c.comparedAt))}{" "}
        in {c.ms.toLocaleString("en-US")} ms
        {c.ignoredColumns.length > 0 ? `, ignoring ${c.ignoredColumns.join(", ")}` : ""}.
      </p>
      <table className="table">
        <thead>
          <tr>
            <th scope="col">Table</th>
            <th scope="col">Rows</th>
            <th scope="col">Checksum</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <th scope="row">Live</th>
            <td className="cell-number">{c.live.rows.toLocaleString("en-US")}</td>
            <td className="mono">{c.live.checksum}</td>
          </tr>
          <tr>
            <th scope="row">Shadow</th>
            <td className="cell-number">{c.shadow.rows.toLocaleString("en-US")}</td>
            <td className="mono">{c.shadow.checksum}</td>
          </tr>
        </tbody>
      </table>
      {c.differences.length > 0 ? (
        <>
          <h3 className="section-title">Sample differences (up to 20 each way)</h3>
          <div className="table-scroll">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Only in</th>
                  {columns.map((col) => (
                    <th key={col} scope="col">
                      {col}
                      {c.key.includes(col) ? " (key)" : ""}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {differences.map((d, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: rows of a fixed sample; EXCEPT ALL may repeat a row
                  <tr key={i}>
                    <td>{d.side === "live" ? "live" : "shadow"}</td>
                    {columns.map((col) => (
                      <td key={col} className="mono">
                        {cell(d.row[col])}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </div>
  );
}
