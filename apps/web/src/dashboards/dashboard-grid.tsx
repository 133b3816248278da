"use client";

import { placeTile, type Rect } from "@sluice/api/dashboards/dashboard-layout";
import { GRID_COLUMNS, MAX_TILE_ROWS } from "@sluice/api/dashboards/dashboard-router.types";
import { type ReactNode, useRef, useState } from "react";

// The dashboard's 12-column grid (CSS grid: a tile spans its columns and rows). While arranging, a tile is moved by
// dragging its title bar or with its buttons (keyboard too: every control is a button), and resized with its
// buttons or by dragging its corner. A tile moved onto others pushes them down (placeTile), so the layout sent to the
// API never overlaps.

/** One row's height, px; the gap between rows and columns is GAP. */
const ROW_PX = 110;
const GAP = 12;

export interface GridTile extends Rect {
  id: string;
  title: string;
}

interface Drag {
  id: string;
  mode: "move" | "resize";
  startX: number;
  startY: number;
  start: Rect;
}

export function DashboardGrid<T extends GridTile>({
  tiles,
  arranging,
  onLayout,
  onRemove,
  renderTile,
}: {
  tiles: readonly T[];
  arranging: boolean;
  /** Every tile's new place, after a move or resize. */
  onLayout: (tiles: T[]) => void;
  onRemove: (tile: T) => void;
  renderTile: (tile: T) => { body: ReactNode; footer?: ReactNode };
}) {
  const grid = useRef<HTMLDivElement>(null);
  const [drag, setDrag] = useState<Drag | null>(null);
  const [preview, setPreview] = useState<Rect | null>(null);

  const cellSize = () => {
    const width = grid.current?.clientWidth ?? 1200;
    return { col: (width + GAP) / GRID_COLUMNS, row: ROW_PX + GAP };
  };
  const place = (tile: T, next: Rect) => onLayout(placeTile(tiles, tile.id, next));
  const shown = (t: T): Rect => (drag?.id === t.id && preview ? preview : t);

  const begin = (e: React.PointerEvent, tile: T, mode: Drag["mode"]) => {
    if (e.button !== 0) return;
    e.preventDefault();
    (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
    setDrag({
      id: tile.id,
      mode,
      startX: e.clientX,
      startY: e.clientY,
      start: { x: tile.x, y: tile.y, w: tile.w, h: tile.h },
    });
    setPreview({ x: tile.x, y: tile.y, w: tile.w, h: tile.h });
  };
  const moveTo = (e: React.PointerEvent) => {
    if (!drag) return;
    const { col, row } = cellSize();
    const dx = Math.round((e.clientX - drag.startX) / col);
    const dy = Math.round((e.clientY - drag.startY) / row);
    const s = drag.start;
    setPreview(
      drag.mode === "move"
        ? { ...s, x: Math.max(0, Math.min(GRID_COLUMNS - s.w, s.x + dx)), y: Math.max(0, s.y + dy) }
        : {
            ...s,
            w: Math.max(1, Math.min(GRID_COLUMNS - s.x, s.w + dx)),
            h: Math.max(1, Math.min(MAX_TILE_ROWS, s.h + dy)),
          },
    );
  };
  const end = () => {
    const tile = tiles.find((t) => t.id === drag?.id);
    if (
      tile &&
      preview &&
      (preview.x !== tile.x || preview.y !== tile.y || preview.w !== tile.w || preview.h !== tile.h)
    ) {
      place(tile, preview);
    }
    setDrag(null);
    setPreview(null);
  };

  return (
    <div
      ref={grid}
      className={`dashboard-grid${arranging ? " is-arranging" : ""}`}
      style={{ gridAutoRows: `${ROW_PX}px`, gap: `${GAP}px` }}
      data-testid="dashboard-grid"
    >
      {tiles.map((tile) => {
        const at = shown(tile);
        const { body, footer } = renderTile(tile);
        const label = tile.title;
        const step = (d: Partial<Rect>) => place(tile, { x: tile.x, y: tile.y, w: tile.w, h: tile.h, ...d });
        return (
          <section
            key={tile.id}
            className={`dashboard-tile${drag?.id === tile.id ? " is-dragging" : ""}`}
            style={{ gridColumn: `${at.x + 1} / span ${at.w}`, gridRow: `${at.y + 1} / span ${at.h}` }}
            aria-label={label}
            data-testid="dashboard-tile"
          >
            <header
              className="dashboard-tile-head"
              onPointerDown={arranging ? (e) => begin(e, tile, "move") : undefined}
              onPointerMove={arranging ? moveTo : undefined}
              onPointerUp={arranging ? end : undefined}
              onPointerCancel={arranging ? end : undefined}
            >
              <h2 className="dashboard-tile-title">{label}</h2>
              {arranging ? (
                // Buttons stop the pointer from starting a drag, so a click on them is only a click.
                <div className="dashboard-tile-arrange" onPointerDown={(e) => e.stopPropagation()}>
                  <button
                    type="button"
                    className="button button-ghost button-small"
                    aria-label={`Move ${label} left`}
                    disabled={tile.x === 0}
                    onClick={() => step({ x: tile.x - 1 })}
                  >
                    ←
                  </button>
                  <button
                    type="button"
                    className="button button-ghost button-small"
                    aria-label={`Move ${label} right`}
                    disabled={tile.x + tile.w >= GRID_COLUMNS}
                    onClick={() => step({ x: tile.x + 1 })}
                  >
                    →
                  </button>
                  <button
                    type="button"
                    className="button button-ghost button-small"
                    aria-label={`Move ${label} up`}
                    disabled={tile.y === 0}
                    onClick={() => step({ y: tile.y - 1 })}
                  >
                    ↑
                  </button>
                  <button
                    type="button"
                    className="button button-ghost button-small"
                    aria-label={`Move ${label} down`}
                    onClick={() => step({ y: tile.y + 1 })}
                  >
                    ↓
                  </button>
                  <button
                    type="button"
                    className="button button-ghost button-small"
                    aria-label={`Make ${label} narrower`}
                    disabled={tile.w <= 1}
                    onClick={() => step({ w: tile.w - 1 })}
                  >
                    −W
                  </button>
                  <button
                    type="button"
                    className="button button-ghost button-small"
                    aria-label={`Make ${label} wider`}
                    disabled={tile.x + tile.w >= GRID_COLUMNS}
                    onClick={() => step({ w: tile.w + 1 })}
                  >
                    +W
                  </button>
                  <button
                    type="button"
                    className="button button-ghost button-small"
                    aria-label={`Make ${label} shorter`}
                    disabled={tile.h <= 1}
                    onClick={() => step({ h: tile.h - 1 })}
                  >
                    −H
                  </button>
                  <button
                    type="button"
                    className="button button-ghost button-small"
                    aria-label={`Make ${label} taller`}
                    disabled={tile.h >= MAX_TILE_ROWS}
                    onClick={() => step({ h: tile.h + 1 })}
                  >
                    +H
                  </button>
                  <button
                    type="button"
                    className="button button-ghost button-small button-ghost-danger"
                    aria-label={`Remove ${label}`}
                    onClick={() => onRemove(tile)}
                  >
                    Remove
                  </button>
                </div>
              ) : null}
            </header>
            <div className="dashboard-tile-body">{body}</div>
            {footer}
            {arranging ? (
              <span
                className="dashboard-tile-resize"
                aria-hidden="true"
                onPointerDown={(e) => begin(e, tile, "resize")}
                onPointerMove={moveTo}
                onPointerUp={end}
                onPointerCancel={end}
              />
            ) : null}
          </section>
        );
      })}
    </div>
  );
}
