import { describe, expect, it } from "vitest";
import { z } from "zod";
import { emptyDefinition } from "./definition";
import { defineNode } from "./node-definition";
import {
  bindParameters,
  expressionPaths,
  parameterRefs,
  parseParameterText,
  resolveParameterValues,
} from "./parameters";

const node = defineNode({
  type: "transform.param-test",
  version: 1,
  kind: "transform",
  title: "T",
  category: "Test",
  icon: "x",
  summary: "",
  docs: "",
  inputs: [{ name: "in" }],
  outputs: [{ name: "out" }],
  config: z.strictObject({
    topic: z.string(),
    limit: z.number().optional(),
    where: z.string().meta({ widget: "predicate" }),
    computed: z.record(z.string(), z.string().meta({ widget: "expression" })).default({}),
    tags: z.array(z.string()).default([]),
  }),
  examples: [],
  delivery: {},
  infer: ({ inputs }) => ({ outputs: { out: inputs.in ?? { fields: [], open: false } } }),
  summarize: () => "",
});

const config = {
  topic: "events-{{env}}",
  limit: "{{limit}}",
  where: "amount > {{min}}",
  computed: { total: "price * {{rate}}" },
  tags: ["{{env}}", "static"],
};

describe("parameters", () => {
  it("finds the expression fields from the widget hints, including records of expressions", () => {
    expect(expressionPaths(node)).toEqual([["where"], ["computed", "*"]]);
  });

  it("lists references in plain fields only", () => {
    expect(parameterRefs(config, node)).toEqual([
      { name: "env", path: ["topic"] },
      { name: "limit", path: ["limit"] },
      { name: "env", path: ["tags", 0] },
    ]);
  });

  it("binds values into plain fields, keeps types for whole references, and never touches expressions", () => {
    const bound = bindParameters(config, node, { env: "prod", limit: 25, min: 100, rate: 2 });
    expect(bound).toEqual({
      topic: "events-prod",
      limit: 25,
      where: "amount > {{min}}",
      computed: { total: "price * {{rate}}" },
      tags: ["prod", "static"],
    });
    expect(config.topic).toBe("events-{{env}}"); // the input is left as it was
  });

  it("leaves references without a value as written", () => {
    expect(bindParameters({ topic: "a-{{x}}", where: "" }, node, {})).toEqual({ topic: "a-{{x}}", where: "" });
  });
});

describe("run parameter values", () => {
  const def = {
    ...emptyDefinition("p"),
    spec: {
      ...emptyDefinition("p").spec,
      parameters: [
        { name: "n", type: "number" as const, default: 3 },
        { name: "topic", type: "string" as const },
        { name: "on", type: "boolean" as const, default: false },
      ],
    },
  };

  it("fills defaults, takes given values, and checks types", () => {
    expect(resolveParameterValues(def, { topic: "t" })).toEqual({ n: 3, topic: "t", on: false });
    expect(() => resolveParameterValues(def, {})).toThrow('parameter "topic": needs a value (it has no default)');
    expect(() => resolveParameterValues(def, { topic: "t", n: "4" })).toThrow('parameter "n": "4" is not a number');
    expect(() => resolveParameterValues(def, { topic: "t", x: 1 })).toThrow(
      'parameter "x": the pipeline declares no such parameter',
    );
  });

  it("reads NAME=VALUE as the declared type", () => {
    expect(parseParameterText(def, "n=4.5")).toEqual(["n", 4.5]);
    expect(parseParameterText(def, "on=true")).toEqual(["on", true]);
    expect(parseParameterText(def, "topic=a=b")).toEqual(["topic", "a=b"]);
    expect(() => parseParameterText(def, "n=abc")).toThrow('parameter "n": "abc" is not a number');
    expect(() => parseParameterText(def, "on=yes")).toThrow('parameter "on": "yes" is not true or false');
    expect(() => parseParameterText(def, "noequals")).toThrow("write NAME=VALUE");
  });
});
