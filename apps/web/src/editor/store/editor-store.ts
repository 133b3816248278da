import type { AlertRule } from "@sluice/pipeline/alert-rules";
import type { PipelineDefinition, PipelineParameter, PipelineSettings } from "@sluice/pipeline/definition";
import type { ValidationIssue } from "@sluice/pipeline/issues";
import type { DeliveryPlan } from "@sluice/pipeline/plan";
import type { RecordSchema } from "@sluice/pipeline/record-schema";
import {
  applyEdgeChanges,
  applyNodeChanges,
  type Connection,
  type EdgeChange,
  type NodeChange,
  type XYPosition,
} from "@xyflow/react";
import { createStore, type StoreApi } from "zustand/vanilla";
import type { NodeShapeSource } from "../canvas/node-shapes";
import type { EditorRuntime } from "../runtime-types";
import { type ClipboardPayload, planPaste, selectionPayload } from "./clipboard";
import {
  connectionProblem,
  type DefinitionFrame,
  derivePortUse,
  type EditorFlowNode,
  edgeData,
  IN_PORT,
  initialConfig,
  isNoteId,
  makeFlowEdge,
  makeFlowNode,
  makeNoteNode,
  NOTE_HEIGHT,
  NOTE_PREFIX,
  NOTE_WIDTH,
  type NoteFlowNode,
  nextNodeId,
  nodeAriaLabel,
  nodeIdProblem,
  nodeView,
  OUT_PORT,
  type PipelineFlowEdge,
  type PipelineFlowNode,
  type PortUse,
  toDefinition,
  toFlow,
} from "./flow-model";
import { History } from "./history";

// One store per open editor, made by createEditorStore and handed down through EditorProvider (no globals, so two
// editors — or a test — never share state). Components read it through narrow selectors. Every edit of the
// definition goes through `change()`, which records an undo step first. The current run's live figures are not
// here but in run-store.ts, so they never enter the undo history or the draft.

export interface LoadedPipeline {
  id: string;
  name: string;
  version: { number: number; definition: PipelineDefinition };
}

export interface NodeIssueSummary {
  errors: number;
  warnings: number;
  messages: string[];
}

export interface EditorValidation {
  issues: readonly ValidationIssue[];
  byNode: Record<string, NodeIssueSummary>;
  errorCount: number;
  /** Inferred record schema per node and output port (for autocomplete). */
  schemas: Readonly<Record<string, Record<string, RecordSchema>>>;
  /** The delivery guarantee the draft's plan gives, and the nodes that lower it; null until validated. */
  delivery: DeliveryPlan | null;
  /** False until the first validation of the loaded pipeline has finished. */
  done: boolean;
}

export interface EditorNotice {
  seq: number;
  text: string;
}

/** A request to show something: the canvas brings the node into view, the inspector focuses the field at `path`. */
export interface EditorFocus {
  nodeId: string;
  /** Path inside the node's config, when the request is about one field. */
  path: readonly (string | number)[] | null;
  seq: number;
}

export type ConfigPath = readonly (string | number)[];

export interface EditorState {
  pipelineId: string;
  name: string;
  /** The saved version the draft is based on (saveVersion's baseVersion). */
  baseVersion: number;
  frame: DefinitionFrame;
  nodes: PipelineFlowNode[];
  edges: PipelineFlowEdge[];
  notes: NoteFlowNode[];
  /** Ports each node has edges on (see flow-model's derivePortUse). */
  portUse: Record<string, PortUse>;
  /** Identifies the content: a fresh number for every edit, restored by undo; dirty = edits !== savedEdits. */
  edits: number;
  savedEdits: number;
  /** Counts changes that can alter validation (not moves). */
  revision: number;
  validation: EditorValidation;
  /** The workspace's connections, name → connection type; null until known (then names are not checked). */
  connections: Readonly<Record<string, string>> | null;
  notice: EditorNotice | null;
  focus: EditorFocus | null;
  canUndo: boolean;
  canRedo: boolean;

  load(pipeline: LoadedPipeline): void;
  onNodesChange(changes: NodeChange<EditorFlowNode>[]): void;
  onEdgesChange(changes: EdgeChange<PipelineFlowEdge>[]): void;
  /** Adds the edge, or shows why not and returns false. */
  connect(connection: Connection): boolean;
  disconnect(edgeIds: readonly string[]): void;
  /** Where new nodes get their shape before React Flow has measured them (the canvas, once it is up). */
  setNodeShapes(source: NodeShapeSource | null): void;
  /** Adds a node; with `connectFrom`, also connects that node's first free output to it when it can. */
  addNode(type: string, position: XYPosition, options?: { connectFrom?: string }): string | null;
  setConfigAt(nodeId: string, path: ConfigPath, value: unknown): void;
  setConfigValue(nodeId: string, key: string, value: unknown): void;
  replaceConfig(nodeId: string, config: Record<string, unknown>): void;
  /** Renames a node (and its edges); returns why not, or null on success. */
  renameNode(from: string, to: string): string | null;
  /** Removes the selected nodes, notes and edges (and the edges of removed nodes) in one step. */
  deleteSelection(): number;
  selectAll(): void;
  selectNode(nodeId: string | null, options?: { focus?: boolean; path?: ConfigPath | null }): void;
  addNote(position: XYPosition, text?: string): string;
  setNoteText(noteId: string, text: string): void;
  /** The selection as clipboard JSON; null when nothing is selected. */
  copySelection(): ClipboardPayload | null;
  /** Pastes nodes (with new ids where taken), their edges and notes, selected; returns how many were added. */
  paste(payload: ClipboardPayload, at?: XYPosition): number;
  /** Moves nodes (an auto-layout) in one undoable step. */
  applyLayout(positions: ReadonlyMap<string, XYPosition>): void;
  /** Replaces the content with a definition (a restored draft) as one undoable edit. */
  restoreDefinition(definition: PipelineDefinition): void;
  undo(): void;
  redo(): void;
  markSaved(version: number, atEdits: number): void;
  setConnections(connections: Readonly<Record<string, string>> | null): void;
  showNotice(text: string): void;
  dismissNotice(): void;
  definition(): PipelineDefinition;
  /** Validates the draft now (not after the usual pause) and returns the result, e.g. before starting it. */
  validateNow(): EditorValidation;
  /** Replaces the pipeline's settings (one undo step per field being edited). */
  setSettings(settings: PipelineSettings, field?: string): void;
  /** Replaces the pipeline's declared parameters. */
  setParameters(parameters: PipelineParameter[], coalesce?: string): void;
  /** spec.alerts; undefined (or none) leaves the key out, so a pipeline without rules saves as it was. */
  setAlerts(alerts: AlertRule[] | undefined): void;
}

export type EditorStore = StoreApi<EditorState>;

const VALIDATE_DEBOUNCE_MS = 120;
const VALIDATE_IDLE_WAIT_MS = 250;

/** Issue codes that mean the records arriving do not fit the node: a connection that causes one is refused. */
const SCHEMA_CONFLICTS = new Set(["expression-type", "type", "time-field-type", "cdc-input", "field-clash"]);

export function isDirty(s: Pick<EditorState, "edits" | "savedEdits">): boolean {
  return s.edits !== s.savedEdits;
}

/** The id of the one selected node, or null when none or several are selected. */
export function selectedNodeId(s: Pick<EditorState, "nodes">): string | null {
  let found: string | null = null;
  for (const n of s.nodes) {
    if (!n.selected) continue;
    if (found !== null) return null;
    found = n.id;
  }
  return found;
}

export function selectedCount(s: Pick<EditorState, "nodes" | "notes">): number {
  let count = 0;
  for (const n of s.nodes) if (n.selected) count++;
  for (const n of s.notes) if (n.selected) count++;
  return count;
}

function summarizeIssues(
  issues: readonly ValidationIssue[],
  schemas: EditorValidation["schemas"] = {},
  delivery: DeliveryPlan | null = null,
): EditorValidation {
  const byNode: Record<string, NodeIssueSummary> = {};
  let errorCount = 0;
  for (const issue of issues) {
    if (issue.severity === "error") errorCount++;
    if (issue.nodeId === undefined) continue;
    const s = byNode[issue.nodeId] ?? { errors: 0, warnings: 0, messages: [] };
    byNode[issue.nodeId] = s;
    if (issue.severity === "error") s.errors++;
    else s.warnings++;
    s.messages.push(issue.message);
  }
  return { issues, byNode, errorCount, schemas, delivery, done: true };
}

/** Keeps the previous summary object of nodes whose issues did not change, so their components do not re-render. */
function stableByNode(next: EditorValidation, previous: EditorValidation): EditorValidation {
  const byNode: Record<string, NodeIssueSummary> = {};
  for (const [id, s] of Object.entries(next.byNode)) {
    const old = previous.byNode[id];
    const same =
      old !== undefined &&
      old.errors === s.errors &&
      old.warnings === s.warnings &&
      old.messages.length === s.messages.length &&
      old.messages.every((m, i) => m === s.messages[i]);
    byNode[id] = same ? old : s;
  }
  return { ...next, byNode };
}

const EMPTY_VALIDATION: EditorValidation = {
  issues: [],
  byNode: {},
  errorCount: 0,
  schemas: {},
  delivery: null,
  done: false,
};

/** `value` with `next` at `path` (undefined removes an object key); never mutates. */
function setAtPath(value: unknown, path: ConfigPath, next: unknown): unknown {
  if (path.length === 0) return next;
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  if (typeof head === "number") {
    const list = Array.isArray(value) ? [...value] : [];
    list[head] = setAtPath(list[head], rest, next);
    return list;
  }
  const object =
    typeof value === "object" && value !== null && !Array.isArray(value)
      ? { ...(value as Record<string, unknown>) }
      : {};
  const child = setAtPath(object[head], rest, next);
  if (child === undefined) delete object[head];
  else object[head] = child;
  return object;
}

interface Snapshot {
  frame: DefinitionFrame;
  nodes: PipelineFlowNode[];
  edges: PipelineFlowEdge[];
  notes: NoteFlowNode[];
  edits: number;
}

/** The node without the handle positions it was added with (see node-shapes.ts). */
function withoutHandles(node: PipelineFlowNode): PipelineFlowNode {
  const { handles: _, ...rest } = node;
  return rest;
}

function unselect<T extends { selected?: boolean }>(list: T[]): T[] {
  return list.some((x) => x.selected) ? list.map((x) => (x.selected ? { ...x, selected: false } : x)) : list;
}

export function createEditorStore(runtime: EditorRuntime, initial: LoadedPipeline): EditorStore {
  const { catalog } = runtime;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let idle: number | undefined;
  let noticeSeq = 0;
  let focusSeq = 0;
  // A fresh number per state of the content; undo brings back the number of the state it restores.
  let contentSeq = 0;
  const history = new History<Snapshot>();
  // A mouse drag of nodes, or of a note's resize handle, in progress: all its moves are one undo step.
  let dragging = false;
  let resizing = false;
  const validate = runtime.createValidator(catalog);
  const validateOptions = (connections: EditorState["connections"]) => (connections ? { connections } : {});

  // Nodes shaped by the edit being applied (see node-shapes.ts). React Flow reads `handles` whenever it adopts a new
  // node object, and the handles are right only for the node as it was added: the next update of the nodes drops
  // them, so any later version of the node is measured by React Flow like every other.
  let shaped = new WeakSet<PipelineFlowNode>();
  let shapes: NodeShapeSource | null = null;
  const shapedNode = (node: PipelineFlowNode): PipelineFlowNode => {
    const def = catalog.get(node.data.type);
    if (!shapes || !def) return node;
    const view = nodeView(def, node.data.config);
    const shape = shapes(
      node.data.type,
      view.inputs.map((p) => p.name),
      view.outputs.map((p) => p.name),
    );
    if (!shape) return node;
    const next = { ...node, ...shape };
    shaped.add(next);
    return next;
  };

  const store = createStore<EditorState>()((setState, get) => {
    type Patch = Partial<EditorState>;
    const settle = (nodes: PipelineFlowNode[]): PipelineFlowNode[] =>
      nodes.some((n) => n.handles !== undefined && !shaped.has(n))
        ? nodes.map((n) => (n.handles !== undefined && !shaped.has(n) ? withoutHandles(n) : n))
        : nodes;
    const set = (patch: Patch | ((s: EditorState) => Patch)) => {
      setState((s) => {
        const next = typeof patch === "function" ? patch(s) : patch;
        return next.nodes && next.nodes !== s.nodes ? { ...next, nodes: settle(next.nodes) } : next;
      });
      shaped = new WeakSet();
    };
    const snapshot = (): Snapshot => {
      const { frame, nodes, edges, notes, edits } = get();
      return { frame, nodes, edges, notes, edits };
    };

    /**
     * An edit of the content: records an undo step (unless it continues the last one, see History), gives the
     * content a new number, and with `semantic` (anything but positions) re-validates.
     */
    const change = (
      patch: Partial<Pick<EditorState, "frame" | "nodes" | "edges" | "notes">>,
      options: { semantic?: boolean; coalesce?: string; record?: boolean } = {},
    ) => {
      const { semantic = true, coalesce, record = true } = options;
      if (record) history.record(snapshot(), coalesce);
      const edges = patch.edges;
      set((s) => ({
        ...patch,
        ...(edges && edges !== s.edges ? { portUse: derivePortUse(edges, s.portUse) } : {}),
        edits: ++contentSeq,
        revision: semantic ? s.revision + 1 : s.revision,
        canUndo: history.canUndo,
        canRedo: history.canRedo,
      }));
    };

    const restore = (to: Snapshot) => {
      set((s) => ({
        frame: to.frame,
        nodes: to.nodes,
        edges: to.edges,
        notes: to.notes,
        portUse: derivePortUse(to.edges, s.portUse),
        edits: to.edits,
        revision: s.revision + 1,
        canUndo: history.canUndo,
        canRedo: history.canRedo,
      }));
    };

    const updateNode = (nodeId: string, update: (n: PipelineFlowNode) => PipelineFlowNode, coalesce?: string) =>
      change({ nodes: get().nodes.map((n) => (n.id === nodeId ? update(n) : n)) }, coalesce ? { coalesce } : {});

    /** A connection's ports, with the node's first port where the connection names none. */
    const resolvePorts = (c: Connection) => {
      const { nodes } = get();
      const from = nodes.find((n) => n.id === c.source);
      const to = nodes.find((n) => n.id === c.target);
      const fromDef = from && catalog.get(from.data.type);
      const toDef = to && catalog.get(to.data.type);
      const fromPort = c.sourceHandle ?? (fromDef ? nodeView(fromDef, from.data.config).outputs[0]?.name : undefined);
      const toPort = c.targetHandle ?? (toDef ? nodeView(toDef, to.data.config).inputs[0]?.name : undefined);
      return { fromPort: fromPort ?? OUT_PORT, toPort: toPort ?? IN_PORT };
    };

    /**
     * Whether the records the new edge brings clash with the target node (say, join keys of different types): the
     * target's part of the graph is validated with and without the edge, and errors that only appear with it
     * (of the kinds in SCHEMA_CONFLICTS) are the reason to refuse.
     */
    const schemaProblem = (c: Connection, fromPort: string, toPort: string): string | null => {
      const { nodes, edges, frame, connections } = get();
      const incoming = new Map<string, string[]>();
      for (const e of edges) incoming.set(e.target, [...(incoming.get(e.target) ?? []), e.source]);
      const keep = new Set<string>();
      const stack = [c.source, c.target];
      while (stack.length > 0) {
        const id = stack.pop()!;
        if (keep.has(id)) continue;
        keep.add(id);
        stack.push(...(incoming.get(id) ?? []));
      }
      const subNodes = nodes.filter((n) => keep.has(n.id));
      const subEdges = edges.filter((e) => keep.has(e.source) && keep.has(e.target));
      const withEdge = [...subEdges, makeFlowEdge(c.source, c.target, edgeData(fromPort, toPort))];
      const key = (i: ValidationIssue) => `${i.code}|${(i.path ?? []).join(".")}|${i.message}`;
      const errorsAt = (list: PipelineFlowEdge[]) =>
        validate(toDefinition(frame, subNodes, list), validateOptions(connections)).issues.filter(
          (i) => i.nodeId === c.target && i.severity === "error",
        );
      const before = new Set(errorsAt(subEdges).map(key));
      const conflict = errorsAt(withEdge).find((i) => !before.has(key(i)) && SCHEMA_CONFLICTS.has(i.code));
      if (!conflict) return null;
      const to = nodes.find((n) => n.id === c.target);
      const title = (to && catalog.get(to.data.type)?.title) ?? "The node";
      const message = conflict.message.length > 0 ? conflict.message : conflict.code;
      return `The records of ${c.source} do not fit ${title} (${c.target}): ${message}. Change its settings first.`;
    };

    const addEdge = (c: Connection): boolean => {
      const { nodes, edges } = get();
      const problem = connectionProblem(c, nodes, edges, catalog);
      if (problem) {
        get().showNotice(problem);
        return false;
      }
      const { fromPort, toPort } = resolvePorts(c);
      const clash = schemaProblem(c, fromPort, toPort);
      if (clash) {
        get().showNotice(clash);
        return false;
      }
      const edge = makeFlowEdge(c.source, c.target, edgeData(fromPort, toPort));
      change({ edges: [...unselect(edges), edge] });
      return true;
    };

    const flowFrom = (definition: PipelineDefinition) => toFlow(definition, runtime);

    return {
      pipelineId: "",
      name: "",
      baseVersion: 0,
      frame: {
        apiVersion: "sluice/v1",
        kind: "Pipeline",
        metadata: { name: "pipeline" },
        spec: { settings: { parallelism: 4, delivery: "exactly-once", batchSize: 1000 }, parameters: [] },
      },
      nodes: [],
      edges: [],
      notes: [],
      portUse: {},
      edits: 0,
      savedEdits: 0,
      revision: 0,
      validation: EMPTY_VALIDATION,
      connections: null,
      notice: null,
      focus: null,
      canUndo: false,
      canRedo: false,

      load(pipeline) {
        const { frame, nodes, edges, notes } = flowFrom(pipeline.version.definition);
        history.clear();
        const edits = ++contentSeq;
        set((s) => ({
          pipelineId: pipeline.id,
          name: pipeline.name,
          baseVersion: pipeline.version.number,
          frame,
          nodes,
          edges,
          notes,
          portUse: derivePortUse(edges, {}),
          edits,
          savedEdits: edits,
          revision: s.revision + 1,
          notice: null,
          focus: null,
          canUndo: false,
          canRedo: false,
        }));
      },

      onNodesChange(changes) {
        const nodeChanges: NodeChange<PipelineFlowNode>[] = [];
        const noteChanges: NodeChange<NoteFlowNode>[] = [];
        let record = false;
        let coalesce: string | undefined;
        let content = false;
        let semantic = false;
        for (const c of changes) {
          const id = c.type === "add" ? c.item.id : c.id;
          if (isNoteId(id)) noteChanges.push(c as NodeChange<NoteFlowNode>);
          else nodeChanges.push(c as NodeChange<PipelineFlowNode>);
          if (c.type === "position" && c.position !== undefined) {
            content = true;
            if (resizing) {
              // a note resized from its top or left edge moves too: part of the resize
            } else if (c.dragging) {
              if (!dragging) record = true;
              dragging = true;
            } else if (dragging) {
              dragging = false; // the drop: part of the drag's step
            } else {
              record = true; // a keyboard nudge: nudges in a row are one step
              coalesce = "nudge";
            }
          } else if (c.type === "dimensions" && c.resizing !== undefined) {
            content = true;
            if (c.resizing) {
              if (!resizing) record = true;
              resizing = true;
            } else resizing = false;
          } else if (c.type === "remove" || c.type === "add" || c.type === "replace") {
            record = true;
            content = true;
            semantic = true;
          }
        }
        const s = get();
        const nodes = nodeChanges.length > 0 ? applyNodeChanges(nodeChanges, s.nodes) : s.nodes;
        const notes = noteChanges.length > 0 ? applyNodeChanges(noteChanges, s.notes) : s.notes;
        if (!content) {
          set({ nodes, notes });
          return;
        }
        if (semantic) {
          const ids = new Set(nodes.map((n) => n.id));
          const edges = s.edges.filter((e) => ids.has(e.source) && ids.has(e.target));
          change({ nodes, notes, edges }, { record });
          return;
        }
        change({ nodes, notes }, { semantic: false, record, ...(coalesce ? { coalesce } : {}) });
      },

      onEdgesChange(changes) {
        const edges = applyEdgeChanges(changes, get().edges);
        if (changes.some((c) => c.type === "remove" || c.type === "add" || c.type === "replace")) change({ edges });
        else set({ edges });
      },

      setNodeShapes(source) {
        shapes = source;
      },

      connect(connection) {
        return addEdge(connection);
      },

      disconnect(edgeIds) {
        const ids = new Set(edgeIds);
        const edges = get().edges.filter((e) => !ids.has(e.id));
        if (edges.length !== get().edges.length) change({ edges });
      },

      addNode(type, position, options) {
        const def = catalog.get(type);
        if (!def) return null;
        const { nodes, notes, edges } = get();
        const id = nextNodeId(type, new Set(nodes.map((n) => n.id)));
        const node = shapedNode(
          makeFlowNode(
            catalog,
            id,
            { type, config: initialConfig(runtime.configJsonSchema(def)), ui: {} },
            position,
            true,
          ),
        );
        const nextNodes = [...unselect(nodes), node];
        let nextEdges = unselect(edges);
        const from = options?.connectFrom ? nodes.find((n) => n.id === options.connectFrom) : undefined;
        const fromDef = from && catalog.get(from.data.type);
        if (from && fromDef) {
          // The first output with nothing on it yet (else the first one), into the new node's first input.
          const outputs = nodeView(fromDef, from.data.config).outputs;
          const used = new Set(edges.filter((e) => e.source === from.id).map((e) => e.sourceHandle));
          const port = outputs.find((p) => !used.has(p.name)) ?? outputs[0];
          const c = { source: from.id, target: id, sourceHandle: port?.name ?? null, targetHandle: null };
          if (port && connectionProblem(c, nextNodes, nextEdges, catalog) === null) {
            const toPort = nodeView(def, node.data.config).inputs[0]?.name ?? IN_PORT;
            nextEdges = [...nextEdges, makeFlowEdge(from.id, id, edgeData(port.name, toPort))];
          }
        }
        change({ nodes: nextNodes, edges: nextEdges, notes: unselect(notes) });
        return id;
      },

      setConfigAt(nodeId, path, value) {
        updateNode(
          nodeId,
          (n) => ({ ...n, data: { ...n.data, config: (setAtPath(n.data.config, path, value) ?? {}) as never } }),
          `config:${nodeId}:${path.join(".")}`,
        );
      },

      setConfigValue(nodeId, key, value) {
        get().setConfigAt(nodeId, [key], value);
      },

      replaceConfig(nodeId, config) {
        updateNode(nodeId, (n) => ({ ...n, data: { ...n.data, config } }), `config:${nodeId}:*`);
      },

      renameNode(from, to) {
        if (from === to) return null;
        const { nodes, edges } = get();
        const problem = nodeIdProblem(
          to,
          new Set(nodes.map((n) => n.id).filter((id) => id !== from)),
          runtime.nodeIdPattern,
        );
        if (problem) return problem;
        const title = (type: string) => catalog.get(type)?.title ?? type;
        const rename = (id: string) => (id === from ? to : id);
        change({
          nodes: nodes.map((n) =>
            n.id === from ? { ...n, id: to, ariaLabel: nodeAriaLabel(title(n.data.type), to) } : n,
          ),
          edges: edges.map((e) =>
            e.source === from || e.target === from
              ? { ...makeFlowEdge(rename(e.source), rename(e.target), e.data ?? {}), selected: e.selected ?? false }
              : e,
          ),
        });
        return null;
      },

      deleteSelection() {
        const { nodes, edges, notes } = get();
        const gone = new Set(nodes.filter((n) => n.selected).map((n) => n.id));
        const keptNodes = nodes.filter((n) => !gone.has(n.id));
        const keptNotes = notes.filter((n) => !n.selected);
        const keptEdges = edges.filter((e) => !e.selected && !gone.has(e.source) && !gone.has(e.target));
        const removed =
          nodes.length - keptNodes.length + (notes.length - keptNotes.length) + (edges.length - keptEdges.length);
        if (removed > 0) change({ nodes: keptNodes, notes: keptNotes, edges: keptEdges });
        return removed;
      },

      selectAll() {
        set((s) => ({
          nodes: s.nodes.map((n) => (n.selected ? n : { ...n, selected: true })),
          notes: s.notes.map((n) => (n.selected ? n : { ...n, selected: true })),
        }));
      },

      selectNode(nodeId, options) {
        set((s) => ({
          nodes: s.nodes.map((n) =>
            (n.id === nodeId) === Boolean(n.selected) ? n : { ...n, selected: n.id === nodeId },
          ),
          notes: unselect(s.notes),
          edges: unselect(s.edges),
          ...(options?.focus && nodeId ? { focus: { nodeId, path: options.path ?? null, seq: ++focusSeq } } : {}),
        }));
      },

      addNote(position, text = "") {
        const { notes, nodes, edges } = get();
        const taken = new Set(notes.map((n) => n.id));
        let n = notes.length + 1;
        while (taken.has(`${NOTE_PREFIX}${n}`)) n++;
        const id = `${NOTE_PREFIX}${n}`;
        const note = makeNoteNode(
          {
            id,
            x: Math.round(position.x),
            y: Math.round(position.y),
            width: NOTE_WIDTH,
            height: NOTE_HEIGHT,
            text,
          },
          true,
        );
        change(
          { notes: [...unselect(notes), note], nodes: unselect(nodes), edges: unselect(edges) },
          { semantic: false },
        );
        return id;
      },

      setNoteText(noteId, text) {
        const notes = get().notes.map((n) => (n.id === noteId ? { ...n, data: { ...n.data, text } } : n));
        change({ notes }, { semantic: false, coalesce: `note:${noteId}` });
      },

      copySelection() {
        const { nodes, edges, notes } = get();
        return selectionPayload(nodes, edges, notes);
      },

      paste(payload, at) {
        const { nodes, edges, notes } = get();
        const plan = planPaste(
          payload,
          new Set(nodes.map((n) => n.id)),
          new Set(notes.map((n) => n.id)),
          runtime.nodeIdPattern,
          at,
          [...nodes.map((n) => n.position), ...notes.map((n) => n.position)],
        );
        const added = plan.nodes.map((n) => {
          const { x, y, ...ui } = n.ui ?? { x: 0, y: 0 };
          return shapedNode(
            makeFlowNode(
              catalog,
              n.id,
              { type: n.type, config: n.config, ui, ...(n.version !== undefined ? { version: n.version } : {}) },
              { x, y },
              true,
            ),
          );
        });
        const addedEdges = plan.edges.map((e) => ({
          ...makeFlowEdge(e.from, e.to, {
            ...(e.fromPort !== undefined ? { fromPort: e.fromPort } : {}),
            ...(e.toPort !== undefined ? { toPort: e.toPort } : {}),
            ...(e.ui !== undefined ? { ui: e.ui } : {}),
          }),
        }));
        const addedNotes = plan.notes.map((n) => makeNoteNode(n, true));
        const count = added.length + addedNotes.length;
        if (count === 0) return 0;
        change({
          nodes: [...unselect(nodes), ...added],
          edges: [...unselect(edges), ...addedEdges],
          notes: [...unselect(notes), ...addedNotes],
        });
        return count;
      },

      applyLayout(positions) {
        const nodes = get().nodes.map((n) => {
          const p = positions.get(n.id);
          return p && (p.x !== n.position.x || p.y !== n.position.y) ? { ...n, position: p } : n;
        });
        change({ nodes }, { semantic: false });
        history.seal();
      },

      restoreDefinition(definition) {
        const { frame, nodes, edges, notes } = flowFrom(definition);
        change({ frame, nodes, edges, notes });
        history.seal();
      },

      undo() {
        dragging = resizing = false;
        const to = history.undo(snapshot());
        if (to) restore(to);
      },

      redo() {
        dragging = resizing = false;
        const to = history.redo(snapshot());
        if (to) restore(to);
      },

      markSaved(version, atEdits) {
        set({ baseVersion: version, savedEdits: atEdits });
      },

      setConnections(connections) {
        set((s) => ({ connections, revision: s.revision + 1 }));
      },

      showNotice(text) {
        set({ notice: { seq: ++noticeSeq, text } });
      },

      dismissNotice() {
        set({ notice: null });
      },

      definition() {
        const { frame, nodes, edges, notes } = get();
        return toDefinition(frame, nodes, edges, notes);
      },

      validateNow() {
        clearTimeout(timer);
        if (idle !== undefined) {
          cancelIdleCallback(idle);
          idle = undefined;
        }
        revalidate();
        return get().validation;
      },

      setSettings(settings, field) {
        const { frame } = get();
        change({ frame: { ...frame, spec: { ...frame.spec, settings } } }, { coalesce: `settings:${field ?? "*"}` });
      },

      setParameters(parameters, coalesce) {
        const { frame } = get();
        change(
          { frame: { ...frame, spec: { ...frame.spec, parameters } } },
          coalesce ? { coalesce: `parameters:${coalesce}` } : {},
        );
      },

      setAlerts(alerts) {
        const { frame } = get();
        const { alerts: _, ...spec } = frame.spec;
        change(
          { frame: { ...frame, spec: alerts && alerts.length > 0 ? { ...spec, alerts } : spec } },
          { coalesce: "alerts" },
        );
      },
    };
  });

  // One validator per editor: it remembers per-node work, so an edit re-checks only what it affects.
  function revalidate() {
    const state = store.getState();
    const definition = state.definition();
    const result = validate(definition, validateOptions(state.connections));
    // The plan needs a definition the file format accepts; the one validation returns is that, with defaults.
    const delivery = result.definition ? runtime.planDelivery(result.definition, catalog, result.configs) : null;
    store.setState({
      validation: stableByNode(summarizeIssues(result.issues, result.schemas, delivery), store.getState().validation),
    });
  }
  store.getState().load(initial);
  // The first validation runs after the first render, so a large pipeline is on screen before it is checked.
  timer = setTimeout(revalidate, 0);
  // After an edit: once edits pause, and then when the browser is idle, so checking a large pipeline never delays
  // the frame that shows the edit (at most VALIDATE_IDLE_WAIT_MS later if the page never idles).
  const revalidateWhenIdle = () => {
    if (typeof requestIdleCallback === "undefined") return revalidate();
    idle = requestIdleCallback(
      () => {
        idle = undefined;
        revalidate();
      },
      { timeout: VALIDATE_IDLE_WAIT_MS },
    );
  };
  store.subscribe((state, previous) => {
    if (state.revision === previous.revision) return;
    clearTimeout(timer);
    if (idle !== undefined) {
      cancelIdleCallback(idle);
      idle = undefined;
    }
    timer = setTimeout(revalidateWhenIdle, VALIDATE_DEBOUNCE_MS);
  });
  return store;
}
