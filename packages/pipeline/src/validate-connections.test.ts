import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { PipelineDefinitionInput } from "./definition";
import { formatIssue } from "./issues";
import { createCatalog, defineNode } from "./node-definition";
import { field, t } from "./record-schema";
import { testSink } from "./test-catalog";
import { validate } from "./validate";

// Connection references: checked against the connections a run could use, when the caller says which they are.

const tableSource = defineNode({
  type: "source.table",
  version: 1,
  kind: "source",
  title: "Table",
  category: "Test",
  icon: "table",
  summary: "test source reading through a connection",
  docs: "",
  inputs: [],
  outputs: [{ name: "out" }],
  config: z.strictObject({
    connection: z.string().min(1).meta({ widget: "connection", connectionType: "postgres" }),
    table: z.string().min(1),
  }),
  examples: [],
  delivery: { replayable: true },
  infer: () => ({ outputs: { out: { fields: [field("id", t.int)], open: false } } }),
  summarize: (c) => c.table,
});

const catalog = createCatalog([tableSource, testSink]);

function pipeline(connection: string, parameters: unknown[] = []): PipelineDefinitionInput {
  return {
    apiVersion: "sluice/v1",
    kind: "Pipeline",
    metadata: { name: "t" },
    spec: {
      parameters,
      nodes: [
        { id: "src", type: "source.table", config: { connection, table: "orders" } },
        { id: "out", type: "sink.collect", config: {} },
      ],
      edges: [{ from: "src", to: "out" }],
    } as PipelineDefinitionInput["spec"],
  };
}

const connections = { warehouse: "postgres", cache: "redis" };

describe("validate: connection references", () => {
  it("accepts a connection of the right type, and checks nothing without the list", () => {
    expect(validate(pipeline("warehouse"), catalog, { connections }).issues).toEqual([]);
    expect(validate(pipeline("nowhere"), catalog).issues).toEqual([]);
  });

  it("reports an unknown connection at the field, with the closest name", () => {
    const [issue, ...rest] = validate(pipeline("warehose"), catalog, { connections }).issues;
    expect(rest).toEqual([]);
    expect(issue).toMatchObject({
      severity: "error",
      code: "unknown-connection",
      nodeId: "src",
      path: ["config", "connection"],
      suggestion: "warehouse",
    });
    expect(formatIssue(issue!)).toBe(
      'node src config.connection: there is no connection named "warehose" (did you mean "warehouse"?)',
    );
    expect(validate(pipeline("warehouse"), catalog, { connections: {} }).issues[0]?.code).toBe("unknown-connection");
  });

  it("reports a connection of the wrong type", () => {
    const [issue] = validate(pipeline("cache"), catalog, { connections }).issues;
    expect(issue).toMatchObject({ code: "connection-type", nodeId: "src", path: ["config", "connection"] });
    expect(issue?.message).toBe('connection "cache" is a redis connection; Table needs a postgres connection');
  });

  it("checks a connection named by a parameter once the parameter has a value", () => {
    const def = pipeline("{{db}}", [{ name: "db", type: "string" }]);
    expect(validate(def, catalog, { connections }).issues).toEqual([]);
    expect(validate(def, catalog, { connections, parameters: { db: "warehouse" } }).issues).toEqual([]);
    const wrong = validate(def, catalog, { connections, parameters: { db: "cache" } }).issues;
    expect(wrong.map((i) => i.code)).toEqual(["connection-type"]);
    const withDefault = pipeline("{{db}}", [{ name: "db", type: "string", default: "stage" }]);
    expect(validate(withDefault, catalog, { connections }).issues.map((i) => i.code)).toEqual(["unknown-connection"]);
  });
});
