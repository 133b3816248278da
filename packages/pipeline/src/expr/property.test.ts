import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type DataRecord, field, type RecordSchema, t } from "../record-schema";
import { checkExpression, compileAggregate, compileExpression, compilePredicate } from "./compile";
import { ExpressionRuntimeError } from "./errors";
import type { CompileOptions, ExprError } from "./types";

const schema: RecordSchema = {
  open: false,
  fields: [
    field("a", t.int, true),
    field("s", t.string, true),
    field("f", t.float, true),
    field("ts", t.timestamp, true),
    field("b", t.boolean, true),
    field("j", t.json, true),
    field("arr", t.array(t.int), true),
  ],
};
const opts: CompileOptions = {
  schema,
  parameters: { p: { type: "number", value: 3 }, q: { type: "string", value: "x" } },
  now: () => 0,
  timeZone: "Europe/Berlin",
};

// biome-ignore format: a word list reads better packed
const WORDS = [
  "a", "s", "f", "ts", "b", "j", "arr", "x", "1", "0", "2.5", "'x'", "'2024-01-01'", "NULL", "TRUE", "(", ")", ",",
  "+", "-", "*", "/", "%", "||", "=", "<>", "<", ">=", "AND", "OR", "NOT", "IS", "IN", "BETWEEN", "LIKE", "CASE",
  "WHEN", "THEN", "ELSE", "END", "CAST", "AS", "INT", "::", "[", "]", ".", "count", "sum", "DISTINCT", "*", "lower",
  "substr", "round", "coalesce", "if", "extract", "FROM", "json_extract", "'$.a'", "INTERVAL", "'5'", "MINUTE",
  "TIMESTAMP", "{{p}}", "{{", "}}", "'", '"', "--", "/*", "regexp_match", "'(a+)+'", "ESCAPE", "\n",
];

const anySource = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.array(fc.constantFrom(...WORDS), { maxLength: 16 }).map((w) => w.join(" ")),
);

function positionsValid(source: string, errors: readonly ExprError[]): void {
  for (const e of errors) {
    const { offset, length, line, column } = e.position;
    expect(offset).toBeGreaterThanOrEqual(0);
    expect(length).toBeGreaterThanOrEqual(0);
    expect(offset + length).toBeLessThanOrEqual(source.length);
    const before = source.slice(0, offset);
    expect(line).toBe(before.split("\n").length);
    expect(column).toBe(offset - before.lastIndexOf("\n"));
    expect(e.message.length).toBeGreaterThan(0);
  }
}

describe("never throws for any text", () => {
  it("check and compile return errors (with valid positions) instead of throwing", () => {
    fc.assert(
      fc.property(anySource, (source) => {
        for (const mode of ["scalar", "predicate", "aggregate"] as const) {
          positionsValid(source, checkExpression(source, opts, mode).errors);
        }
        for (const compiled of [
          compileExpression(source, opts),
          compilePredicate(source, opts),
          compileAggregate(source, opts),
        ]) {
          if (!compiled.ok) {
            expect(compiled.errors.length).toBeGreaterThan(0);
            positionsValid(source, compiled.errors);
          }
        }
      }),
      { numRuns: 3000 },
    );
    // 3,000 sources take a few seconds on a machine whose two cores are shared: a safety bound, not a timing.
  }, 30_000);
});

// Well-formed expressions, so the compiled closures get exercised rather than only the error paths.
const { expr } = fc.letrec((tie) => ({
  expr: fc.oneof(
    { depthSize: "small" },
    // biome-ignore format: a word list reads better packed
    fc.constantFrom(
      "a", "s", "f", "ts", "b", "j", "arr", "j.k", "arr[1]", "j['k']", "1", "0", "-3", "2.5", "'x'", "''",
      "'2024-01-01'", "NULL", "TRUE", "FALSE", "{{p}}", "{{q}}", "INTERVAL '5' MINUTE", "TIMESTAMP '2024-03-31 02:30:00'",
    ),
    fc
      .tuple(
        tie("expr"),
        fc.constantFrom("+", "-", "*", "/", "%", "||", "=", "<>", "<", ">=", "AND", "OR"),
        tie("expr"),
      )
      .map(([l, o, r]) => `(${l} ${o} ${r})`),
    tie("expr").map((e) => `NOT (${e})`),
    tie("expr").map((e) => `-(${e})`),
    tie("expr").map((e) => `(${e}) IS NULL`),
    fc.tuple(tie("expr"), tie("expr"), tie("expr")).map(([x, y, z]) => `(${x} BETWEEN ${y} AND ${z})`),
    fc
      .tuple(tie("expr"), fc.array(tie("expr"), { minLength: 1, maxLength: 3 }))
      .map(([x, l]) => `(${x} IN (${l.join(", ")}))`),
    fc.tuple(tie("expr"), tie("expr")).map(([x, y]) => `(${x} LIKE ${y})`),
    fc.tuple(tie("expr"), tie("expr"), tie("expr")).map(([x, y, z]) => `CASE WHEN ${x} THEN ${y} ELSE ${z} END`),
    fc
      .tuple(tie("expr"), fc.constantFrom("INT", "STRING", "FLOAT", "BOOLEAN", "TIMESTAMP", "JSON"))
      .map(([x, ty]) => `TRY_CAST(${x} AS ${ty})`),
    fc
      .tuple(
        fc.constantFrom(
          "lower",
          "length",
          "abs",
          "round",
          "floor",
          "sqrt",
          "md5",
          "hash",
          "to_json",
          "typeof",
          "reverse",
          "to_timestamp",
        ),
        tie("expr"),
      )
      .map(([fn, x]) => `${fn}(${x})`),
    fc
      .tuple(
        fc.constantFrom(
          "substr",
          "round",
          "coalesce",
          "nullif",
          "greatest",
          "concat",
          "lpad",
          "split",
          "position",
          "regexp_like",
          "date_trunc",
          "extract",
          "format_timestamp",
          "json_extract",
        ),
        fc.array(tie("expr"), { minLength: 1, maxLength: 3 }),
      )
      .map(([fn, args]) => `${fn}(${args.join(", ")})`),
  ),
}));

const records: DataRecord[] = [
  {},
  { a: 1, s: "x", f: 2.5, ts: 0, b: true, j: { k: [1] }, arr: [1, 2] },
  { a: null, s: null, f: null, j: '{"k":1}', arr: null },
  { a: 0, s: "%a_", f: -0.5, ts: Date.UTC(2024, 2, 31, 1), b: false, j: [1, "x"], arr: [] },
  { a: -7, s: "day", f: 1e300, ts: -1, j: 3, arr: [null] },
];

describe("compiled expressions", () => {
  it("evaluate without throwing anything but ExpressionRuntimeError, and filters agree with the value", () => {
    let compiled = 0;
    fc.assert(
      fc.property(expr, (source) => {
        const scalar = compileExpression(source, opts);
        const filter = compilePredicate(source, opts);
        if (scalar.ok) compiled++;
        for (const r of records) {
          let value: unknown;
          let failed = false;
          try {
            value = scalar.ok ? scalar.value.evaluate(r) : undefined;
          } catch (e) {
            expect(e).toBeInstanceOf(ExpressionRuntimeError);
            failed = true;
          }
          if (scalar.ok && !failed) expect(value).not.toBe(undefined);
          if (filter.ok && scalar.ok) {
            // A filter over a schemaless value also fails the record when the value is not a boolean.
            if (failed || (value !== null && typeof value !== "boolean")) {
              expect(() => filter.value.test(r)).toThrow(ExpressionRuntimeError);
            } else {
              expect(filter.value.test(r)).toBe(value === true);
            }
          }
        }
      }),
      { numRuns: 1500 },
    );
    expect(compiled).toBeGreaterThan(100);
  });

  it("aggregate any of them into JSON-safe state", () => {
    fc.assert(
      fc.property(expr, fc.constantFrom("count", "max", "sum", "first", "last", "count(DISTINCT"), (source, fn) => {
        const text = fn === "count(DISTINCT" ? `count(DISTINCT ${source})` : `${fn}(${source})`;
        const agg = compileAggregate(text, opts);
        if (!agg.ok) return;
        let acc = agg.value.init();
        for (const r of records) {
          try {
            acc = agg.value.add(acc, r);
          } catch (e) {
            expect(e).toBeInstanceOf(ExpressionRuntimeError);
          }
        }
        expect(JSON.parse(JSON.stringify(acc))).toEqual(acc);
        try {
          agg.value.result(agg.value.merge(acc, agg.value.init()));
        } catch (e) {
          expect(e).toBeInstanceOf(ExpressionRuntimeError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("fold constants to the same result as evaluating the same values from a record", () => {
    const ops = ["+", "-", "*", "/", "%", "=", "<>", "<", ">="] as const;
    const shape = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: "small" },
        fc.integer({ min: 0, max: 3 }).map((i) => ({ slot: i })),
        fc.tuple(tie("node"), fc.constantFrom(...ops.slice(0, 5)), tie("node")).map(([l, op, r]) => ({ l, op, r })),
      ),
    })).node;
    type Shape = { slot: number } | { l: Shape; op: string; r: Shape };
    const render = (s: Shape, leaf: (i: number) => string): string =>
      "slot" in s ? leaf(s.slot) : `(${render(s.l, leaf)} ${s.op} ${render(s.r, leaf)})`;
    const intSchema: CompileOptions = {
      schema: { open: false, fields: [0, 1, 2, 3].map((i) => field(`v${i}`, t.int, true)) },
    };
    const outcome = (source: string, record: DataRecord) => {
      const c = compileExpression(source, intSchema);
      if (!c.ok) return c.errors.some((e) => e.message.includes("Division by zero")) ? "error" : c.errors;
      try {
        return c.value.evaluate(record);
      } catch {
        return "error";
      }
    };
    fc.assert(
      fc.property(
        shape,
        fc.constantFrom(...ops),
        fc.array(fc.option(fc.integer({ min: -20, max: 20 }), { freq: 5 }), { minLength: 4, maxLength: 4 }),
        (s, cmp, values) => {
          const withFields = `${render(s as Shape, (i) => `v${i}`)} ${cmp} 1`;
          const withLiterals = `${render(s as Shape, (i) => (values[i] === null ? "NULL" : `(${values[i]})`))} ${cmp} 1`;
          const record = Object.fromEntries(values.map((v, i) => [`v${i}`, v]));
          expect(outcome(withLiterals, {})).toEqual(outcome(withFields, record));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
