"use client";

import { useReactFlow, type XYPosition } from "@xyflow/react";
import { type RefObject, useCallback, useMemo, useState } from "react";
import { useCatalog, useEditorStore } from "../editor-context";
import { CLIPBOARD_KIND, parseClipboard } from "../store/clipboard";
import { NOTE_HEIGHT, NOTE_WIDTH, nodeView, type PipelineFlowEdge, type PipelineFlowNode } from "../store/flow-model";
import { layout } from "./auto-layout";
import { CANVAS_SELECTOR } from "./use-place-node";

export interface CanvasCommands {
  undo(): void;
  redo(): void;
  /** Auto-layout (ELK), one undoable step, then fits the view. */
  arrange(): Promise<void>;
  arranging: boolean;
  addNote(): void;
  /** Copies the selection as JSON text; returns it (also for the copy event). */
  copyText(): string | null;
  copy(): Promise<void>;
  cut(): Promise<void>;
  /** Pastes clipboard text if it is a Sluice selection; returns whether it was one. */
  pasteText(text: string): boolean;
  paste(): Promise<void>;
  deleteSelection(): void;
  selectAll(): void;
  fitView(): void;
}

/** Where pastes and new notes go: under the pointer when it is over the canvas, else the middle of the view. */
function usePlacement(pointer: RefObject<XYPosition | null>) {
  const flow = useReactFlow<PipelineFlowNode, PipelineFlowEdge>();
  return useCallback(
    (preferPointer: boolean): XYPosition => {
      const canvas = document.querySelector(CANVAS_SELECTOR)?.getBoundingClientRect();
      const p = pointer.current;
      if (
        preferPointer &&
        p &&
        canvas &&
        p.x >= canvas.left &&
        p.x <= canvas.right &&
        p.y >= canvas.top &&
        p.y <= canvas.bottom
      ) {
        return flow.screenToFlowPosition(p);
      }
      if (!canvas) return { x: 0, y: 0 };
      return flow.screenToFlowPosition({ x: canvas.left + canvas.width / 2, y: canvas.top + canvas.height / 2 });
    },
    [flow, pointer],
  );
}

export function useCanvasCommands(pointer: RefObject<XYPosition | null>): CanvasCommands {
  const store = useEditorStore();
  const catalog = useCatalog();
  const flow = useReactFlow<PipelineFlowNode, PipelineFlowEdge>();
  const place = usePlacement(pointer);
  const [arranging, setArranging] = useState(false);

  const notice = useCallback((text: string) => store.getState().showNotice(text), [store]);

  const copyText = useCallback(() => {
    const payload = store.getState().copySelection();
    return payload ? JSON.stringify(payload, null, 2) : null;
  }, [store]);

  const pasteText = useCallback(
    (text: string) => {
      const payload = parseClipboard(text);
      if (!payload) return false;
      const count = store.getState().paste(payload, place(true));
      if (count > 0) notice(`Pasted ${count} ${count === 1 ? "item" : "items"}.`);
      return true;
    },
    [store, place, notice],
  );

  return useMemo<CanvasCommands>(
    () => ({
      undo: () => store.getState().undo(),
      redo: () => store.getState().redo(),
      arranging,
      arrange: async () => {
        const { nodes, edges, portUse } = store.getState();
        if (nodes.length === 0) return;
        setArranging(true);
        try {
          const positions = await layout(nodes, edges, (n) => {
            const def = catalog.get(n.data.type);
            const view = def ? nodeView(def, n.data.config) : { inputs: [], outputs: [] };
            const use = portUse[n.id];
            const inputs = view.inputs.map((p) => p.name);
            const outputs = view.outputs.map((p) => p.name);
            for (const p of use?.inputs ?? []) if (!inputs.includes(p)) inputs.push(p);
            for (const p of use?.outputs ?? []) if (!outputs.includes(p)) outputs.push(p);
            return { inputs, outputs };
          });
          store.getState().applyLayout(positions);
          requestAnimationFrame(() => void flow.fitView({ padding: 0.15, duration: 250, maxZoom: 1 }));
        } catch (err) {
          notice(`Could not arrange the pipeline: ${err instanceof Error ? err.message : String(err)}`);
        } finally {
          setArranging(false);
        }
      },
      addNote: () => {
        const at = place(false);
        store.getState().addNote({ x: at.x - NOTE_WIDTH / 2, y: at.y - NOTE_HEIGHT / 2 });
      },
      copyText,
      copy: async () => {
        const text = copyText();
        if (!text) return notice("Select nodes or notes to copy.");
        try {
          await navigator.clipboard.writeText(text);
          notice("Copied. Paste with Ctrl+V here, in another pipeline or another tab.");
        } catch {
          notice("The browser refused the clipboard: use Ctrl+C instead.");
        }
      },
      cut: async () => {
        const text = copyText();
        if (!text) return notice("Select nodes or notes to cut.");
        try {
          await navigator.clipboard.writeText(text);
          store.getState().deleteSelection();
        } catch {
          notice("The browser refused the clipboard: use Ctrl+X instead.");
        }
      },
      pasteText,
      paste: async () => {
        let text: string;
        try {
          text = await navigator.clipboard.readText();
        } catch {
          return notice("The browser refused to read the clipboard: use Ctrl+V instead.");
        }
        if (!pasteText(text)) notice(`The clipboard holds no copied nodes (${CLIPBOARD_KIND}).`);
      },
      deleteSelection: () => {
        store.getState().deleteSelection();
      },
      selectAll: () => store.getState().selectAll(),
      fitView: () => void flow.fitView({ padding: 0.15, duration: 250, maxZoom: 1 }),
    }),
    [store, catalog, flow, place, arranging, copyText, pasteText, notice],
  );
}
