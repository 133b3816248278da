"use client";

import type { NodeFigureView } from "@sluice/pipeline/control/node-figures";
import type { NodeCounters } from "@sluice/pipeline/control/protocol";
import type { PortSpec } from "@sluice/pipeline/node-definition";
import { type NodeProps, Position, useUpdateNodeInternals } from "@xyflow/react";
import { memo, useEffect, useMemo, useRef } from "react";
import { formatAbsolute, formatCompact, formatLag, formatLatency, formatOffsetLag, formatRate } from "@/lib/format";
import { formatCount } from "@/runs/run-format";
import { useCatalog, useEditor, useRun } from "../editor-context";
import { nodeView, type PipelineFlowNode } from "../store/flow-model";
import { isActive } from "../store/run-store";
import { offsetLagGrowing } from "./live-overlay";
import { NodeIcon } from "./node-icon";
import { NoteNode } from "./note-node";
import { PortHandle } from "./port-handle";

// The one node component for every node type: everything it shows comes from the type's declaration, the node's
// config, the validation result, the run snapshot and the run's live figures (see live-overlay.ts). Defined at
// module level and memoised (React Flow re-renders nodes often); each piece of store state it needs is its own
// narrow subscription.

const ZERO: NodeCounters = { in: 0, out: 0, errors: 0 };
const NO_PORTS: readonly string[] = [];

interface ShownPort {
  name: string;
  title: string;
  doc?: string;
  /** Has an edge but the node (as configured) has no such port any more. */
  unknown: boolean;
}

/** The declared ports, then any port an edge still uses that is no longer declared (so the edge stays visible). */
function shownPorts(declared: readonly PortSpec[], used: readonly string[]): ShownPort[] {
  const list: ShownPort[] = declared.map((p) => ({
    name: p.name,
    title: p.title ?? p.name,
    ...(p.doc ? { doc: p.doc } : {}),
    unknown: false,
  }));
  for (const name of used) if (!declared.some((p) => p.name === name)) list.push({ name, title: name, unknown: true });
  return list;
}

function portOffset(index: number, count: number): string {
  return `${((index + 1) / (count + 1)) * 100}%`;
}

function Ports({ ports, type, nodeId }: { ports: readonly ShownPort[]; type: "source" | "target"; nodeId: string }) {
  const side = type === "target" ? "input" : "output";
  return ports.map((port, i) => (
    <PortHandle
      key={port.name}
      id={port.name}
      type={type}
      position={type === "target" ? Position.Left : Position.Right}
      style={{ top: portOffset(i, ports.length) }}
      className={`node-handle${port.unknown ? " is-unknown" : ""}`}
      title={
        port.unknown
          ? `“${port.name}” is no longer an ${side} of this node: remove its edge`
          : `${type === "target" ? "Input" : "Output"} “${port.title}”${port.doc ? `: ${port.doc}` : ""}`
      }
      aria-label={`${nodeId} ${side} ${port.name}`}
    >
      {ports.length > 1 || port.unknown ? <span className={`port-label port-label-${type}`}>{port.title}</span> : null}
    </PortHandle>
  ));
}

/** React Flow measures handles when a node resizes; ports that come and go with the config need telling it. */
function usePortChanges(id: string, inputs: readonly ShownPort[], outputs: readonly ShownPort[]): void {
  const update = useUpdateNodeInternals();
  const key = `${inputs.map((p) => p.name).join(",")}|${outputs.map((p) => p.name).join(",")}`;
  const first = useRef(key);
  useEffect(() => {
    if (key === first.current) return; // the first render is measured anyway
    first.current = "";
    update(id);
  }, [key, id, update]);
}

function Counter({
  nodeId,
  which,
  label,
  value,
  perSec,
}: {
  nodeId: string;
  which: string;
  label: string;
  value: number;
  /** Records a second while a run goes; undefined to show none. */
  perSec?: number | undefined;
}) {
  return (
    <div className={`node-counter node-counter-${which}`}>
      <dt>{label}</dt>
      <dd data-testid={`count-${nodeId}-${which}`} title={value.toLocaleString("en-US")}>
        {value}
      </dd>
      {perSec !== undefined ? (
        <dd
          className="node-rate"
          data-testid={`rate-${nodeId}-${which}`}
          title={`${perSec.toLocaleString("en-US", { maximumFractionDigits: 1 })} ${label} a second`}
        >
          {formatRate(perSec)}
        </dd>
      ) : null}
    </div>
  );
}

/** The live line under the counters: batch latency, watermark lag, state size; only what the node reports. */
function LiveDetails({ nodeId, figure, growing }: { nodeId: string; figure: NodeFigureView; growing: boolean }) {
  const parts: { key: string; text: string; title: string; className?: string }[] = [];
  if (figure.p50Ms !== null && figure.p99Ms !== null) {
    parts.push({
      key: "latency",
      text: `p50 ${formatLatency(figure.p50Ms)} · p99 ${formatLatency(figure.p99Ms)}`,
      title: `Batch latency: half took at most ${figure.p50Ms.toFixed(2)} ms, 99 % at most ${figure.p99Ms.toFixed(2)} ms`,
    });
  }
  if (figure.watermarkLagMs !== null && figure.watermark !== null) {
    parts.push({
      key: "watermark",
      text: `${formatLag(figure.watermarkLagMs)} lag`,
      title: `Watermark ${formatAbsolute(figure.watermark)}, ${formatCount(Math.round(figure.watermarkLagMs))} ms behind now`,
    });
  }
  if (figure.stateKeys !== null) {
    parts.push({
      key: "state",
      text: `${formatCompact(figure.stateKeys)} keys`,
      title: `${formatCount(figure.stateKeys)} keys in ${nodeId}'s state`,
    });
  }
  if (figure.inputLag !== null && figure.inputLag > 0) {
    parts.push({
      key: "input",
      text: `${formatCompact(figure.inputLag)} behind`,
      title: `Input ${formatCount(figure.inputLag)} behind (records or the source's own unit)`,
    });
  }
  if (figure.offsetLag !== null && figure.offsetLagUnit !== null) {
    parts.push({
      key: "offset",
      text: `${formatOffsetLag(figure.offsetLag, figure.offsetLagUnit)} behind`,
      title: `Offset lag: ${formatCount(figure.offsetLag)} ${figure.offsetLagUnit} in the source's system not yet committed by the run${growing ? ", growing for 5 seconds" : ""}`,
      ...(growing ? { className: "is-growing" } : {}),
    });
  }
  if (parts.length === 0) return null;
  return (
    <div className="pnode-live" data-testid={`live-${nodeId}`}>
      {parts.map((p) => (
        <span key={p.key} title={p.title} className={p.className} data-testid={`live-${nodeId}-${p.key}`}>
          {p.text}
        </span>
      ))}
    </div>
  );
}

const CONDITION_TITLES = {
  stalled: "No records in or out for 10 seconds while upstream has records for it",
  lagging:
    "Its watermark is more than the pipeline's out-of-orderness plus 30 seconds behind now, or its input or offset lag keeps growing",
  failing: "Records failed here in the last few seconds: see the dead letters",
} as const;

function PipelineNodeView({ id, data, selected }: NodeProps<PipelineFlowNode>) {
  const catalog = useCatalog();
  const def = catalog.get(data.type);
  const view = useMemo(() => (def ? nodeView(def, data.config) : null), [def, data.config]);
  const used = useEditor((s) => s.portUse[id]);
  const inputs = useMemo(() => shownPorts(view?.inputs ?? [], used?.inputs ?? NO_PORTS), [view, used]);
  const outputs = useMemo(() => shownPorts(view?.outputs ?? [], used?.outputs ?? NO_PORTS), [view, used]);
  usePortChanges(id, inputs, outputs);
  const issues = useEditor((s) => s.validation.byNode[id]);
  const counters = useRun((s) => (s.run ? (s.run.counters[id] ?? ZERO) : null));
  const running = useRun((s) => isActive(s.run));
  const figure = useRun((s) => s.figures?.nodes[id] ?? null);
  const condition = useRun((s) => s.conditions[id] ?? null);
  const offsetGrowing = useRun((s) => offsetLagGrowing(s.tracks[id]));
  const kind = def?.kind ?? "transform";
  const hasErrors = (issues?.errors ?? 0) > 0;
  const summary = view?.summary ?? "unknown node type";
  const count = hasErrors ? (issues?.errors ?? 0) : (issues?.warnings ?? 0);

  return (
    <div
      className={`pnode kind-${kind}${selected ? " is-selected" : ""}${hasErrors ? " has-errors" : ""}${running ? " is-running" : ""}${condition ? ` is-${condition}` : ""}`}
      data-testid={`node-${id}`}
      style={{
        minHeight:
          Math.max(inputs.length, outputs.length) > 3 ? Math.max(inputs.length, outputs.length) * 22 : undefined,
      }}
    >
      <Ports ports={inputs} type="target" nodeId={id} />
      <div className="pnode-head">
        <span className="pnode-icon">
          <NodeIcon name={def?.icon} kind={def?.kind} />
        </span>
        <span className="pnode-names">
          <span className="pnode-title">{def?.title ?? data.type}</span>
          <span className="pnode-id">{id}</span>
        </span>
        {issues ? (
          <span
            className={`pnode-badge ${hasErrors ? "pnode-badge-error" : "pnode-badge-warning"}`}
            title={issues.messages.join("\n")}
            role="img"
            aria-label={`${count} ${hasErrors ? "problem" : "warning"}${count === 1 ? "" : "s"}`}
          >
            {count}
          </span>
        ) : null}
      </div>
      {condition ? (
        <span className="pnode-condition" data-testid={`condition-${id}`} title={CONDITION_TITLES[condition]}>
          {condition}
        </span>
      ) : null}
      <div className={`pnode-summary${view && !view.configured ? " is-missing" : ""}`} title={summary}>
        {summary}
      </div>
      {counters ? (
        <dl className="pnode-counters" aria-label={`${id} record counts`}>
          <Counter nodeId={id} which="in" label="in" value={counters.in} perSec={figure?.inPerSec} />
          <Counter nodeId={id} which="out" label="out" value={counters.out} perSec={figure?.outPerSec} />
          <Counter
            nodeId={id}
            which="errors"
            label="errors"
            value={counters.errors}
            perSec={figure && figure.errPerSec > 0 ? figure.errPerSec : undefined}
          />
        </dl>
      ) : null}
      {figure ? <LiveDetails nodeId={id} figure={figure} growing={offsetGrowing} /> : null}
      <Ports ports={outputs} type="source" nodeId={id} />
    </div>
  );
}

const PipelineNode = memo(PipelineNodeView);

/** React Flow node types: a module-level constant, never recreated on render. */
export const nodeTypes = { pipeline: PipelineNode, note: NoteNode };
