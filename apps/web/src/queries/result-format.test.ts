import { describe, expect, it } from "vitest";
import { cellText, columnWidths, formatElapsed, resultSummary, truncationNote } from "./result-format";

describe("cellText", () => {
  it("shows null as null, and numbers, booleans and strings as they read", () => {
    expect(cellText(null)).toEqual({ text: "null", isNull: true });
    expect(cellText(undefined)).toEqual({ text: "null", isNull: true });
    expect(cellText(42.5)).toEqual({ text: "42.5", isNull: false });
    expect(cellText("9007199254740993")).toEqual({ text: "9007199254740993", isNull: false });
    expect(cellText(false)).toEqual({ text: "false", isNull: false });
    expect(cellText("2026-12-07T17:00:00.000Z")).toEqual({ text: "2026-12-07T17:00:00.000Z", isNull: false });
  });

  it("shows JSON values as compact JSON", () => {
    expect(cellText({ a: [1, 2], b: { c: null } }).text).toBe('{"a":[1,2],"b":{"c":null}}');
    expect(cellText([]).text).toBe("[]");
  });

  it("gives long text a title with the whole value, and clips what it renders", () => {
    const short = cellText("x".repeat(40));
    expect(short.title).toBeUndefined();
    const long = cellText("y".repeat(41));
    expect(long.title).toBe("y".repeat(41));
    const huge = cellText("z".repeat(10_000));
    expect(huge.text).toHaveLength(401);
    expect(huge.title).toHaveLength(4001);
  });
});

describe("columnWidths", () => {
  it("fits the name, the type and the values, within bounds", () => {
    const widths = columnWidths(
      [
        { name: "id", type: "int4" },
        { name: "description", type: "text" },
        { name: "payload", type: "jsonb" },
      ],
      [
        [1, "short", { k: "v".repeat(200) }],
        [2, null, null],
      ],
    );
    expect(widths[0]).toBe(72);
    expect(widths[1]).toBe(Math.round(11 * 7.6 + 24));
    expect(widths[2]).toBe(320);
  });
});

describe("run status", () => {
  it("says how many rows came back and how long the request and the engine took", () => {
    expect(resultSummary({ rows: new Array(1234), elapsedMs: 56.4, engineMs: 12.2 })).toBe(
      "1,234 rows in 56 ms (engine 12 ms)",
    );
    expect(resultSummary({ rows: [[1]], elapsedMs: 1500, engineMs: 0.4 })).toBe("1 row in 1,500 ms (engine 0 ms)");
    expect(truncationNote(100_000)).toBe("only the first 100,000 rows are shown");
  });

  it("shows a running query's time in tenths of a second", () => {
    expect(formatElapsed(0)).toBe("0.0 s");
    expect(formatElapsed(12_345)).toBe("12.3 s");
    expect(formatElapsed(-5)).toBe("0.0 s");
  });
});
