import type { XYPosition } from "@xyflow/react";
import { NODE_HEIGHT, NODE_WIDTH, type PipelineFlowEdge, type PipelineFlowNode } from "../store/flow-model";

// Auto-layout: ELK's layered algorithm, left to right, with each node's ports in their on-screen order so edges
// do not cross needlessly. A pure async function of nodes and edges; elkjs (~450 kB) is loaded on first use only.

export interface LayoutPorts {
  inputs: readonly string[];
  outputs: readonly string[];
}

const OPTIONS: Record<string, string> = {
  "elk.algorithm": "layered",
  "elk.direction": "RIGHT",
  "elk.edgeRouting": "SPLINES",
  "elk.layered.spacing.nodeNodeBetweenLayers": "96",
  "elk.spacing.nodeNode": "40",
  "elk.spacing.componentComponent": "64",
  "elk.layered.nodePlacement.strategy": "NETWORK_SIMPLEX",
  "elk.layered.crossingMinimization.strategy": "LAYER_SWEEP",
  "elk.separateConnectedComponents": "true",
};

/**
 * New top-left positions for the nodes, keyed by node id. `ports` gives each node's handles in order (top to
 * bottom); nodes without an entry get one input and one output.
 */
export async function layout(
  nodes: readonly PipelineFlowNode[],
  edges: readonly PipelineFlowEdge[],
  ports: (node: PipelineFlowNode) => LayoutPorts = () => ({ inputs: ["in"], outputs: ["out"] }),
): Promise<Map<string, XYPosition>> {
  const { default: ELK } = await import("elkjs/lib/elk.bundled.js");
  const elk = new ELK();
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const portsOf = new Map(nodes.map((n) => [n.id, ports(n)]));
  const portId = (node: string, side: "in" | "out", name: string) => `${node}\u0000${side}\u0000${name}`;
  const graph = {
    id: "root",
    layoutOptions: OPTIONS,
    children: nodes.map((n) => {
      const p = portsOf.get(n.id)!;
      const width = n.measured?.width ?? NODE_WIDTH;
      const height = n.measured?.height ?? NODE_HEIGHT;
      return {
        id: n.id,
        width,
        height,
        layoutOptions: { "elk.portConstraints": "FIXED_ORDER" },
        ports: [
          ...p.inputs.map((name, i) => ({
            id: portId(n.id, "in", name),
            width: 8,
            height: 8,
            // Port indices run clockwise from the top left: west ports count from the bottom up.
            layoutOptions: {
              "elk.port.side": "WEST",
              "elk.port.index": String(p.outputs.length + p.inputs.length - 1 - i),
            },
          })),
          ...p.outputs.map((name, i) => ({
            id: portId(n.id, "out", name),
            width: 8,
            height: 8,
            layoutOptions: { "elk.port.side": "EAST", "elk.port.index": String(i) },
          })),
        ],
      };
    }),
    edges: edges
      .filter((e) => byId.has(e.source) && byId.has(e.target))
      .map((e) => {
        const from = portsOf.get(e.source)!;
        const to = portsOf.get(e.target)!;
        const fromPort = e.sourceHandle ?? "out";
        const toPort = e.targetHandle ?? "in";
        return {
          id: e.id,
          // An edge on a port the node no longer has still attaches to the node itself.
          sources: [from.outputs.includes(fromPort) ? portId(e.source, "out", fromPort) : e.source],
          targets: [to.inputs.includes(toPort) ? portId(e.target, "in", toPort) : e.target],
        };
      }),
  };
  const result = await elk.layout(graph);
  const positions = new Map<string, XYPosition>();
  for (const child of result.children ?? []) {
    positions.set(child.id, { x: Math.round(child.x ?? 0), y: Math.round(child.y ?? 0) });
  }
  return positions;
}
