import { field, type RecordSchema, t } from "@sluice/pipeline/record-schema";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { configProblems, inferNode } from "../testing/infer-harness";
import { OperatorRun, testContext } from "../testing/operator-harness";
import { type ParseConfig, parseDef } from "./parse.def";
import { parseRuntime } from "./parse.run";
import { jsonErrorOffset, parseCsvRecord } from "./parse-text";

const raw: RecordSchema = {
  fields: [field("id", t.int), field("payload", t.string, true), field("ts", t.timestamp)],
  open: false,
  eventTime: "ts",
};

const run = (config: unknown, schema = raw) =>
  new OperatorRun(parseRuntime.create(testContext<ParseConfig>(parseDef, config, { inputs: { in: schema } })));

const rec = (payload: unknown) => Object.freeze({ id: 1, payload, ts: 9 });

describe("transform.parse: JSON", () => {
  const typed = {
    field: "payload",
    fields: [
      "tags",
      { name: "user", type: "string" },
      { name: "amount", type: "float" },
      { name: "n", type: "int" },
      { name: "ok", type: "boolean" },
      { name: "at", type: "timestamp" },
    ],
  };

  it("takes the declared keys, converted to their types, and removes the text", () => {
    const [r] = run(typed)
      .push([
        rec('{"user": 42, "amount": "2.5", "n": 3, "ok": "yes", "at": "2024-01-02T00:00:00Z", "tags": [1], "x": 0}'),
      ])
      .take();
    expect(r).toEqual({ id: 1, ts: 9, tags: [1], user: "42", amount: 2.5, n: 3, ok: true, at: 1704153600000 });
  });

  it("gives NULL for missing keys and for a NULL text", () => {
    const op = run(typed);
    const [missing, none] = op.push([rec("{}"), rec(null)]).take();
    const nulls = { tags: null, user: null, amount: null, n: null, ok: null, at: null };
    expect(missing).toEqual({ id: 1, ts: 9, ...nulls });
    expect(none).toEqual({ id: 1, ts: 9, ...nulls });
  });

  it("throws for malformed JSON with its line, column and position", () => {
    const op = run(typed);
    expect(() => op.push([rec('{"user": "a",\n "n": x}')])).toThrow(
      "payload: invalid JSON at line 2 column 7 (position 21): Unexpected token 'x'",
    );
    expect(() => op.push([rec('{"user": "a"')])).toThrow(/position 13/);
    expect(() => op.push([rec("[1, 2]")])).toThrow("payload: expected a JSON object but found an array");
    expect(() => op.push([rec(17)])).toThrow("payload: expected text but found number 17");
    expect(op.take()).toEqual([]);
  });

  it("throws for values that do not fit their types, without rounding", () => {
    const op = run(typed);
    expect(() => op.push([rec('{"n": 4.5}')])).toThrow("payload.n: expected an integer but found 4.5");
    expect(() => op.push([rec('{"amount": "cheap"}')])).toThrow('payload.amount: expected a number but found "cheap"');
    expect(() => op.push([rec('{"user": {"a": 1}}')])).toThrow("payload.user: expected text but found an object");
    expect(() => op.push([rec('{"at": "yesterday"}')])).toThrow(/payload\.at: expected a timestamp/);
  });

  it("refuses NULL in a field declared not nullable", () => {
    const op = run({ field: "payload", fields: [{ name: "id2", type: "int", nullable: false }] });
    expect(op.push([rec('{"id2": 3}')]).take()).toEqual([{ id: 1, ts: 9, id2: 3 }]);
    expect(() => op.push([rec("{}")])).toThrow("payload.id2: is NULL or missing");
  });

  it("merges a whole object untyped, safely, when nothing is declared", () => {
    const [r] = run({ field: "payload", keepSource: true })
      .push([rec('{"a": 1, "__proto__": {"polluted": true}}')])
      .take();
    expect(r).toEqual({
      id: 1,
      payload: '{"a": 1, "__proto__": {"polluted": true}}',
      ts: 9,
      a: 1,
      ["__proto__"]: { polluted: true },
    });
    expect(Object.getPrototypeOf(r)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("nests into a target field, replacing the text in place", () => {
    const [r] = run({ field: "payload", target: "payload" })
      .push([rec("[1, 2]")])
      .take();
    expect(r).toEqual({ id: 1, payload: [1, 2], ts: 9 });
    expect(Object.keys(r!)).toEqual(["id", "payload", "ts"]);
    const [typedNested] = run({ field: "payload", target: "body", fields: [{ name: "n", type: "int" }] })
      .push([rec('{"n": "7"}')])
      .take();
    expect(typedNested).toEqual({ id: 1, ts: 9, body: { n: 7 } });
  });

  it("infers closed typed schemas, or open ones for whole objects", () => {
    const declared = inferNode(parseDef, typed, { in: raw });
    expect(declared.errors).toEqual([]);
    expect(declared.outputs.out!.fields.map((f) => [f.name, f.type.kind])).toEqual([
      ["id", "int"],
      ["ts", "timestamp"],
      ["tags", "json"],
      ["user", "string"],
      ["amount", "float"],
      ["n", "int"],
      ["ok", "boolean"],
      ["at", "timestamp"],
    ]);
    expect(declared.outputs.out).toMatchObject({ open: false, eventTime: "ts" });
    expect(inferNode(parseDef, { field: "payload" }, { in: raw }).outputs.out).toEqual({
      fields: [field("id", t.int), field("ts", t.timestamp)],
      open: true,
      eventTime: "ts",
    });
    const nested = inferNode(
      parseDef,
      { field: "payload", target: "payload", fields: [{ name: "n", type: "int" }] },
      { in: raw },
    );
    expect(nested.outputs.out!.fields[1]).toEqual(field("payload", t.object([field("n", t.int, true)]), true));
  });

  it("reports a wrong source field, clashing names and contradictions at their paths", () => {
    expect(inferNode(parseDef, { field: "paylod" }, { in: raw }).errors[0]).toMatchObject({
      path: ["field"],
      suggestion: "payload",
    });
    expect(inferNode(parseDef, { field: "id" }, { in: raw }).errors[0]).toMatchObject({
      path: ["field"],
      code: "type",
    });
    expect(inferNode(parseDef, { field: "payload", fields: ["x", "ts"] }, { in: raw }).errors[0]?.path).toEqual([
      "fields",
      1,
    ]);
    expect(inferNode(parseDef, { field: "payload", target: "id" }, { in: raw }).errors[0]?.path).toEqual(["target"]);
    expect(configProblems(parseDef, { field: "payload", keepSource: true, target: "payload" })[0]?.path).toEqual([
      "target",
    ]);
    expect(configProblems(parseDef, { field: "payload", fields: ["a", "a"] })[0]?.path).toEqual(["fields", 1]);
    expect(configProblems(parseDef, { field: "payload", fields: [{ name: "a", type: "date" }] })[0]?.path).toEqual([
      "fields",
      0,
    ]);
  });
});

describe("transform.parse: CSV", () => {
  const csv = {
    field: "payload",
    format: "csv",
    fields: ["name", { name: "qty", type: "int" }, { name: "price", type: "float" }, { name: "meta", type: "json" }],
  };

  it("reads one line into typed columns; empty is NULL, quoted empty is empty text", () => {
    const out = run(csv)
      .push([rec('pen,3,1.5,"{""a"": 1}"\n'), rec(",,,"), rec('"",1,2,null')])
      .take();
    expect(out).toEqual([
      { id: 1, ts: 9, name: "pen", qty: 3, price: 1.5, meta: { a: 1 } },
      { id: 1, ts: 9, name: null, qty: null, price: null, meta: null },
      { id: 1, ts: 9, name: "", qty: 1, price: 2, meta: null },
    ]);
  });

  it("honours the delimiter and quote characters", () => {
    const [r] = run({ ...csv, delimiter: ";", quote: "'" })
      .push([rec("'a;b';2;0.5;'[1]'")])
      .take();
    expect(r).toMatchObject({ name: "a;b", qty: 2, meta: [1] });
  });

  it("throws for a wrong column count or malformed quoting, with the position", () => {
    const op = run(csv);
    expect(() => op.push([rec("a,1,2")])).toThrow("payload: expected 4 columns but found 3");
    expect(() => op.push([rec('a,1,2,"x')])).toThrow("payload: the quote at position 7 is never closed");
    expect(() => op.push([rec('a,1,2,"x"y')])).toThrow(/after the closing quote at position 9/);
    expect(() => op.push([rec('a,1,2,x"y')])).toThrow(/a quote inside an unquoted value at position 8/);
    expect(() => op.push([rec("a,1,2,3\nb,1,2,3")])).toThrow(/line break outside quotes at position 8/);
    expect(() => op.push([rec("a,x,2,3")])).toThrow('payload.qty: expected an integer but found "x"');
    expect(op.take()).toEqual([]);
  });

  it("round-trips any values written by a standard CSV writer", () => {
    const write = (cells: string[]) => cells.map((c) => `"${c.replace(/"/g, '""')}"`).join(",");
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "binary", maxLength: 24 }), { minLength: 1, maxLength: 8 }), (cells) => {
        return JSON.stringify(parseCsvRecord(write(cells), ",", '"')) === JSON.stringify(cells);
      }),
    );
  });

  it("needs the columns named, and distinct delimiter and quote", () => {
    expect(configProblems(parseDef, { field: "p", format: "csv" })[0]?.path).toEqual(["fields"]);
    expect(configProblems(parseDef, { field: "p", format: "csv", fields: ["a"], delimiter: '"' })[0]?.path).toEqual([
      "quote",
    ]);
    expect(configProblems(parseDef, { field: "p", format: "csv", fields: ["a"], delimiter: "ab" })[0]?.path).toEqual([
      "delimiter",
    ]);
    expect(configProblems(parseDef, { field: "p", format: "csv", fields: ["a"], delimiter: "\n" })[0]?.path).toEqual([
      "delimiter",
    ]);
  });
});

describe("jsonErrorOffset", () => {
  it("points where JSON.parse gives up", () => {
    for (const [text, offset] of [
      ["", 0],
      ["{", 1],
      ['{"a" 1}', 5],
      ["[1,]", 3],
      ['"\\x"', 1],
      ["1 2", 2],
      ["tru", 0],
      ['{"a": [1, 2}', 11],
    ] as const) {
      expect(() => JSON.parse(text)).toThrow();
      expect([text, jsonErrorOffset(text)]).toEqual([text, offset]);
    }
  });
});
