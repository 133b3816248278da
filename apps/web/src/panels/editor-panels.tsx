"use client";

import { type KeyboardEvent, type PointerEvent, useCallback, useId, useRef, useState } from "react";
import { useEditor } from "@/editor/editor-context";
import { PreviewPanel } from "./preview-panel";
import { RunPanel } from "./run-panel";
import { usePreview } from "./use-preview";
import { type RestoredDraft, VersionsPanel } from "./versions-panel";

// The editor's bottom dock: data preview, the run and its history, and the version history. Tabs switch between
// them; every panel stays mounted while the editor is open (a preview keeps refreshing, a paused run stays followed,
// a restored draft keeps its banner), hidden when not shown. The dock folds down to its tab strip.

type PanelId = "preview" | "run" | "versions";

const PANELS: { id: PanelId; label: string }[] = [
  { id: "preview", label: "Data preview" },
  { id: "run", label: "Run" },
  { id: "versions", label: "Versions" },
];

const MIN_HEIGHT = 140;
const DEFAULT_HEIGHT = 300;
const maxHeight = () => Math.max(MIN_HEIGHT, Math.round(window.innerHeight * 0.7));

export function EditorPanels() {
  const baseId = useId();
  const [active, setActive] = useState<PanelId>("preview");
  const [open, setOpen] = useState(false);
  const [height, setHeight] = useState(DEFAULT_HEIGHT);
  const [previewOn, setPreviewOn] = useState(false);
  const [limit, setLimit] = useState(50);
  const [restored, setRestored] = useState<RestoredDraft | null>(null);
  const preview = usePreview(previewOn, limit);
  const runStatus = useEditor((s) => s.run?.status ?? null);
  const drag = useRef<{ startY: number; startHeight: number } | null>(null);

  const show = (id: PanelId) => {
    if (open && active === id) setOpen(false);
    else {
      setActive(id);
      setOpen(true);
    }
  };
  const togglePreview = useCallback((on: boolean) => {
    setPreviewOn(on);
    if (on) {
      setActive("preview");
      setOpen(true);
    }
  }, []);
  const onRestored = useCallback((r: RestoredDraft | null) => setRestored(r), []);

  const onTabKey = (event: KeyboardEvent<HTMLDivElement>) => {
    const i = PANELS.findIndex((p) => p.id === active);
    const step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
    if (step === 0) return;
    event.preventDefault();
    const next = PANELS[(i + step + PANELS.length) % PANELS.length]!;
    setActive(next.id);
    setOpen(true);
    document.getElementById(`${baseId}-tab-${next.id}`)?.focus();
  };

  const onResizeKey = (event: KeyboardEvent<HTMLDivElement>) => {
    const step = event.shiftKey ? 80 : 20;
    if (event.key === "ArrowUp") setHeight((h) => Math.min(maxHeight(), h + step));
    else if (event.key === "ArrowDown") setHeight((h) => Math.max(MIN_HEIGHT, h - step));
    else return;
    event.preventDefault();
  };
  const onPointerDown = (event: PointerEvent<HTMLDivElement>) => {
    drag.current = { startY: event.clientY, startHeight: height };
    event.currentTarget.setPointerCapture(event.pointerId);
  };
  const onPointerMove = (event: PointerEvent<HTMLDivElement>) => {
    if (!drag.current) return;
    const next = drag.current.startHeight + (drag.current.startY - event.clientY);
    setHeight(Math.min(maxHeight(), Math.max(MIN_HEIGHT, next)));
  };
  const onPointerUp = () => {
    drag.current = null;
  };

  return (
    <section className={open ? "dock is-open" : "dock"} aria-label="Pipeline panels">
      {open ? (
        // biome-ignore lint/a11y/useSemanticElements: an <hr> cannot be dragged or focused; this is the ARIA window splitter pattern
        <div
          className="dock-resizer"
          role="separator"
          aria-orientation="horizontal"
          aria-label="Resize the panel"
          aria-valuenow={height}
          aria-valuemin={MIN_HEIGHT}
          aria-valuemax={typeof window === "undefined" ? 900 : maxHeight()}
          tabIndex={0}
          onKeyDown={onResizeKey}
          onPointerDown={onPointerDown}
          onPointerMove={onPointerMove}
          onPointerUp={onPointerUp}
          onPointerCancel={onPointerUp}
        />
      ) : null}
      <div className="dock-bar">
        <div className="dock-tabs" role="tablist" aria-label="Panels" onKeyDown={onTabKey} tabIndex={-1}>
          {PANELS.map((p) => (
            <button
              key={p.id}
              id={`${baseId}-tab-${p.id}`}
              type="button"
              role="tab"
              className="dock-tab"
              aria-selected={open && active === p.id}
              aria-controls={`${baseId}-panel-${p.id}`}
              tabIndex={active === p.id ? 0 : -1}
              onClick={() => show(p.id)}
            >
              {p.label}
              {p.id === "preview" && previewOn ? <span className="dock-tab-flag">on</span> : null}
              {p.id === "run" && runStatus ? (
                <span className={`dock-tab-dot status-dot-${runStatus}`} title={runStatus} />
              ) : null}
              {p.id === "versions" && restored ? <span className="dock-tab-flag">restored</span> : null}
            </button>
          ))}
        </div>
        <button
          type="button"
          className="icon-button dock-fold"
          aria-expanded={open}
          aria-label={open ? "Hide the panel" : "Show the panel"}
          onClick={() => setOpen((o) => !o)}
        >
          <span aria-hidden="true">{open ? "▾" : "▴"}</span>
        </button>
      </div>
      {PANELS.map((p) => (
        <div
          key={p.id}
          id={`${baseId}-panel-${p.id}`}
          role="tabpanel"
          aria-labelledby={`${baseId}-tab-${p.id}`}
          className="dock-panel"
          hidden={!open || active !== p.id}
          style={{ height }}
        >
          {p.id === "preview" ? (
            <PreviewPanel
              enabled={previewOn}
              onToggle={togglePreview}
              limit={limit}
              onLimit={setLimit}
              preview={preview}
            />
          ) : p.id === "run" ? (
            <RunPanel />
          ) : (
            <VersionsPanel restored={restored} onRestored={onRestored} />
          )}
        </div>
      ))}
    </section>
  );
}
