"use client";

import type { PipelineDefinition } from "@sluice/pipeline/definition";
import type { NodeCatalog } from "@sluice/pipeline/node-definition";
import type { RecordSchema } from "@sluice/pipeline/record-schema";
import { mergeSchemas } from "@sluice/pipeline/schema-merge";
import type { Validator } from "@sluice/pipeline/validate";
import { type KeyboardEvent, useId, useMemo, useState } from "react";
import type { PreviewNodeAnswer as PreviewNode, PreviewAnswer as PreviewResult } from "@/components/api-types";
import { useCatalog, useEditor, useEditorStore, useRuntime } from "@/editor/editor-context";
import { selectedNodeId } from "@/editor/editor-store";
import { RecordTable } from "./record-table";
import type { PreviewState } from "./use-preview";

// The data preview: the draft as it is on screen runs on a sample on a worker (the first N records of each source
// through every node, in memory), and this panel shows what the selected node received and emitted, with the
// schema the editor inferred. Sinks are never written: the worker does not run a sink's writes in a preview.

// As in the definition module, which is not imported here: it would pull zod into the editor's first-load bundle.
const DEFAULT_OUT_PORT = "out";
const DEFAULT_IN_PORT = "in";

export const SAMPLE_SIZES = [20, 50, 100, 500] as const;

interface Schemas {
  inputs: Record<string, RecordSchema>;
  outputs: Record<string, RecordSchema>;
}

/** Per node: the schema arriving on each input port and leaving each output port, as validation infers them. */
function schemasOf(definition: PipelineDefinition, validator: Validator): Record<string, Schemas> {
  const { schemas } = validator(definition);
  const result: Record<string, Schemas> = {};
  const incoming: Record<string, Record<string, RecordSchema[]>> = {};
  for (const e of definition.spec.edges) {
    const s = schemas[e.from]?.[e.fromPort ?? DEFAULT_OUT_PORT];
    if (!s) continue;
    const port = e.toPort ?? DEFAULT_IN_PORT;
    const byPort = incoming[e.to] ?? {};
    byPort[port] = [...(byPort[port] ?? []), s];
    incoming[e.to] = byPort;
  }
  for (const node of definition.spec.nodes) {
    const inputs: Record<string, RecordSchema> = {};
    for (const [port, list] of Object.entries(incoming[node.id] ?? {})) inputs[port] = mergeSchemas(list);
    result[node.id] = { inputs, outputs: schemas[node.id] ?? {} };
  }
  return result;
}

export function PreviewPanel({
  enabled,
  onToggle,
  limit,
  onLimit,
  preview,
}: {
  enabled: boolean;
  onToggle: (on: boolean) => void;
  limit: number;
  onLimit: (limit: number) => void;
  preview: PreviewState;
}) {
  const catalog = useCatalog();
  const runtime = useRuntime();
  const nodeId = useEditor(selectedNodeId);
  const sizeId = useId();
  // Its own validator: the schemas must be those of the draft the preview ran, which may be a few edits behind.
  const validator = useMemo(() => runtime.createValidator(catalog, 2000), [runtime, catalog]);
  const definition = preview.result?.definition;
  const schemas = useMemo(() => (definition ? schemasOf(definition, validator) : {}), [definition, validator]);
  const data = preview.result?.data;

  return (
    <div className="panel-body preview-panel">
      <div className="panel-toolbar">
        <button
          type="button"
          className={enabled ? "button button-small toggle is-on" : "button button-small toggle"}
          aria-pressed={enabled}
          onClick={() => onToggle(!enabled)}
        >
          <span className="toggle-dot" aria-hidden="true" />
          Preview mode
        </button>
        <label htmlFor={sizeId} className="panel-label">
          Sample
        </label>
        <select
          id={sizeId}
          className="input input-small input-narrow"
          value={limit}
          onChange={(e) => onLimit(Number(e.target.value))}
        >
          {SAMPLE_SIZES.map((n) => (
            <option key={n} value={n}>
              {n} records
            </option>
          ))}
        </select>
        <button
          type="button"
          className="button button-small button-ghost"
          onClick={preview.refresh}
          disabled={!enabled || preview.running}
        >
          Refresh
        </button>
        <span className="panel-status" aria-live="polite" data-testid="preview-status">
          {!enabled
            ? null
            : preview.running
              ? "Running the draft on a sample…"
              : data
                ? `Computed in ${data.elapsedMs} ms${data.truncated ? " · sources had more records than the sample" : ""}`
                : null}
        </span>
        <span className="panel-note">Sinks are never written in a preview.</span>
      </div>

      {!enabled ? (
        <div className="panel-empty">
          <p>
            <strong>Preview mode</strong> runs the draft as it is on screen — saved or not — on a sample: the first{" "}
            {limit} records of each source go through every node on a worker, in memory. It shows what the selected node
            receives and emits, and refreshes as you edit.
          </p>
          <p className="muted">
            Nothing is written: sinks, connections and runs are left untouched, so it is safe on production systems.
          </p>
          <button type="button" className="button button-primary button-small" onClick={() => onToggle(true)}>
            Turn on preview
          </button>
        </div>
      ) : preview.error ? (
        <p className="form-error panel-message" role="alert">
          {/* The server's sentences name the preview themselves ("the preview took longer than 20 s…"). */}
          {preview.error.charAt(0).toUpperCase() + preview.error.slice(1)}
        </p>
      ) : !data ? (
        <p className="muted panel-message">Running the draft on a sample…</p>
      ) : data.problems.length > 0 ? (
        <Problems problems={data.problems} />
      ) : (
        <div className={preview.running ? "preview-content is-stale" : "preview-content"}>
          {nodeId ? (
            data.nodes[nodeId] ? (
              <NodePreview
                key={nodeId}
                nodeId={nodeId}
                node={data.nodes[nodeId]}
                schemas={schemas[nodeId]}
                catalog={catalog}
                type={definition?.spec.nodes.find((n) => n.id === nodeId)?.type}
              />
            ) : (
              <p className="muted panel-message">
                {nodeId} is not in this preview yet{preview.running ? "; it is being computed" : ""}.
              </p>
            )
          ) : (
            <NodeOverview data={data} definition={definition} catalog={catalog} />
          )}
        </div>
      )}
    </div>
  );
}

function Problems({ problems }: { problems: readonly string[] }) {
  const store = useEditorStore();
  const ids = useEditor((s) => s.nodes.map((n) => n.id).join("\n"));
  const known = new Set(ids.split("\n"));
  return (
    <div className="panel-message" role="alert">
      <p className="preview-problems-title">The draft cannot be previewed until these are fixed:</p>
      <ul className="preview-problems">
        {problems.map((p) => {
          const cut = p.indexOf(": ");
          const nodeId = cut > 0 ? p.slice(0, cut) : "";
          return (
            <li key={p}>
              {known.has(nodeId) ? (
                <button
                  type="button"
                  className="link-button"
                  onClick={() => store.getState().selectNode(nodeId, { focus: true })}
                >
                  {nodeId}
                </button>
              ) : null}
              {known.has(nodeId) ? `: ${p.slice(cut + 2)}` : p}
            </li>
          );
        })}
      </ul>
    </div>
  );
}

function NodeOverview({
  data,
  definition,
  catalog,
}: {
  data: PreviewResult;
  definition: PipelineDefinition | undefined;
  catalog: NodeCatalog;
}) {
  const store = useEditorStore();
  const nodes = definition?.spec.nodes ?? [];
  return (
    <div className="record-scroll">
      <p className="muted panel-hint">Select a node on the canvas (or below) to see its records.</p>
      <table className="record-table overview-table">
        <caption className="visually-hidden">Records per node in the preview</caption>
        <thead>
          <tr>
            <th scope="col">Node</th>
            <th scope="col">Type</th>
            <th scope="col">In</th>
            <th scope="col">Out</th>
            <th scope="col">Errors</th>
            <th scope="col">Note</th>
          </tr>
        </thead>
        <tbody>
          {nodes.map((n) => {
            const p = data.nodes[n.id];
            return (
              <tr key={n.id}>
                <td>
                  <button
                    type="button"
                    className="link-button"
                    onClick={() => store.getState().selectNode(n.id, { focus: true })}
                  >
                    {n.id}
                  </button>
                </td>
                <td className="muted">{catalog.get(n.type)?.title ?? n.type}</td>
                <td className="cell-number">{p?.counts.in ?? "—"}</td>
                <td className="cell-number">{p?.counts.out ?? "—"}</td>
                <td className={p && p.errors.length > 0 ? "cell-number cell-bad" : "cell-number"}>
                  {p?.errors.length ?? "—"}
                </td>
                <td className="muted">{p?.note ?? ""}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

interface Tab {
  id: string;
  label: string;
  kind: "input" | "output" | "errors";
  port: string;
  count: number;
}

function portLabel(kind: "Input" | "Output", port: string, only: boolean): string {
  return only && (port === DEFAULT_IN_PORT || port === DEFAULT_OUT_PORT) ? kind : `${kind}: ${port}`;
}

function NodePreview({
  nodeId,
  node,
  schemas,
  catalog,
  type,
}: {
  nodeId: string;
  node: PreviewNode;
  schemas: Schemas | undefined;
  catalog: NodeCatalog;
  type: string | undefined;
}) {
  const def = type ? catalog.get(type) : undefined;
  const baseId = useId();
  const tabs = useMemo(() => {
    const inPorts = [...new Set([...(def?.inputs ?? []).map((p) => p.name), ...Object.keys(node.inputs)])];
    const outPorts = [...new Set([...(def?.outputs ?? []).map((p) => p.name), ...Object.keys(node.outputs)])];
    const list: Tab[] = [
      ...inPorts.map((port) => ({
        id: `in-${port}`,
        label: portLabel("Input", port, inPorts.length === 1),
        kind: "input" as const,
        port,
        count: node.inputs[port]?.length ?? 0,
      })),
      ...outPorts.map((port) => ({
        id: `out-${port}`,
        label: portLabel("Output", port, outPorts.length === 1),
        kind: "output" as const,
        port,
        count: node.outputs[port]?.length ?? 0,
      })),
    ];
    if (node.errors.length > 0)
      list.push({ id: "errors", label: "Errors", kind: "errors", port: "", count: node.errors.length });
    return list;
  }, [def, node]);
  const initial = tabs.find((t) => t.kind === "output" && t.count > 0) ?? tabs.find((t) => t.count > 0) ?? tabs[0];
  const [chosen, setChosen] = useState<string | undefined>(undefined);
  const active = tabs.find((t) => t.id === chosen) ?? initial;

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const i = tabs.findIndex((t) => t.id === active?.id);
    let next = -1;
    if (event.key === "ArrowRight") next = (i + 1) % tabs.length;
    else if (event.key === "ArrowLeft") next = (i - 1 + tabs.length) % tabs.length;
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = tabs.length - 1;
    if (next < 0) return;
    event.preventDefault();
    const tab = tabs[next];
    if (!tab) return;
    setChosen(tab.id);
    document.getElementById(`${baseId}-tab-${tab.id}`)?.focus();
  };

  return (
    <div className="node-preview" data-testid={`preview-${nodeId}`}>
      <div className="node-preview-head">
        <h3 className="node-preview-title">
          {nodeId} <span className="muted">{def?.title ?? type}</span>
        </h3>
        <span className="node-preview-counts">
          {node.counts.in} in · {node.counts.out} out
          {node.errors.length > 0 ? (
            <span className="count-bad">
              {" "}
              · {node.errors.length} error{node.errors.length === 1 ? "" : "s"}
            </span>
          ) : null}
        </span>
        {def?.kind === "sink" ? <span className="sink-note">Not written: preview only</span> : null}
      </div>
      {node.note ? <p className="preview-note">{node.note}</p> : null}
      {tabs.length > 0 ? (
        <div className="tabs" role="tablist" aria-label={`Records at ${nodeId}`} onKeyDown={onKeyDown} tabIndex={-1}>
          {tabs.map((t) => (
            <button
              key={t.id}
              id={`${baseId}-tab-${t.id}`}
              type="button"
              role="tab"
              aria-selected={t.id === active?.id}
              aria-controls={`${baseId}-panel`}
              tabIndex={t.id === active?.id ? 0 : -1}
              className={t.kind === "errors" ? "tab tab-errors" : "tab"}
              onClick={() => setChosen(t.id)}
            >
              {t.label} <span className="tab-count">{t.count}</span>
            </button>
          ))}
        </div>
      ) : null}
      {active ? (
        <div
          id={`${baseId}-panel`}
          role="tabpanel"
          aria-labelledby={`${baseId}-tab-${active.id}`}
          className="tab-panel"
        >
          {active.kind === "errors" ? (
            <ErrorList errors={node.errors} />
          ) : (
            <PortRecords
              records={(active.kind === "input" ? node.inputs : node.outputs)[active.port] ?? []}
              schema={(active.kind === "input" ? schemas?.inputs : schemas?.outputs)?.[active.port]}
              caption={`${active.label} records of ${nodeId}`}
              empty={
                active.kind === "input"
                  ? def?.kind === "source"
                    ? "A source has no input."
                    : "No records reached this input in the sample."
                  : def?.kind === "sink"
                    ? "A sink emits nothing; its input is what it would write."
                    : "No records left on this output in the sample."
              }
            />
          )}
        </div>
      ) : null}
    </div>
  );
}

function PortRecords({
  records,
  schema,
  caption,
  empty,
}: {
  records: readonly Record<string, unknown>[];
  schema: RecordSchema | undefined;
  caption: string;
  empty: string;
}) {
  if (records.length === 0) return <p className="muted panel-message">{empty}</p>;
  return <RecordTable records={records} schema={schema} caption={caption} />;
}

function ErrorList({ errors }: { errors: PreviewNode["errors"] }) {
  return (
    <ol className="preview-errors">
      {errors.map((e, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: the same error can repeat for different records
        <li key={i} className="preview-error">
          <p className="preview-error-text">
            {e.port ? <span className="mono">{e.port}: </span> : null}
            {e.error}
          </p>
          <pre className="record-json">{JSON.stringify(e.record, null, 2)}</pre>
        </li>
      ))}
    </ol>
  );
}
