import { describe, expect, it } from "vitest";
import { compileExpression, compilePredicate } from "./compile";
import { options, passes, run } from "./test-support";

// SQL three-valued logic: TRUE, FALSE and NULL (unknown).
const T = true;
const F = false;
const N = null;
const values = [T, F, N] as const;

function record(b: boolean | null, flag: boolean | null) {
  return { b, flag };
}

describe("three-valued logic", () => {
  const and: Record<string, boolean | null> = {
    "true,true": T,
    "true,false": F,
    "true,null": N,
    "false,true": F,
    "false,false": F,
    "false,null": F,
    "null,true": N,
    "null,false": F,
    "null,null": N,
  };
  const or: Record<string, boolean | null> = {
    "true,true": T,
    "true,false": T,
    "true,null": T,
    "false,true": T,
    "false,false": F,
    "false,null": N,
    "null,true": T,
    "null,false": N,
    "null,null": N,
  };

  for (const x of values) {
    for (const y of values) {
      it(`${x} AND ${y} = ${and[`${x},${y}`]}; ${x} OR ${y} = ${or[`${x},${y}`]}`, () => {
        expect(run("b AND flag", record(x, y))).toBe(and[`${x},${y}`]);
        expect(run("b OR flag", record(x, y))).toBe(or[`${x},${y}`]);
      });
    }
  }

  it("NOT TRUE = FALSE, NOT FALSE = TRUE, NOT NULL = NULL", () => {
    expect(run("NOT b", { b: T })).toBe(F);
    expect(run("NOT b", { b: F })).toBe(T);
    expect(run("NOT b", { b: N })).toBe(N);
  });

  it("folds the decisive constant of AND/OR whatever the other side is", () => {
    expect(run("FALSE AND n / 0 > 1", { n: 1 })).toBe(F);
    expect(run("TRUE OR n / 0 > 1", { n: 1 })).toBe(T);
    expect(run("NULL AND FALSE")).toBe(F);
    expect(run("NULL OR TRUE")).toBe(T);
    expect(run("NULL AND TRUE")).toBe(N);
    expect(run("NOT NULL")).toBe(N);
  });

  it("short-circuits: the right side is not evaluated once the left decides", () => {
    expect(run("b AND n / 0 = 1", { b: false, n: 1 })).toBe(false);
    expect(run("b OR n / 0 = 1", { b: true, n: 1 })).toBe(true);
    expect(() => run("b AND n / 0 = 1", { b: true, n: 1 })).toThrow("Division by zero");
  });
});

describe("NULL in comparisons and predicates", () => {
  it.each([
    ["n = 1", { n: N }, N],
    ["n <> 1", { n: N }, N],
    ["1 < n", { n: N }, N],
    ["NULL = NULL", {}, N],
    ["n = n", { n: N }, N],
    ["n IS NULL", { n: N }, T],
    ["n IS NULL", {}, T],
    ["n IS NOT NULL", { n: 0 }, T],
    ["b IS TRUE", { b: N }, F],
    ["b IS NOT TRUE", { b: N }, T],
    ["b IS FALSE", { b: F }, T],
    ["b IS NOT FALSE", { b: N }, T],
    ["b IS UNKNOWN", { b: N }, T],
    ["n IS DISTINCT FROM 1", { n: N }, T],
    ["n IS NOT DISTINCT FROM NULL", { n: N }, T],
    ["n IS DISTINCT FROM 1", { n: 1 }, F],
    ["payload IS NOT DISTINCT FROM payload", { payload: { a: [1] } }, T],
    ["1 IN (1, NULL)", {}, T],
    ["2 IN (1, NULL)", {}, N],
    ["2 NOT IN (1, NULL)", {}, N],
    ["2 NOT IN (1, 3)", {}, T],
    ["n IN (1, 2)", { n: N }, N],
    ["n IN (amount, 2)", { n: 5, amount: 5 }, T],
    ["n NOT IN (amount, 2)", { n: 5, amount: null }, N],
    ["n BETWEEN 1 AND 3", { n: N }, N],
    ["5 BETWEEN 1 AND n", { n: N }, N],
    ["0 BETWEEN 1 AND n", { n: N }, F],
    ["0 NOT BETWEEN 1 AND n", { n: N }, T],
    ["n + 1", { n: N }, N],
    ["-n", { n: N }, N],
    ["s || 'x'", { s: N }, N],
    ["lower(s)", { s: N }, N],
    ["s LIKE 'a%'", { s: N }, N],
    ["CASE WHEN b THEN 1 ELSE 2 END", { b: N }, 2],
    ["CASE n WHEN NULL THEN 1 ELSE 2 END", { n: N }, 2],
    ["CAST(n AS STRING)", { n: N }, N],
  ])("%s on %j is %s", (source, rec, expected) => {
    expect(run(source, rec)).toBe(expected);
  });

  it("passes a filter only on TRUE", () => {
    expect(passes("n > 1", { n: 2 })).toBe(true);
    expect(passes("n > 1", { n: 0 })).toBe(false);
    expect(passes("n > 1", { n: null })).toBe(false);
    expect(passes("NOT (n > 1)", { n: null })).toBe(false);
    expect(passes("NOT (n > 1)", { n: 0 })).toBe(true);
    expect(passes("n IS NULL", {})).toBe(true);
    expect(passes("NULL")).toBe(false);
  });

  it("agrees with the scalar evaluation for every combination of TRUE, FALSE and NULL", () => {
    const sources = [
      "b AND flag",
      "b OR flag",
      "NOT b",
      "NOT (b AND flag)",
      "NOT (b OR flag)",
      "NOT NOT b",
      "(b OR flag) AND NOT (b AND flag)",
      "n > 1 AND b",
      "NOT (n >= 2) OR flag",
      "1 < n",
      "n <> 1",
      "NOT (n = 2 OR NOT flag)",
      "b IS NOT TRUE AND flag IS NOT NULL",
    ];
    const ns = [null, 0, 1, 2, 3];
    for (const source of sources) {
      const scalar = compileExpression(source, options());
      const filter = compilePredicate(source, options());
      if (!scalar.ok || !filter.ok) throw new Error(source);
      for (const b of values) {
        for (const flag of values) {
          for (const n of ns) {
            const r = { b, flag, n };
            expect(filter.value.test(r), `${source} on ${JSON.stringify(r)}`).toBe(scalar.value.evaluate(r) === true);
          }
        }
      }
    }
  });
});
