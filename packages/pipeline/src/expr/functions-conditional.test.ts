import { describe, expect, it } from "vitest";
import { openSchema, run, runtimeErrorOf } from "./test-support";

describe("conditional functions", () => {
  it.each([
    ["coalesce(n, 5)", { n: null }, 5],
    ["coalesce(n, 5)", { n: 3 }, 3],
    ["coalesce(n, f, 1.5)", { n: null, f: null }, 1.5],
    ["coalesce(n, NULL)", { n: null }, null],
    ["ifnull(s, 'none')", { s: null }, "none"],
    ["ifnull(s, 'none')", { s: "x" }, "x"],
    ["nullif(amount, 0)", { amount: 0 }, null],
    ["nullif(amount, 0)", { amount: 4 }, 4],
    ["nullif(amount, n)", { amount: 4, n: null }, 4],
    ["if(amount > 1, 'a', 'b')", { amount: 2 }, "a"],
    ["if(b, 'a', 'b')", { b: null }, "b"],
    ["iif(amount > 1, 1, 2.5)", { amount: 0 }, 2.5],
    ["greatest(3, n, 7, 1)", { n: null }, 7],
    ["least(3, n, 7, 1)", { n: 0 }, 0],
    ["greatest(n, n)", { n: null }, null],
    ["greatest('apple', 'pear')", {}, "pear"],
    ["least(ts, TIMESTAMP '2000-01-01')", { ts: 0 }, 0],
    ["typeof(amount)", { amount: 1 }, "int"],
    ["typeof(n)", { n: null }, "null"],
    ["typeof(tags)", { tags: [] }, "array<string>"],
    ["typeof(data)", { data: { a: 1 } }, "object"],
    ["typeof(data)", { data: "x" }, "string"],
  ])("%s on %j", (source, record, expected) => {
    expect(run(source, record)).toBe(expected);
  });

  it("does not evaluate arguments after the first non-NULL one", () => {
    expect(run("coalesce(amount, amount / n)", { amount: 1, n: 0 })).toBe(1);
    expect(run("ifnull(amount, amount / n)", { amount: 1, n: 0 })).toBe(1);
    expect(run("coalesce(n, n, n, n, 9)", { n: null })).toBe(9);
    expect(() => run("coalesce(n, amount / n)", { amount: 1, n: 0 })).not.toThrow();
    expect(() => run("coalesce(n, 1 / amount)", { amount: 0, n: null })).toThrow("Division by zero");
  });

  it("fails the record when schemaless values cannot be ordered together", () => {
    expect(runtimeErrorOf("greatest(x, y)", { x: 1, y: "a" }, { schema: openSchema }).message).toContain(
      "Cannot compare string with number",
    );
  });
});
