"use client";

import { skipToken, useQuery } from "@tanstack/react-query";
import { errorMessage } from "@/lib/errors";
import { formatAbsolute, formatIso } from "@/lib/format";
import { useTRPC } from "@/trpc/react";
import { useEditor, useRun } from "../editor-context";
import type { EditorState } from "../store/editor-store";
import { OUT_PORT } from "../store/flow-model";
import { isActive } from "../store/run-store";

const LIMIT = 20;
const MAX_COLUMNS = 8;

function cell(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** The timestamp fields (epoch ms) of what flows into the node, joined: shown as times, not as numbers. */
function timeFieldsInto(s: EditorState, nodeId: string): string {
  const names = new Set<string>();
  for (const e of s.edges) {
    if (e.target !== nodeId) continue;
    for (const f of s.validation.schemas[e.source]?.[e.data?.fromPort ?? OUT_PORT]?.fields ?? []) {
      if (f.type.kind === "timestamp") names.add(f.name);
    }
  }
  return [...names].join("\n");
}

function TailCell({ value, time }: { value: unknown; time: boolean }) {
  if (time && typeof value === "number") {
    return (
      <td className="tail-td" title={formatIso(value)}>
        {formatAbsolute(value)}
      </td>
    );
  }
  return <td className="tail-td">{cell(value)}</td>;
}

/**
 * The records a sink kept during the current (or last) run, latest to arrive first, refreshed every second while it
 * runs. Arrival is the order shown, not the records' own times: with several partitions those interleave, so the
 * arrival time is its own column.
 */
export function RecordTail({ nodeId }: { nodeId: string }) {
  const trpc = useTRPC();
  const runId = useRun((s) => s.run?.id ?? null);
  const active = useRun((s) => isActive(s.run));
  const timeFields = new Set(useEditor((s) => timeFieldsInto(s, nodeId)).split("\n"));
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
      {rows.length > 0 ? <p className="muted tail-order">Latest to arrive first.</p> : null}
      {tail.isError ? (
        <p className="field-error">{errorMessage(tail.error)}</p>
      ) : rows.length === 0 ? (
        <p className="muted">{tail.isPending ? "Loading…" : "No records have reached this node yet."}</p>
      ) : (
        <div className="tail-scroll">
          <table className="tail-table">
            <caption className="visually-hidden">
              The {rows.length} records that reached {nodeId} last, latest to arrive first
            </caption>
            <thead>
              <tr>
                <th scope="col" className="tail-th">
                  arrived
                </th>
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
                  <td className="tail-td tail-arrived" title={formatIso(r.arrivedAt)}>
                    {formatAbsolute(r.arrivedAt)}
                  </td>
                  {objectRows ? (
                    columns.map((c) => (
                      <TailCell
                        key={c}
                        value={(r.record as Record<string, unknown> | null)?.[c]}
                        time={timeFields.has(c)}
                      />
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
