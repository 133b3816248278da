import { field, type RecordSchema, t } from "@sluice/pipeline/record-schema";
import { describe, expect, it } from "vitest";
import { configProblems, inferNode } from "../testing/infer-harness";
import { OperatorRun, testContext } from "../testing/operator-harness";
import { type MapConfig, mapDef } from "./map.def";
import { mapRuntime } from "./map.run";

const orders: RecordSchema = {
  fields: [
    field("id", t.int),
    field("price", t.float, true),
    field("quantity", t.int),
    field("country", t.string, true),
    field("ts", t.timestamp),
  ],
  open: false,
  eventTime: "ts",
};

function run(config: unknown, schema: RecordSchema = orders, parameters: Record<string, number> = {}) {
  return new OperatorRun(
    mapRuntime.create(testContext<MapConfig>(mapDef, config, { inputs: { in: schema }, parameters })),
  );
}

const order = (over: Record<string, unknown> = {}) =>
  Object.freeze({ id: 1, price: 2.5, quantity: 4, country: "de", ts: 1000, ...over });

describe("transform.map", () => {
  it("computes fields in order, each seeing the ones above it, without touching the input", () => {
    const input = order();
    const out = run({ set: { net: "price * quantity", gross: "net * 2", country: "upper(country)" } })
      .push([input])
      .take();
    expect(out).toEqual([{ id: 1, price: 2.5, quantity: 4, country: "DE", ts: 1000, net: 10, gross: 20 }]);
    expect(Object.keys(out[0]!)).toEqual(["id", "price", "quantity", "country", "ts", "net", "gross"]);
    expect(input).toEqual(order());
  });

  it("lets later expressions see a replaced field's new value", () => {
    const out = run({ set: { quantity: "quantity * 10", total: "quantity + 1" } })
      .push([order()])
      .take();
    expect(out[0]).toMatchObject({ quantity: 40, total: 41 });
  });

  it("removes fields last, so expressions can still read them", () => {
    const [read] = run({ set: { net: "price * quantity" }, drop: ["price", "quantity"] })
      .push([order()])
      .take();
    expect(read).toEqual({ id: 1, country: "de", ts: 1000, net: 10 });
    const [unread] = run({ set: { one: "1" }, drop: ["country"] })
      .push([order()])
      .take();
    expect(unread).toEqual({ id: 1, price: 2.5, quantity: 4, ts: 1000, one: 1 });
  });

  it("propagates NULL as SQL does", () => {
    const [r] = run({ set: { net: "price * quantity", c: "coalesce(country, 'none')" } })
      .push([order({ price: null, country: null })])
      .take();
    expect(r).toMatchObject({ net: null, c: "none" });
  });

  it("throws for a record whose expression fails, naming the field", () => {
    const op = run({ set: { ok: "1", ratio: "quantity / (quantity - 4)" } });
    expect(() => op.push([order()])).toThrow(/^set\.ratio: .*division by zero/i);
    expect(op.take()).toEqual([]);
    expect(op.push([order({ quantity: 5 })]).take()).toHaveLength(1);
  });

  it("binds pipeline parameters at run time", () => {
    const [r] = run({ set: { taxed: "price * {{rate}}" } }, orders, { rate: 2 })
      .push([order()])
      .take();
    expect(r!.taxed).toBe(5);
  });

  it("infers precise output types and keeps the event time", () => {
    const { outputs, errors } = inferNode(
      mapDef,
      { set: { n: "quantity * 2", net: "price * quantity", label: "'x'", ts: "ts + INTERVAL '1' SECOND" } },
      { in: orders },
    );
    expect(errors).toEqual([]);
    const out = outputs.out!;
    expect(out.fields.map((f) => [f.name, f.type.kind, f.nullable])).toEqual([
      ["id", "int", false],
      ["price", "float", true],
      ["quantity", "int", false],
      ["country", "string", true],
      ["ts", "timestamp", false],
      ["n", "int", false],
      ["net", "float", true],
      ["label", "string", false],
    ]);
    expect(out.eventTime).toBe("ts");
    expect(out.open).toBe(false);
  });

  it("drops the event time when the field is removed or replaced by a non-time value", () => {
    expect(inferNode(mapDef, { set: { ts: "'later'" } }, { in: orders }).outputs.out!.eventTime).toBeUndefined();
    expect(inferNode(mapDef, { set: { x: "1" }, drop: ["ts"] }, { in: orders }).outputs.out!.eventTime).toBeUndefined();
  });

  it("types a later expression against the fields computed before it", () => {
    const { outputs, errors } = inferNode(mapDef, { set: { a: "'text'", b: "length(a)" } }, { in: orders });
    expect(errors).toEqual([]);
    expect(outputs.out!.fields.find((f) => f.name === "b")?.type).toEqual(t.int);
    const early = inferNode(mapDef, { set: { b: "a + 1", a: "1" } }, { in: orders });
    expect(early.errors[0]).toMatchObject({ path: ["set", "b"], code: "unknown-field" });
  });

  it("reports expression errors at the field with a position, and unknown dropped fields with a suggestion", () => {
    const { errors } = inferNode(mapDef, { set: { x: "prise * 2" }, drop: ["contry"] }, { in: orders });
    expect(errors).toEqual([
      expect.objectContaining({
        path: ["set", "x"],
        suggestion: "price",
        position: expect.objectContaining({ column: 1 }),
      }),
      expect.objectContaining({ path: ["drop", 0], code: "unknown-field", suggestion: "country" }),
    ]);
  });

  it("accepts unknown fields of a schemaless input as any", () => {
    const { outputs, errors } = inferNode(
      mapDef,
      { set: { y: "whatever" }, drop: ["gone"] },
      { in: { fields: [], open: true } },
    );
    expect(errors).toEqual([]);
    expect(outputs.out).toEqual({ fields: [field("y", t.any, true)], open: true });
  });

  it("refuses configs that cannot mean anything", () => {
    expect(configProblems(mapDef, { set: {} })[0]?.path).toEqual(["set"]);
    expect(configProblems(mapDef, { set: { a: "1" }, drop: ["a"] })[0]?.path).toEqual(["drop", 0]);
    expect(configProblems(mapDef, { set: { a: "" } })[0]?.path).toEqual(["set", "a"]);
    expect(configProblems(mapDef, { set: { "42": "1" } })).not.toEqual([]);
    expect(configProblems(mapDef, { set: { a: "1" }, drop: ["b", "b"] })[0]?.path).toEqual(["drop", 1]);
  });
});
