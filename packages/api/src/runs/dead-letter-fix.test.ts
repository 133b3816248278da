import { describe, expect, it } from "vitest";
import { compileRecordFix, describeFixProblems } from "./dead-letter-fix";

describe("compileRecordFix", () => {
  it("applies assignments in order, each seeing the fields assigned above it, and skips blank and comment lines", () => {
    const compiled = compileRecordFix(
      "-- decimal commas\nprice = CAST(replace(price, ',', '.') AS double)\n\ntotal = price * qty",
    );
    expect(compiled.ok).toBe(true);
    if (!compiled.ok) return;
    expect(compiled.fix({ price: "2,5", qty: 4, keep: "x" })).toEqual({ price: 2.5, qty: 4, keep: "x", total: 10 });
  });

  it("names the line and column of every problem in the whole text", () => {
    const compiled = compileRecordFix("a = 1\n  b = upper(\nCAST(x AS int)\nc =");
    expect(compiled.ok).toBe(false);
    if (compiled.ok) return;
    expect(compiled.problems.map((p) => [p.line, p.column])).toEqual([
      [2, 13],
      [3, 1],
      [4, 4],
    ]);
    expect(describeFixProblems(compiled.problems)).toContain("line 3, column 1: expected an assignment");
  });

  it("says which assignment failed on a record, and refuses an empty fix", () => {
    const compiled = compileRecordFix("n = CAST(n AS int)");
    if (!compiled.ok) throw new Error("should compile");
    expect(() => compiled.fix({ n: "abc" })).toThrow(/^n: Cannot cast 'abc'/);
    expect(compileRecordFix("-- nothing").ok).toBe(false);
  });
});
