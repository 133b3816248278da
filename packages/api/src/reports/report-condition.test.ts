import { describe, expect, it } from "vitest";
import { conditionNotice, evaluateCondition } from "./report-condition";

const result = (rows: unknown[][]) => ({ columns: [{ name: "n" }, { name: "label" }], rows });

describe("a report's condition", () => {
  it("tests the row count", () => {
    expect(evaluateCondition({ kind: "rows", op: ">", value: 2 }, result([[1], [2], [3]]))).toEqual({
      met: true,
      value: 3,
      problem: null,
    });
    expect(evaluateCondition({ kind: "rows", op: "=", value: 0 }, result([[1]])).met).toBe(false);
    expect(evaluateCondition({ kind: "rows", op: "=", value: 0 }, result([])).met).toBe(true);
  });

  it("tests a column of the first row, numbers sent as text included", () => {
    expect(evaluateCondition({ kind: "value", column: "n", op: ">=", value: 10 }, result([[10, "a"]])).met).toBe(true);
    expect(evaluateCondition({ kind: "value", column: "n", op: "<", value: 10 }, result([["9.5", "a"]]))).toEqual({
      met: true,
      value: 9.5,
      problem: null,
    });
    expect(evaluateCondition({ kind: "value", column: "n", op: "!=", value: 1 }, result([[1], [5]])).met).toBe(false);
  });

  it("says why it cannot test: no such column, no rows, not a number", () => {
    expect(evaluateCondition({ kind: "value", column: "x", op: ">", value: 0 }, result([[1]])).problem).toBe(
      'the result has no column "x"',
    );
    expect(evaluateCondition({ kind: "value", column: "n", op: ">", value: 0 }, result([])).problem).toBe(
      "the result has no rows",
    );
    expect(evaluateCondition({ kind: "value", column: "label", op: ">", value: 0 }, result([[1, "a"]])).problem).toBe(
      'column "label" of the first row is not a number',
    );
  });

  it("names the report, the value and the threshold in its notices", () => {
    const condition = { kind: "value" as const, column: "errors", op: ">" as const, value: 5 };
    expect(conditionNotice("Errors", "critical", condition, "firing", 7)).toBe(
      '[critical] Report "Errors" is firing: errors of the first row is 7, > 5',
    );
    expect(conditionNotice("Errors", "critical", condition, "recovered", 2)).toBe(
      'Report "Errors" recovered: errors of the first row is 2, no longer > 5',
    );
  });
});
