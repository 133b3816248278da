"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { errorMessage } from "@/lib/errors";
import { formatAbsolute } from "@/lib/format";
import { useTRPC } from "@/trpc/react";

/** The workspace's latest backfills, newest first. */
export function BackfillList() {
  const trpc = useTRPC();
  const list = useQuery(trpc.backfills.list.queryOptions({ limit: 50 }));
  if (list.isPending) return <p className="muted">Loading…</p>;
  if (list.isError) {
    return (
      <p className="form-error" role="alert">
        {errorMessage(list.error)}
      </p>
    );
  }
  if (list.data.length === 0) return <p className="empty-state">No backfills yet.</p>;
  return (
    <table className="table">
      <thead>
        <tr>
          <th scope="col">Table</th>
          <th scope="col">Pipeline</th>
          <th scope="col">Generation</th>
          <th scope="col">State</th>
          <th scope="col">Started</th>
        </tr>
      </thead>
      <tbody>
        {list.data.map((b) => (
          <tr key={b.id}>
            <td className="mono">
              <Link href={`/backfills/${b.id}`}>{b.liveTable}</Link>
            </td>
            <td>
              {b.pipelineName} · <span className="mono">{b.sinkNodeId}</span>
            </td>
            <td className="cell-number">{b.generation}</td>
            <td>{b.state.toLowerCase()}</td>
            <td>{formatAbsolute(new Date(b.createdAt))}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
