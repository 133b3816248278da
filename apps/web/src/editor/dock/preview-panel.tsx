"use client";

import type { DataType, RecordSchema } from "@sluice/pipeline/record-schema";
import { useEffect, useRef, useState } from "react";
import type { PreviewAnswer, PreviewNodeAnswer } from "@/components/api-types";
import { createLatestRequest } from "@/editor/dock/latest-request";
import { useEditor, useEditorStore } from "@/editor/editor-context";
import { selectedNodeId } from "@/editor/store/editor-store";
import { errorMessage } from "@/lib/errors";
import { useTRPCClient } from "@/trpc/react";

// Preview mode: the draft as it is on screen runs on a sample on a worker (pipelines.preview), again as it is edited;
// the panel shows what the selected node received and emitted, as tables with the inferred schema and each record the
// node failed on.

const PREVIEW_LIMIT = 20;
const PREVIEW_TIMEOUT_MS = 5000;
const MAX_COLUMNS = 24;

/** How long semantic edits must pause before the preview runs again. */
const PREVIEW_DEBOUNCE_MS = 600;

interface PreviewState {
  result: PreviewAnswer;
  /** The draft's `revision` the preview was computed for: the draft has changed (not just moved) when it differs. */
  revision: number;
}

function typeName(type: DataType): string {
  if (type.kind === "array") return `array<${typeName(type.items)}>`;
  if (type.kind === "object") return "object";
  return type.kind;
}

function cellText(value: unknown): string {
  if (value === undefined) return "";
  if (value === null) return "null";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

/** The columns of a record table: the schema's fields first, then any other field the records carry. */
function columnsOf(records: readonly Record<string, unknown>[], schema: RecordSchema | undefined): string[] {
  const columns = schema ? schema.fields.map((f) => f.name) : [];
  const seen = new Set(columns);
  for (const r of records)
    for (const k of Object.keys(r))
      if (!seen.has(k)) {
        seen.add(k);
        columns.push(k);
      }
  return columns.slice(0, MAX_COLUMNS);
}

function RecordTable({
  label,
  records,
  schema,
}: {
  label: string;
  records: readonly Record<string, unknown>[];
  schema: RecordSchema | undefined;
}) {
  const columns = columnsOf(records, schema);
  const types = new Map(schema?.fields.map((f) => [f.name, `${typeName(f.type)}${f.nullable ? "?" : ""}`]) ?? []);
  if (records.length === 0) return <p className="muted preview-empty">No records.</p>;
  return (
    <div className="preview-table-wrap">
      <table className="preview-table" aria-label={label}>
        <thead>
          <tr>
            <th scope="col" className="preview-index">
              #
            </th>
            {columns.map((c) => (
              <th key={c} scope="col">
                <span className="preview-col-name">{c}</span>
                {types.has(c) ? <span className="preview-col-type">{types.get(c)}</span> : null}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {records.map((r, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: records have no identity of their own; the list is replaced whole
            <tr key={i}>
              <td className="preview-index">{i + 1}</td>
              {columns.map((c) => (
                <td key={c}>{cellText(r[c])}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function SchemaList({ label, schema }: { label: string; schema: RecordSchema | undefined }) {
  if (!schema) return null;
  return (
    <ul className="preview-schema" aria-label={label}>
      {schema.fields.map((f) => (
        <li key={f.name}>
          <code>{f.name}</code> <span className="muted">{`${typeName(f.type)}${f.nullable ? " (nullable)" : ""}`}</span>
        </li>
      ))}
    </ul>
  );
}

function NodePreview({ nodeId, node }: { nodeId: string; node: PreviewNodeAnswer | undefined }) {
  const schemas = useEditor((s) => s.validation.schemas);
  // What arrives on each input port is what the upstream node sends on the edge's port.
  const inputSchemas = useEditor((s) => {
    const out: Record<string, { from: string; port: string }> = {};
    for (const e of s.edges) {
      if (e.target !== nodeId) continue;
      out[e.targetHandle ?? "in"] = { from: e.source, port: e.sourceHandle ?? "out" };
    }
    return JSON.stringify(out);
  });
  const inputsFrom = JSON.parse(inputSchemas) as Record<string, { from: string; port: string }>;
  if (!node) return <p className="muted">This node did not run in the preview.</p>;
  const inputs = Object.entries(node.inputs);
  const outputs = Object.entries(node.outputs);
  return (
    <div className="preview-node">
      {node.note ? <p className="muted">{node.note}</p> : null}
      <p className="preview-counts">
        <span data-testid="preview-count-in">{node.counts.in}</span> in ·{" "}
        <span data-testid="preview-count-out">{node.counts.out}</span> out · {node.errors.length}{" "}
        {node.errors.length === 1 ? "error" : "errors"}
      </p>
      {inputs.map(([port, records]) => {
        const src = inputsFrom[port];
        const schema = src ? schemas[src.from]?.[src.port] : undefined;
        return (
          <section key={`in-${port}`} className="preview-section" aria-label={`Input ${port}`}>
            <h4 className="preview-title">Input {port !== "in" ? `(${port})` : null}</h4>
            <RecordTable label={`Input records (${port})`} records={records} schema={schema} />
          </section>
        );
      })}
      {outputs.map(([port, records]) => {
        const schema = schemas[nodeId]?.[port];
        return (
          <section key={`out-${port}`} className="preview-section" aria-label={`Output ${port}`}>
            <h4 className="preview-title">Output {port !== "out" ? `(${port})` : null}</h4>
            <SchemaList label={`Output schema (${port})`} schema={schema} />
            <RecordTable label={`Output records (${port})`} records={records} schema={schema} />
          </section>
        );
      })}
      {node.errors.length > 0 ? (
        <section className="preview-section" aria-label="Record errors">
          <h4 className="preview-title">Record errors</h4>
          <ul className="preview-errors">
            {node.errors.map((e, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: errors have no identity; the list is replaced whole
              <li key={i}>
                <span className="field-error">{e.error}</span> <code>{cellText(e.record)}</code>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </div>
  );
}

/**
 * The data preview: it runs when opened, then again once semantic edits (not moves) pause, cancelling a run still on
 * its way; a refresh button, staleness, problems, and the selected node's records.
 */
export function PreviewPanel({ onClose }: { onClose: () => void }) {
  const client = useTRPCClient();
  const store = useEditorStore();
  const nodeId = useEditor(selectedNodeId);
  const revision = useEditor((s) => s.revision);
  const [state, setState] = useState<PreviewState | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const [latest] = useState(() => {
    const send = (signal: AbortSignal) => {
      const s = store.getState();
      // The revision this request previews, fixed when it is sent: a later send must not relabel an earlier answer.
      const at = s.revision;
      const input = { definition: s.definition(), parameters: {}, limit: PREVIEW_LIMIT, timeoutMs: PREVIEW_TIMEOUT_MS };
      return client.pipelines.preview.mutate(input, { signal }).then((result) => ({ result, revision: at }));
    };
    return createLatestRequest(send, {
      result: (next) => {
        setState(next);
        setError(null);
      },
      error: (err) => setError(`Could not preview: ${errorMessage(err)}`),
      pending: setPending,
    });
  });

  // Opening runs a preview straight away; each later semantic edit once edits pause. Closing cancels.
  const opened = useRef(false);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `revision` is the trigger: every semantic edit re-runs it
  useEffect(() => {
    latest.request(opened.current ? PREVIEW_DEBOUNCE_MS : 0);
    opened.current = true;
  }, [latest, revision]);
  useEffect(() => () => latest.cancel(), [latest]);

  const stale = state !== null && state.revision !== revision;
  const result = state?.result;
  return (
    <section className="preview-panel" aria-label="Data preview">
      <header className="preview-head">
        <h3 className="preview-heading">Data preview</h3>
        {nodeId ? <span className="preview-node-id">{nodeId}</span> : null}
        <span className="preview-status" role="status" aria-live="polite">
          {pending
            ? "Running the preview…"
            : stale
              ? "The draft changed: the preview runs again once you pause."
              : result
                ? `Sample of up to ${PREVIEW_LIMIT} records${result.truncated ? " (more were available)" : ""}, in ${result.elapsedMs} ms.`
                : ""}
        </span>
        <button type="button" className="button button-small" onClick={() => latest.request(0)} disabled={pending}>
          {state ? "Refresh preview" : "Run preview"}
        </button>
        <button type="button" className="icon-button" onClick={onClose} aria-label="Close preview">
          ×
        </button>
      </header>
      <div className="preview-body">
        {error ? (
          <p className="form-error" role="alert">
            {error}
          </p>
        ) : null}
        {result && result.problems.length > 0 ? (
          <div role="alert" className="preview-problems">
            <p>The draft cannot be previewed yet:</p>
            <ul>
              {result.problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          </div>
        ) : null}
        {!result || result.problems.length > 0 ? null : nodeId ? (
          <NodePreview nodeId={nodeId} node={result.nodes[nodeId]} />
        ) : (
          <p className="muted">Select a node to see the records it receives and emits.</p>
        )}
      </div>
    </section>
  );
}
