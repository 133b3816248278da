import { describe, expect, it } from "vitest";
import { commitRows, type RecordRow, rowProblems, rowsFromRecord } from "./record-rows";

function counter() {
  let n = 0;
  return () => ++n;
}

/** Applies `edit` to rows made from `stored`, and returns what would be stored and the problems shown. */
function edit(stored: Record<string, unknown>, change: (rows: RecordRow[]) => RecordRow[]) {
  const rows = change(rowsFromRecord(stored, counter()));
  const problems = rowProblems(rows, "field");
  return { problems, ...commitRows(rows, problems) };
}

const rename = (i: number, key: string) => (rows: RecordRow[]) => rows.map((r, j) => (j === i ? { ...r, key } : r));

describe("record rows", () => {
  it("renames a row when the new name is free", () => {
    const { value, problems } = edit({ a: "x", b: "y" }, rename(1, "c"));
    expect(problems).toEqual([null, null]);
    expect(value).toEqual({ a: "x", c: "y" });
    expect(Object.keys(value)).toEqual(["a", "c"]);
  });

  it("flags both rows of a duplicate name and keeps storing both values under their old names", () => {
    const { value, problems } = edit({ a: "x", b: "y" }, rename(1, "a"));
    expect(problems[0]).toMatch(/also called “a”/);
    expect(problems[1]).toMatch(/also called “a”/);
    expect(value).toEqual({ a: "x", b: "y" });
  });

  it("keeps a row whose name was emptied under its old name", () => {
    const { value, problems, rows } = edit({ a: "x" }, (rows) =>
      rename(0, "")(rows).map((r) => ({ ...r, value: "z" })),
    );
    expect(problems[0]).toMatch(/Give this field a name/);
    expect(value).toEqual({ a: "z" });
    expect(rows[0]?.accepted).toBe("a");
  });

  it("does not let a row take a name another unfinished row is still stored under", () => {
    // Row 1 loses its name "a"; row 2 asks for "a" at once: taking it would drop row 1's value.
    const { value, problems } = edit({ a: "x", b: "y" }, (rows) => rename(1, "a")(rename(0, "")(rows)));
    expect(problems[0]).toMatch(/name/);
    expect(problems[1]).toMatch(/still the name of field 1/);
    expect(value).toEqual({ a: "x", b: "y" });
  });

  it("stores a new row only once it has a name", () => {
    const added = (rows: RecordRow[]) => [...rows, { id: 99, key: "", value: "count(*)", accepted: null }];
    const pending = edit({ a: "x" }, added);
    expect(pending.value).toEqual({ a: "x" });
    expect(pending.rows[1]?.accepted).toBeNull();
    const named = edit({ a: "x" }, (rows) => rename(1, "hits")(added(rows)));
    expect(named.value).toEqual({ a: "x", hits: "count(*)" });
    expect(named.rows[1]?.accepted).toBe("hits");
  });

  it("keeps row ids across a reload of the same names", () => {
    const next = counter();
    const first = rowsFromRecord({ a: 1, b: 2 }, next);
    const again = rowsFromRecord({ b: 3, c: 4 }, next, first);
    expect(again.map((r) => r.id)).toEqual([first[1]?.id, 3]);
  });

  it("stores a row called __proto__ as a plain key", () => {
    const { value } = edit({}, () => [{ id: 1, key: "__proto__", value: 1, accepted: null }]);
    expect(Object.keys(value)).toEqual(["__proto__"]);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  });
});
