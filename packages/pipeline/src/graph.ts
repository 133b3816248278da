import { DEFAULT_IN_PORT, DEFAULT_OUT_PORT, type PipelineEdge, type PipelineNode } from "./definition";

// Topology of a pipeline graph: adjacency, topological order, cycles, reachability.

export interface GraphEdge {
  index: number;
  from: string;
  to: string;
  fromPort: string;
  toPort: string;
}

export interface Graph {
  nodeIds: readonly string[];
  edges: readonly GraphEdge[];
  outgoing: ReadonlyMap<string, readonly GraphEdge[]>;
  incoming: ReadonlyMap<string, readonly GraphEdge[]>;
}

/** Builds the graph from nodes and the edges whose ends exist (dangling edges are reported by validation). */
export function buildGraph(nodes: readonly Pick<PipelineNode, "id">[], edges: readonly PipelineEdge[]): Graph {
  const nodeIds = nodes.map((n) => n.id);
  const known = new Set(nodeIds);
  const outgoing = new Map<string, GraphEdge[]>(nodeIds.map((id) => [id, []]));
  const incoming = new Map<string, GraphEdge[]>(nodeIds.map((id) => [id, []]));
  const list: GraphEdge[] = [];
  edges.forEach((e, index) => {
    if (!known.has(e.from) || !known.has(e.to)) return;
    const edge: GraphEdge = {
      index,
      from: e.from,
      to: e.to,
      fromPort: e.fromPort ?? DEFAULT_OUT_PORT,
      toPort: e.toPort ?? DEFAULT_IN_PORT,
    };
    list.push(edge);
    outgoing.get(e.from)?.push(edge);
    incoming.get(e.to)?.push(edge);
  });
  return { nodeIds, edges: list, outgoing, incoming };
}

/**
 * Kahn's algorithm. Returns the nodes in an order where every edge points forward, and the nodes left over
 * because they sit on or behind a cycle. Among nodes free to come next, the first freed comes first; with
 * `tieBreak: "definition"` the one written first in the definition does (steadier for a person reading a list).
 */
export function topologicalOrder(
  graph: Graph,
  options: { tieBreak?: "freed" | "definition" } = {},
): { order: string[]; cyclic: string[] } {
  const indegree = new Map<string, number>();
  for (const id of graph.nodeIds) indegree.set(id, graph.incoming.get(id)?.length ?? 0);
  const byDefinition = options.tieBreak === "definition";
  const position = new Map(graph.nodeIds.map((id, i) => [id, i]));
  const ready = graph.nodeIds.filter((id) => indegree.get(id) === 0);
  const order: string[] = [];
  for (let i = 0; i < ready.length; i++) {
    const id = ready[i]!;
    order.push(id);
    for (const e of graph.outgoing.get(id) ?? []) {
      const d = (indegree.get(e.to) ?? 0) - 1;
      indegree.set(e.to, d);
      if (d !== 0) continue;
      if (!byDefinition) ready.push(e.to);
      else {
        // The part not yet taken stays sorted by definition position: insert before the first written after it.
        const at = position.get(e.to) ?? 0;
        let before = i + 1;
        while (before < ready.length && (position.get(ready[before]!) ?? 0) < at) before++;
        ready.splice(before, 0, e.to);
      }
    }
  }
  const placed = new Set(order);
  return { order, cyclic: graph.nodeIds.filter((id) => !placed.has(id)) };
}

/** Finds one cycle through the given nodes (for a readable error message), or undefined. */
export function findCycle(graph: Graph, among: readonly string[]): string[] | undefined {
  const candidates = new Set(among);
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    state.set(id, 1);
    stack.push(id);
    for (const e of graph.outgoing.get(id) ?? []) {
      if (!candidates.has(e.to)) continue;
      const s = state.get(e.to);
      if (s === 1) return [...stack.slice(stack.indexOf(e.to)), e.to];
      if (s === undefined) {
        const found = visit(e.to);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(id, 2);
    return undefined;
  };
  for (const id of among) {
    if (state.has(id)) continue;
    const found = visit(id);
    if (found) return found;
  }
  return undefined;
}

/** Every node reachable from `starts` following edges forward (or backward with `reverse`). */
export function reachable(graph: Graph, starts: Iterable<string>, reverse = false): Set<string> {
  const seen = new Set<string>();
  const queue = [...starts];
  while (queue.length > 0) {
    const id = queue.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const next = reverse ? graph.incoming.get(id) : graph.outgoing.get(id);
    for (const e of next ?? []) queue.push(reverse ? e.from : e.to);
  }
  return seen;
}
