"use client";

import { type ReactFlowInstance, useReactFlow } from "@xyflow/react";
import { useEffect } from "react";
import type { EditorFlowNode, PipelineFlowEdge } from "../store/flow-model";

// The canvas draws only the nodes in view (React Flow's onlyRenderVisibleElements), so the browser's Tab order holds
// only those. Tab and Shift+Tab on a node therefore walk the whole pipeline in its own order: the next node is focused
// where it is drawn, or first brought into view (at the same zoom) and focused once it is. From the last node Tab
// leaves the canvas as usual, and from the first Shift+Tab does.

/** How many frames to wait for a node brought into view to be drawn before giving up on focusing it. */
const DRAW_FRAMES = 30;

function nodeElement(canvas: Element, id: string): HTMLElement | null {
  return canvas.querySelector<HTMLElement>(`.react-flow__node[data-id="${CSS.escape(id)}"]`);
}

/** The id of the node `by` steps from `id` in the canvas's order, or null past either end. */
function nextNodeId(order: readonly { id: string }[], id: string, by: 1 | -1): string | null {
  const at = order.findIndex((n) => n.id === id);
  if (at < 0) return null;
  return order[at + by]?.id ?? null;
}

/** Focuses node `id`, waiting up to `frames` frames for it to be drawn. */
function focusWhenDrawn(canvas: Element, id: string, frames = DRAW_FRAMES) {
  const element = nodeElement(canvas, id);
  if (element) element.focus();
  else if (frames > 0) requestAnimationFrame(() => focusWhenDrawn(canvas, id, frames - 1));
}

/** Focuses node `id`; one not drawn is first brought to the middle of the view. React Flow pans a drawn node that is
 * partly out of view into it when it gets focus. */
function moveFocus(flow: ReactFlowInstance<EditorFlowNode, PipelineFlowEdge>, canvas: Element, id: string) {
  const node = flow.getInternalNode(id);
  if (!node) return;
  if (!nodeElement(canvas, id)) {
    const { x, y } = node.internals.positionAbsolute;
    const width = node.measured.width ?? node.width ?? 0;
    const height = node.measured.height ?? node.height ?? 0;
    void flow.setCenter(x + width / 2, y + height / 2, { zoom: flow.getZoom() });
  }
  focusWhenDrawn(canvas, id);
}

/** Makes Tab and Shift+Tab on a node of the canvas inside `canvasRef` walk every node, drawn or not. */
export function useNodeTabbing(canvasRef: { current: HTMLElement | null }): void {
  const flow = useReactFlow<EditorFlowNode, PipelineFlowEdge>();
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.key !== "Tab" || event.altKey || event.ctrlKey || event.metaKey || event.defaultPrevented) return;
      const from = (event.target as Element | null)?.closest?.<HTMLElement>(".react-flow__node");
      // Only a node itself, not a field or button inside one.
      if (!from || from !== event.target) return;
      const id = nextNodeId(flow.getNodes(), from.dataset.id ?? "", event.shiftKey ? -1 : 1);
      if (id === null) return;
      event.preventDefault();
      moveFocus(flow, canvas, id);
    };
    canvas.addEventListener("keydown", onKeyDown);
    return () => canvas.removeEventListener("keydown", onKeyDown);
  }, [canvasRef, flow]);
}
