// The order a run's nodes are listed in: the pipeline's, so the same run reads the same way on every load.

interface OrderedGraph {
  nodes: readonly { id: string }[];
  edges: readonly { from: string; to: string }[];
}

/**
 * Node ids so every edge points down the list (sources first, sinks last); among nodes free to come next, the one
 * written first in the definition comes first. Nodes on a cycle (an invalid draft) follow in definition order.
 */
export function pipelineOrder({ nodes, edges }: OrderedGraph): string[] {
  const known = new Set(nodes.map((n) => n.id));
  const waitingOn = new Map<string, number>(nodes.map((n) => [n.id, 0]));
  for (const e of edges) {
    if (known.has(e.from) && known.has(e.to)) waitingOn.set(e.to, (waitingOn.get(e.to) ?? 0) + 1);
  }
  const order: string[] = [];
  const placed = new Set<string>();
  for (;;) {
    const next = nodes.find((n) => !placed.has(n.id) && waitingOn.get(n.id) === 0);
    if (!next) break;
    order.push(next.id);
    placed.add(next.id);
    for (const e of edges) {
      if (e.from === next.id && known.has(e.to)) waitingOn.set(e.to, (waitingOn.get(e.to) ?? 0) - 1);
    }
  }
  for (const n of nodes) if (!placed.has(n.id)) order.push(n.id);
  return order;
}
