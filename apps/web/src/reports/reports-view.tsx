"use client";

import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { useState } from "react";
import type { RouterOutputs } from "@/components/api-types";
import { Dialog } from "@/components/dialog";
import { errorMessage } from "@/lib/errors";
import { formatCompact, formatIso, formatRelative } from "@/lib/format";
import { useWorkspaceRole } from "@/lib/use-workspace-role";
import { FILES_SOURCE, queryHref } from "@/queries/query-url";
import { useTRPC } from "@/trpc/react";
import { cronWords, formatInZone } from "./cron-words";
import { ReportForm, type ReportItem } from "./report-form";
import "./reports.css";

// The workspace's scheduled reports: each runs a saved query on a cron pattern in its time zone, writes the result to
// the workspace's files and/or posts it to a webhook, and with a condition is a query alert. `?report=<id>` opens one
// with its delivery history. Any member reads; editors create, change, run and delete.

type Delivery = RouterOutputs["reports"]["deliveries"]["deliveries"][number];

const REFRESH_MS = 5000;
const HISTORY_PAGE = 20;

function Outcome({ delivery }: { delivery: Pick<Delivery, "outcome" | "error"> | undefined }) {
  if (!delivery) return <span className="muted">never run</span>;
  const cls =
    delivery.outcome === "delivered"
      ? "status status-completed"
      : delivery.outcome === "failed"
        ? "status status-failed"
        : "status status-running";
  return (
    <span className={cls} title={delivery.error ?? undefined}>
      {delivery.outcome}
    </span>
  );
}

function formatBytes(n: number | null): string {
  if (n === null) return "—";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** The query page on the file a delivery wrote, through the Files source. */
function fileHref(file: string): string {
  return queryHref({ source: FILES_SOURCE, sql: `SELECT * FROM '${file.replaceAll("'", "''")}'` });
}

export function ReportsView({ initialReport }: { initialReport: string | null }) {
  const trpc = useTRPC();
  const router = useRouter();
  const pathname = usePathname();
  const queryClient = useQueryClient();
  const { can, why } = useWorkspaceRole();
  const canEdit = can("manageSchedules");
  const refusal = why("manageSchedules");
  const reports = useQuery(trpc.reports.list.queryOptions(undefined, { refetchInterval: REFRESH_MS }));
  const [selected, setSelected] = useState<string | null>(initialReport);
  const [creating, setCreating] = useState(false);
  const [warnings, setWarnings] = useState<string[]>([]);

  const open = (id: string | null) => {
    setSelected(id);
    router.replace(id ? `${pathname}?report=${encodeURIComponent(id)}` : pathname, { scroll: false });
  };
  const refresh = () => queryClient.invalidateQueries(trpc.reports.pathFilter());
  const current = reports.data?.find((r) => r.id === selected) ?? null;

  return (
    <main className="page">
      <div className="page-header">
        <div>
          <h1 className="page-title">Reports</h1>
          <p className="page-subtitle">
            Saved queries on a schedule: each fire writes a CSV or Parquet file to the workspace's files and/or posts to
            a webhook; with a condition, a report is a query alert in the alert inbox.
          </p>
        </div>
        <div className="page-header-actions">
          <button
            type="button"
            className="button button-primary"
            disabled={!canEdit}
            title={refusal}
            onClick={() => setCreating(true)}
          >
            New report
          </button>
        </div>
      </div>
      {warnings.map((w) => (
        <p key={w} className="field-hint" role="status">
          {w}
        </p>
      ))}
      {reports.isError ? (
        <p className="form-error" role="alert">
          {errorMessage(reports.error)}
        </p>
      ) : null}
      {reports.data && reports.data.length === 0 ? (
        <div className="empty-state">
          <h2>No reports yet</h2>
          <p>Save a query on the Query page, then schedule it here.</p>
        </div>
      ) : null}
      {reports.data && reports.data.length > 0 ? (
        <div className="table-card">
          <table className="table" aria-label="Reports">
            <thead>
              <tr>
                <th scope="col">Report</th>
                <th scope="col">Query</th>
                <th scope="col">Schedule</th>
                <th scope="col">Next</th>
                <th scope="col">Last delivery</th>
              </tr>
            </thead>
            <tbody>
              {reports.data.map((r) => (
                <tr key={r.id} data-testid={`report-${r.id}`} aria-selected={r.id === selected}>
                  <td>
                    <button type="button" className="table-link link-button" onClick={() => open(r.id)}>
                      {r.name}
                    </button>
                    {r.condition ? (
                      <span className={r.conditionMet ? "status status-failed" : "muted"}>
                        {" "}
                        {r.conditionMet ? "firing" : "alert"}
                      </span>
                    ) : null}
                  </td>
                  <td>{r.savedQueryName}</td>
                  <td>
                    {cronWords(r.pattern)} <span className="muted">({r.timeZone})</span>
                  </td>
                  <td>
                    {r.enabled && r.nextFireAt ? (
                      <time title={formatIso(r.nextFireAt)}>{formatInZone(r.nextFireAt, r.timeZone)}</time>
                    ) : (
                      <span className="muted">paused</span>
                    )}
                  </td>
                  <td>
                    <Outcome delivery={r.lastDeliveries[0]} />
                    {r.lastDeliveries[0] ? (
                      <span className="muted"> {formatRelative(new Date(r.lastDeliveries[0].startedAt))}</span>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {selected && reports.data && !current ? (
        <p className="form-error" role="alert">
          There is no such report in this workspace (any more).
        </p>
      ) : null}
      {current ? (
        <ReportDetail
          key={current.id}
          report={current}
          canEdit={canEdit}
          refusal={refusal}
          onChanged={refresh}
          onDeleted={async () => {
            open(null);
            await refresh();
          }}
        />
      ) : null}
      <Dialog open={creating} onClose={() => setCreating(false)} title="New report" size="wide">
        {creating ? (
          <ReportForm
            report={null}
            canEdit={canEdit}
            refusal={refusal}
            onCancel={() => setCreating(false)}
            onSaved={async (saved, w) => {
              setCreating(false);
              setWarnings(w);
              await refresh();
              open(saved.id);
            }}
          />
        ) : null}
      </Dialog>
    </main>
  );
}

function ReportDetail({
  report,
  canEdit,
  refusal,
  onChanged,
  onDeleted,
}: {
  report: ReportItem;
  canEdit: boolean;
  refusal: string | undefined;
  onChanged: () => Promise<unknown>;
  onDeleted: () => Promise<unknown>;
}) {
  const trpc = useTRPC();
  const runNow = useMutation(trpc.reports.runNow.mutationOptions());
  const enable = useMutation(trpc.reports.enable.mutationOptions());
  const remove = useMutation(trpc.reports.delete.mutationOptions());
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const history = useInfiniteQuery(
    trpc.reports.deliveries.infiniteQueryOptions(
      { reportId: report.id, limit: HISTORY_PAGE },
      { getNextPageParam: (page) => page.nextCursor ?? undefined, refetchInterval: REFRESH_MS },
    ),
  );
  const deliveries = history.data?.pages.flatMap((p) => p.deliveries) ?? [];
  const act = async (run: () => Promise<unknown>) => {
    setActionError(null);
    try {
      await run();
      await onChanged();
    } catch (err) {
      setActionError(errorMessage(err));
    }
  };

  return (
    <section className="settings-section report-detail" aria-label={`Report ${report.name}`}>
      <div className="report-detail-header">
        <div>
          <h2 className="section-title">{report.name}</h2>
          <p className="muted">
            Runs <strong>{report.savedQueryName}</strong> {cronWords(report.pattern)} ({report.timeZone}) as{" "}
            {report.createdBy}
            {report.range ? `, over the last ${report.range}` : ""}.{" "}
            {report.filePath ? (
              <>
                Writes <code>{report.filePath}</code> ({report.format === "PARQUET" ? "Parquet" : "CSV"}).{" "}
              </>
            ) : null}
            {report.webhookConnection ? <>Posts to {report.webhookConnection}. </> : null}
            {report.condition ? (
              <>
                Alerts ({report.severity}) when{" "}
                {report.condition.kind === "rows" ? "the row count" : `${report.condition.column} of the first row`}{" "}
                {report.condition.op} {report.condition.value}
                {report.conditionMet === null ? "." : report.conditionMet ? ": firing now." : ": not firing."}
              </>
            ) : null}
          </p>
        </div>
        <div className="report-actions">
          <button
            type="button"
            className="button button-primary"
            disabled={!canEdit || runNow.isPending}
            title={refusal}
            onClick={() =>
              void act(async () => {
                await runNow.mutateAsync({ id: report.id });
                await history.refetch();
              })
            }
          >
            {runNow.isPending ? "Running…" : "Run now"}
          </button>
          <button type="button" className="button" disabled={!canEdit} title={refusal} onClick={() => setEditing(true)}>
            Edit
          </button>
          <button
            type="button"
            className="button"
            disabled={!canEdit || enable.isPending}
            title={refusal}
            onClick={() => void act(() => enable.mutateAsync({ id: report.id, enabled: !report.enabled }))}
          >
            {report.enabled ? "Pause" : "Resume"}
          </button>
          <button
            type="button"
            className="button button-danger"
            disabled={!canEdit || remove.isPending}
            title={refusal}
            onClick={() => setDeleting(true)}
          >
            Delete…
          </button>
        </div>
      </div>
      {actionError ? (
        <p className="form-error" role="alert">
          {actionError}
        </p>
      ) : null}
      <h3 className="section-title">Deliveries</h3>
      {history.isError ? (
        <p className="form-error" role="alert">
          {errorMessage(history.error)}
        </p>
      ) : null}
      {history.data && deliveries.length === 0 ? <p className="muted">No deliveries yet.</p> : null}
      {deliveries.length > 0 ? (
        <div className="table-card">
          <table className="table" aria-label="Deliveries">
            <thead>
              <tr>
                <th scope="col">Started</th>
                <th scope="col">Trigger</th>
                <th scope="col">Outcome</th>
                <th scope="col">Rows</th>
                <th scope="col">File</th>
                <th scope="col">Webhook</th>
                <th scope="col">Condition</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {deliveries.map((d) => (
                <tr key={d.id} data-testid="delivery">
                  <td>
                    <time title={formatIso(new Date(d.startedAt))}>{formatInZone(d.startedAt, report.timeZone)}</time>
                  </td>
                  <td>{d.trigger}</td>
                  <td>
                    <Outcome delivery={d} />
                  </td>
                  <td>{d.rows === null ? "—" : formatCompact(d.rows)}</td>
                  <td>
                    {d.file ? (
                      <>
                        <Link href={fileHref(d.file)} className="table-link mono">
                          {d.file}
                        </Link>{" "}
                        <span className="muted">{formatBytes(d.bytes)}</span>
                      </>
                    ) : (
                      "—"
                    )}
                  </td>
                  <td>{d.webhookStatus ?? "—"}</td>
                  <td>{d.conditionMet === null ? "—" : d.conditionMet ? "true" : "false"}</td>
                  <td className="report-error">{d.error ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {history.hasNextPage ? (
        <button
          type="button"
          className="button button-small"
          disabled={history.isFetchingNextPage}
          onClick={() => void history.fetchNextPage()}
        >
          Older deliveries
        </button>
      ) : null}
      <Dialog open={editing} onClose={() => setEditing(false)} title={`Change ${report.name}`} size="wide">
        {editing ? (
          <ReportForm
            report={report}
            canEdit={canEdit}
            refusal={refusal}
            onCancel={() => setEditing(false)}
            onSaved={async () => {
              setEditing(false);
              await onChanged();
            }}
          />
        ) : null}
      </Dialog>
      <Dialog
        open={deleting}
        onClose={() => setDeleting(false)}
        title={`Delete the report ${report.name}?`}
        role="alertdialog"
        dismissible={!remove.isPending}
        description="It stops firing and its delivery history goes with it. Files it wrote are kept."
      >
        <div className="dialog-actions">
          <button type="button" className="button" onClick={() => setDeleting(false)}>
            Cancel
          </button>
          <button
            type="button"
            className="button button-danger"
            disabled={remove.isPending}
            onClick={() =>
              void act(async () => {
                setDeleting(false);
                await remove.mutateAsync({ id: report.id });
                await onDeleted();
              })
            }
          >
            Delete report
          </button>
        </div>
      </Dialog>
    </section>
  );
}
