import { describe, expect, it } from "vitest";
import { emptyDefinition, PipelineParameter } from "./definition";
import {
  expressionParameters,
  expressionParameterValues,
  parameterDeclarationProblems,
  parameterValueProblem,
  parseParameterText,
  resolveParameterValues,
} from "./parameters";

// Typed parameters: each type accepts what fits it and refuses the rest with a message that quotes the value.

const param = (input: Record<string, unknown>) => PipelineParameter.parse({ name: "p", ...input });

describe("parameter values by type", () => {
  const cases: {
    declared: Record<string, unknown>;
    accepts: unknown[];
    refuses: [unknown, string][];
  }[] = [
    {
      declared: { type: "string", maxLength: 5, pattern: "[a-z]+" },
      accepts: ["abc", "abcde"],
      refuses: [
        [12, "12 is not text"],
        ["abcdef", '"abcdef" is longer than 5 characters'],
        ["ab1", '"ab1" does not match the pattern [a-z]+'],
      ],
    },
    {
      declared: { type: "integer", min: 1, max: 100 },
      accepts: [1, 100, 42],
      refuses: [
        [12.5, "12.5 is not an integer"],
        ["4", '"4" is not a number'],
        [0, "0 is less than the minimum, 1"],
        [101, "101 is more than the maximum, 100"],
        [Number.NaN, "NaN is not a number"],
      ],
    },
    {
      declared: { type: "number", min: 0.5 },
      accepts: [0.5, 12.25, 1e9],
      refuses: [
        [0.25, "0.25 is less than the minimum, 0.5"],
        [true, "true is not a number"],
        [Number.POSITIVE_INFINITY, "Infinity is not a number"],
      ],
    },
    {
      declared: { type: "boolean" },
      accepts: [true, false],
      refuses: [
        ["true", '"true" is not true or false'],
        [1, "1 is not true or false"],
      ],
    },
    {
      declared: { type: "choice", choices: ["eu", "us"] },
      accepts: ["eu", "us"],
      refuses: [
        ["asia", '"asia" is not one of "eu", "us"'],
        ["EU", '"EU" is not one of "eu", "us"'],
      ],
    },
    {
      declared: { type: "duration" },
      accepts: ["250ms", "5s", "1m", "2h", "1d", 1500],
      refuses: [
        ["5 minutes", '"5 minutes" is not a duration; write e.g. 250ms, 5s, 1m, 2h or 1d'],
        [-1, "-1 is not a duration"],
      ],
    },
    {
      declared: { type: "expression" },
      accepts: ["amount > 100", "status IN (200, 204) AND path LIKE '/shop/%'", "coalesce(a, b)"],
      refuses: [
        [42, "42 is not an expression"],
        ["amount >", '"amount >" is not an expression: '],
        ["a; DROP TABLE x", '"a; DROP TABLE x" is not an expression: '],
      ],
    },
    {
      declared: { type: "connection", connectorType: "postgres" },
      accepts: ["warehouse", "analytics-db"],
      refuses: [
        ["", '"" is not a connection name'],
        [3, "3 is not a connection name"],
        ["{{other}}", '"{{other}}" is not a connection name'],
      ],
    },
  ];

  for (const { declared, accepts, refuses } of cases) {
    it(`${declared.type}: accepts fitting values and names what is wrong with the others`, () => {
      const p = param(declared);
      for (const value of accepts) expect(parameterValueProblem(p, value), String(value)).toBeUndefined();
      for (const [value, message] of refuses) expect(parameterValueProblem(p, value)).toContain(message);
    });
  }

  it("keeps a declaration written before typed parameters as it was", () => {
    expect(PipelineParameter.parse({ name: "topic", default: "clicks" })).toEqual({
      name: "topic",
      type: "string",
      default: "clicks",
    });
    expect(PipelineParameter.parse({ name: "n", type: "number", default: 3, description: "how many" })).toEqual({
      name: "n",
      type: "number",
      default: 3,
      description: "how many",
    });
  });
});

describe("parameter declarations", () => {
  const problems = (input: Record<string, unknown>) =>
    parameterDeclarationProblems(param(input)).map((p) => `${p.path.join(".")}: ${p.message}`);

  it("accepts complete declarations of every type", () => {
    for (const declared of [
      { type: "string", default: "x", label: "Topic", description: "help", required: true, maxLength: 3 },
      { type: "integer", default: 5, min: 1, max: 10 },
      { type: "number", default: 0.5 },
      { type: "boolean", default: false },
      { type: "choice", choices: ["a", "b"], default: "b" },
      { type: "duration", default: "5m" },
      { type: "expression", default: "amount > 10" },
      { type: "connection", connectorType: "postgres", default: "warehouse" },
    ]) {
      expect(problems(declared), String(declared.type)).toEqual([]);
    }
  });

  it("refuses a default that does not fit, naming the default", () => {
    expect(problems({ type: "integer", default: 2.5 })).toEqual(["default: the default: 2.5 is not an integer"]);
    expect(problems({ type: "choice", choices: ["a"], default: "b" })).toEqual([
      'default: the default: "b" is not one of "a"',
    ]);
    expect(problems({ type: "duration", default: "soon" })).toEqual([
      'default: the default: "soon" is not a duration; write e.g. 250ms, 5s, 1m, 2h or 1d',
    ]);
    expect(problems({ type: "expression", default: "a = = b" })[0]).toMatch(
      /^default: the default: "a = = b" is not an expression: .+ at column \d+$/,
    );
  });

  it("refuses options of another type, missing choices or connector type, and bounds the wrong way round", () => {
    expect(problems({ type: "choice" })).toEqual(["choices: a choice parameter lists its choices"]);
    expect(problems({ type: "choice", choices: ["a", "a"] })).toEqual(["choices: a choice is listed twice"]);
    expect(problems({ type: "connection" })).toEqual([
      "connectorType: a connection slot names the connector type it takes",
    ]);
    expect(problems({ type: "string", min: 1 })).toEqual([
      'min: "min" applies to integer and number parameters, not string',
    ]);
    expect(problems({ type: "number", choices: ["a"] })).toEqual([
      'choices: "choices" applies to choice parameters, not number',
    ]);
    expect(problems({ type: "number", min: 5, max: 1 })).toEqual(["max: the maximum, 1, is less than the minimum, 5"]);
    expect(problems({ type: "integer", min: 0.5 })).toEqual(["min: 0.5 is not an integer"]);
    expect(problems({ type: "string", pattern: "(a" })[0]).toMatch(/^pattern: the pattern is not usable: /);
  });
});

describe("values at run start", () => {
  const def = emptyDefinition("typed");
  def.spec.parameters = [
    param({ name: "limit", type: "integer", default: 10 }),
    param({ name: "region", type: "choice", choices: ["eu", "us"], required: true }),
    param({ name: "lag", type: "duration", default: "5s" }),
    param({ name: "filter", type: "expression", default: "true" }),
    param({ name: "warehouse", type: "connection", connectorType: "postgres", default: "main" }),
  ];

  it("checks each value against its declaration and names the parameter", () => {
    expect(resolveParameterValues(def, { region: "eu" })).toEqual({
      limit: 10,
      region: "eu",
      lag: "5s",
      filter: "true",
      warehouse: "main",
    });
    expect(() => resolveParameterValues(def, { region: "eu", limit: 12.5 })).toThrow(
      'parameter "limit": 12.5 is not an integer',
    );
    expect(() => resolveParameterValues(def, { region: "mars" })).toThrow(
      'parameter "region": "mars" is not one of "eu", "us"',
    );
    expect(() => resolveParameterValues(def, {})).toThrow('parameter "region": is required: give it a value');
    expect(() => resolveParameterValues(def, { region: "eu", filter: "a >" })).toThrow(
      'parameter "filter": "a >" is not an expression',
    );
  });

  it("fills a connection slot only with a connection of its connector type, when the connections are known", () => {
    const connections = { main: "postgres", cache: "redis" };
    expect(resolveParameterValues(def, { region: "us" }, connections).warehouse).toBe("main");
    expect(() => resolveParameterValues(def, { region: "us", warehouse: "cache" }, connections)).toThrow(
      'parameter "warehouse": connection "cache" is a redis connection; the slot takes a postgres connection',
    );
    expect(() => resolveParameterValues(def, { region: "us", warehouse: "nope" }, connections)).toThrow(
      'parameter "warehouse": there is no connection named "nope"',
    );
  });

  it("reads command-line text as the declared type and checks it", () => {
    expect(parseParameterText(def, "limit=7")).toEqual(["limit", 7]);
    expect(() => parseParameterText(def, "limit=7.5")).toThrow('parameter "limit": 7.5 is not an integer');
    expect(parseParameterText(def, "lag=1m")).toEqual(["lag", "1m"]);
    expect(() => parseParameterText(def, "region=asia")).toThrow('parameter "region": "asia" is not one of');
  });

  it("gives expressions typed bind values: numbers, a duration's milliseconds, and no value for SQL text", () => {
    const values = resolveParameterValues(def, { region: "eu", lag: "2m" });
    expect(expressionParameters(def.spec.parameters, values)).toEqual({
      limit: { type: "number", value: 10 },
      region: { type: "string", value: "eu" },
      lag: { type: "number", value: 120_000 },
      filter: { type: "expression" },
      warehouse: { type: "string", value: "main" },
    });
    expect(expressionParameterValues(def.spec.parameters, values)).toEqual({
      limit: 10,
      region: "eu",
      lag: 120_000,
      warehouse: "main",
    });
  });
});
