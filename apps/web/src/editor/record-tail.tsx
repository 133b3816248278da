"use client";

import { skipToken, useQuery } from "@tanstack/react-query";
import { errorMessage } from "@/lib/errors";
import { useTRPC } from "@/trpc/react";
import { useEditor } from "./editor-context";
import { isActive } from "./editor-store";

const LIMIT = 20;
const MAX_COLUMNS = 8;

function cell(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** The newest records a sink kept during the current (or last) run, refreshed every second while it runs. */
export function RecordTail({ nodeId }: { nodeId: string }) {
  const trpc = useTRPC();
  const runId = useEditor((s) => s.run?.id ?? null);
  const active = useEditor((s) => isActive(s.run));
  const tail = useQuery(
    trpc.runs.tail.queryOptions(runId ? { runId, nodeId, limit: LIMIT } : skipToken, {
      refetchInterval: active ? 1000 : false,
      staleTime: active ? 0 : 30_000,
    }),
  );
  if (!runId) return null;
  const rows = tail.data ?? [];
  const columns: string[] = [];
  for (const r of rows) {
    if (r.record && typeof r.record === "object" && !Array.isArray(r.record)) {
      for (const key of Object.keys(r.record))
        if (!columns.includes(key) && columns.length < MAX_COLUMNS) columns.push(key);
    }
  }
  const objectRows = columns.length > 0;
  return (
    <section className="inspector-section" aria-labelledby={`tail-${nodeId}`}>
      <h3 id={`tail-${nodeId}`} className="section-title">
        Recent records {active ? <span className="live-dot" title="Live" /> : null}
      </h3>
      {tail.isError ? (
        <p className="field-error">{errorMessage(tail.error)}</p>
      ) : rows.length === 0 ? (
        <p className="muted">{tail.isPending ? "Loading…" : "No records have reached this node yet."}</p>
      ) : (
        <div className="tail-scroll">
          <table className="tail-table">
            <caption className="visually-hidden">
              Newest {rows.length} records at {nodeId}, newest first
            </caption>
            <thead>
              <tr>
                {objectRows ? (
                  columns.map((c) => (
                    <th key={c} scope="col" className="tail-th">
                      {c}
                    </th>
                  ))
                ) : (
                  <th scope="col" className="tail-th">
                    record
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id}>
                  {objectRows ? (
                    columns.map((c) => (
                      <td key={c} className="tail-td">
                        {cell((r.record as Record<string, unknown> | null)?.[c])}
                      </td>
                    ))
                  ) : (
                    <td className="tail-td">{cell(r.record)}</td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
