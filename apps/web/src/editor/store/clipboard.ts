import type { PipelineEdge, PipelineNode } from "@sluice/pipeline/definition";
import type { XYPosition } from "@xyflow/react";
import {
  type DefinitionFrame,
  edgeKey,
  freeIdLike,
  isNoteId,
  NOTE_PREFIX,
  type NoteFlowNode,
  nextNodeId,
  type PipelineFlowEdge,
  type PipelineFlowNode,
  readNotes,
  type StoredNote,
  storedNote,
  toDefinition,
} from "./flow-model";

// Copy and paste of canvas selections through the system clipboard, as definition JSON: the same node and edge
// shapes as a pipeline file, so a selection pastes into another pipeline, another tab, or a text editor.

export const CLIPBOARD_KIND = "sluice/nodes";

export interface ClipboardPayload {
  kind: typeof CLIPBOARD_KIND;
  nodes: PipelineNode[];
  edges: PipelineEdge[];
  notes?: StoredNote[];
}

const EMPTY_FRAME: DefinitionFrame = {
  apiVersion: "sluice/v1",
  kind: "Pipeline",
  metadata: { name: "clipboard" },
  spec: { settings: { parallelism: 1, delivery: "at-least-once", batchSize: 1 }, parameters: [] },
};

/** The selected nodes, the edges between them, and the selected notes; null when nothing is selected. */
export function selectionPayload(
  nodes: readonly PipelineFlowNode[],
  edges: readonly PipelineFlowEdge[],
  notes: readonly NoteFlowNode[],
): ClipboardPayload | null {
  const chosen = nodes.filter((n) => n.selected);
  const chosenNotes = notes.filter((n) => n.selected);
  if (chosen.length === 0 && chosenNotes.length === 0) return null;
  const ids = new Set(chosen.map((n) => n.id));
  const inner = edges.filter((e) => ids.has(e.source) && ids.has(e.target));
  const { spec } = toDefinition(EMPTY_FRAME, chosen, inner);
  const payload: ClipboardPayload = { kind: CLIPBOARD_KIND, nodes: spec.nodes, edges: spec.edges };
  if (chosenNotes.length > 0) payload.notes = chosenNotes.map(storedNote);
  return payload;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Reads clipboard text; null when it is not a Sluice selection (so ordinary text pastes stay untouched). */
export function parseClipboard(text: string): ClipboardPayload | null {
  if (!text.includes(CLIPBOARD_KIND)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isRecord(raw) || raw.kind !== CLIPBOARD_KIND || !Array.isArray(raw.nodes)) return null;
  const nodes: PipelineNode[] = [];
  for (const n of raw.nodes) {
    if (!isRecord(n) || typeof n.id !== "string" || typeof n.type !== "string") continue;
    const node: PipelineNode = { id: n.id, type: n.type, config: isRecord(n.config) ? n.config : {} };
    if (typeof n.version === "number") node.version = n.version;
    if (isRecord(n.ui) && typeof n.ui.x === "number" && typeof n.ui.y === "number") {
      node.ui = n.ui as PipelineNode["ui"];
    }
    nodes.push(node);
  }
  const edges: PipelineEdge[] = [];
  for (const e of Array.isArray(raw.edges) ? raw.edges : []) {
    if (!isRecord(e) || typeof e.from !== "string" || typeof e.to !== "string") continue;
    const edge: PipelineEdge = { from: e.from, to: e.to };
    if (typeof e.fromPort === "string") edge.fromPort = e.fromPort;
    if (typeof e.toPort === "string") edge.toPort = e.toPort;
    if (isRecord(e.ui)) edge.ui = e.ui;
    edges.push(edge);
  }
  const notes = readNotes({ notes: raw.notes });
  if (nodes.length === 0 && notes.length === 0) return null;
  return { kind: CLIPBOARD_KIND, nodes, edges, ...(notes.length > 0 ? { notes } : {}) };
}

export interface PastePlan {
  nodes: PipelineNode[];
  edges: PipelineEdge[];
  notes: StoredNote[];
  /** Old id → new id, for nodes whose id was taken. */
  renamed: Map<string, string>;
}

/**
 * Makes a payload fit a pipeline: ids already taken get the next free number (`filter1` → `filter2`), edges follow
 * the renames, edges to nodes outside the payload are dropped, and the whole group is moved so its top-left corner
 * lands at `at` (or 40 px down and right of where it was copied, when no point is given). A group that would lie
 * exactly over what is already there (`occupied`: the positions of the nodes and notes on the canvas) — pasting twice
 * without moving the pointer — moves on 40 px down and right until it does not, so the copy never hides its original.
 */
export function planPaste(
  payload: ClipboardPayload,
  takenIds: ReadonlySet<string>,
  takenNoteIds: ReadonlySet<string>,
  idPattern: RegExp,
  at?: XYPosition,
  occupied: readonly XYPosition[] = [],
): PastePlan {
  const taken = new Set(takenIds);
  const renamed = new Map<string, string>();
  const ids = new Map<string, string>();
  for (const n of payload.nodes) {
    if (ids.has(n.id)) continue; // a duplicate inside the payload: keep the first
    const wanted = idPattern.test(n.id) ? n.id : nextNodeId(n.type, taken);
    const id = freeIdLike(wanted, taken);
    taken.add(id);
    ids.set(n.id, id);
    if (id !== n.id) renamed.set(n.id, id);
  }
  const placed = payload.nodes.filter((n, i) => payload.nodes.findIndex((m) => m.id === n.id) === i);
  const notes = payload.notes ?? [];
  const xs = [...placed.map((n) => n.ui?.x ?? 0), ...notes.map((n) => n.x)];
  const ys = [...placed.map((n) => n.ui?.y ?? 0), ...notes.map((n) => n.y)];
  const left = xs.length > 0 ? Math.min(...xs) : 0;
  const top = ys.length > 0 ? Math.min(...ys) : 0;
  let dx = at ? Math.round(at.x - left) : 40;
  let dy = at ? Math.round(at.y - top) : 40;
  const origins = [...placed.map((n, i) => ({ x: n.ui?.x ?? i * 40, y: n.ui?.y ?? i * 40 })), ...notes];
  const stacked = () =>
    origins.some((p) => occupied.some((o) => Math.abs(o.x - (p.x + dx)) < 8 && Math.abs(o.y - (p.y + dy)) < 8));
  for (let step = 0; step < 50 && stacked(); step++) {
    dx += 40;
    dy += 40;
  }
  const nodes = placed.map((n, i) => ({
    ...n,
    id: ids.get(n.id)!,
    ui: { ...(n.ui ?? {}), x: (n.ui?.x ?? i * 40) + dx, y: (n.ui?.y ?? i * 40) + dy },
  }));
  const edgeKeys = new Set<string>();
  const edges: PipelineEdge[] = [];
  for (const e of payload.edges) {
    const from = ids.get(e.from);
    const to = ids.get(e.to);
    if (!from || !to) continue;
    const key = edgeKey({ ...e, from, to });
    if (edgeKeys.has(key)) continue;
    edgeKeys.add(key);
    edges.push({ ...e, from, to });
  }
  const noteIds = new Set(takenNoteIds);
  let seq = noteIds.size + 1;
  const pastedNotes = notes.map((n) => {
    let id = n.id;
    while (noteIds.has(id) || !isNoteId(id)) id = `${NOTE_PREFIX}${seq++}`;
    noteIds.add(id);
    return { ...n, id, x: n.x + dx, y: n.y + dy };
  });
  return { nodes, edges, notes: pastedNotes, renamed };
}
