import type { PipelineDefinition } from "@sluice/pipeline/definition";
import { type AnyNodeDefinition, type NodeCatalog, type PortSpec, portsOf } from "@sluice/pipeline/node-definition";
import type { Edge, Node, XYPosition } from "@xyflow/react";
import type { EditorRuntime } from "../runtime-types";

// A dropped node's config is the pipeline package's rule; the editor store takes it from here.
export { initialConfig } from "@sluice/pipeline/initial-config";

// The editor's view of a pipeline definition: React Flow nodes and edges, sticky notes, plus the untouched rest
// ("frame"), and the pure functions that convert between them. Converting back yields exactly the sluice/v1 format:
// node positions go under `ui: { x, y }`, notes under the definition's `ui.notes`, every other key is kept as loaded.
// Value imports stay type-only or zod-free: this module is part of the first-load bundle.

/** The file format's default port names (DEFAULT_IN_PORT / DEFAULT_OUT_PORT; editor-runtime.ts checks they match). */
export const IN_PORT = "in";
export const OUT_PORT = "out";

export interface PipelineNodeData extends Record<string, unknown> {
  type: string;
  config: Record<string, unknown>;
  /** The node type version pinned in the definition, if any. */
  version?: number;
  /** `ui` keys other than x and y (label, note, …), kept as loaded. */
  ui: Record<string, unknown>;
}
export type PipelineFlowNode = Node<PipelineNodeData, "pipeline">;

export interface NoteData extends Record<string, unknown> {
  text: string;
}
export type NoteFlowNode = Node<NoteData, "note">;
export type EditorFlowNode = PipelineFlowNode | NoteFlowNode;

export interface PipelineEdgeData extends Record<string, unknown> {
  fromPort?: string;
  toPort?: string;
  ui?: Record<string, unknown>;
}
export type PipelineFlowEdge = Edge<PipelineEdgeData>;

type Spec = PipelineDefinition["spec"];
/** Everything of a definition but its nodes, edges and notes. */
export type DefinitionFrame = Omit<PipelineDefinition, "spec"> & { spec: Omit<Spec, "nodes" | "edges"> };

/** A sticky note as stored in the definition's `ui.notes`: free text on the canvas, no meaning to the pipeline. */
export interface StoredNote {
  id: string;
  x: number;
  y: number;
  width?: number;
  height?: number;
  text: string;
}

export const NODE_WIDTH = 224;
export const NODE_HEIGHT = 96;
export const NOTE_WIDTH = 220;
export const NOTE_HEIGHT = 140;
const COLUMN_GAP = 288;
const ROW_GAP = 132;

// Note ids carry a colon, which node ids cannot contain: the two never clash on the canvas.
export const NOTE_PREFIX = "note:";
export const isNoteId = (id: string): boolean => id.startsWith(NOTE_PREFIX);

export function nodeAriaLabel(title: string, id: string): string {
  return `${title} node ${id}`;
}

export function makeFlowNode(
  catalog: NodeCatalog,
  id: string,
  data: PipelineNodeData,
  position: XYPosition,
  selected = false,
): PipelineFlowNode {
  const title = catalog.get(data.type)?.title ?? data.type;
  return { id, type: "pipeline", position, data, selected, ariaLabel: nodeAriaLabel(title, id) };
}

export function makeNoteNode(note: StoredNote, selected = false): NoteFlowNode {
  return {
    id: note.id,
    type: "note",
    position: { x: note.x, y: note.y },
    data: { text: note.text },
    width: note.width ?? NOTE_WIDTH,
    height: note.height ?? NOTE_HEIGHT,
    selected,
    zIndex: -1,
    ariaLabel: "Sticky note",
    className: "note-node",
  };
}

/**
 * An edge's identity, `from.port->to.port` with the default ports filled in, as the definition module's edgeKey
 * (which pulls zod in): the React Flow edge id (one edge per pair of ports), and what diffs and pastes compare.
 */
export function edgeKey(e: { from: string; to: string; fromPort?: string; toPort?: string }): string {
  return `${e.from}.${e.fromPort ?? OUT_PORT}->${e.to}.${e.toPort ?? IN_PORT}`;
}

export function makeFlowEdge(from: string, to: string, data: PipelineEdgeData): PipelineFlowEdge {
  const sourceHandle = data.fromPort ?? OUT_PORT;
  const targetHandle = data.toPort ?? IN_PORT;
  return {
    id: edgeKey({ from, to, fromPort: sourceHandle, toPort: targetHandle }),
    source: from,
    target: to,
    sourceHandle,
    targetHandle,
    data,
  };
}

/** Edge data for a connection between two ports; default port names are left out, as people write the file. */
export function edgeData(fromPort: string, toPort: string): PipelineEdgeData {
  const data: PipelineEdgeData = {};
  if (fromPort !== OUT_PORT) data.fromPort = fromPort;
  if (toPort !== IN_PORT) data.toPort = toPort;
  return data;
}

/** Column by longest path from a source, row by order within the column: for definitions without positions. */
function gridLayout(definition: PipelineDefinition, runtime: EditorRuntime): Map<string, XYPosition> {
  const { nodes, edges } = definition.spec;
  const graph = runtime.buildGraph(nodes, edges);
  const { order, cyclic } = runtime.topologicalOrder(graph);
  const depth = new Map<string, number>();
  for (const id of [...order, ...cyclic]) {
    const d = Math.max(0, ...(graph.incoming.get(id) ?? []).map((e) => (depth.get(e.from) ?? -1) + 1));
    depth.set(id, d);
  }
  const rows = new Map<number, number>();
  const positions = new Map<string, XYPosition>();
  for (const node of nodes) {
    const column = depth.get(node.id) ?? 0;
    const row = rows.get(column) ?? 0;
    rows.set(column, row + 1);
    positions.set(node.id, { x: column * COLUMN_GAP, y: row * ROW_GAP });
  }
  return positions;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const finite = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** The notes of a definition's `ui.notes`; entries that are not notes are skipped. */
export function readNotes(ui: unknown): StoredNote[] {
  const list = isRecord(ui) ? ui.notes : undefined;
  if (!Array.isArray(list)) return [];
  const notes: StoredNote[] = [];
  const seen = new Set<string>();
  for (const raw of list) {
    if (!isRecord(raw) || !finite(raw.x) || !finite(raw.y)) continue;
    let id = typeof raw.id === "string" && raw.id.length > 0 ? raw.id : `${notes.length + 1}`;
    if (!isNoteId(id)) id = `${NOTE_PREFIX}${id}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const note: StoredNote = { id, x: raw.x, y: raw.y, text: typeof raw.text === "string" ? raw.text : "" };
    if (finite(raw.width) && raw.width > 0) note.width = raw.width;
    if (finite(raw.height) && raw.height > 0) note.height = raw.height;
    notes.push(note);
  }
  return notes;
}

export function storedNote(n: NoteFlowNode): StoredNote {
  const note: StoredNote = { id: n.id, x: Math.round(n.position.x), y: Math.round(n.position.y), text: n.data.text };
  const width = n.width ?? n.measured?.width;
  const height = n.height ?? n.measured?.height;
  if (width !== undefined) note.width = Math.round(width);
  if (height !== undefined) note.height = Math.round(height);
  return note;
}

export interface FlowModel {
  frame: DefinitionFrame;
  nodes: PipelineFlowNode[];
  edges: PipelineFlowEdge[];
  notes: NoteFlowNode[];
}

export function toFlow(definition: PipelineDefinition, runtime: EditorRuntime): FlowModel {
  const { nodes, edges, ...specRest } = definition.spec;
  const needsLayout = nodes.some((n) => n.ui === undefined);
  const layout = needsLayout ? gridLayout(definition, runtime) : undefined;
  const flowNodes = nodes.map((n) => {
    const { x, y, ...ui } = n.ui ?? { x: 0, y: 0 };
    const position = n.ui ? { x, y } : (layout?.get(n.id) ?? { x: 0, y: 0 });
    const data: PipelineNodeData = { type: n.type, config: n.config, ui };
    if (n.version !== undefined) data.version = n.version;
    return makeFlowNode(runtime.catalog, n.id, data, position);
  });
  const flowEdges = edges.map((e) => {
    const data: PipelineEdgeData = {};
    if (e.fromPort !== undefined) data.fromPort = e.fromPort;
    if (e.toPort !== undefined) data.toPort = e.toPort;
    if (e.ui !== undefined) data.ui = e.ui;
    return makeFlowEdge(e.from, e.to, data);
  });
  const frame: DefinitionFrame = { ...definition, spec: specRest };
  if (isRecord(definition.ui) && "notes" in definition.ui) {
    const { notes: _, ...ui } = definition.ui;
    frame.ui = ui;
  }
  const notes = readNotes(definition.ui).map((n) => makeNoteNode(n));
  return { frame, nodes: flowNodes, edges: flowEdges, notes };
}

export function toDefinition(
  frame: DefinitionFrame,
  nodes: readonly PipelineFlowNode[],
  edges: readonly PipelineFlowEdge[],
  notes: readonly NoteFlowNode[] = [],
): PipelineDefinition {
  const definition: PipelineDefinition = {
    ...frame,
    spec: {
      ...frame.spec,
      nodes: nodes.map((n) => ({
        id: n.id,
        type: n.data.type,
        ...(n.data.version !== undefined ? { version: n.data.version } : {}),
        config: n.data.config,
        ui: { ...n.data.ui, x: Math.round(n.position.x), y: Math.round(n.position.y) },
      })),
      edges: edges.map((e) => ({
        from: e.source,
        to: e.target,
        ...(e.data?.fromPort !== undefined ? { fromPort: e.data.fromPort } : {}),
        ...(e.data?.toPort !== undefined ? { toPort: e.data.toPort } : {}),
        ...(e.data?.ui !== undefined ? { ui: e.data.ui } : {}),
      })),
    },
  };
  if (notes.length > 0) definition.ui = { ...frame.ui, notes: notes.map(storedNote) };
  return definition;
}

/** `generator1`, `filter2`, `redis-stream1`: the type's name after the kind, numbered from 1. */
export function nextNodeId(type: string, taken: ReadonlySet<string>): string {
  let base = (type.includes(".") ? type.slice(type.indexOf(".") + 1) : type).replace(/[^A-Za-z0-9_-]/g, "_");
  if (!/^[A-Za-z_]/.test(base)) base = `n${base}`;
  base = base.slice(0, 56);
  for (let n = 1; ; n++) {
    const id = `${base}${n}`;
    if (!taken.has(id)) return id;
  }
}

/** An id like `id` that is not taken: `filter1` becomes `filter2`, `orders` becomes `orders2`. */
export function freeIdLike(id: string, taken: ReadonlySet<string>): string {
  if (!taken.has(id)) return id;
  const match = /^(.*?)(\d+)$/.exec(id);
  const base = (match ? match[1]! : id).slice(0, 56) || "node";
  for (let n = match ? Number(match[2]) + 1 : 2; ; n++) {
    const candidate = `${base}${n}`;
    if (!taken.has(candidate)) return candidate;
  }
}

export function nodeIdProblem(id: string, taken: ReadonlySet<string>, pattern: RegExp): string | null {
  if (id.length === 0) return "Give the node an id.";
  if (!pattern.test(id)) {
    return "Start with a letter or _, then use letters, digits, _ and - (at most 64 characters).";
  }
  if (taken.has(id)) return `Another node is already called “${id}”.`;
  return null;
}

/** The position, or the nearest one (below before above on a tie) where the node overlaps no other. */
export function freeSpot(position: XYPosition, nodes: readonly PipelineFlowNode[]): XYPosition {
  const clashes = (x: number, y: number) =>
    nodes.some(
      (n) =>
        Math.abs(n.position.x - x) < NODE_WIDTH + SPOT_MARGIN && Math.abs(n.position.y - y) < NODE_HEIGHT + SPOT_MARGIN,
    );
  // The nearest free place, so a node dropped onto others lands beside the pointer, not a column further down.
  for (const [dx, dy] of SPOT_OFFSETS) {
    if (!clashes(position.x + dx, position.y + dy)) return { x: position.x + dx, y: position.y + dy };
  }
  return position;
}

const SPOT_MARGIN = 16;
/** Offsets to try around a wanted position, nearest first (about two node widths and four heights each way). */
const SPOT_OFFSETS: readonly (readonly [number, number])[] = (() => {
  const offsets: [number, number][] = [];
  for (let i = -8; i <= 8; i++) for (let j = -12; j <= 12; j++) offsets.push([i * 56, j * 32]);
  return offsets.sort((a, b) => Math.hypot(a[0], a[1]) - Math.hypot(b[0], b[1]) || b[1] - a[1] || b[0] - a[0]);
})();

/** Where a node added "next to" another goes. */
export function besideOf(node: PipelineFlowNode): XYPosition {
  return { x: node.position.x + COLUMN_GAP, y: node.position.y };
}

// ---------- Ports ----------

export interface NodePorts {
  inputs: readonly PortSpec[];
  outputs: readonly PortSpec[];
}

export interface NodeView extends NodePorts {
  /** One line for the canvas. */
  summary: string;
  /** Whether the config satisfies the node type's schema. */
  configured: boolean;
}

const PORT_RE = /^[a-z][a-z0-9_]{0,31}$/;
const views = new WeakMap<object, { def: AnyNodeDefinition; view: NodeView }>();

function validPorts(list: readonly PortSpec[] | undefined): readonly PortSpec[] | undefined {
  return Array.isArray(list) ? list.filter((p) => typeof p?.name === "string" && PORT_RE.test(p.name)) : undefined;
}

/**
 * What the canvas shows of a node: its summary and its ports for the config (`portsOf`, e.g. one output per route).
 * While the config does not parse, the type's `ports()` is still tried on it, so a half-written route keeps its
 * outputs (and their edges) on screen. Cached per config object: configs are never mutated.
 */
export function nodeView(def: AnyNodeDefinition, config: Record<string, unknown>): NodeView {
  const hit = views.get(config);
  if (hit && hit.def === def) return hit.view;
  const parsed = def.config.safeParse(config);
  let view: NodeView;
  if (parsed.success) {
    let summary: string;
    try {
      summary = def.summarize(parsed.data) || def.summary;
    } catch {
      summary = def.summary;
    }
    view = { ...portsOf(def, parsed.data), summary, configured: true };
  } else {
    let ports: NodePorts = { inputs: def.inputs, outputs: def.outputs };
    if (def.ports) {
      try {
        const dynamic = def.ports(config as never);
        ports = {
          inputs: validPorts(dynamic.inputs) ?? def.inputs,
          outputs: validPorts(dynamic.outputs) ?? def.outputs,
        };
      } catch {
        // the half-written config cannot say: the declared ports it is
      }
    }
    view = { ...ports, summary: "needs configuration", configured: false };
  }
  views.set(config, { def, view });
  return view;
}

/** Ports each node has edges on: these get handles even when the node type no longer declares them. */
export interface PortUse {
  inputs: readonly string[];
  outputs: readonly string[];
}

/** Per-node port use, reusing the previous object of every node whose use did not change (stable selectors). */
export function derivePortUse(
  edges: readonly PipelineFlowEdge[],
  previous: Readonly<Record<string, PortUse>>,
): Record<string, PortUse> {
  const inputs = new Map<string, Set<string>>();
  const outputs = new Map<string, Set<string>>();
  for (const e of edges) {
    const o = outputs.get(e.source) ?? new Set<string>();
    o.add(e.sourceHandle ?? OUT_PORT);
    outputs.set(e.source, o);
    const i = inputs.get(e.target) ?? new Set<string>();
    i.add(e.targetHandle ?? IN_PORT);
    inputs.set(e.target, i);
  }
  const next: Record<string, PortUse> = {};
  for (const id of new Set([...inputs.keys(), ...outputs.keys()])) {
    const use: PortUse = { inputs: [...(inputs.get(id) ?? [])].sort(), outputs: [...(outputs.get(id) ?? [])].sort() };
    const old = previous[id];
    const same =
      old !== undefined &&
      old.inputs.length === use.inputs.length &&
      old.outputs.length === use.outputs.length &&
      old.inputs.every((p, i) => p === use.inputs[i]) &&
      old.outputs.every((p, i) => p === use.outputs[i]);
    next[id] = same ? old : use;
  }
  return next;
}

export interface ProposedConnection {
  source: string;
  target: string;
  sourceHandle?: string | null;
  targetHandle?: string | null;
}

/** The nodes `from` reaches by following edges downstream. */
function reaches(from: string, to: string, edges: readonly PipelineFlowEdge[]): string[] | null {
  const out = new Map<string, string[]>();
  for (const e of edges) out.set(e.source, [...(out.get(e.source) ?? []), e.target]);
  const previous = new Map<string, string>();
  const queue = [from];
  const seen = new Set(queue);
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i]!;
    if (id === to) {
      const path = [to];
      let at = to;
      while (at !== from) {
        at = previous.get(at)!;
        path.unshift(at);
      }
      return path;
    }
    for (const next of out.get(id) ?? []) {
      if (seen.has(next)) continue;
      seen.add(next);
      previous.set(next, id);
      queue.push(next);
    }
  }
  return null;
}

/** Why a connection cannot be made, in a sentence; null when it can. Structural checks only (see the store). */
export function connectionProblem(
  c: ProposedConnection,
  nodes: readonly PipelineFlowNode[],
  edges: readonly PipelineFlowEdge[],
  catalog: NodeCatalog,
): string | null {
  if (c.source === c.target) return "A node cannot be connected to itself.";
  const from = nodes.find((n) => n.id === c.source);
  const to = nodes.find((n) => n.id === c.target);
  if (!from || !to) return "Both ends of a connection must be nodes on the canvas.";
  const fromDef = catalog.get(from.data.type);
  const toDef = catalog.get(to.data.type);
  if (!fromDef || !toDef) return "One of these nodes has an unknown type.";
  const fromPorts = nodeView(fromDef, from.data.config).outputs;
  const toPorts = nodeView(toDef, to.data.config).inputs;
  if (toPorts.length === 0) {
    return toDef.kind === "source"
      ? `${toDef.title} (${to.id}) is a source: it takes no input.`
      : `${toDef.title} (${to.id}) takes no input.`;
  }
  if (fromPorts.length === 0) {
    return fromDef.kind === "sink"
      ? `${fromDef.title} (${from.id}) is a sink: nothing comes out of it.`
      : `${fromDef.title} (${from.id}) has no output.`;
  }
  const fromPort = c.sourceHandle ?? fromPorts[0]?.name ?? OUT_PORT;
  const toPort = c.targetHandle ?? toPorts[0]?.name ?? IN_PORT;
  if (!fromPorts.some((p) => p.name === fromPort)) {
    return `${fromDef.title} (${from.id}) has no output “${fromPort}”: connect one of ${fromPorts.map((p) => `“${p.name}”`).join(", ")}.`;
  }
  const port = toPorts.find((p) => p.name === toPort);
  if (!port) return `${toDef.title} (${to.id}) has no input “${toPort}”.`;
  const id = edgeKey({ from: c.source, to: c.target, fromPort, toPort });
  if (edges.some((e) => e.id === id)) return `${from.id} is already connected to ${to.id}.`;
  if (!port.multiple) {
    const taken = edges.find((e) => e.target === c.target && (e.targetHandle ?? IN_PORT) === toPort);
    if (taken) {
      const which = toPorts.length > 1 ? `its “${port.title ?? toPort}” input` : "its input";
      return `${toDef.title} (${to.id}) takes one edge on ${which}, and ${taken.source} is already connected there: remove that edge first, or put a Union in front.`;
    }
  }
  const loop = reaches(c.target, c.source, edges);
  if (loop) return `That would make a loop (${[...loop, c.target].join(" → ")}): pipelines flow one way.`;
  return null;
}
