"use client";

import type { PipelineDefinition } from "@sluice/pipeline/definition";
import type { NodeCatalog, NodeKind, PortSpec } from "@sluice/pipeline/node-definition";
import {
  Background,
  BackgroundVariant,
  Controls,
  type Edge,
  Handle,
  MarkerType,
  type Node,
  type NodeProps,
  Position,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
} from "@xyflow/react";
import { memo, useMemo, useState } from "react";
import { NodeIcon } from "../canvas/node-icon";
import {
  type DefinitionDiff,
  diffDefinitions,
  type EdgeDiff,
  type EdgeDiffKind,
  formatValue,
  type NodeDiffKind,
  type ValueChange,
} from "./definition-diff";

// Two versions side by side in one picture: the newer version's graph on a read-only canvas, with the nodes the
// older one had and the newer lacks drawn where they were, each coloured by what happened to it; beside it, the
// list of every change down to the config field, old → new.

interface DiffNodeData extends Record<string, unknown> {
  kind: NodeDiffKind;
  title: string;
  nodeKind: NodeKind;
  icon: string | undefined;
  inputs: readonly PortSpec[];
  outputs: readonly PortSpec[];
  changeCount: number;
}
type DiffFlowNode = Node<DiffNodeData, "diff">;

const KIND_LABEL: Record<NodeDiffKind, string> = {
  added: "added",
  removed: "removed",
  changed: "changed",
  moved: "moved",
  unchanged: "unchanged",
};

const FALLBACK_IN: readonly PortSpec[] = [{ name: "in" } as PortSpec];
const FALLBACK_OUT: readonly PortSpec[] = [{ name: "out" } as PortSpec];

function portTop(index: number, count: number): string {
  return `${((index + 1) / (count + 1)) * 100}%`;
}

function DiffNodeView({ id, data, selected }: NodeProps<DiffFlowNode>) {
  return (
    <div
      className={`diff-node diff-node-${data.kind}${selected ? " is-selected" : ""}`}
      data-testid={`diff-node-${id}`}
      data-diff={data.kind}
    >
      {data.inputs.map((p, i) => (
        <Handle
          key={p.name}
          id={p.name}
          type="target"
          position={Position.Left}
          isConnectable={false}
          style={{ top: portTop(i, data.inputs.length) }}
        />
      ))}
      <div className="diff-node-head">
        <span className={`diff-node-icon kind-${data.nodeKind}`}>
          <NodeIcon name={data.icon} kind={data.nodeKind} size={14} />
        </span>
        <span className="diff-node-names">
          <span className="diff-node-title">{data.title}</span>
          <span className="diff-node-id">{id}</span>
        </span>
      </div>
      {data.kind !== "unchanged" ? (
        <span className={`diff-badge diff-badge-${data.kind}`}>
          {KIND_LABEL[data.kind]}
          {data.kind === "changed" ? ` · ${data.changeCount}` : ""}
        </span>
      ) : null}
      {data.outputs.map((p, i) => (
        <Handle
          key={p.name}
          id={p.name}
          type="source"
          position={Position.Right}
          isConnectable={false}
          style={{ top: portTop(i, data.outputs.length) }}
        />
      ))}
    </div>
  );
}

const nodeTypes = { diff: memo(DiffNodeView) };
const EDGE_COLORS: Record<EdgeDiffKind, string> = { added: "#059669", removed: "#dc2626", unchanged: "#94a3b8" };
const fitViewOptions = { padding: 0.2, maxZoom: 1 };

const COLUMN_GAP = 280;
const ROW_GAP = 120;

/**
 * Where each node of a definition is drawn: its saved position, or — for definitions without positions (imported,
 * written by hand) — a column by longest path from a source and a row by order within the column.
 */
function positionsOf(definition: PipelineDefinition): Map<string, { x: number; y: number }> {
  const { nodes, edges } = definition.spec;
  const positions = new Map<string, { x: number; y: number }>();
  const depth = new Map<string, number>(nodes.map((n) => [n.id, 0]));
  // Longest path by relaxation; a cycle (an invalid draft) stops after as many rounds as there are nodes.
  for (let round = 0; round < nodes.length; round++) {
    let moved = false;
    for (const e of edges) {
      const d = (depth.get(e.from) ?? 0) + 1;
      if (depth.has(e.to) && d > (depth.get(e.to) ?? 0)) {
        depth.set(e.to, d);
        moved = true;
      }
    }
    if (!moved) break;
  }
  const rows = new Map<number, number>();
  for (const n of nodes) {
    if (n.ui) {
      positions.set(n.id, { x: n.ui.x, y: n.ui.y });
      continue;
    }
    const column = depth.get(n.id) ?? 0;
    const row = rows.get(column) ?? 0;
    rows.set(column, row + 1);
    positions.set(n.id, { x: column * COLUMN_GAP, y: row * ROW_GAP });
  }
  return positions;
}

function buildFlow(
  diff: DefinitionDiff,
  before: PipelineDefinition,
  after: PipelineDefinition,
  catalog: NodeCatalog,
): { nodes: DiffFlowNode[]; edges: Edge[] } {
  const positions = new Map([...positionsOf(before), ...positionsOf(after)]);
  const nodes = diff.nodes.map((d): DiffFlowNode => {
    const def = catalog.get(d.type);
    return {
      id: d.id,
      type: "diff",
      position: positions.get(d.id) ?? { x: 0, y: 0 },
      draggable: false,
      connectable: false,
      ariaLabel: `${def?.title ?? d.type} node ${d.id}, ${KIND_LABEL[d.kind]}`,
      data: {
        kind: d.kind,
        title: def?.title ?? d.type,
        nodeKind: def?.kind ?? "transform",
        icon: def?.icon,
        inputs: def ? def.inputs : FALLBACK_IN,
        outputs: def ? def.outputs : FALLBACK_OUT,
        changeCount: d.changes.length,
      },
    };
  });
  const edges = diff.edges.map(
    (e): Edge => ({
      id: e.key,
      source: e.from,
      target: e.to,
      sourceHandle: e.fromPort,
      targetHandle: e.toPort,
      className: `diff-edge diff-edge-${e.kind}`,
      selectable: false,
      focusable: false,
      markerEnd: { type: MarkerType.ArrowClosed, width: 14, height: 14, color: EDGE_COLORS[e.kind] },
      ariaLabel: `Connection ${e.from} to ${e.to}, ${e.kind}`,
    }),
  );
  return { nodes, edges };
}

export interface VersionDiffViewProps {
  before: PipelineDefinition;
  after: PipelineDefinition;
  beforeLabel: string;
  afterLabel: string;
  catalog: NodeCatalog;
}

export function VersionDiffView(props: VersionDiffViewProps) {
  // Its own provider: this canvas must not share the editor's React Flow store.
  return (
    <ReactFlowProvider>
      <DiffLayout {...props} />
    </ReactFlowProvider>
  );
}

function DiffLayout({ before, after, beforeLabel, afterLabel, catalog }: VersionDiffViewProps) {
  const diff = useMemo(() => diffDefinitions(before, after), [before, after]);
  const flow = useMemo(() => buildFlow(diff, before, after, catalog), [diff, before, after, catalog]);
  const [selected, setSelected] = useState<string | null>(null);
  const nodes = useMemo(
    () => flow.nodes.map((n) => (n.id === selected ? { ...n, selected: true } : n)),
    [flow.nodes, selected],
  );
  const c = diff.counts;
  const nothing =
    c.added + c.removed + c.changed + c.moved + c.edgesAdded + c.edgesRemoved + diff.pipeline.length === 0;

  return (
    <div className="diff-layout">
      <div className="diff-canvas-wrap">
        <p className="diff-caption">
          {afterLabel} compared with {beforeLabel}
        </p>
        <div className="diff-canvas" data-testid="diff-canvas">
          <ReactFlow<DiffFlowNode, Edge>
            nodes={nodes}
            edges={flow.edges}
            nodeTypes={nodeTypes}
            nodesDraggable={false}
            nodesConnectable={false}
            edgesFocusable={false}
            onNodeClick={(_, node) => setSelected(node.id)}
            onPaneClick={() => setSelected(null)}
            fitView
            fitViewOptions={fitViewOptions}
            minZoom={0.1}
            maxZoom={2}
            aria-label={`Changes from ${beforeLabel} to ${afterLabel}`}
          >
            <Background variant={BackgroundVariant.Dots} gap={20} size={1.2} color="#cbd5e1" />
            <Controls position="bottom-left" showInteractive={false} />
          </ReactFlow>
        </div>
        <ul className="diff-legend" aria-label="Legend">
          <li>
            <span className="legend-swatch diff-swatch-added" aria-hidden="true" /> added
          </li>
          <li>
            <span className="legend-swatch diff-swatch-removed" aria-hidden="true" /> removed
          </li>
          <li>
            <span className="legend-swatch diff-swatch-changed" aria-hidden="true" /> changed
          </li>
          <li>
            <span className="legend-swatch diff-swatch-moved" aria-hidden="true" /> moved only
          </li>
        </ul>
      </div>
      <section className="diff-changes" aria-label="Changes">
        <p className="diff-summary" data-testid="diff-summary">
          {nothing
            ? "No differences."
            : [
                c.added ? `${c.added} added` : null,
                c.removed ? `${c.removed} removed` : null,
                c.changed ? `${c.changed} changed` : null,
                c.moved ? `${c.moved} moved` : null,
                c.edgesAdded ? `${c.edgesAdded} connection${c.edgesAdded === 1 ? "" : "s"} added` : null,
                c.edgesRemoved ? `${c.edgesRemoved} connection${c.edgesRemoved === 1 ? "" : "s"} removed` : null,
                diff.pipeline.length ? `${diff.pipeline.length} setting${diff.pipeline.length === 1 ? "" : "s"}` : null,
              ]
                .filter(Boolean)
                .join(", ")}
        </p>
        <ChangeList diff={diff} catalog={catalog} selected={selected} onSelect={setSelected} />
      </section>
    </div>
  );
}

const NODE_VERB: Record<NodeDiffKind, string> = {
  added: "Added",
  removed: "Removed",
  changed: "Changed",
  moved: "Moved",
  unchanged: "Unchanged",
};

const edgeText = (e: EdgeDiff) =>
  `${e.from}${e.fromPort !== "out" ? `.${e.fromPort}` : ""} → ${e.to}${e.toPort !== "in" ? `.${e.toPort}` : ""}`;

/** Every change as a sentence, down to the config field (old → new); a node's line centres it on the canvas. */
function ChangeList({
  diff,
  catalog,
  selected,
  onSelect,
}: {
  diff: DefinitionDiff;
  catalog: NodeCatalog;
  selected: string | null;
  onSelect: (id: string) => void;
}) {
  const flow = useReactFlow();
  const show = (id: string) => {
    onSelect(id);
    const node = flow.getNode(id);
    if (node) void flow.setCenter(node.position.x + 100, node.position.y + 30, { zoom: 1, duration: 250 });
  };
  const listed = diff.nodes.filter((n) => n.kind !== "unchanged");
  const edges = diff.edges.filter((e) => e.kind !== "unchanged");
  if (listed.length + edges.length + diff.pipeline.length === 0) return null;
  return (
    <ul className="diff-items" aria-label="Differences">
      {listed.map((n) => (
        <li
          key={`n-${n.id}`}
          className={`diff-item diff-item-${n.kind}${n.id === selected ? " is-selected" : ""}`}
          data-testid={`diff-item-${n.id}`}
        >
          <button type="button" className="diff-item-head" onClick={() => show(n.id)}>
            <span className={`diff-badge diff-badge-${n.kind}`}>{KIND_LABEL[n.kind]}</span>
            <span>
              {NODE_VERB[n.kind]} node <span className="diff-item-id">{n.id}</span>
            </span>
            <span className="muted">{catalog.get(n.type)?.title ?? n.type}</span>
          </button>
          {n.changes.length > 0 ? <ValueChanges changes={n.changes} /> : null}
        </li>
      ))}
      {edges.map((e) => (
        <li key={`e-${e.key}`} className={`diff-item diff-item-${e.kind}`}>
          <span className={`diff-badge diff-badge-${e.kind}`}>{e.kind}</span> {e.kind === "added" ? "Added" : "Removed"}{" "}
          edge <span className="mono">{edgeText(e)}</span>
        </li>
      ))}
      {diff.pipeline.length > 0 ? (
        <li className="diff-item diff-item-changed">
          Changed pipeline settings
          <ValueChanges changes={diff.pipeline} />
        </li>
      ) : null}
    </ul>
  );
}

function ValueChanges({ changes }: { changes: readonly ValueChange[] }) {
  return (
    <dl className="value-changes">
      {changes.map((ch) => (
        <div key={ch.path} className={`value-change value-change-${ch.kind}`}>
          <dt className="mono">{ch.path}</dt>
          <dd>
            <span className="value-before">{formatValue(ch.before)}</span>
            <span className="value-arrow" aria-hidden="true">
              {" → "}
            </span>
            <span className="visually-hidden"> becomes </span>
            <span className="value-after">{formatValue(ch.after)}</span>
          </dd>
        </div>
      ))}
    </dl>
  );
}
