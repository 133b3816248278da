import { describe, expect, it } from "vitest";
import { z } from "zod";
import { PipelineDefinition } from "./definition";
import { createCatalog, defineNode } from "./node-definition";
import { field, t } from "./record-schema";
import {
  carryParameterValues,
  parameterValues,
  slotConnections,
  templateThumbnail,
  withParameterValues,
} from "./template-ops";
import { testSink } from "./test-catalog";

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

function pipeline(nodes: unknown[], parameters: unknown[] = [], edges: unknown[] = []): PipelineDefinition {
  return PipelineDefinition.parse({
    apiVersion: "sluice/v1",
    kind: "Pipeline",
    metadata: { name: "p" },
    spec: { parameters, nodes, edges },
  });
}

describe("slotConnections", () => {
  it("turns each connection named outright into one typed slot defaulting to that name, and keeps bound ones", () => {
    const def = pipeline(
      [
        { id: "a", type: "source.table", config: { connection: "core-banking", table: "x" } },
        { id: "b", type: "source.table", config: { connection: "core-banking", table: "y" } },
        { id: "c", type: "source.table", config: { connection: "{{warehouse}}", table: "z" } },
      ],
      [{ name: "warehouse", type: "connection", connectorType: "postgres" }],
    );
    const { definition, connectors } = slotConnections(def, catalog);
    expect(definition.spec.nodes.map((n) => n.config.connection)).toEqual([
      "{{core_banking}}",
      "{{core_banking}}",
      "{{warehouse}}",
    ]);
    expect(definition.spec.parameters.map((p) => [p.name, p.type, p.connectorType, p.default])).toEqual([
      ["warehouse", "connection", "postgres", undefined],
      ["core_banking", "connection", "postgres", "core-banking"],
    ]);
    expect(connectors).toEqual(["postgres"]);
    expect(JSON.stringify(definition)).not.toContain('"connection":"core-banking"');
  });

  it("never reuses a parameter's name for a slot", () => {
    const def = pipeline(
      [{ id: "a", type: "source.table", config: { connection: "db", table: "x" } }],
      [{ name: "db", type: "string", default: "x" }],
    );
    expect(slotConnections(def, catalog).definition.spec.parameters.map((p) => p.name)).toEqual(["db", "db_2"]);
  });
});

describe("parameter values", () => {
  const v1 = pipeline(
    [],
    [
      { name: "topic", type: "string", default: "clicks" },
      { name: "limit", type: "integer", min: 1, max: 100, default: 10 },
      { name: "mode", type: "choice", choices: ["a", "b"], default: "a" },
    ],
  );

  it("are written in as defaults and read back", () => {
    const mine = withParameterValues(v1, { topic: "orders", limit: 50, unknown: 1 });
    expect(parameterValues(mine)).toEqual({ topic: "orders", limit: 50, mode: "a" });
  });

  it("settle a required parameter once given, so runs do not ask for it again", () => {
    const def = pipeline([], [{ name: "region", type: "string", required: true }]);
    expect(withParameterValues(def, {}).spec.parameters[0]?.required).toBe(true);
    expect(withParameterValues(def, { region: "eu" }).spec.parameters[0]).toEqual({
      name: "region",
      type: "string",
      default: "eu",
    });
  });

  it("carry into a new version where its declaration takes them, and say what changed", () => {
    const mine = withParameterValues(v1, { topic: "orders", limit: 50, mode: "b" });
    const v2 = pipeline(
      [],
      [
        { name: "topic", type: "string", default: "clicks" },
        { name: "limit", type: "integer", min: 1, max: 20, default: 10 },
        { name: "window", type: "duration", default: "1m" },
        { name: "region", type: "string", required: true },
      ],
    );
    const { definition, changes } = carryParameterValues(mine, v2);
    expect(parameterValues(definition)).toEqual({ topic: "orders", limit: 10, window: "1m" });
    expect(changes).toEqual([
      { name: "topic", change: "kept", value: "orders", needsValue: false },
      { name: "limit", change: "changed", value: 10, dropped: "50 is more than the maximum, 20", needsValue: false },
      { name: "window", change: "added", value: "1m", needsValue: false },
      { name: "region", change: "added", value: undefined, needsValue: true },
      { name: "mode", change: "removed", value: undefined, needsValue: false },
    ]);
  });
});

describe("templateThumbnail", () => {
  it("scales canvas positions into the box and keeps the edges", () => {
    const def = pipeline(
      [
        { id: "a", type: "source.table", config: {}, ui: { x: 0, y: 0 } },
        { id: "b", type: "sink.test", config: {}, ui: { x: 400, y: 300 } },
      ],
      [],
      [{ from: "a", to: "b" }],
    );
    expect(templateThumbnail(def)).toEqual({
      nodes: [
        { x: 0, y: 0, kind: "source" },
        { x: 100, y: 60, kind: "sink" },
      ],
      edges: [[0, 1]],
    });
  });

  it("lays out by depth when nodes have no positions", () => {
    const def = pipeline(
      [
        { id: "a", type: "source.table", config: {} },
        { id: "b", type: "transform.x", config: {} },
        { id: "c", type: "sink.test", config: {} },
      ],
      [],
      [
        { from: "a", to: "b" },
        { from: "b", to: "c" },
      ],
    );
    expect(templateThumbnail(def).nodes.map((n) => n.x)).toEqual([0, 50, 100]);
  });
});
