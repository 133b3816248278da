"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import type { RouterOutputs } from "@/components/api-types";
import { errorMessage } from "@/lib/errors";
import { formatAbsolute, formatIso } from "@/lib/format";
import { formatCount, formatDuration } from "@/runs/run-format";
import { useTRPC } from "@/trpc/react";

type Fleet = RouterOutputs["fleet"]["list"];
type Worker = Fleet["workers"][number];

/** How often the page reads the fleet again: heartbeats come once a second, a worker is dead after five. */
const REFRESH_MS = 2000;

const QUEUE_LABELS: Record<string, string> = {
  "run.control": "Run control",
  "pipeline.task": "Task partitions",
  "run.preview": "Previews",
};

function formatBytes(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KiB`;
  if (bytes < 1024 ** 3) return `${Math.round(bytes / 1024 / 1024)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

function WorkerState({ worker }: { worker: Worker }) {
  if (worker.alive) return <span className="status status-running">Alive</span>;
  const ago = `${formatDuration(worker.heartbeatAgeMs)} ago`;
  return (
    <>
      <span className={`status ${worker.stoppedAt === null ? "status-failed" : "status-stopped"}`}>
        {worker.stoppedAt === null ? "Dead" : "Stopped"}
      </span>
      <div className="table-sub" title={formatIso(worker.seenAt)}>
        {worker.stoppedAt === null ? `last heartbeat ${ago}` : `stopped ${ago}`}
      </div>
    </>
  );
}

function Partitions({ worker }: { worker: Worker }) {
  if (!worker.alive) return <span className="muted">none (it is not running)</span>;
  if (worker.partitions.length === 0 && worker.otherPartitions === 0) return <span className="muted">none</span>;
  return (
    <>
      {worker.partitions.map((p) => (
        <div key={`${p.runId}-${p.stage}-${p.partition}`}>
          <Link href={`/runs/${p.runId}`} className="table-link mono">
            {p.runId.slice(-8)}
          </Link>{" "}
          <span className="muted">
            stage {p.stage}, partition {p.partition}
          </span>
        </div>
      ))}
      {worker.otherPartitions > 0 ? (
        <div className="table-sub">
          {worker.otherPartitions} of other workspaces’ run{worker.otherPartitions === 1 ? "" : "s"}
        </div>
      ) : null}
    </>
  );
}

function QueueTable({ queues }: { queues: Fleet["queues"] }) {
  return (
    <div className="table-card">
      <table className="table" aria-label="Queues">
        <thead>
          <tr>
            <th scope="col">Queue</th>
            <th scope="col">Waiting</th>
            <th scope="col">Active</th>
            <th scope="col">Delayed</th>
            <th scope="col">Failed</th>
          </tr>
        </thead>
        <tbody>
          {queues.map((q) => (
            <tr key={q.queue}>
              <td>
                {QUEUE_LABELS[q.queue] ?? q.queue} <span className="muted mono">{q.queue}</span>
              </td>
              <td>{formatCount(q.waiting)}</td>
              <td>{formatCount(q.active)}</td>
              <td>{formatCount(q.delayed)}</td>
              <td>{formatCount(q.failed)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function WorkerTable({ workers }: { workers: Worker[] }) {
  return (
    <div className="table-card">
      <table className="table" aria-label="Workers">
        <thead>
          <tr>
            <th scope="col">Worker</th>
            <th scope="col">State</th>
            <th scope="col">Version</th>
            <th scope="col">Started</th>
            <th scope="col">Heartbeat</th>
            <th scope="col">Slots</th>
            <th scope="col">Partitions held</th>
            <th scope="col">CPU</th>
            <th scope="col">Memory</th>
          </tr>
        </thead>
        <tbody>
          {workers.map((w) => (
            <tr key={w.id} className={w.alive ? undefined : "muted"} data-worker={w.id}>
              <td>
                <span className="mono">{w.id}</span>
                <div className="table-sub">
                  {w.host ?? "host unknown"}
                  {w.pid !== null ? `, pid ${w.pid}` : ""}
                </div>
              </td>
              <td>
                <WorkerState worker={w} />
              </td>
              <td>
                {w.version ?? "—"}
                {w.node ? <div className="table-sub">Node {w.node}</div> : null}
              </td>
              <td title={w.startedAt !== null ? formatIso(w.startedAt) : undefined}>
                {w.startedAt !== null ? formatAbsolute(w.startedAt) : "—"}
              </td>
              <td>{formatDuration(w.heartbeatAgeMs)} ago</td>
              <td>{w.slots ?? "—"}</td>
              <td>
                <Partitions worker={w} />
              </td>
              <td>{w.cpuCores !== null ? `${w.cpuCores.toFixed(2)} cores` : "—"}</td>
              <td>
                {w.rssBytes !== null ? formatBytes(w.rssBytes) : "—"}
                {w.heapUsedBytes !== null ? <div className="table-sub">heap {formatBytes(w.heapUsedBytes)}</div> : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The workers heard from in the last hour, live ones first, and the depths of the queues they serve. */
export function FleetView() {
  const trpc = useTRPC();
  const fleet = useQuery(trpc.fleet.list.queryOptions(undefined, { refetchInterval: REFRESH_MS }));
  const alive = fleet.data?.workers.filter((w) => w.alive).length ?? 0;
  return (
    <main className="page">
      <div className="page-header">
        <div>
          <h1 className="page-title">Fleet</h1>
          <p className="page-subtitle">
            The workers that run every workspace’s pipelines on this installation, and the queues they take work from.
            Refreshed every {REFRESH_MS / 1000} seconds.
          </p>
        </div>
      </div>
      {fleet.isPending ? (
        <p className="muted" aria-live="polite">
          Loading the fleet…
        </p>
      ) : fleet.isError ? (
        <p className="form-error" role="alert">
          {errorMessage(fleet.error)}
        </p>
      ) : (
        <>
          <h2 className="section-title">Queues</h2>
          <QueueTable queues={fleet.data.queues} />
          <h2 className="section-title">
            Workers{" "}
            <span className="muted" aria-live="polite">
              {alive} alive of {fleet.data.workers.length}
            </span>
          </h2>
          {fleet.data.workers.length === 0 ? (
            <div className="empty-state">
              <h2>No worker has reported in the last hour</h2>
              <p>
                Runs wait in the queues until a worker takes them. Start one with <code>npm start</code> (it starts a
                worker beside the web app), or another one with <code>npm start -w @sluice/worker</code> or{" "}
                <code>sluice worker</code> pointed at the same Redis.
              </p>
            </div>
          ) : (
            <WorkerTable workers={fleet.data.workers} />
          )}
        </>
      )}
    </main>
  );
}
