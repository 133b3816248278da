import { field, type RecordSchema, t } from "@sluice/pipeline/record-schema";
import { describe, expect, it } from "vitest";
import { configProblems, inferNode } from "../testing/infer-harness";
import { OperatorRun, testContext } from "../testing/operator-harness";
import { type SelectConfig, selectDef } from "./select.def";
import { selectRuntime } from "./select.run";

const clicks: RecordSchema = {
  fields: [
    field("user_id", t.int),
    field("amount", t.float, true),
    field("country", t.string),
    field("ts", t.timestamp),
  ],
  open: false,
  eventTime: "ts",
};
const schemaless: RecordSchema = { fields: [], open: true };

const run = (config: unknown, schema = clicks) =>
  new OperatorRun(selectRuntime.create(testContext<SelectConfig>(selectDef, config, { inputs: { in: schema } })));

const click = Object.freeze({ user_id: 7, amount: 9.5, country: "FR", ts: 100 });

describe("transform.select", () => {
  it("keeps only the listed fields, in order, renamed, without touching the input", () => {
    const [r] = run({ fields: ["country", { from: "amount", as: "total" }, "user_id"] })
      .push([click])
      .take();
    expect(r).toEqual({ country: "FR", total: 9.5, user_id: 7 });
    expect(Object.keys(r!)).toEqual(["country", "total", "user_id"]);
    expect(click).toEqual({ user_id: 7, amount: 9.5, country: "FR", ts: 100 });
  });

  it("can list one field twice under two names, and reads a missing field as NULL", () => {
    const [r] = run({ fields: ["amount", { from: "amount", as: "copy" }, "missing"] }, schemaless)
      .push([{ amount: 1 }])
      .take();
    expect(r).toEqual({ amount: 1, copy: 1, missing: null });
  });

  it("never reads inherited properties such as constructor", () => {
    const [r] = run({ fields: ["constructor", "toString"] }, schemaless)
      .push([{}])
      .take();
    expect(r).toEqual({ constructor: null, toString: null });
  });

  it("removes and renames in place, including swaps", () => {
    const [r] = run({ drop: ["amount"], rename: { user_id: "country", country: "user_id" } })
      .push([click])
      .take();
    expect(r).toEqual({ country: 7, user_id: "FR", ts: 100 });
    expect(Object.keys(r!)).toEqual(["country", "user_id", "ts"]);
  });

  it("lets a rename win over an unexpected field of the same name in schemaless records", () => {
    const [r] = run({ rename: { a: "b" } }, schemaless)
      .push([{ b: "old", a: "new", c: 1 }])
      .take();
    expect(r).toEqual({ b: "new", c: 1 });
  });

  it("infers the reshaped schema and follows the event time through renames", () => {
    const keep = inferNode(selectDef, { fields: [{ from: "ts", as: "at" }, "user_id"] }, { in: clicks });
    expect(keep.errors).toEqual([]);
    expect(keep.outputs.out).toEqual({
      fields: [field("at", t.timestamp), field("user_id", t.int)],
      open: false,
      eventTime: "at",
    });
    const change = inferNode(selectDef, { drop: ["amount"], rename: { ts: "event_time" } }, { in: clicks });
    expect(change.outputs.out).toEqual({
      fields: [field("user_id", t.int), field("country", t.string), field("event_time", t.timestamp)],
      open: false,
      eventTime: "event_time",
    });
    expect(inferNode(selectDef, { drop: ["ts"] }, { in: clicks }).outputs.out!.eventTime).toBeUndefined();
    expect(inferNode(selectDef, { fields: ["user_id"] }, { in: clicks }).outputs.out!.eventTime).toBeUndefined();
  });

  it("closes a schemaless input's schema when keeping listed fields", () => {
    const { outputs, errors } = inferNode(selectDef, { fields: ["a"] }, { in: schemaless });
    expect(errors).toEqual([]);
    expect(outputs.out).toEqual({ fields: [field("a", t.any, true)], open: false });
  });

  it("reports unknown fields at their place with a suggestion", () => {
    const keep = inferNode(selectDef, { fields: ["user_di", { from: "amout", as: "total" }] }, { in: clicks });
    expect(keep.errors).toEqual([
      expect.objectContaining({ path: ["fields", 0], code: "unknown-field", suggestion: "user_id" }),
      expect.objectContaining({ path: ["fields", 1, "from"], suggestion: "amount" }),
    ]);
    const change = inferNode(selectDef, { drop: ["contry"], rename: { tss: "x" } }, { in: clicks });
    expect(change.errors.map((e) => [e.path, e.suggestion])).toEqual([
      [["drop", 0], "country"],
      [["rename", "tss"], "ts"],
    ]);
  });

  it("reports a rename onto a field that stays", () => {
    const { errors } = inferNode(selectDef, { rename: { amount: "country" } }, { in: clicks });
    expect(errors[0]).toMatchObject({ path: ["rename", "amount"], code: "duplicate-field" });
    expect(inferNode(selectDef, { rename: { amount: "country" }, drop: ["country"] }, { in: clicks }).errors).toEqual(
      [],
    );
  });

  it("refuses ambiguous or empty configs", () => {
    expect(configProblems(selectDef, {})[0]?.path).toEqual(["fields"]);
    expect(configProblems(selectDef, { fields: ["a"], drop: ["b"] })[0]?.path).toEqual(["drop"]);
    expect(configProblems(selectDef, { fields: ["a", { from: "b", as: "a" }] })[0]?.path).toEqual(["fields", 1, "as"]);
    expect(configProblems(selectDef, { drop: ["a"], rename: { a: "b" } })[0]?.path).toEqual(["rename", "a"]);
    expect(configProblems(selectDef, { rename: { a: "c", b: "c" } })[0]?.path).toEqual(["rename", "b"]);
    expect(configProblems(selectDef, { fields: [] })[0]?.path).toEqual(["fields"]);
  });
});
