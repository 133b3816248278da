import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { DataRecord } from "../record-schema";
import { ExpressionRuntimeError } from "./errors";
import { aggregate, aggregateOver, openSchema } from "./test-support";

const rows: DataRecord[] = [
  { amount: 10, price: 1.5, country: "DE", n: 1, ts: 3000 },
  { amount: 20, price: 2.5, country: "FR", n: null, ts: 1000 },
  { amount: 30, price: 3.25, country: "DE", n: 3, ts: 2000 },
  { amount: 40, price: 4, country: "IT", n: null, ts: 4000 },
];

describe("aggregates", () => {
  it.each([
    ["count(*)", 4],
    ["count(n)", 2],
    ["count(DISTINCT country)", 3],
    ["count(distinct n)", 2],
    ["sum(amount)", 100],
    ["sum(n)", 4],
    ["sum(price)", 11.25],
    ["avg(amount)", 25],
    ["avg(n)", 2],
    ["min(amount)", 10],
    ["max(country)", "IT"],
    ["min(ts)", 1000],
    ["first(n)", 1],
    ["last(n)", 3],
    ["first(country)", "DE"],
    ["last(amount)", 40],
    ["round(avg(price), 2)", 2.81],
    ["sum(amount) / count(*)", 25],
    ["sum(amount * price)", 15 + 50 + 97.5 + 160],
    ["max(ts) - min(ts)", 3000],
  ])("%s", (source, expected) => {
    expect(aggregateOver(source, rows)).toBe(expected);
  });

  it("gives the SQL results for an empty window", () => {
    for (const [source, expected] of [
      ["count(*)", 0],
      ["count(DISTINCT country)", 0],
      ["sum(amount)", null],
      ["avg(amount)", null],
      ["max(amount)", null],
      ["first(amount)", null],
      ["coalesce(sum(amount), 0)", 0],
    ] as const) {
      expect(aggregateOver(source, []), source).toBe(expected);
    }
  });

  it("keeps 1 and '1' apart in count(DISTINCT) over schemaless values", () => {
    const records = [{ x: 1 }, { x: "1" }, { x: 1 }, { x: true }, { x: { a: 1 } }, { x: { a: 1 } }, { x: null }];
    expect(aggregateOver("count(DISTINCT x)", records, { schema: openSchema })).toBe(4);
  });

  it("accepts values whose keys look like prototype names", () => {
    const records = [{ country: "__proto__" }, { country: "constructor" }, { country: "__proto__" }];
    expect(aggregateOver("count(DISTINCT country)", records)).toBe(2);
  });

  it("keeps plain JSON state that survives a checkpoint round-trip", () => {
    const agg = aggregate("count(*) + count(DISTINCT country) + sum(amount) + avg(price) + max(amount)");
    let acc = agg.init();
    for (const r of rows.slice(0, 2)) acc = agg.add(acc, r);
    const restored = JSON.parse(JSON.stringify(acc)) as unknown;
    expect(restored).toEqual(acc);
    let a = restored;
    let b = acc;
    for (const r of rows.slice(2)) {
      a = agg.add(a, r);
      b = agg.add(b, r);
    }
    expect(agg.result(a)).toBe(agg.result(b));
  });

  it("leaves the state unchanged when a record fails", () => {
    const agg = aggregate("count(*) + count(DISTINCT x) + sum(x) + avg(x) + max(x)", { schema: openSchema });
    let acc = agg.add(agg.add(agg.init(), { x: 1 }), { x: 2 });
    const before = JSON.stringify(acc);
    expect(() => {
      acc = agg.add(acc, { x: "not a number" });
    }).toThrow(ExpressionRuntimeError);
    expect(JSON.stringify(acc)).toBe(before);
    const mixed = aggregate("count(*) + count(DISTINCT x) + max(x)", { schema: openSchema });
    let acc2 = mixed.add(mixed.init(), { x: 5 });
    const before2 = JSON.stringify(acc2);
    try {
      acc2 = mixed.add(acc2, { x: "text" });
      throw new Error("should fail");
    } catch (e) {
      expect(e).toBeInstanceOf(ExpressionRuntimeError);
      expect((e as ExpressionRuntimeError).message).toContain("Cannot compare string with number");
      expect((e as ExpressionRuntimeError).position.offset).toBe(31); // at max(x)
    }
    expect(JSON.stringify(acc2)).toBe(before2);
  });

  it("reports failures of the outer expression when the result is computed", () => {
    const agg = aggregate("sum(amount) / count(n)");
    const acc = agg.add(agg.init(), { amount: 5, n: null });
    expect(() => agg.result(acc)).toThrow("Division by zero");
  });

  it("lists the fields it reads and describes its result", () => {
    const agg = aggregate("round(sum(amount * price) / count(DISTINCT country), 2)");
    expect(agg.fields).toEqual(["amount", "price", "country"]);
    expect(agg.type).toEqual({ kind: "float" });
  });

  it("treats a malformed accumulator as a programming error", () => {
    const agg = aggregate("count(*)");
    expect(() => agg.add({}, {})).toThrow("wrong shape");
  });
});

describe("merge", () => {
  const sources = [
    "count(*)",
    "count(n)",
    "count(DISTINCT country)",
    "sum(amount)",
    "avg(amount)",
    "min(amount)",
    "max(country)",
    "first(n)",
    "last(n)",
    "sum(amount) - min(n) * count(*)",
  ];
  const record = fc.record({
    amount: fc.integer({ min: -1000, max: 1000 }),
    n: fc.option(fc.integer({ min: -50, max: 50 })),
    country: fc.constantFrom("DE", "FR", "IT", "ES"),
  });
  const windows = fc.tuple(
    fc.array(record, { maxLength: 8 }),
    fc.array(record, { maxLength: 8 }),
    fc.array(record, { maxLength: 8 }),
  );

  it("is associative and agrees with aggregating everything in order", () => {
    for (const source of sources) {
      const agg = aggregate(source);
      const fold = (rs: readonly DataRecord[]) => rs.reduce((acc, r) => agg.add(acc, r), agg.init());
      fc.assert(
        fc.property(windows, ([a, b, c]) => {
          const left = agg.merge(agg.merge(fold(a), fold(b)), fold(c));
          const right = agg.merge(fold(a), agg.merge(fold(b), fold(c)));
          expect(left, source).toEqual(right);
          expect(agg.result(left), source).toEqual(agg.result(fold([...a, ...b, ...c])));
        }),
        { numRuns: 150 },
      );
    }
  });

  it("has the empty window as identity and does not modify its inputs", () => {
    for (const source of sources) {
      const agg = aggregate(source);
      fc.assert(
        fc.property(fc.array(record, { maxLength: 8 }), fc.array(record, { maxLength: 8 }), (a, b) => {
          const sa = a.reduce((acc, r) => agg.add(acc, r), agg.init());
          const sb = b.reduce((acc, r) => agg.add(acc, r), agg.init());
          const snapshot = JSON.stringify([sa, sb]);
          expect(agg.merge(sa, agg.init())).toEqual(sa);
          expect(agg.merge(agg.init(), sa)).toEqual(sa);
          agg.merge(sa, sb);
          expect(JSON.stringify([sa, sb])).toBe(snapshot);
        }),
        { numRuns: 100 },
      );
    }
  });

  it("merges float sums up to rounding", () => {
    const agg = aggregate("sum(price)");
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { maxLength: 20 }), (prices) => {
        const half = Math.floor(prices.length / 2);
        const fold = (ps: number[]) => ps.reduce((acc, price) => agg.add(acc, { price }), agg.init());
        const merged = agg.result(agg.merge(fold(prices.slice(0, half)), fold(prices.slice(half))));
        const all = agg.result(fold(prices));
        if (prices.length === 0) expect(merged).toBe(null);
        else expect(merged as number).toBeCloseTo(all as number, 3);
      }),
    );
  });
});
