"use client";

import { useReactFlow, type XYPosition } from "@xyflow/react";
import { useCallback } from "react";
import { useEditorStore } from "../editor-context";
import { selectedNodeId } from "../store/editor-store";
import { besideOf, freeSpot, NODE_HEIGHT, NODE_WIDTH } from "../store/flow-model";

export const CANVAS_SELECTOR = "[data-editor-canvas]";
export const PALETTE_SEARCH_SELECTOR = "[data-palette-search]";
export const NODE_DRAG_TYPE = "application/x-sluice-node-type";

export interface PlacedNode {
  id: string;
  /** The node the new one was placed beside (and connected from, when it could be). */
  besideOf: string | null;
  connected: boolean;
}

/**
 * Adds a node of a type: at a given screen point (drag and drop), or — for clicks and the keyboard — beside the
 * selected node and connected from it when the two fit, else in the middle of the visible canvas. Keeps the new
 * node in view.
 */
export function usePlaceNode(): (type: string, options?: { screenPoint?: XYPosition }) => PlacedNode | null {
  const store = useEditorStore();
  const flow = useReactFlow();
  return useCallback(
    (type, options) => {
      const screenPoint = options?.screenPoint;
      const state = store.getState();
      const canvas = document.querySelector(CANVAS_SELECTOR)?.getBoundingClientRect();
      let position: XYPosition;
      let anchorId: string | null = null;
      if (screenPoint) {
        const p = flow.screenToFlowPosition(screenPoint);
        position = { x: p.x - NODE_WIDTH / 2, y: p.y - NODE_HEIGHT / 2 };
      } else {
        const selected = selectedNodeId(state);
        const anchor = selected ? state.nodes.find((n) => n.id === selected) : undefined;
        if (anchor) {
          position = besideOf(anchor);
          anchorId = anchor.id;
        } else if (canvas) {
          const centre = flow.screenToFlowPosition({
            x: canvas.left + canvas.width / 2,
            y: canvas.top + canvas.height / 2,
          });
          position = { x: centre.x - NODE_WIDTH / 2, y: centre.y - NODE_HEIGHT / 2 };
        } else position = { x: 0, y: 0 };
      }
      position = freeSpot({ x: Math.round(position.x), y: Math.round(position.y) }, state.nodes);
      const edgesBefore = state.edges.length;
      const id = state.addNode(type, position, anchorId ? { connectFrom: anchorId } : undefined);
      if (!id) return null;
      if (canvas) {
        // Keep what was just added on screen: if it landed outside the viewport (a drop beside others that had to
        // move it to a free place), bring it into view.
        const topLeft = flow.flowToScreenPosition(position);
        const bottomRight = flow.flowToScreenPosition({ x: position.x + NODE_WIDTH, y: position.y + NODE_HEIGHT });
        const visible =
          topLeft.x >= canvas.left &&
          topLeft.y >= canvas.top &&
          bottomRight.x <= canvas.right &&
          bottomRight.y <= canvas.bottom;
        if (!visible) {
          requestAnimationFrame(
            () =>
              void flow.setCenter(position.x + NODE_WIDTH / 2, position.y + NODE_HEIGHT / 2, {
                zoom: Math.max(flow.getZoom(), 0.6),
                duration: 200,
              }),
          );
        }
      }
      return { id, besideOf: anchorId, connected: store.getState().edges.length > edgesBefore };
    },
    [store, flow],
  );
}
