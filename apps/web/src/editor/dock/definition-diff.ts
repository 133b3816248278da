import type { PipelineDefinition } from "@sluice/pipeline/definition";
import { edgeKey, IN_PORT, OUT_PORT } from "../store/flow-model";

// What changed between two pipeline definitions, node by node: the versions dialog lists it and draws it on a
// read-only canvas. Pure, so it is tested on its own. Positions (`ui.x`/`ui.y`) are told apart from real changes:
// a node that only moved is "moved", not "changed".

export type ValueChangeKind = "added" | "removed" | "changed";

export interface ValueChange {
  /** Where, e.g. `config.where`, `config.aggregates.hits`, `config.key[0].expr`, `type`. */
  path: string;
  kind: ValueChangeKind;
  before: unknown;
  after: unknown;
}

export type NodeDiffKind = "added" | "removed" | "changed" | "moved" | "unchanged";

export interface NodeDiff {
  id: string;
  kind: NodeDiffKind;
  /** The node's type in the newer definition (the older one for a removed node). */
  type: string;
  changes: ValueChange[];
}

export type EdgeDiffKind = "added" | "removed" | "unchanged";

export interface EdgeDiff {
  key: string;
  from: string;
  to: string;
  fromPort: string;
  toPort: string;
  kind: EdgeDiffKind;
}

export interface DefinitionDiff {
  nodes: NodeDiff[];
  edges: EdgeDiff[];
  /** Settings, parameters and metadata. */
  pipeline: ValueChange[];
  counts: { added: number; removed: number; changed: number; moved: number; edgesAdded: number; edgesRemoved: number };
}

type DefEdge = PipelineDefinition["spec"]["edges"][number];

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function join(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  const safe = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? key : JSON.stringify(key);
  return path ? `${path}.${safe}` : safe;
}

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  const ak = Object.keys(a as object);
  const bk = Object.keys(b as object);
  return (
    ak.length === bk.length &&
    ak.every(
      (k) =>
        Object.hasOwn(b as object, k) && same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
    )
  );
}

/**
 * The leaf-most differences between two values: objects are compared key by key, arrays of the same length element by
 * element; anything else that differs is one change at its path.
 */
export function diffValues(before: unknown, after: unknown, path = ""): ValueChange[] {
  if (same(before, after)) return [];
  if (before === undefined) return [{ path, kind: "added", before, after }];
  if (after === undefined) return [{ path, kind: "removed", before, after }];
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((k) => diffValues(before[k], after[k], join(path, k)));
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((b, i) => diffValues(b, after[i], join(path, i)));
  }
  return [{ path, kind: "changed", before, after }];
}

type DefNode = PipelineDefinition["spec"]["nodes"][number];

function withoutPosition(ui: DefNode["ui"]): Record<string, unknown> {
  if (!ui) return {};
  const { x: _x, y: _y, ...rest } = ui;
  return rest;
}

function nodeChanges(before: DefNode, after: DefNode): { changes: ValueChange[]; moved: boolean } {
  const changes = [
    ...diffValues(before.type, after.type, "type"),
    ...diffValues(before.version, after.version, "version"),
    ...diffValues(before.config ?? {}, after.config ?? {}, "config"),
    ...diffValues(withoutPosition(before.ui), withoutPosition(after.ui), "ui"),
  ];
  const moved = before.ui?.x !== after.ui?.x || before.ui?.y !== after.ui?.y;
  return { changes, moved };
}

function edgeOf(e: DefEdge, kind: EdgeDiffKind): EdgeDiff {
  return {
    key: edgeKey(e),
    from: e.from,
    to: e.to,
    fromPort: e.fromPort ?? OUT_PORT,
    toPort: e.toPort ?? IN_PORT,
    kind,
  };
}

/** What turns `before` into `after`. Nodes keep `after`'s order, removed ones follow. */
export function diffDefinitions(before: PipelineDefinition, after: PipelineDefinition): DefinitionDiff {
  const oldNodes = new Map(before.spec.nodes.map((n) => [n.id, n]));
  const newIds = new Set(after.spec.nodes.map((n) => n.id));
  const nodes: NodeDiff[] = [];
  for (const node of after.spec.nodes) {
    const old = oldNodes.get(node.id);
    if (!old) {
      nodes.push({ id: node.id, kind: "added", type: node.type, changes: [] });
      continue;
    }
    const { changes, moved } = nodeChanges(old, node);
    const kind: NodeDiffKind = changes.length > 0 ? "changed" : moved ? "moved" : "unchanged";
    nodes.push({ id: node.id, kind, type: node.type, changes });
  }
  for (const node of before.spec.nodes) {
    if (!newIds.has(node.id)) nodes.push({ id: node.id, kind: "removed", type: node.type, changes: [] });
  }

  const oldEdges = new Set(before.spec.edges.map(edgeKey));
  const newEdges = new Set(after.spec.edges.map(edgeKey));
  const edges: EdgeDiff[] = [
    ...after.spec.edges.map((e) => edgeOf(e, oldEdges.has(edgeKey(e)) ? "unchanged" : "added")),
    ...before.spec.edges.filter((e) => !newEdges.has(edgeKey(e))).map((e) => edgeOf(e, "removed")),
  ];

  const pipeline = [
    ...diffValues(before.metadata, after.metadata, "metadata"),
    ...diffValues(before.spec.settings, after.spec.settings, "settings"),
    ...diffValues(before.spec.parameters, after.spec.parameters, "parameters"),
  ];

  const count = (kind: NodeDiffKind) => nodes.filter((n) => n.kind === kind).length;
  return {
    nodes,
    edges,
    pipeline,
    counts: {
      added: count("added"),
      removed: count("removed"),
      changed: count("changed"),
      moved: count("moved"),
      edgesAdded: edges.filter((e) => e.kind === "added").length,
      edgesRemoved: edges.filter((e) => e.kind === "removed").length,
    },
  };
}

/** Whether anything that changes what the pipeline does differs (moves alone do not). */
export function hasSemanticChanges(diff: DefinitionDiff): boolean {
  const c = diff.counts;
  return c.added + c.removed + c.changed + c.edgesAdded + c.edgesRemoved + diff.pipeline.length > 0;
}

/** A value as one short line for the change list. */
export function formatValue(value: unknown, max = 120): string {
  if (value === undefined) return "—";
  const text = typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
