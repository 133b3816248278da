import { describe, expect, it } from "vitest";
import type { PipelineDefinitionInput } from "./definition";
import { deliveryReasonText, formatPlan, plan } from "./plan";
import { testCatalog } from "./test-catalog";
import { validate } from "./validate";

function pipeline(nodes: unknown[], edges: unknown[], settings: Record<string, unknown> = {}): PipelineDefinitionInput {
  return {
    apiVersion: "sluice/v1",
    kind: "Pipeline",
    metadata: { name: "t" },
    spec: { settings, nodes, edges } as PipelineDefinitionInput["spec"],
  };
}

const src = { id: "src", type: "source.numbers", config: { count: 5 } };
const split = { id: "split", type: "transform.split", config: { field: "n" } };
const out = { id: "out", type: "sink.collect", config: {} };

const codes = (def: unknown) => validate(def, testCatalog).issues.map((i) => i.code);

describe("validate", () => {
  it("accepts a sound pipeline and infers the schema on every port", () => {
    const r = validate(
      pipeline(
        [src, split, out],
        [
          { from: "src", to: "split" },
          { from: "split", fromPort: "even", to: "out" },
        ],
      ),
      testCatalog,
    );
    expect(r.issues.filter((i) => i.severity === "error")).toEqual([]);
    expect(r.schemas.split?.even?.fields.map((f) => f.name)).toEqual(["n", "label"]);
    expect(r.configs.src).toEqual({ count: 5 });
    // split's "odd" output goes nowhere: fine, but nothing to warn about since split reaches a sink
    expect(r.issues).toEqual([]);
  });

  it("never throws, whatever it is given", () => {
    for (const input of [undefined, null, 42, "x", [], {}, { apiVersion: "sluice/v1" }, pipeline([null], [7])]) {
      const r = validate(input, testCatalog);
      expect(r.issues.length).toBeGreaterThan(0);
      expect(r.issues.every((i) => i.severity === "error" || i.severity === "warning")).toBe(true);
    }
  });

  it("points structural errors at the node they concern", () => {
    const r = validate(
      pipeline(
        [
          { ...src, config: { count: 5 } },
          { id: "bad id!", type: "sink.collect" },
        ],
        [],
      ),
      testCatalog,
    );
    const issue = r.issues.find((i) => i.path?.join(".") === "spec.nodes.1.id");
    expect(issue?.code).toBe("schema");
  });

  it("reports unknown types with a suggestion, and versions newer than known", () => {
    const r = validate(pipeline([src, { id: "o", type: "sink.colect" }], [{ from: "src", to: "o" }]), testCatalog);
    const unknown = r.issues.find((i) => i.code === "unknown-node-type");
    expect(unknown?.suggestion).toBe("sink.collect");
    expect(unknown?.nodeId).toBe("o");
    expect(codes(pipeline([src, { ...out, version: 9 }], [{ from: "src", to: "out" }]))).toContain(
      "unknown-node-version",
    );
  });

  it("finds duplicate ids, dangling, duplicate and self edges, and wrong ports", () => {
    expect(codes(pipeline([src, src, out], [{ from: "src", to: "out" }]))).toContain("duplicate-node");
    const dangling = validate(pipeline([src, out], [{ from: "src", to: "ot" }]), testCatalog).issues.find(
      (i) => i.code === "dangling-edge",
    );
    expect(dangling?.suggestion).toBe("out");
    expect(dangling?.edgeIndex).toBe(0);
    expect(
      codes(
        pipeline(
          [src, out],
          [
            { from: "src", to: "out" },
            { from: "src", to: "out" },
          ],
        ),
      ),
    ).toContain("duplicate-edge");
    expect(
      codes(
        pipeline(
          [src, split, out],
          [
            { from: "src", to: "split" },
            { from: "split", to: "split", fromPort: "even" },
            { from: "split", fromPort: "odd", to: "out" },
          ],
        ),
      ),
    ).toContain("self-loop");
    const port = validate(
      pipeline(
        [src, split, out],
        [
          { from: "src", to: "split" },
          { from: "split", to: "out" },
        ],
      ),
      testCatalog,
    ).issues.find((i) => i.code === "unknown-port");
    expect(port?.message).toContain('has no output "out"; it has "even", "odd"');
  });

  it("finds cycles and names the nodes on them", () => {
    const merge = { id: "merge", type: "transform.merge", config: {} };
    const r = validate(
      pipeline(
        [src, merge, split, out],
        [
          { from: "src", to: "merge" },
          { from: "merge", to: "split" },
          { from: "split", fromPort: "even", to: "merge" },
          { from: "split", fromPort: "odd", to: "out" },
        ],
      ),
      testCatalog,
    );
    const cycle = r.issues.find((i) => i.code === "cycle");
    expect(cycle?.message).toMatch(/merge → split → merge|split → merge → split/);
  });

  it("requires a source, a sink, and connected inputs; warns about unreachable nodes", () => {
    expect(codes(pipeline([out], []))).toEqual(expect.arrayContaining(["no-source", "unconnected-input"]));
    expect(codes(pipeline([src], []))).toContain("no-sink");
    expect(codes(pipeline([], []))).toContain("empty");
    const r = validate(pipeline([src, out, { ...split, id: "lonely" }], [{ from: "src", to: "out" }]), testCatalog);
    expect(r.issues.find((i) => i.nodeId === "lonely" && i.code === "unreachable")?.severity).toBe("warning");
  });

  it("refuses two edges into a single input and accepts them into a multiple one", () => {
    const two = pipeline(
      [src, { ...src, id: "src2" }, out],
      [
        { from: "src", to: "out" },
        { from: "src2", to: "out" },
      ],
    );
    expect(codes(two)).toContain("too-many-inputs");
    const merged = validate(
      pipeline(
        [src, { ...src, id: "src2" }, { id: "m", type: "transform.merge", config: {} }, out],
        [
          { from: "src", to: "m" },
          { from: "src2", to: "m" },
          { from: "m", to: "out" },
        ],
      ),
      testCatalog,
    );
    expect(merged.issues).toEqual([]);
  });

  it("reports config errors under the node with the config path, and infer issues too", () => {
    const r = validate(
      pipeline(
        [{ ...src, config: { count: 0 } }, { ...split, config: { field: "nope" } }, out],
        [
          { from: "src", to: "split" },
          { from: "split", fromPort: "odd", to: "out" },
        ],
      ),
      testCatalog,
    );
    const count = r.issues.find((i) => i.nodeId === "src");
    expect(count?.code).toBe("config-invalid");
    expect(count?.path).toEqual(["config", "count"]);
    // src's config is invalid, so nothing downstream can be inferred: no cascade of follow-up errors
    expect(r.issues.filter((i) => i.nodeId === "split")).toEqual([]);
    const fixed = validate(
      pipeline(
        [src, { ...split, config: { field: "nope" } }, out],
        [
          { from: "src", to: "split" },
          { from: "split", fromPort: "odd", to: "out" },
        ],
      ),
      testCatalog,
    );
    expect(fixed.issues).toEqual([
      expect.objectContaining({ nodeId: "split", path: ["config", "field"], code: "unknown-field" }),
    ]);
  });
});

describe("plan", () => {
  it("fuses a stateless pipeline into one stage and keeps exactly-once when every end allows it", () => {
    const def = pipeline(
      [src, split, out],
      [
        { from: "src", to: "split" },
        { from: "split", fromPort: "even", to: "out" },
      ],
      { parallelism: 3 },
    );
    const r = validate(def, testCatalog);
    const p = plan(r.definition!, testCatalog, r.configs);
    expect(p.stages).toEqual([{ index: 0, partitions: 3, nodes: ["src", "split", "out"], inputs: [], outputs: [] }]);
    expect(p.shuffles).toEqual([]);
    expect(p.delivery).toEqual({ requested: "exactly-once", effective: "exactly-once", reasons: [] });
  });

  it("says why a run only gets at-least-once", () => {
    const def = pipeline([src, { ...out, config: { idempotent: false } }], [{ from: "src", to: "out" }]);
    const r = validate(def, testCatalog);
    const p = plan(r.definition!, testCatalog, r.configs);
    expect(p.delivery.effective).toBe("at-least-once");
    expect(p.delivery.reasons.map(deliveryReasonText)).toEqual([
      "sink out (sink.collect) is neither idempotent nor transactional",
    ]);
    expect(formatPlan(p)).toContain("delivery: at-least-once (requested exactly-once)");
  });
});

describe("validate: parameters", () => {
  const withParams = (parameters: unknown[], count: unknown) => ({
    ...pipeline([{ ...src, config: { count } }, out], [{ from: "src", to: "out" }]),
    spec: { ...pipeline([{ ...src, config: { count } }, out], [{ from: "src", to: "out" }]).spec, parameters },
  });

  it("reports a parameter that is used but not declared, with a suggestion", () => {
    const r = validate(withParams([{ name: "batch_size", type: "number", default: 3 }], "{{batch_sise}}"), testCatalog);
    const issue = r.issues.find((i) => i.code === "undeclared-parameter");
    expect(issue).toMatchObject({ nodeId: "src", path: ["config", "count"], suggestion: "batch_size" });
  });

  it("checks a config with the declared default bound, typed", () => {
    const r = validate(withParams([{ name: "n", type: "number", default: 7 }], "{{n}}"), testCatalog);
    expect(r.issues).toEqual([]);
    expect(r.configs.src).toEqual({ count: 7 });
    const bad = validate(withParams([{ name: "n", type: "number", default: 0 }], "{{n}}"), testCatalog);
    expect(bad.issues.map((i) => i.path)).toEqual([["config", "count"]]);
  });

  it("accepts a parameter without a default where the run will supply it, and checks the value it gets", () => {
    const def = withParams([{ name: "n", type: "number" }], "{{n}}");
    expect(validate(def, testCatalog).issues.filter((i) => i.severity === "error")).toEqual([]);
    expect(validate(def, testCatalog, { parameters: { n: 4 } }).configs.src).toEqual({ count: 4 });
    expect(validate(def, testCatalog, { parameters: { n: -1 } }).issues[0]?.path).toEqual(["config", "count"]);
  });

  it("warns about a declared parameter nobody uses", () => {
    const r = validate(withParams([{ name: "spare", type: "string", default: "x" }], 3), testCatalog);
    expect(r.issues).toEqual([
      expect.objectContaining({
        severity: "warning",
        code: "unused-parameter",
        path: ["spec", "parameters", 0, "name"],
      }),
    ]);
  });
});

describe("plan: stages and shuffles", () => {
  const count = (id: string, key: string[]) => ({ id, type: "transform.count", config: { key } });

  it("starts a stage before a keyed operator and shuffles its input by the key", () => {
    const def = pipeline(
      [src, split, count("byN", ["n"]), out],
      [
        { from: "src", to: "split" },
        { from: "split", fromPort: "even", to: "byN" },
        { from: "byN", to: "out" },
      ],
      { parallelism: 4 },
    );
    const r = validate(def, testCatalog);
    expect(r.issues).toEqual([]);
    const p = plan(r.definition!, testCatalog, r.configs);
    expect(p.stages.map((s) => [s.nodes, s.partitions])).toEqual([
      [["src", "split"], 4],
      [["byN", "out"], 4],
    ]);
    expect(p.shuffles).toEqual([
      {
        id: 0,
        fromStage: 0,
        fromNode: "split",
        fromPort: "even",
        toStage: 1,
        toNode: "byN",
        toPort: "in",
        keys: ["n"],
      },
    ]);
    expect(formatPlan(p)).toContain("← split.even (stage 0) into byN.in, by n");
  });

  it("gives a global operator one partition, and rebalances where stages meet", () => {
    const def = pipeline(
      [src, count("all", []), count("perN", ["n"]), { id: "m", type: "transform.merge", config: {} }, out],
      [
        { from: "src", to: "all" },
        { from: "src", to: "perN" },
        { from: "all", to: "m" },
        { from: "perN", to: "m" },
        { from: "m", to: "out" },
      ],
      { parallelism: 3 },
    );
    const r = validate(def, testCatalog);
    const p = plan(r.definition!, testCatalog, r.configs);
    expect(p.stages.map((s) => [s.nodes, s.partitions])).toEqual([
      [["src"], 3],
      [["all"], 1],
      [["perN"], 3],
      [["m", "out"], 3],
    ]);
    expect(p.shuffles.map((s) => [s.fromNode, s.toNode, s.keys])).toEqual([
      ["src", "all", []],
      ["src", "perN", ["n"]],
      ["all", "m", null],
      ["perN", "m", null],
    ]);
    expect(p.stages[0]!.outputs).toEqual([0, 1]);
    expect(p.stages[3]!.inputs).toEqual([2, 3]);
  });
});

describe("validate: settings", () => {
  it("does not add 'no sink' to an unknown sink type", () => {
    const r = validate(pipeline([src, { id: "o", type: "sink.colect" }], [{ from: "src", to: "o" }]), testCatalog);
    expect(r.issues.map((i) => i.code)).toEqual(["unknown-node-type"]);
  });

  it("refuses durations it cannot read", () => {
    const r = validate(pipeline([src, out], [{ from: "src", to: "out" }], { maxOutOfOrder: "5 sec" }), testCatalog);
    expect(r.issues[0]).toMatchObject({ path: ["spec", "settings", "maxOutOfOrder"], code: "schema" });
    expect(
      validate(
        pipeline([src, out], [{ from: "src", to: "out" }], { maxOutOfOrder: "5s", idleTimeout: 2000 }),
        testCatalog,
      ).issues,
    ).toEqual([]);
  });

  it("checks that the sources carry settings.timeField", () => {
    const r = validate(pipeline([src, out], [{ from: "src", to: "out" }], { timeField: "nn" }), testCatalog);
    expect(r.issues[0]).toMatchObject({
      code: "unknown-field",
      nodeId: "src",
      path: ["spec", "settings", "timeField"],
      suggestion: "n",
    });
    const wrongType = validate(pipeline([src, out], [{ from: "src", to: "out" }], { timeField: "label" }), testCatalog);
    expect(wrongType.issues[0]?.code).toBe("time-field-type");
  });
});
