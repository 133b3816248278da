"use client";

import {
  Background,
  BackgroundVariant,
  Controls,
  type FinalConnectionState,
  Panel,
  ReactFlow,
  SelectionMode,
  useReactFlow,
  useStore,
  useStoreApi,
  type XYPosition,
} from "@xyflow/react";
import {
  type DragEvent,
  type MouseEvent as ReactMouseEvent,
  type RefObject,
  useCallback,
  useEffect,
  useMemo,
  useRef,
  useState,
} from "react";
import { useWorkspaceRole } from "@/lib/use-workspace-role";
import { useCatalog, useEditor, useEditorStore, useRun } from "../editor-context";
import { isTyping } from "../shortcuts";
import {
  connectionProblem,
  type EditorFlowNode,
  NODE_HEIGHT,
  NODE_WIDTH,
  type PipelineFlowEdge,
} from "../store/flow-model";
import { isActive } from "../store/run-store";
import { CanvasToolbar, ShortcutsDialog } from "./canvas-toolbar";
import { edgeTypes } from "./live-edge";
import { shapeLike } from "./node-shapes";
import { OverviewMap } from "./overview-map";
import { nodeTypes } from "./pipeline-node";
import { useCanvasCommands } from "./use-canvas-commands";
import { useNodeTabbing } from "./use-node-tabbing";
import { NODE_DRAG_TYPE, PALETTE_SEARCH_SELECTOR, usePlaceNode } from "./use-place-node";

// Every edge ends in the one arrowhead the canvas defines (EdgeArrow), named by id: React Flow then has no marker
// objects to compare for each of the edges whenever the edges change.
const EDGE_ARROW_ID = "sluice-edge-arrow";
const defaultEdgeOptions = { markerEnd: EDGE_ARROW_ID };
const fitViewOptions = { padding: 0.15, maxZoom: 1 };
/** A graph of at most this many nodes opens at 1×, where node text is readable, even when it does not all fit. */
const SMALL_GRAPH = 12;
const smallGraphFit = { ...fitViewOptions, minZoom: 1 };
const panOnDragButtons = [1, 2];
const NOTICE_MS = 6000;
/** Below this zoom a node's text is too small to read, and the canvas shows nodes as plain cards. */
const FAR_ZOOM = 0.4;

const ariaLabelConfig = {
  "node.a11yDescription.default":
    "Press Enter or Space to select the node, the arrow keys to move it, Delete to remove it. Press ? for all shortcuts.",
};

export function Canvas() {
  const store = useEditorStore();
  const catalog = useCatalog();
  const flow = useReactFlow<EditorFlowNode, PipelineFlowEdge>();
  const flowStore = useStoreApi<EditorFlowNode, PipelineFlowEdge>();
  const pipelineNodes = useEditor((s) => s.nodes);
  const notes = useEditor((s) => s.notes);
  const edges = useEditor((s) => s.edges);
  const onNodesChange = useEditor((s) => s.onNodesChange);
  const onEdgesChange = useEditor((s) => s.onEdgesChange);
  const connect = useEditor((s) => s.connect);
  const running = useRun((s) => isActive(s.run));
  const empty = useEditor((s) => s.nodes.length === 0 && s.notes.length === 0);
  const far = useStore((s) => s.transform[2] < FAR_ZOOM);
  const placeNode = usePlaceNode();
  const pointer = useRef<XYPosition | null>(null);
  const commands = useCanvasCommands(pointer);
  const [boxSelect, setBoxSelect] = useState(false);
  const [help, setHelp] = useState(false);
  // Read only below the editor role: nodes can be selected and inspected, not moved, wired, added or removed.
  const { canEdit } = useWorkspaceRole();
  // Fit the view to the pipeline it opened with. Not to an empty one: React Flow would fit when the first node
  // arrives, moving the node just dropped away from the pointer.
  const [initialFit] = useState(() => {
    const count = store.getState().nodes.length;
    return count === 0 ? null : count <= SMALL_GRAPH ? smallGraphFit : fitViewOptions;
  });
  // Notes first, so they lie under the nodes.
  const nodes = useMemo<EditorFlowNode[]>(
    () => (notes.length === 0 ? pipelineNodes : [...notes, ...pipelineNodes]),
    [notes, pipelineNodes],
  );

  // New nodes take their shape from the nodes on the canvas, so their edges are drawn at once (see node-shapes.ts).
  useEffect(() => {
    const { setNodeShapes } = store.getState();
    setNodeShapes((type, inputs, outputs) =>
      shapeLike(flowStore.getState().nodeLookup.values(), type, inputs, outputs),
    );
    return () => setNodeShapes(null);
  }, [store, flowStore]);

  const isValidConnection = useCallback(
    (c: { source: string; target: string; sourceHandle?: string | null; targetHandle?: string | null }) => {
      const { nodes, edges } = store.getState();
      return connectionProblem(c, nodes, edges, catalog) === null;
    },
    [store, catalog],
  );

  // A refused connection gets a sentence saying why, instead of silently snapping back.
  const onConnectEnd = useCallback(
    (event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
      if (state.isValid || !state.fromNode) return;
      let targetId = state.toNode?.id;
      if (!targetId) {
        const point = "changedTouches" in event ? event.changedTouches[0] : event;
        const element = point ? document.elementFromPoint(point.clientX, point.clientY) : null;
        targetId = element?.closest<HTMLElement>(".react-flow__node")?.dataset.id;
      }
      if (!targetId || (targetId === state.fromNode.id && !state.toHandle)) return;
      if (state.fromHandle && state.toHandle && state.fromHandle.type === state.toHandle.type) {
        const both = state.fromHandle.type === "source" ? "outputs" : "inputs";
        store
          .getState()
          .showNotice(`Both ends are ${both}: an edge goes from an output (right side) to an input (left side).`);
        return;
      }
      const fromIsSource = state.fromHandle?.type !== "target";
      const c = fromIsSource
        ? {
            source: state.fromNode.id,
            sourceHandle: state.fromHandle?.id ?? null,
            target: targetId,
            targetHandle: state.toHandle?.id ?? null,
          }
        : {
            source: targetId,
            sourceHandle: state.toHandle?.id ?? null,
            target: state.fromNode.id,
            targetHandle: state.fromHandle?.id ?? null,
          };
      const { nodes, edges } = store.getState();
      const problem = connectionProblem(c, nodes, edges, catalog);
      if (problem) store.getState().showNotice(problem);
    },
    [store, catalog],
  );

  const onDragOver = useCallback((event: DragEvent) => {
    if (!event.dataTransfer.types.includes(NODE_DRAG_TYPE)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  }, []);

  const onDrop = useCallback(
    (event: DragEvent) => {
      const type = event.dataTransfer.getData(NODE_DRAG_TYPE);
      if (!type || !canEdit) return;
      event.preventDefault();
      placeNode(type, { screenPoint: { x: event.clientX, y: event.clientY } });
    },
    [placeNode, canEdit],
  );

  const onMouseMove = useCallback((event: ReactMouseEvent) => {
    pointer.current = { x: event.clientX, y: event.clientY };
  }, []);

  const container = useRef<HTMLDivElement>(null);
  useNodeTabbing(container);
  useGraphStaysInView(container);

  // Keyboard shortcuts of the canvas, anywhere in the editor but in fields people type into.
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.defaultPrevented || isTyping(event.target)) return;
      if ((event.target as Element | null)?.closest?.("dialog")) return;
      const mod = event.metaKey || event.ctrlKey;
      const key = event.key.toLowerCase();
      const run = (action: () => void) => {
        event.preventDefault();
        action();
      };
      // What changes the draft does nothing below the editor role.
      const edit = (action: () => void) => (canEdit ? run(action) : undefined);
      if (mod && key === "z") return edit(event.shiftKey ? commands.redo : commands.undo);
      if (mod && key === "y") return edit(commands.redo);
      if (mod && key === "a") return run(commands.selectAll);
      if (mod || event.altKey) return;
      if (event.key === "Delete" || event.key === "Backspace") return edit(commands.deleteSelection);
      if (event.key === "?") return run(() => setHelp(true));
      if (event.key === "/") {
        return run(() => document.querySelector<HTMLInputElement>(PALETTE_SEARCH_SELECTOR)?.focus());
      }
      if (event.shiftKey && event.code === "KeyL") return edit(() => void commands.arrange());
      if (event.shiftKey && event.code === "KeyN") return edit(commands.addNote);
      if (event.shiftKey && event.code === "Digit1") return run(commands.fitView);
      if (!event.shiftKey && key === "b") return run(() => setBoxSelect((on) => !on));
      if (event.key === "Escape") store.getState().selectNode(null);
    };
    window.addEventListener("keydown", onKeyDown);
    return () => window.removeEventListener("keydown", onKeyDown);
  }, [commands, store, canEdit]);

  // Copy, cut and paste through the system clipboard's own events: no permission prompt, and the same JSON
  // pastes into another pipeline or another tab. Text fields and selected text keep their usual behaviour.
  useEffect(() => {
    const ownsEvent = (event: ClipboardEvent) => {
      if (isTyping(event.target) || isTyping(document.activeElement)) return false;
      if ((document.activeElement as Element | null)?.closest?.("dialog")) return false;
      const selection = window.getSelection();
      return !(selection && !selection.isCollapsed && selection.toString().length > 0);
    };
    const onCopy = (event: ClipboardEvent, cut: boolean) => {
      if (!ownsEvent(event)) return;
      const text = commands.copyText();
      if (!text || !event.clipboardData) return;
      event.clipboardData.setData("text/plain", text);
      event.preventDefault();
      if (cut && canEdit) store.getState().deleteSelection();
    };
    const copy = (event: ClipboardEvent) => onCopy(event, false);
    const cut = (event: ClipboardEvent) => onCopy(event, true);
    const paste = (event: ClipboardEvent) => {
      if (!canEdit || !ownsEvent(event)) return;
      const text = event.clipboardData?.getData("text/plain") ?? "";
      if (commands.pasteText(text)) event.preventDefault();
    };
    document.addEventListener("copy", copy);
    document.addEventListener("cut", cut);
    document.addEventListener("paste", paste);
    return () => {
      document.removeEventListener("copy", copy);
      document.removeEventListener("cut", cut);
      document.removeEventListener("paste", paste);
    };
  }, [commands, store, canEdit]);

  // The problems list asks for a node to be brought into view.
  const focus = useEditor((s) => s.focus);
  useEffect(() => {
    if (!focus) return;
    const node = flow.getNode(focus.nodeId);
    if (!node) return;
    void flow.setCenter(node.position.x + NODE_WIDTH / 2, node.position.y + NODE_HEIGHT / 2, {
      zoom: Math.max(flow.getZoom(), 0.8),
      duration: 250,
    });
  }, [focus, flow]);

  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: a drop target for palette drags; the palette's buttons are the keyboard path
    <div
      className={`editor-canvas${running ? " is-running" : ""}${boxSelect ? " is-box-select" : ""}${far ? " is-far" : ""}`}
      data-editor-canvas
      ref={container}
      onDragOver={onDragOver}
      onDrop={onDrop}
      onMouseMove={onMouseMove}
    >
      <ReactFlow<EditorFlowNode, PipelineFlowEdge>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        edgeTypes={edgeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={connect}
        onConnectEnd={onConnectEnd}
        nodesDraggable={canEdit}
        nodesConnectable={canEdit}
        isValidConnection={isValidConnection}
        defaultEdgeOptions={defaultEdgeOptions}
        deleteKeyCode={null}
        selectionOnDrag={boxSelect}
        panOnDrag={boxSelect ? panOnDragButtons : true}
        selectionMode={SelectionMode.Partial}
        fitView={initialFit !== null}
        fitViewOptions={initialFit ?? fitViewOptions}
        // Only what is in view is drawn: panning, zooming and adding stay quick on thousands of nodes. Tab still
        // walks every node (useNodeTabbing).
        onlyRenderVisibleElements
        minZoom={0.05}
        maxZoom={2}
        ariaLabelConfig={ariaLabelConfig}
        aria-label="Pipeline canvas"
      >
        <Background variant={BackgroundVariant.Dots} gap={20} size={1.2} color="#cbd5e1" />
        <Panel position="top-left">
          <CanvasToolbar
            commands={commands}
            editable={canEdit}
            boxSelect={boxSelect}
            onBoxSelect={setBoxSelect}
            onHelp={() => setHelp(true)}
          />
        </Panel>
        <Controls position="bottom-left" showInteractive={false} />
        <OverviewMap label="Overview of the pipeline" />
      </ReactFlow>
      {empty ? (
        <div className="canvas-empty">
          <p className="canvas-empty-title">Start with a source</p>
          <p>Drag a node from the palette onto the canvas, or select it and press Enter to add it here.</p>
        </div>
      ) : null}
      <EdgeArrow />
      <CanvasNotice />
      <ShortcutsDialog open={help} onClose={() => setHelp(false)} />
    </div>
  );
}

/**
 * When the canvas shrinks (the preview panel opens, the window gets smaller), pans so the graph's bottom and right
 * edge — where the nodes' counters are — stay on screen, as far as the graph fits; never zooms.
 */
function useGraphStaysInView(container: RefObject<HTMLDivElement | null>) {
  const flow = useReactFlow<EditorFlowNode, PipelineFlowEdge>();
  const store = useEditorStore();
  useEffect(() => {
    const el = container.current;
    if (!el || typeof ResizeObserver === "undefined") return;
    let last = el.getBoundingClientRect();
    const observer = new ResizeObserver(() => {
      const rect = el.getBoundingClientRect();
      const shrunk = rect.height < last.height - 1 || rect.width < last.width - 1;
      last = rect;
      const ids = store.getState().nodes.map((n) => n.id);
      if (!shrunk || ids.length === 0) return;
      const { x, y, zoom } = flow.getViewport();
      const b = flow.getNodesBounds(ids);
      const pad = 16;
      const top = b.y * zoom + y;
      const left = b.x * zoom + x;
      const bottom = (b.y + b.height) * zoom + y;
      const right = (b.x + b.width) * zoom + x;
      // Move up (left) by what is cut off, but never so far that the top (left) edge goes out of view.
      const dy = bottom > rect.height - pad ? Math.min(0, Math.max(rect.height - pad - bottom, pad - top)) : 0;
      const dx = right > rect.width - pad ? Math.min(0, Math.max(rect.width - pad - right, pad - left)) : 0;
      if (dx !== 0 || dy !== 0) void flow.setViewport({ x: x + dx, y: y + dy, zoom }, { duration: 150 });
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [container, flow, store]);
}

function EdgeArrow() {
  return (
    <svg className="edge-arrow" aria-hidden="true" focusable="false">
      <defs>
        <marker
          id={EDGE_ARROW_ID}
          viewBox="-10 -10 20 20"
          // In canvas units, not stroke widths: a running edge thickens with its rate, its arrowhead stays the size a
          // 1.6 px edge gives it.
          markerWidth="25.6"
          markerHeight="25.6"
          markerUnits="userSpaceOnUse"
          orient="auto-start-reverse"
          refX="0"
          refY="0"
        >
          <polyline points="-5,-4 0,0 -5,4 -5,-4" strokeLinecap="round" strokeLinejoin="round" />
        </marker>
      </defs>
    </svg>
  );
}

function CanvasNotice() {
  const notice = useEditor((s) => s.notice);
  const dismiss = useEditor((s) => s.dismissNotice);
  useEffect(() => {
    if (!notice) return;
    const timer = setTimeout(dismiss, NOTICE_MS);
    return () => clearTimeout(timer);
  }, [notice, dismiss]);
  return (
    <div className="canvas-notice-region" role="status" aria-live="polite">
      {notice ? (
        <div className="canvas-notice" key={notice.seq}>
          <span>{notice.text}</span>
          <button type="button" className="icon-button" onClick={dismiss} aria-label="Dismiss message">
            ×
          </button>
        </div>
      ) : null}
    </div>
  );
}
