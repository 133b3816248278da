import { connectionRefs } from "./connection-definition";
import type { PipelineDefinition, PipelineParameter } from "./definition";
import type { NodeCatalog } from "./node-definition";
import { type ParameterValue, parameterValueProblem } from "./parameters";

// What happens to a pipeline on its way into a template and out of one. Publishing turns every connection a node
// names outright into a connection slot (the publisher's connection name stays as the slot's default, so a user
// with a connection of that name finds it bound already). Using a template writes the user's values in as the
// parameters' defaults: the new pipeline is an ordinary one, and its values are where an upgrade finds them.
// Upgrading carries those values into the new version wherever the parameter still takes them.

const WHOLE_REF = /^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/;

/** A parameter name for a connection name: "core-banking" → "core_banking". */
function slotName(connection: string, taken: ReadonlySet<string>): string {
  const base = `${/^[A-Za-z_]/.test(connection) ? "" : "c_"}${connection.replace(/[^A-Za-z0-9_]+/g, "_")}`.slice(0, 56);
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}_${i}`;
  return name;
}

export interface SlottedDefinition {
  definition: PipelineDefinition;
  /** Connection types the pipeline uses, sorted: slots' and any a node names. */
  connectors: string[];
}

/**
 * The definition with each connection a node names outright replaced by a connection slot: one slot per connection
 * name, typed by the field that names it, defaulting to that name. Fields already bound to a parameter are kept.
 */
export function slotConnections(definition: PipelineDefinition, catalog: NodeCatalog): SlottedDefinition {
  const parameters = [...definition.spec.parameters];
  const taken = new Set(parameters.map((p) => p.name));
  const slotOf = new Map<string, string>();
  const connectors = new Set<string>();
  for (const p of parameters) if (p.type === "connection" && p.connectorType) connectors.add(p.connectorType);
  const nodes = definition.spec.nodes.map((node) => {
    const def = catalog.get(node.type);
    if (!def) return node;
    const config = { ...node.config };
    for (const ref of connectionRefs(def, node.config)) {
      if (ref.type) connectors.add(ref.type);
      if (WHOLE_REF.test(ref.name)) continue;
      let slot = slotOf.get(ref.name);
      if (!slot) {
        slot = slotName(ref.name, taken);
        taken.add(slot);
        slotOf.set(ref.name, slot);
        parameters.push({
          name: slot,
          type: "connection",
          ...(ref.type ? { connectorType: ref.type } : {}),
          label: `${ref.type ?? "Connection"}: ${ref.name}`,
          default: ref.name,
          description: `The connection ${node.id} uses (was "${ref.name}" where the template was made).`,
        });
      }
      config[ref.path[0]!] = `{{${slot}}}`;
    }
    return { ...node, config };
  });
  return {
    definition: { ...definition, spec: { ...definition.spec, parameters, nodes } },
    connectors: [...connectors].sort(),
  };
}

/** The parameters' current values: each one's default. */
export function parameterValues(definition: PipelineDefinition): Record<string, ParameterValue> {
  const values: Record<string, ParameterValue> = {};
  for (const p of definition.spec.parameters) if (p.default !== undefined) values[p.name] = p.default;
  return values;
}

/**
 * The definition with `values` written in as its parameters' defaults (names it does not declare are ignored). A
 * required parameter given a value here has had it given: it is no longer marked required, so the pipeline's runs
 * start with that value without asking for it again.
 */
export function withParameterValues(
  definition: PipelineDefinition,
  values: Readonly<Record<string, ParameterValue>>,
): PipelineDefinition {
  const parameters = definition.spec.parameters.map((p) => {
    if (!Object.hasOwn(values, p.name)) return p;
    const { required: _given, ...rest } = p;
    return { ...rest, default: values[p.name] };
  });
  return { ...definition, spec: { ...definition.spec, parameters } };
}

export interface ParameterChange {
  name: string;
  /** added/removed: in one version only; changed: its declaration differs (type, choices, bounds, …); kept: same. */
  change: "added" | "removed" | "changed" | "kept";
  /** The value the upgraded pipeline has: the user's where the new declaration takes it, else the new default. */
  value: ParameterValue | undefined;
  /** The user's value could not be kept (say why); the new default or a new value takes its place. */
  dropped?: string;
  /** A value must be given before upgrading: the parameter is required and has none. */
  needsValue: boolean;
}

/** What a parameter takes, without its value (its default, and whether one had to be given). */
function declarationOf(p: PipelineParameter): string {
  const { default: _default, required: _required, ...rest } = p;
  return JSON.stringify(Object.fromEntries(Object.entries(rest).sort(([a], [b]) => a.localeCompare(b))));
}

/**
 * The target version with the current pipeline's values carried over (parameter by parameter, where the new
 * declaration takes the value), and what happened to each parameter.
 */
export function carryParameterValues(
  current: PipelineDefinition,
  target: PipelineDefinition,
): { definition: PipelineDefinition; changes: ParameterChange[] } {
  const before = new Map(current.spec.parameters.map((p) => [p.name, p]));
  const values: Record<string, ParameterValue> = {};
  const changes: ParameterChange[] = [];
  for (const p of target.spec.parameters) {
    const old = before.get(p.name);
    const mine = old?.default;
    const change = !old ? "added" : declarationOf(old) === declarationOf(p) ? "kept" : "changed";
    const problem = mine === undefined ? undefined : parameterValueProblem(p, mine);
    if (mine !== undefined && problem === undefined) values[p.name] = mine;
    const value = Object.hasOwn(values, p.name) ? values[p.name] : p.default;
    changes.push({
      name: p.name,
      change,
      value,
      ...(problem !== undefined ? { dropped: problem } : {}),
      needsValue: value === undefined && p.required === true,
    });
  }
  for (const p of current.spec.parameters) {
    if (!target.spec.parameters.some((t) => t.name === p.name)) {
      changes.push({ name: p.name, change: "removed", value: undefined, needsValue: false });
    }
  }
  return { definition: withParameterValues(target, values), changes };
}

export interface TemplateThumbnail {
  /** Nodes in 0..100 × 0..60 boxes' coordinates, with their kind (the first part of their type). */
  nodes: { x: number; y: number; kind: string }[];
  /** Indexes into `nodes`. */
  edges: [number, number][];
}

/**
 * A small drawing of the graph for the gallery, from the nodes' canvas positions (or, without any, by depth from
 * the sources), scaled into a 100 × 60 box.
 */
export function templateThumbnail(definition: PipelineDefinition): TemplateThumbnail {
  const nodes = definition.spec.nodes;
  const index = new Map(nodes.map((n, i) => [n.id, i]));
  const edges = definition.spec.edges
    .map((e) => [index.get(e.from), index.get(e.to)] as const)
    .filter((e): e is [number, number] => e[0] !== undefined && e[1] !== undefined);
  const placed = nodes.every((n) => typeof n.ui?.x === "number" && typeof n.ui?.y === "number");
  let points: { x: number; y: number }[];
  if (placed) {
    points = nodes.map((n) => ({ x: n.ui?.x as number, y: n.ui?.y as number }));
  } else {
    // Longest path from a source, bounded by the node count so a cycle cannot loop.
    const depth = nodes.map(() => 0);
    for (let round = 0; round < nodes.length; round++) {
      let moved = false;
      for (const [from, to] of edges) {
        if (depth[to]! < depth[from]! + 1 && depth[from]! + 1 < nodes.length) {
          depth[to] = depth[from]! + 1;
          moved = true;
        }
      }
      if (!moved) break;
    }
    const row = new Map<number, number>();
    points = depth.map((d) => {
      const r = row.get(d) ?? 0;
      row.set(d, r + 1);
      return { x: d, y: r };
    });
  }
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const scale = (v: number, min: number, max: number, size: number) =>
    max === min ? size / 2 : Math.round(((v - min) / (max - min)) * size * 10) / 10;
  return {
    nodes: nodes.map((n, i) => ({
      x: scale(points[i]!.x, minX, maxX, 100),
      y: scale(points[i]!.y, minY, maxY, 60),
      kind: n.type.split(".")[0] ?? n.type,
    })),
    edges,
  };
}
