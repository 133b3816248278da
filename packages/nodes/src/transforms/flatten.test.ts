import { field, type RecordSchema, t } from "@sluice/pipeline/record-schema";
import { describe, expect, it } from "vitest";
import { configProblems, inferNode } from "../testing/infer-harness";
import { OperatorRun, testContext } from "../testing/operator-harness";
import { type FlattenConfig, flattenDef } from "./flatten.def";
import { flattenRuntime } from "./flatten.run";

const item = t.object([field("sku", t.string), field("qty", t.int)]);
const orders: RecordSchema = {
  fields: [field("id", t.int), field("items", t.array(item), true), field("ts", t.timestamp)],
  open: false,
  eventTime: "ts",
};

const run = (config: unknown, schema = orders) =>
  new OperatorRun(flattenRuntime.create(testContext<FlattenConfig>(flattenDef, config, { inputs: { in: schema } })));

const order = Object.freeze({
  id: 1,
  items: Object.freeze([Object.freeze({ sku: "a", qty: 1 }), Object.freeze({ sku: "b", qty: 2 })]),
  ts: 5,
});

describe("transform.flatten", () => {
  it("emits one record per element, in place under the array's name", () => {
    const out = run({ field: "items" }).push([order]).take();
    expect(out).toEqual([
      { id: 1, items: { sku: "a", qty: 1 }, ts: 5 },
      { id: 1, items: { sku: "b", qty: 2 }, ts: 5 },
    ]);
    expect(Object.keys(out[0]!)).toEqual(["id", "items", "ts"]);
    expect(order.items).toHaveLength(2);
  });

  it("puts elements under another name with their 1-based position, leaving the array out", () => {
    const out = run({ field: "items", as: "item", index: "line" }).push([order]).take();
    expect(out).toEqual([
      { id: 1, ts: 5, item: { sku: "a", qty: 1 }, line: 1 },
      { id: 1, ts: 5, item: { sku: "b", qty: 2 }, line: 2 },
    ]);
  });

  it("drops records without elements unless asked to keep them with NULL", () => {
    const empty = [
      { id: 2, items: [], ts: 6 },
      { id: 3, items: null, ts: 7 },
      { id: 4, ts: 8 },
    ];
    expect(run({ field: "items" }).push(empty).take()).toEqual([]);
    expect(run({ field: "items", as: "item", index: "n", keepEmpty: true }).push(empty).take()).toEqual([
      { id: 2, ts: 6, item: null, n: null },
      { id: 3, ts: 7, item: null, n: null },
      { id: 4, ts: 8, item: null, n: null },
    ]);
  });

  it("keeps NULL elements as NULL fields", () => {
    const out = run({ field: "items" })
      .push([{ id: 1, items: [null, { sku: "x", qty: 0 }], ts: 1 }])
      .take();
    expect(out.map((r) => r.items)).toEqual([null, { sku: "x", qty: 0 }]);
  });

  it("throws for a value that is not an array", () => {
    const op = run({ field: "items" });
    expect(() => op.push([{ id: 1, items: '[{"sku":"a"}]', ts: 1 }])).toThrow(
      /^items: expected an array but found text/,
    );
    expect(() => op.push([{ id: 1, items: { sku: "a" }, ts: 1 }])).toThrow(/an object/);
    expect(op.take()).toEqual([]);
  });

  it("infers the element type and the position field", () => {
    const inPlace = inferNode(flattenDef, { field: "items" }, { in: orders });
    expect(inPlace.errors).toEqual([]);
    expect(inPlace.outputs.out).toEqual({
      fields: [field("id", t.int), field("items", item, true), field("ts", t.timestamp)],
      open: false,
      eventTime: "ts",
    });
    const renamed = inferNode(
      flattenDef,
      { field: "items", as: "item", index: "line", keepEmpty: true },
      { in: orders },
    );
    expect(renamed.outputs.out!.fields.map((f) => [f.name, f.type.kind, f.nullable])).toEqual([
      ["id", "int", false],
      ["ts", "timestamp", false],
      ["item", "object", true],
      ["line", "int", true],
    ]);
  });

  it("reports a field that is unknown, not an array, or a name that is taken", () => {
    expect(inferNode(flattenDef, { field: "itms" }, { in: orders }).errors[0]).toMatchObject({
      path: ["field"],
      suggestion: "items",
    });
    expect(inferNode(flattenDef, { field: "id" }, { in: orders }).errors[0]).toMatchObject({
      path: ["field"],
      message: '"id" is int, not an array',
    });
    expect(inferNode(flattenDef, { field: "items", as: "id" }, { in: orders }).errors[0]?.path).toEqual(["as"]);
    expect(inferNode(flattenDef, { field: "items", index: "ts" }, { in: orders }).errors[0]?.path).toEqual(["index"]);
    expect(configProblems(flattenDef, { field: "items", as: "x", index: "x" })[0]?.path).toEqual(["index"]);
  });

  it("types elements of schemaless or JSON arrays as any or json", () => {
    expect(inferNode(flattenDef, { field: "tags" }, { in: { fields: [], open: true } }).outputs.out).toEqual({
      fields: [field("tags", t.any, true)],
      open: true,
    });
    const json: RecordSchema = { fields: [field("tags", t.json)], open: false };
    expect(inferNode(flattenDef, { field: "tags" }, { in: json }).outputs.out!.fields[0]!.type).toEqual(t.json);
  });
});
