import { describe, expect, it } from "vitest";
import { chartSeries, indexPick, namePick, numeric, suggestChart } from "./result-chart-data";

const columns = [
  { name: "minute", kind: "time" },
  { name: "shop", kind: "string" },
  { name: "orders", kind: "number" },
  { name: "revenue", kind: "number" },
];

describe("numeric", () => {
  it("reads numbers, numeric strings (decimals, big integers) and booleans; nothing else", () => {
    expect([1.5, "12.50", "-3e2", "9007199254740993", true, false].map(numeric)).toEqual([
      1.5, 12.5, -300, 9007199254740992, 1, 0,
    ]);
    expect([null, "n/a", "", Number.NaN, {}, "1,000"].map(numeric)).toEqual([null, null, null, null, null, null]);
  });
});

describe("suggestChart", () => {
  it("puts a time column on x and the numbers on y, as a line", () => {
    expect(suggestChart(columns, 10)).toEqual({ kind: "line", x: 0, y: [2, 3] });
  });

  it("draws bars over a category when there is no time, and one number as a number", () => {
    expect(suggestChart(columns.slice(1), 3)).toEqual({ kind: "bar", x: 0, y: [1, 2] });
    expect(suggestChart([{ name: "n", kind: "number" }], 1)).toEqual({ kind: "number", x: 0, y: [0] });
    expect(suggestChart([{ name: "name", kind: "string" }], 3)).toBeNull();
  });
});

describe("chartSeries", () => {
  it("sorts time x ascending as epoch seconds, and leaves gaps for values that are not numbers", () => {
    const rows = [
      ["2026-12-07T10:01:00Z", "a", 3, "7.5"],
      ["2026-12-07T10:00:00Z", "b", 1, null],
      [null, "c", 9, 9],
    ];
    const s = chartSeries(columns, rows, { x: 0, y: [2, 3] });
    const t0 = Date.parse("2026-12-07T10:00:00Z") / 1000;
    expect(s.data).toEqual([
      [t0, t0 + 60],
      [1, 3],
      [null, 7.5],
    ]);
    expect(s).toMatchObject({ xKind: "time", labels: ["orders", "revenue"], skipped: 1 });
  });

  it("draws categories at 0, 1, 2 in the result's order, keeping their text for the ticks", () => {
    const rows = [
      [null, "north", 5, 1],
      [null, "south", 2, 1],
      [null, null, 1, 1],
    ];
    const s = chartSeries(columns, rows, { x: 1, y: [2] });
    expect(s.data).toEqual([
      [0, 1, 2],
      [5, 2, 1],
    ]);
    expect(s.categories).toEqual(["north", "south", "null"]);
    expect(s.xKind).toBe("category");
  });
});

describe("saved picks", () => {
  it("name their columns, and find them again when the columns come back in another order", () => {
    const named = namePick(columns, { kind: "line", x: 0, y: [2, 3] });
    expect(named).toEqual({ kind: "line", x: "minute", y: ["orders", "revenue"] });
    const reordered = [columns[3]!, columns[2]!, columns[1]!, columns[0]!];
    expect(indexPick(reordered, named!)).toEqual({ kind: "line", x: 3, y: [0, 1] });
  });

  it("leave out y columns the result no longer has, and give up without the x column", () => {
    expect(indexPick(columns, { kind: "bar", x: "shop", y: ["refunds", "orders", "shop"] })).toEqual({
      kind: "bar",
      x: 1,
      y: [2],
    });
    expect(indexPick(columns, { kind: "bar", x: "country", y: ["orders"] })).toBeNull();
    expect(indexPick(columns, { kind: "bar", x: "shop", y: ["refunds"] })).toBeNull();
  });

  it("keep one value for a single number", () => {
    expect(indexPick(columns, { kind: "number", x: "orders", y: ["revenue", "orders"] })).toEqual({
      kind: "number",
      x: 2,
      y: [2],
    });
  });
});
