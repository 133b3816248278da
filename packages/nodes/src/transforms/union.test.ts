import { createCatalog } from "@sluice/pipeline/node-definition";
import { field, t } from "@sluice/pipeline/record-schema";
import { validate } from "@sluice/pipeline/validate";
import { describe, expect, it } from "vitest";
import { discardDef } from "../sinks/discard.def";
import { generatorDef } from "../sources/generator.def";
import { OperatorRun, testContext } from "../testing/operator-harness";
import { type UnionConfig, unionDef } from "./union.def";
import { unionRuntime } from "./union.run";

describe("transform.union", () => {
  it("passes every record on unchanged", () => {
    const a = { x: 1 };
    const b = { y: "2" };
    const op = new OperatorRun(unionRuntime.create(testContext<UnionConfig>(unionDef, {}))).push([a, b, a]);
    const out = op.take();
    expect(out).toEqual([a, b, a]);
    expect(out[0]).toBe(a);
  });

  it("outputs the merged schema of all its edges", () => {
    const catalog = createCatalog([generatorDef, unionDef, discardDef]);
    const result = validate(
      {
        apiVersion: "sluice/v1",
        kind: "Pipeline",
        metadata: { name: "two-shops" },
        spec: {
          nodes: [
            {
              id: "a",
              type: "source.generator",
              config: { fields: { id: { kind: "sequence" }, amount: { kind: "int" } } },
            },
            {
              id: "b",
              type: "source.generator",
              config: { fields: { id: { kind: "sequence" }, amount: { kind: "float" }, note: { kind: "string" } } },
            },
            { id: "u", type: "transform.union" },
            { id: "out", type: "sink.discard" },
          ],
          edges: [
            { from: "a", to: "u" },
            { from: "b", to: "u" },
            { from: "u", to: "out" },
          ],
        },
      },
      catalog,
    );
    expect(result.issues.filter((i) => i.severity === "error")).toEqual([]);
    expect(result.schemas.u?.out?.fields).toEqual([
      field("id", t.int),
      field("amount", t.float),
      field("ts", t.timestamp, false),
      field("note", t.string, true),
    ]);
  });
});
