import type { PipelineDefinition } from "@sluice/pipeline/definition";

// What changed between two versions of a pipeline: nodes and edges added or removed, and for nodes in both, the
// type and each config field that differs (by dotted path). Positions are left out: moving a node is no change
// anyone wants to review. A pure function, so the versions panel only renders its result.

export interface FieldChange {
  /** Dotted path inside the node's config, e.g. "where" or "set.total". */
  path: string;
  before: unknown;
  after: unknown;
}

export interface NodeChange {
  id: string;
  type: string;
  /** Set when the node's type itself changed. */
  typeBefore?: string;
  fields: FieldChange[];
}

export interface VersionDiff {
  addedNodes: { id: string; type: string }[];
  removedNodes: { id: string; type: string }[];
  changedNodes: NodeChange[];
  addedEdges: string[];
  removedEdges: string[];
  /** Pipeline settings that differ (parallelism, delivery, …). */
  settings: FieldChange[];
}

type Edge = PipelineDefinition["spec"]["edges"][number];

const edgeKey = (e: Edge) =>
  `${e.from}${e.fromPort && e.fromPort !== "out" ? `.${e.fromPort}` : ""} → ${e.to}${e.toPort && e.toPort !== "in" ? `.${e.toPort}` : ""}`;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Leaf-level differences of two JSON values; arrays and scalars compare whole. */
function fieldChanges(before: unknown, after: unknown, prefix: string, out: FieldChange[]): void {
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    for (const key of keys) fieldChanges(before[key], after[key], prefix ? `${prefix}.${key}` : key, out);
    return;
  }
  if (JSON.stringify(before) !== JSON.stringify(after)) out.push({ path: prefix || "(all)", before, after });
}

export function diffVersions(before: PipelineDefinition, after: PipelineDefinition): VersionDiff {
  const oldNodes = new Map(before.spec.nodes.map((n) => [n.id, n]));
  const newNodes = new Map(after.spec.nodes.map((n) => [n.id, n]));
  const diff: VersionDiff = {
    addedNodes: [],
    removedNodes: [],
    changedNodes: [],
    addedEdges: [],
    removedEdges: [],
    settings: [],
  };
  for (const [id, n] of newNodes) {
    const old = oldNodes.get(id);
    if (!old) {
      diff.addedNodes.push({ id, type: n.type });
      continue;
    }
    const fields: FieldChange[] = [];
    fieldChanges(old.config, n.config, "", fields);
    if (fields.length > 0 || old.type !== n.type) {
      diff.changedNodes.push({ id, type: n.type, ...(old.type !== n.type ? { typeBefore: old.type } : {}), fields });
    }
  }
  for (const [id, n] of oldNodes) if (!newNodes.has(id)) diff.removedNodes.push({ id, type: n.type });
  const oldEdges = new Set(before.spec.edges.map(edgeKey));
  const newEdges = new Set(after.spec.edges.map(edgeKey));
  for (const e of newEdges) if (!oldEdges.has(e)) diff.addedEdges.push(e);
  for (const e of oldEdges) if (!newEdges.has(e)) diff.removedEdges.push(e);
  fieldChanges(before.spec.settings, after.spec.settings, "", diff.settings);
  return diff;
}

export function isEmptyDiff(d: VersionDiff): boolean {
  return (
    d.addedNodes.length +
      d.removedNodes.length +
      d.changedNodes.length +
      d.addedEdges.length +
      d.removedEdges.length ===
      0 && d.settings.length === 0
  );
}
