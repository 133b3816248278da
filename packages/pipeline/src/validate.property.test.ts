import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { testCatalog } from "./test-catalog";
import { validate } from "./validate";

// validate() must answer anything with a list of issues — never throw, never return something malformed.

function wellFormed(input: unknown) {
  const r = validate(input, testCatalog);
  expect(Array.isArray(r.issues)).toBe(true);
  for (const i of r.issues) {
    expect(["error", "warning"]).toContain(i.severity);
    expect(typeof i.code).toBe("string");
    expect(i.message.length).toBeGreaterThan(0);
  }
  return r;
}

const valid = {
  apiVersion: "sluice/v1",
  kind: "Pipeline",
  metadata: { name: "base" },
  spec: {
    parameters: [{ name: "n", type: "number", default: 3 }],
    nodes: [
      { id: "src", type: "source.numbers", config: { count: "{{n}}" }, ui: { x: 0, y: 0 } },
      { id: "split", type: "transform.split", config: { field: "n" } },
      { id: "m", type: "transform.merge", config: {} },
      { id: "out", type: "sink.collect", config: {} },
    ],
    edges: [
      { from: "src", to: "split" },
      { from: "split", fromPort: "even", to: "m" },
      { from: "split", fromPort: "odd", to: "m" },
      { from: "m", to: "out" },
    ],
  },
};

/** Replaces the value at a random path of a JSON document with a random JSON value, or deletes it. */
const mutation = fc.tuple(
  fc.array(fc.nat(), { minLength: 1, maxLength: 6 }),
  fc.oneof(fc.jsonValue(), fc.constant(undefined)),
);

function mutate(doc: unknown, [steps, replacement]: [number[], unknown]): unknown {
  const copy = structuredClone(doc) as Record<string, unknown>;
  let parent: unknown = copy;
  for (let i = 0; i < steps.length; i++) {
    if (parent === null || typeof parent !== "object") return copy;
    const keys = Object.keys(parent);
    if (keys.length === 0) return copy;
    const key = keys[steps[i]! % keys.length]!;
    const container = parent as Record<string, unknown>;
    if (i === steps.length - 1 || container[key] === null || typeof container[key] !== "object") {
      if (replacement === undefined) delete container[key];
      else container[key] = replacement;
      return copy;
    }
    parent = container[key];
  }
  return copy;
}

describe("validate on anything", () => {
  it("accepts the base pipeline", () => {
    expect(wellFormed(valid).issues).toEqual([]);
  });

  it("never throws on arbitrary JSON", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => void wellFormed(value)),
      { numRuns: 500 },
    );
  });

  it("never throws on arbitrary objects shaped like pipelines", () => {
    const nodeArb = fc.record(
      {
        id: fc.string(),
        type: fc.constantFrom("source.numbers", "transform.split", "transform.merge", "sink.collect", "x.y"),
        config: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    const edgeArb = fc.record(
      {
        from: fc.constantFrom("a", "b", "c", "d"),
        to: fc.constantFrom("a", "b", "c", "d"),
        fromPort: fc.constantFrom("out", "even", "odd", "nope"),
        toPort: fc.constantFrom("in", "x"),
      },
      { requiredKeys: ["from", "to"] },
    );
    const shaped = fc.record({
      apiVersion: fc.constantFrom("sluice/v1", "sluice/v2", 1),
      kind: fc.constant("Pipeline"),
      metadata: fc.record({ name: fc.constantFrom("ok", "Not OK") }),
      spec: fc.record({
        nodes: fc.array(
          fc.oneof(
            nodeArb,
            fc.record({
              id: fc.constantFrom("a", "b", "c", "d"),
              type: fc.constantFrom("source.numbers", "transform.split", "transform.merge", "sink.collect"),
              config: fc.constant({}),
            }),
          ),
          { maxLength: 8 },
        ),
        edges: fc.array(edgeArb, { maxLength: 10 }),
      }),
    });
    fc.assert(
      fc.property(shaped, (value) => void wellFormed(value)),
      { numRuns: 500 },
    );
  });

  it("never throws on mutations of a valid pipeline, and every node it names exists", () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
        const doc = mutations.reduce<unknown>((d, m) => mutate(d, m as [number[], unknown]), valid);
        const r = wellFormed(doc);
        const nodes = (doc as { spec?: { nodes?: { id?: unknown }[] } })?.spec?.nodes;
        const ids = new Set(Array.isArray(nodes) ? nodes.map((n) => n?.id) : []);
        for (const i of r.issues) if (i.nodeId !== undefined) expect(ids.has(i.nodeId)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
