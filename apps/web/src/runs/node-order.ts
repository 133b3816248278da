import { buildGraph, topologicalOrder } from "@sluice/pipeline/graph";

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
  const { order, cyclic } = topologicalOrder(buildGraph(nodes, edges), { tieBreak: "definition" });
  return [...order, ...cyclic];
}
