import type { Handle, InternalNode, NodeHandle } from "@xyflow/react";
import type { EditorFlowNode } from "../store/flow-model";

// React Flow measures a node after it is on the page (a resize observer, then a second render with the sizes and
// handle positions), and only then draws its edges. On a large canvas that round trip is most of the time it takes
// to add a connected node. A new node looks like the nodes already there: one width for all, and a height and handle
// positions that follow from the number of ports (and whether run counters show, which is the same for every node).
// So the shape of a measured node with as many ports is handed to React Flow with the new node, and its edge is drawn
// in the same frame. React Flow still measures the node as usual and corrects the shape if it differs.

/** The sizes React Flow would otherwise measure: `measured` and `handles` of a React Flow node. */
export interface NodeShape {
  measured: { width: number; height: number };
  handles: NodeHandle[];
}

/** The shape a new node of this type with these ports will have, if the canvas knows it. */
export type NodeShapeSource = (type: string, inputs: readonly string[], outputs: readonly string[]) => NodeShape | null;

/**
 * The shape of a measured node with as many inputs and outputs, preferably of the same type (same title and icon);
 * its handles renamed to the new node's ports. Null when no measured node has that many ports.
 */
export function shapeLike(
  nodes: Iterable<InternalNode<EditorFlowNode>>,
  type: string,
  inputs: readonly string[],
  outputs: readonly string[],
): NodeShape | null {
  let similar: InternalNode<EditorFlowNode> | null = null;
  for (const node of nodes) {
    if (node.type !== "pipeline") continue;
    const bounds = node.internals.handleBounds;
    const { width, height } = node.measured;
    if (!bounds || !width || !height) continue;
    if ((bounds.target?.length ?? 0) !== inputs.length || (bounds.source?.length ?? 0) !== outputs.length) continue;
    if (node.data.type === type) return renamed(node, inputs, outputs);
    similar ??= node;
  }
  return similar ? renamed(similar, inputs, outputs) : null;
}

function renamed(node: InternalNode<EditorFlowNode>, inputs: readonly string[], outputs: readonly string[]): NodeShape {
  const bounds = node.internals.handleBounds;
  const handle = (h: Handle, id: string | undefined): NodeHandle => ({
    id: id ?? null,
    type: h.type,
    position: h.position,
    x: h.x,
    y: h.y,
    width: h.width,
    height: h.height,
  });
  return {
    measured: { width: node.measured.width ?? 0, height: node.measured.height ?? 0 },
    handles: [
      ...(bounds?.target ?? []).map((h, i) => handle(h, inputs[i])),
      ...(bounds?.source ?? []).map((h, i) => handle(h, outputs[i])),
    ],
  };
}
