"use client";

import { Panel, useReactFlow, useStore } from "@xyflow/react";
import { memo, type PointerEvent, useMemo, useRef, type WheelEvent } from "react";
import { useCatalog, useEditor } from "../editor-context";
import { type EditorFlowNode, NODE_HEIGHT, NODE_WIDTH } from "../store/flow-model";

// The minimap: every node a rectangle in the colour of its kind, the part of the canvas in view a window over them.
// Drag to pan, click to centre the view on a point, wheel to zoom. React Flow's own minimap subscribes to React
// Flow's store once per node, so each update of a 1,000-node canvas (an add, every frame of a pan) ran a thousand
// more selectors; this one draws from the editor's node list in one component, and redraws the rectangles only when
// the nodes change.

const WIDTH = 160;
const HEIGHT = 108;
/** Space around the drawing, in minimap pixels. */
const MARGIN = 5;
const KIND_COLORS: Record<string, string> = { source: "#0d9488", transform: "#6366f1", sink: "#d97706" };
const NOTE_COLOR = "#fde68a";
const UNKNOWN_COLOR = "#94a3b8";
/** A press that moves less than this many pixels is a click. */
const CLICK_SLOP = 3;

interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

function nodeRect(n: EditorFlowNode): Rect {
  return {
    x: n.position.x,
    y: n.position.y,
    width: n.measured?.width ?? n.width ?? NODE_WIDTH,
    height: n.measured?.height ?? n.height ?? NODE_HEIGHT,
  };
}

function union(a: Rect | null, b: Rect): Rect {
  if (!a) return b;
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return {
    x,
    y,
    width: Math.max(a.x + a.width, b.x + b.width) - x,
    height: Math.max(a.y + a.height, b.y + b.height) - y,
  };
}

const MapNodes = memo(function MapNodes({ nodes }: { nodes: readonly EditorFlowNode[] }) {
  const catalog = useCatalog();
  return nodes.map((n) => {
    const r = nodeRect(n);
    const fill = n.type === "note" ? NOTE_COLOR : (KIND_COLORS[catalog.get(n.data.type)?.kind ?? ""] ?? UNKNOWN_COLOR);
    return (
      <rect
        key={n.id}
        className={`react-flow__minimap-node${n.selected ? " selected" : ""}`}
        x={r.x}
        y={r.y}
        width={r.width}
        height={r.height}
        rx={6}
        style={{ fill }}
      />
    );
  });
});

export function OverviewMap({ label }: { label: string }) {
  const flow = useReactFlow();
  const pipelineNodes = useEditor((s) => s.nodes);
  const notes = useEditor((s) => s.notes);
  const nodes = useMemo<EditorFlowNode[]>(() => [...notes, ...pipelineNodes], [notes, pipelineNodes]);
  const nodeBounds = useMemo(() => nodes.reduce<Rect | null>((box, n) => union(box, nodeRect(n)), null), [nodes]);
  const [tx, ty, zoom] = useStore((s) => s.transform);
  const viewWidth = useStore((s) => s.width);
  const viewHeight = useStore((s) => s.height);

  // The part of the canvas in view, in flow coordinates, and the drawing's extent: the nodes and the view.
  const view: Rect = { x: -tx / zoom, y: -ty / zoom, width: viewWidth / zoom, height: viewHeight / zoom };
  const box = nodeBounds ? union(nodeBounds, view) : view;
  // Flow units per minimap pixel, the same on both axes; the drawing is centred.
  const scale = Math.max(box.width / (WIDTH - 2 * MARGIN), box.height / (HEIGHT - 2 * MARGIN), 1e-6);
  const viewBox = {
    x: box.x + box.width / 2 - (WIDTH / 2) * scale,
    y: box.y + box.height / 2 - (HEIGHT / 2) * scale,
    width: WIDTH * scale,
    height: HEIGHT * scale,
  };

  const drag = useRef<{ id: number; x: number; y: number; moved: boolean } | null>(null);
  const toFlow = (event: PointerEvent<SVGSVGElement>) => {
    const r = event.currentTarget.getBoundingClientRect();
    return { x: viewBox.x + (event.clientX - r.left) * scale, y: viewBox.y + (event.clientY - r.top) * scale };
  };
  const onPointerDown = (event: PointerEvent<SVGSVGElement>) => {
    if (event.button !== 0) return;
    event.currentTarget.setPointerCapture(event.pointerId);
    drag.current = { id: event.pointerId, x: event.clientX, y: event.clientY, moved: false };
  };
  const onPointerMove = (event: PointerEvent<SVGSVGElement>) => {
    const d = drag.current;
    if (!d || d.id !== event.pointerId) return;
    const dx = event.clientX - d.x;
    const dy = event.clientY - d.y;
    if (!d.moved && Math.hypot(dx, dy) < CLICK_SLOP) return;
    d.moved = true;
    d.x = event.clientX;
    d.y = event.clientY;
    // The window follows the pointer: the view moves by as many flow units as the pointer moved over the map.
    const { x, y, zoom: z } = flow.getViewport();
    void flow.setViewport({ x: x - dx * scale * z, y: y - dy * scale * z, zoom: z });
  };
  const onPointerUp = (event: PointerEvent<SVGSVGElement>) => {
    const d = drag.current;
    if (!d || d.id !== event.pointerId) return;
    drag.current = null;
    if (d.moved) return;
    const p = toFlow(event);
    void flow.setCenter(p.x, p.y, { zoom: flow.getZoom(), duration: 200 });
  };
  const onWheel = (event: WheelEvent<SVGSVGElement>) => {
    const step = event.deltaMode === 1 ? 0.05 : event.deltaMode === 2 ? 1 : 0.002;
    void flow.zoomTo(flow.getZoom() * 2 ** (-event.deltaY * step));
  };

  const outer = `M${viewBox.x},${viewBox.y}h${viewBox.width}v${viewBox.height}h${-viewBox.width}z`;
  const inView = `M${view.x},${view.y}h${view.width}v${view.height}h${-view.width}z`;
  return (
    <Panel position="bottom-right" className="react-flow__minimap overview-map">
      <svg
        width={WIDTH}
        height={HEIGHT}
        viewBox={`${viewBox.x} ${viewBox.y} ${viewBox.width} ${viewBox.height}`}
        className="react-flow__minimap-svg"
        role="img"
        aria-label={label}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={() => {
          drag.current = null;
        }}
        onWheel={onWheel}
      >
        <MapNodes nodes={nodes} />
        <path className="react-flow__minimap-mask" d={`${outer} ${inView}`} fillRule="evenodd" pointerEvents="none" />
      </svg>
    </Panel>
  );
}
