import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { reduceByKey, replacesStored } from "./newest-wins";

const items = (rows: Record<string, unknown>[]) => rows.map((row, index) => ({ index, row }));

describe("replacesStored", () => {
  it("replaces a row without a version, never with one, and only by a greater one", () => {
    expect(replacesStored(null, 1)).toBe(true);
    expect(replacesStored(undefined, null)).toBe(true);
    expect(replacesStored(5, null)).toBe(false);
    expect(replacesStored(5, 6)).toBe(true);
    expect(replacesStored(5, 5)).toBe(false);
    expect(replacesStored(6, 5)).toBe(false);
    expect(replacesStored("2026-05-01", "2026-05-02")).toBe(true);
    expect(replacesStored(9n, 10)).toBe(true);
    expect(replacesStored(10n, 9n)).toBe(false);
  });
});

describe("reduceByKey", () => {
  it("without newerBy keeps the last record of each key", () => {
    const out = reduceByKey(
      items([
        { id: 1, v: "a" },
        { id: 2, v: "b" },
        { id: 1, v: "c" },
      ]),
      ["id"],
    );
    expect(out.map((i) => i.row)).toEqual([
      { id: 2, v: "b" },
      { id: 1, v: "c" },
    ]);
  });

  it("with newerBy keeps the greatest value per key, not the last, and the first of equal ones", () => {
    const out = reduceByKey(
      items([
        { id: 1, at: 300, v: "newest" },
        { id: 2, at: 10, v: "first of a tie" },
        { id: 1, at: 100, v: "late but old" },
        { id: 2, at: 10, v: "second of a tie" },
        { id: 3, at: null, v: "no version" },
        { id: 3, at: 1, v: "versioned" },
        { id: 3, at: null, v: "no version again" },
      ]),
      ["id"],
      "at",
    );
    expect(out.map((i) => i.row.v)).toEqual(["newest", "first of a tie", "versioned"]);
  });

  it("keys by several columns", () => {
    const out = reduceByKey(
      items([
        { a: 1, b: "x", at: 2 },
        { a: 1, b: "y", at: 1 },
        { a: 1, b: "x", at: 3 },
      ]),
      ["a", "b"],
      "at",
    );
    expect(out.map((i) => i.index)).toEqual([1, 2]);
  });

  it("ends as applying the records one by one with newest-wins would, in any order", () => {
    const row = fc.record({
      id: fc.integer({ min: 0, max: 5 }),
      at: fc.option(fc.integer({ min: 0, max: 20 }), { nil: null }),
      n: fc.integer(),
    });
    fc.assert(
      fc.property(fc.array(row, { maxLength: 40 }), (rows) => {
        const table = new Map<number, Record<string, unknown>>();
        for (const r of rows) {
          const held = table.get(r.id);
          if (held === undefined || replacesStored(held.at, r.at)) table.set(r.id, r);
        }
        const reduced = reduceByKey(items(rows), ["id"], "at");
        expect(new Map(reduced.map((i) => [i.row.id as number, i.row]))).toEqual(table);
      }),
    );
  });
});
