import { GRID_COLUMNS } from "./dashboard-router.types";

// Where tiles sit on a dashboard's 12-column grid: the checks a new layout passes, and the first free place for a new
// tile. Pure, so the page can ask the same questions before it sends a move.

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export function overlaps(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/** Why a layout cannot be taken, in one sentence naming the tiles; null when every tile fits and none overlap. */
export function layoutProblem(tiles: readonly (Rect & { label: string })[]): string | null {
  for (const t of tiles) {
    if (t.x + t.w > GRID_COLUMNS) {
      return `tile "${t.label}" reaches column ${t.x + t.w}, past the grid's ${GRID_COLUMNS} columns`;
    }
  }
  for (let i = 0; i < tiles.length; i++) {
    for (let j = i + 1; j < tiles.length; j++) {
      const a = tiles[i]!;
      const b = tiles[j]!;
      if (overlaps(a, b)) return `tiles "${a.label}" and "${b.label}" overlap; move one of them first`;
    }
  }
  return null;
}

/** The first place, row by row from the top left, where a `w` × `h` tile touches none of `taken`. */
export function firstFreePlace(taken: readonly Rect[], w: number, h: number): Rect {
  const width = Math.min(w, GRID_COLUMNS);
  const bottom = taken.reduce((max, t) => Math.max(max, t.y + t.h), 0);
  for (let y = 0; y <= bottom; y++) {
    for (let x = 0; x + width <= GRID_COLUMNS; x++) {
      const place = { x, y, w: width, h };
      if (!taken.some((t) => overlaps(t, place))) return place;
    }
  }
  return { x: 0, y: bottom, w: width, h };
}

/**
 * The layout after tile `id` is put at `place` (clamped into the grid): every tile it now overlaps is pushed down
 * just below it, and so on down the grid, so the result never overlaps. This is how the page resolves a move or a
 * resize; the API itself takes only layouts without overlaps.
 */
export function placeTile<T extends Rect & { id: string }>(tiles: readonly T[], id: string, place: Rect): T[] {
  const w = Math.max(1, Math.min(place.w, GRID_COLUMNS));
  const moved = { x: Math.max(0, Math.min(place.x, GRID_COLUMNS - w)), y: Math.max(0, place.y), w, h: place.h };
  const out = tiles.map((t) => (t.id === id ? { ...t, ...moved } : { ...t }));
  // Settled tiles, top to bottom; each next one is pushed below any settled tile it overlaps.
  const settled: T[] = out.filter((t) => t.id === id);
  const rest = out.filter((t) => t.id !== id).sort((a, b) => a.y - b.y || a.x - b.x);
  for (const t of rest) {
    let clash = settled.find((s) => overlaps(s, t));
    while (clash) {
      t.y = clash.y + clash.h;
      clash = settled.find((s) => overlaps(s, t));
    }
    settled.push(t);
  }
  return out;
}
