import { describe, expect, it } from "vitest";
import { firstFreePlace, layoutProblem, placeTile } from "./dashboard-layout";

describe("dashboard layout", () => {
  it("places a new tile at the first gap, row by row, where its size fits", () => {
    expect(firstFreePlace([], 6, 3)).toEqual({ x: 0, y: 0, w: 6, h: 3 });
    const taken = [
      { x: 0, y: 0, w: 4, h: 2 },
      { x: 8, y: 0, w: 4, h: 1 },
    ];
    expect(firstFreePlace(taken, 4, 2)).toEqual({ x: 4, y: 0, w: 4, h: 2 });
    // Too wide for the gap on the first rows: it goes below.
    expect(firstFreePlace(taken, 6, 1)).toEqual({ x: 4, y: 1, w: 6, h: 1 });
    expect(firstFreePlace(taken, 12, 1)).toEqual({ x: 0, y: 2, w: 12, h: 1 });
    expect(firstFreePlace([{ x: 0, y: 0, w: 12, h: 4 }], 20, 1)).toEqual({ x: 0, y: 4, w: 12, h: 1 });
  });

  it("names the tiles that leave the grid or overlap, and passes tiles that only touch", () => {
    const a = { label: "a", x: 0, y: 0, w: 6, h: 2 };
    expect(layoutProblem([a, { label: "b", x: 6, y: 0, w: 6, h: 2 }, { label: "c", x: 0, y: 2, w: 12, h: 1 }])).toBe(
      null,
    );
    expect(layoutProblem([a, { label: "b", x: 5, y: 1, w: 2, h: 2 }])).toBe(
      'tiles "a" and "b" overlap; move one of them first',
    );
    expect(layoutProblem([{ label: "wide", x: 7, y: 0, w: 6, h: 1 }])).toMatch(/"wide" reaches column 13/);
  });
});

describe("placing a tile", () => {
  const tiles = [
    { id: "a", x: 0, y: 0, w: 6, h: 2 },
    { id: "b", x: 6, y: 0, w: 6, h: 2 },
    { id: "c", x: 0, y: 2, w: 12, h: 1 },
  ];

  it("pushes the tiles it lands on down below it, in a chain, leaving no overlap", () => {
    const next = placeTile(tiles, "a", { x: 4, y: 0, w: 6, h: 2 });
    expect(next.map((t) => [t.id, t.x, t.y])).toEqual([
      ["a", 4, 0],
      ["b", 6, 2],
      ["c", 0, 4],
    ]);
    expect(layoutProblem(next.map((t) => ({ ...t, label: t.id })))).toBeNull();
  });

  it("keeps a tile inside the grid when moved or grown past its edge", () => {
    const next = placeTile(tiles, "b", { x: 9, y: 0, w: 6, h: 2 });
    expect(next.find((t) => t.id === "b")).toMatchObject({ x: 6, w: 6 });
    const wide = placeTile(tiles, "c", { x: -1, y: 2, w: 14, h: 1 });
    expect(wide.find((t) => t.id === "c")).toMatchObject({ x: 0, w: 12 });
  });
});
