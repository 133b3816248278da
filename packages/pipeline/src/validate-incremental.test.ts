import { describe, expect, it } from "vitest";
import type { PipelineDefinitionInput } from "./definition";
import { type AnyNodeDefinition, createCatalog } from "./node-definition";
import { testCatalog, testSink, testSource, testSplit, testUnion } from "./test-catalog";
import { createValidator, validate } from "./validate";

function counting(def: AnyNodeDefinition) {
  const calls: string[] = [];
  const wrapped: AnyNodeDefinition = {
    ...def,
    infer: (ctx) => {
      calls.push(JSON.stringify(ctx.config));
      return def.infer(ctx);
    },
  };
  return { wrapped, calls };
}

function chain(length: number, changedField?: string): PipelineDefinitionInput {
  const nodes: unknown[] = [{ id: "src", type: "source.numbers", config: { count: 1 } }];
  const edges: unknown[] = [];
  let prev = "src";
  for (let i = 0; i < length; i++) {
    nodes.push({
      id: `s${i}`,
      type: "transform.split",
      config: { field: i === length - 1 && changedField ? changedField : "n" },
    });
    edges.push({ from: prev, ...(prev === "src" ? {} : { fromPort: "even" }), to: `s${i}` });
    prev = `s${i}`;
  }
  nodes.push({ id: "out", type: "sink.collect", config: {} });
  edges.push({ from: prev, fromPort: "even", to: "out" });
  return {
    apiVersion: "sluice/v1",
    kind: "Pipeline",
    metadata: { name: "c" },
    spec: { nodes, edges } as PipelineDefinitionInput["spec"],
  };
}

describe("incremental validation", () => {
  it("re-infers only the node that changed and what is downstream of it", () => {
    const split = counting(testSplit);
    const catalog = createCatalog([testSource, split.wrapped, testUnion, testSink]);
    const validator = createValidator(catalog);
    expect(validator(chain(50)).issues).toEqual([]);
    // Every split here has the same config and the same input schema: one inference serves them all.
    expect(split.calls).toEqual([JSON.stringify({ field: "n" })]);
    split.calls.length = 0;
    expect(validator(chain(50)).issues).toEqual([]);
    expect(split.calls).toHaveLength(0); // nothing changed: nothing recomputed
    const edited = validator(chain(50, "label"));
    expect(split.calls).toEqual([JSON.stringify({ field: "label" })]);
    expect(edited.issues).toEqual([]);
  });

  it("gives the same answer as a fresh validation", () => {
    const validator = createValidator(testCatalog);
    for (const def of [chain(5), chain(5, "missing"), chain(5), chain(3, "missing")]) {
      expect(validator(def)).toEqual(validate(def, testCatalog));
    }
  });
});
