import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { PipelineDefinitionInput } from "./definition";
import { checkExpression } from "./expr/compile";
import { formatIssue, problemOf } from "./issues";
import { createCatalog, defineNode } from "./node-definition";
import { field, t } from "./record-schema";
import { testSink } from "./test-catalog";
import { validate } from "./validate";

// Typed parameters in a pipeline: declarations, where each kind may be used, and values bound at run start.

const sourceOf = (type: string, connectionType: string) =>
  defineNode({
    type,
    version: 1,
    kind: "source",
    title: `Read ${connectionType}`,
    category: "Test",
    icon: "table",
    summary: "",
    docs: "",
    inputs: [],
    outputs: [{ name: "out" }],
    config: z.strictObject({
      connection: z.string().min(1).meta({ widget: "connection", connectionType }),
      table: z.string().min(1),
      limit: z.number().int().optional(),
    }),
    examples: [],
    delivery: { replayable: true },
    infer: () => ({
      outputs: { out: { fields: [field("id", t.int), field("amount", t.float)], open: false } },
    }),
    summarize: (c) => c.table,
  });

const filter = defineNode({
  type: "transform.where",
  version: 1,
  kind: "transform",
  title: "Where",
  category: "Test",
  icon: "filter",
  summary: "",
  docs: "",
  inputs: [{ name: "in" }],
  outputs: [{ name: "out" }],
  config: z.strictObject({ where: z.string().meta({ widget: "predicate" }) }),
  examples: [],
  delivery: {},
  infer: ({ config, inputs, parameters }) => {
    const input = inputs.in ?? { fields: [], open: false };
    const checked = checkExpression(config.where, { schema: input, parameters }, "predicate");
    return {
      outputs: { out: input },
      issues: checked.errors.map((e) => ({ message: e.message, path: ["where"], position: e.position })),
    };
  },
  summarize: (c) => c.where,
});

const catalog = createCatalog([sourceOf("source.pg", "postgres"), sourceOf("source.cache", "redis"), filter, testSink]);

function pipeline(
  parameters: unknown[],
  source: Record<string, unknown>,
  where = "amount > 0",
  sourceType = "source.pg",
): PipelineDefinitionInput {
  return {
    apiVersion: "sluice/v1",
    kind: "Pipeline",
    metadata: { name: "typed" },
    spec: {
      parameters: parameters as PipelineDefinitionInput["spec"]["parameters"],
      nodes: [
        { id: "src", type: sourceType, config: { table: "orders", ...source } },
        { id: "keep", type: "transform.where", config: { where } },
        { id: "out", type: "sink.collect", config: {} },
      ],
      edges: [
        { from: "src", to: "keep" },
        { from: "keep", to: "out" },
      ],
    },
  };
}

const errors = (input: unknown, options?: Parameters<typeof validate>[2]) =>
  validate(input, catalog, options)
    .issues.filter((i) => i.severity === "error")
    .map(formatIssue);

describe("parameter declarations in a pipeline", () => {
  it("accepts a pipeline using every kind of parameter where it belongs", () => {
    const input = pipeline(
      [
        { name: "warehouse", type: "connection", connectorType: "postgres", default: "main" },
        { name: "limit", type: "integer", default: 10, min: 1 },
        { name: "cond", type: "expression", default: "amount > 100" },
      ],
      { connection: "{{warehouse}}", limit: "{{limit}}" },
      "{{cond}}",
    );
    const result = validate(input, catalog, { connections: { main: "postgres" } });
    expect(result.issues.map(formatIssue)).toEqual([]);
    expect(result.configs.src).toEqual({ connection: "main", table: "orders", limit: 10 });
    expect(result.configs.keep).toEqual({ where: "amount > 100" });
  });

  it("reports names used twice, defaults that do not fit and unknown connector types, at the declaration", () => {
    const input = pipeline(
      [
        { name: "limit", type: "integer", default: 2.5 },
        { name: "limit", type: "integer", default: 3 },
        { name: "region", type: "choice", choices: ["eu"], default: "us" },
        { name: "db", type: "connection", connectorType: "postgress" },
      ],
      { connection: "main", limit: "{{limit}}", table: "{{region}}-{{db}}" },
    );
    const issues = validate(input, catalog).issues.filter((i) => i.path?.[1] === "parameters");
    expect(issues.map((i) => [i.code, i.path, i.message, i.suggestion])).toEqual([
      [
        "parameter-invalid",
        ["spec", "parameters", 0, "default"],
        'parameter "limit": the default: 2.5 is not an integer',
        undefined,
      ],
      [
        "duplicate-parameter",
        ["spec", "parameters", 1, "name"],
        'parameter "limit" is declared more than once',
        undefined,
      ],
      [
        "parameter-invalid",
        ["spec", "parameters", 2, "default"],
        'parameter "region": the default: "us" is not one of "eu"',
        undefined,
      ],
      [
        "unknown-connector-type",
        ["spec", "parameters", 3, "connectorType"],
        'parameter "db": no node takes a connection of type "postgress"',
        "postgres",
      ],
    ]);
  });

  it("still reads a file written before typed parameters the same way", () => {
    const input = pipeline([{ name: "table", default: "orders" }], { connection: "main", table: "{{table}}" });
    const result = validate(input, catalog);
    expect(result.definition?.spec.parameters).toEqual([{ name: "table", type: "string", default: "orders" }]);
    expect(result.issues.filter((i) => i.severity === "error")).toEqual([]);
  });
});

describe("where parameters may be used", () => {
  it("refuses a reference to an undeclared parameter", () => {
    expect(errors(pipeline([], { connection: "main", table: "{{tabel}}" }))).toEqual([
      'node src config.table: parameter "tabel" is not declared in spec.parameters',
    ]);
  });

  it("refuses a connection slot in a field of another connector type, naming node, field and both types", () => {
    const input = pipeline(
      [{ name: "warehouse", type: "connection", connectorType: "postgres" }],
      { connection: "{{warehouse}}" },
      "amount > 0",
      "source.cache",
    );
    const issue = validate(input, catalog).issues.find((i) => i.code === "connection-slot-type");
    expect(issue).toMatchObject({
      severity: "error",
      nodeId: "src",
      path: ["config", "connection"],
      message:
        'Read redis (src): field "connection" needs a redis connection, but parameter "warehouse" is a slot for postgres connections',
    });
    // The editor's problem list shows it on the node's field as it is.
    expect(problemOf(issue!)).toMatchObject({ nodeId: "src", path: ["config", "connection"] });
  });

  it("refuses a connection slot outside a connection field, or inside other text", () => {
    const slot = [{ name: "warehouse", type: "connection", connectorType: "postgres", default: "main" }];
    expect(errors(pipeline(slot, { connection: "main", table: "{{warehouse}}" }))).toEqual([
      'node src config.table: Read postgres (src): connection slot "warehouse" can only fill a connection field on its own, not field "table"',
    ]);
    expect(errors(pipeline(slot, { connection: "x-{{warehouse}}" }))).toContain(
      'node src config.connection: Read postgres (src): connection slot "warehouse" can only fill a connection field on its own, not field "connection"',
    );
  });

  it("binds a connection slot's value by name, then checks that connection exists with the right type", () => {
    const input = pipeline([{ name: "warehouse", type: "connection", connectorType: "postgres" }], {
      connection: "{{warehouse}}",
    });
    const connections = { main: "postgres", cache: "redis" };
    expect(errors(input, { parameters: { warehouse: "main" }, connections })).toEqual([]);
    expect(errors(input, { parameters: { warehouse: "cache" }, connections })).toEqual([
      'node src config.connection: connection "cache" is a redis connection; Read postgres needs a postgres connection',
    ]);
  });

  it("puts an expression parameter's text in the place of a whole expression field, checked as that field", () => {
    const declared = [{ name: "cond", type: "expression" }];
    // No value yet (the editor): nothing to check but the place.
    expect(errors(pipeline(declared, { connection: "main" }, "{{cond}}"))).toEqual([]);
    const bound = validate(pipeline(declared, { connection: "main" }, "{{cond}}"), catalog, {
      parameters: { cond: "amount > 10 AND id <> 3" },
    });
    expect(bound.issues).toEqual([]);
    expect(bound.configs.keep).toEqual({ where: "amount > 10 AND id <> 3" });
    // Its text is checked against the input schema like any expression written in the field.
    expect(
      errors(pipeline(declared, { connection: "main" }, "{{cond}}"), { parameters: { cond: "amont > 10" } }),
    ).toEqual(['node keep config.where 1:1: Unknown field "amont"']);
  });

  it("never splices an expression parameter into other SQL or plain text", () => {
    const declared = [{ name: "cond", type: "expression", default: "amount > 10" }];
    expect(errors(pipeline(declared, { connection: "main" }, "id > 3 AND {{cond}}"))).toEqual([
      "node keep config.where 1:12: Parameter {{cond}} is an expression: it can only be the whole field, not part of another expression",
    ]);
    expect(errors(pipeline(declared, { connection: "main", table: "{{cond}}" }))).toEqual([
      'node src config.table: Read postgres (src): field "table" is not an expression field, so expression parameter "cond" cannot fill it',
    ]);
  });

  it("binds typed values into plain fields: an integer stays a number and the node's schema judges it", () => {
    const declared = [{ name: "limit", type: "integer", default: 5 }];
    const result = validate(pipeline(declared, { connection: "main", limit: "{{limit}}" }), catalog, {
      parameters: { limit: 7 },
    });
    expect(result.configs.src).toEqual({ connection: "main", table: "orders", limit: 7 });
  });
});
