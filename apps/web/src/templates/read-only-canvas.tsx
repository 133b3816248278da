"use client";

import type { PipelineDefinition } from "@sluice/pipeline/definition";
import { type NodeCatalog, type NodeKind, portsOf } from "@sluice/pipeline/node-definition";
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
  type XYPosition,
} from "@xyflow/react";
import { memo, useEffect, useMemo, useState } from "react";
import { layout } from "@/editor/canvas/auto-layout";
import { NodeIcon } from "@/editor/canvas/node-icon";
import type { PipelineFlowEdge, PipelineFlowNode } from "@/editor/store/flow-model";
import "./templates.css";

// A pipeline drawn and nothing more: no editing, no selection, no store of the editor's. Used for a template's
// versions, the public page of a shared template and (with `badges` for its live figures) a shared run.

interface ReadOnlyNodeData extends Record<string, unknown> {
  title: string;
  type: string;
  typeTitle: string;
  nodeKind: NodeKind;
  icon: string | undefined;
  inputs: readonly string[];
  outputs: readonly string[];
  badges: readonly string[];
}
type ReadOnlyFlowNode = Node<ReadOnlyNodeData, "readOnly">;

const NO_BADGES: readonly string[] = [];
const EDGE_COLOR = "#94a3b8";
const fitViewOptions = { padding: 0.2, maxZoom: 1 };

function portTop(index: number, count: number): string {
  return `${((index + 1) / (count + 1)) * 100}%`;
}

/** A side's handles, spread evenly down it: inputs on the left, outputs on the right. */
function Ports({ names, type }: { names: readonly string[]; type: "target" | "source" }) {
  return names.map((name, i) => (
    <Handle
      key={name}
      id={name}
      type={type}
      position={type === "target" ? Position.Left : Position.Right}
      isConnectable={false}
      style={{ top: portTop(i, names.length) }}
    />
  ));
}

function ReadOnlyNodeView({ data }: NodeProps<ReadOnlyFlowNode>) {
  return (
    <div className={`ro-node kind-${data.nodeKind}`}>
      <Ports names={data.inputs} type="target" />
      <div className="ro-node-head">
        <span className="ro-node-icon">
          <NodeIcon name={data.icon} kind={data.nodeKind} size={16} />
        </span>
        <span className="ro-node-names">
          <span className="ro-node-title">{data.title}</span>
          <span className="ro-node-type" title={data.type}>
            {data.typeTitle}
          </span>
        </span>
      </div>
      {data.badges.length > 0 ? (
        <ul className="ro-node-badges">
          {data.badges.map((b) => (
            <li key={b} className="ro-node-badge">
              {b}
            </li>
          ))}
        </ul>
      ) : null}
      <Ports names={data.outputs} type="source" />
    </div>
  );
}

const nodeTypes = { readOnly: memo(ReadOnlyNodeView) };

/** The node's ports as its type declares them for its config, plus any an edge uses, so every edge has its handle. */
function portNames(
  definition: PipelineDefinition,
  catalog: NodeCatalog,
): Map<string, { inputs: string[]; outputs: string[] }> {
  const ports = new Map<string, { inputs: string[]; outputs: string[] }>();
  for (const n of definition.spec.nodes) {
    const def = catalog.get(n.type);
    let declared = { inputs: [] as string[], outputs: [] as string[] };
    if (def) {
      try {
        const p = portsOf(def, n.config);
        declared = { inputs: p.inputs.map((x) => x.name), outputs: p.outputs.map((x) => x.name) };
      } catch {
        // A config its type cannot read (a template of another installation): the static ports do.
        declared = { inputs: def.inputs.map((x) => x.name), outputs: def.outputs.map((x) => x.name) };
      }
    }
    ports.set(n.id, declared);
  }
  for (const e of definition.spec.edges) {
    const from = ports.get(e.from);
    const to = ports.get(e.to);
    const out = e.fromPort ?? "out";
    const into = e.toPort ?? "in";
    if (from && !from.outputs.includes(out)) from.outputs.push(out);
    if (to && !to.inputs.includes(into)) to.inputs.push(into);
  }
  return ports;
}

function layoutInput(definition: PipelineDefinition): { nodes: PipelineFlowNode[]; edges: PipelineFlowEdge[] } {
  return {
    nodes: definition.spec.nodes.map((n) => ({
      id: n.id,
      type: "pipeline",
      position: { x: 0, y: 0 },
      data: { type: n.type, config: n.config, ui: {} },
    })),
    edges: definition.spec.edges.map((e, i) => ({
      id: `e${i}`,
      source: e.from,
      target: e.to,
      sourceHandle: e.fromPort ?? "out",
      targetHandle: e.toPort ?? "in",
    })),
  };
}

/** What the drawing depends on: node ids, types and positions, and the edges (not configs, not labels). */
function shapeOf(definition: PipelineDefinition): string {
  return JSON.stringify([
    definition.spec.nodes.map((n) => [n.id, n.type, n.ui ? [n.ui.x, n.ui.y] : null]),
    definition.spec.edges.map((e) => [e.from, e.fromPort, e.to, e.toPort]),
  ]);
}

/**
 * Saved positions when every node has one; else the editor's auto-layout (null while it runs). Laid out again only
 * when the graph's shape changes, not whenever an equal definition arrives again (a shared run's is refetched).
 */
function usePositions(
  definition: PipelineDefinition,
  shape: string,
  ports: Map<string, { inputs: string[]; outputs: string[] }>,
): Map<string, XYPosition> | null {
  const saved = useMemo(() => {
    const nodes = definition.spec.nodes;
    if (!nodes.every((n) => n.ui)) return null;
    return new Map(nodes.map((n) => [n.id, { x: n.ui!.x, y: n.ui!.y }]));
  }, [definition]);
  const [laidOut, setLaidOut] = useState<{ shape: string; positions: Map<string, XYPosition> } | null>(null);
  const needsLayout = saved === null;
  // biome-ignore lint/correctness/useExhaustiveDependencies: `shape` stands for the definition and its ports
  useEffect(() => {
    if (!needsLayout) return;
    let cancelled = false;
    const { nodes, edges } = layoutInput(definition);
    void layout(nodes, edges, (n) => ports.get(n.id) ?? { inputs: ["in"], outputs: ["out"] })
      .then((positions) => {
        if (!cancelled) setLaidOut({ shape, positions });
      })
      .catch(() => {
        // ELK failed to load: a plain row is better than nothing.
        if (!cancelled) setLaidOut({ shape, positions: new Map(nodes.map((n, i) => [n.id, { x: i * 280, y: 0 }])) });
      });
    return () => {
      cancelled = true;
    };
  }, [shape, needsLayout]);
  if (saved) return saved;
  return laidOut?.shape === shape ? laidOut.positions : null;
}

/** Fits the view again when another graph is shown in the same canvas (another version, say). */
function FitOnChange({ shape }: { shape: string }) {
  const flow = useReactFlow();
  const [shown, setShown] = useState(shape);
  useEffect(() => {
    if (shape === shown) return;
    setShown(shape);
    void flow.fitView(fitViewOptions);
  }, [shape, shown, flow]);
  return null;
}

export function ReadOnlyCanvas(props: {
  definition: PipelineDefinition;
  catalog: NodeCatalog;
  badges?: Readonly<Record<string, readonly string[]>>;
  label?: string;
}) {
  // Its own provider: this canvas never shares a React Flow store with another on the page.
  return (
    <ReactFlowProvider>
      <ReadOnlyFlow {...props} />
    </ReactFlowProvider>
  );
}

function ReadOnlyFlow({
  definition,
  catalog,
  badges,
  label = "Pipeline graph",
}: {
  definition: PipelineDefinition;
  catalog: NodeCatalog;
  badges?: Readonly<Record<string, readonly string[]>>;
  label?: string;
}) {
  const shape = useMemo(() => shapeOf(definition), [definition]);
  const ports = useMemo(() => portNames(definition, catalog), [definition, catalog]);
  const positions = usePositions(definition, shape, ports);
  const nodes = useMemo(
    () =>
      definition.spec.nodes.map((n): ReadOnlyFlowNode => {
        const def = catalog.get(n.type);
        const title = n.ui?.label || n.id;
        const typeTitle = def?.title ?? n.type;
        return {
          id: n.id,
          type: "readOnly",
          position: positions?.get(n.id) ?? { x: 0, y: 0 },
          draggable: false,
          connectable: false,
          selectable: false,
          ariaLabel: `${typeTitle} node ${title}`,
          data: {
            title,
            type: n.type,
            typeTitle,
            nodeKind: def?.kind ?? "transform",
            icon: def?.icon,
            inputs: ports.get(n.id)?.inputs ?? [],
            outputs: ports.get(n.id)?.outputs ?? [],
            badges: badges?.[n.id] ?? NO_BADGES,
          },
        };
      }),
    [definition, catalog, ports, positions, badges],
  );
  const edges = useMemo(
    () =>
      definition.spec.edges.map(
        (e): Edge => ({
          id: `${e.from}.${e.fromPort ?? "out"}->${e.to}.${e.toPort ?? "in"}`,
          source: e.from,
          target: e.to,
          sourceHandle: e.fromPort ?? "out",
          targetHandle: e.toPort ?? "in",
          className: "ro-edge",
          selectable: false,
          focusable: false,
          markerEnd: { type: MarkerType.ArrowClosed, width: 14, height: 14, color: EDGE_COLOR },
          ariaLabel: `Connection ${e.from} to ${e.to}`,
        }),
      ),
    [definition],
  );

  return (
    <figure className="ro-canvas" data-testid="read-only-canvas" aria-label={label}>
      {positions ? (
        <ReactFlow<ReadOnlyFlowNode, Edge>
          nodes={nodes}
          edges={edges}
          nodeTypes={nodeTypes}
          nodesDraggable={false}
          nodesConnectable={false}
          elementsSelectable={false}
          edgesFocusable={false}
          fitView
          fitViewOptions={fitViewOptions}
          minZoom={0.1}
          maxZoom={2}
          aria-label={label}
        >
          <FitOnChange shape={shape} />
          <Background variant={BackgroundVariant.Dots} gap={20} size={1.2} color="#cbd5e1" />
          <Controls position="bottom-left" showInteractive={false} />
        </ReactFlow>
      ) : (
        <p className="muted ro-canvas-loading">Drawing the pipeline…</p>
      )}
    </figure>
  );
}
