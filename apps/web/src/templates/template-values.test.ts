import type { PipelineParameter } from "@sluice/pipeline/definition";
import { describe, expect, it } from "vitest";
import {
  connectionsForSlot,
  initialTexts,
  parameterValues,
  parseTags,
  preselectedConnection,
  templateUseProblems,
} from "./template-values";

const connections = [
  { name: "warehouse", type: "postgres" },
  { name: "replica", type: "postgres" },
  { name: "events", type: "kafka" },
];

describe("preselectedConnection", () => {
  it("takes the connection the slot's default names", () => {
    expect(preselectedConnection({ connectorType: "postgres", default: "replica" }, connections)).toBe("replica");
  });

  it("takes the only connection of the slot's type when the default names none", () => {
    expect(preselectedConnection({ connectorType: "kafka", default: "prod-kafka" }, connections)).toBe("events");
    expect(preselectedConnection({ connectorType: "kafka" }, connections)).toBe("events");
  });

  it("leaves the choice open when several fit and the default names none of them", () => {
    expect(preselectedConnection({ connectorType: "postgres", default: "main" }, connections)).toBe("");
  });

  it("does not take a connection of another type, even by name", () => {
    expect(preselectedConnection({ connectorType: "mysql", default: "warehouse" }, connections)).toBe("");
  });
});

describe("connectionsForSlot", () => {
  it("keeps the slot's connector type, or every connection when it names none", () => {
    expect(connectionsForSlot({ connectorType: "postgres" }, connections).map((c) => c.name)).toEqual([
      "warehouse",
      "replica",
    ]);
    expect(connectionsForSlot({}, connections)).toHaveLength(3);
  });
});

describe("initialTexts and parameterValues", () => {
  const parameters: PipelineParameter[] = [
    { name: "db", type: "connection", connectorType: "kafka" },
    { name: "limit", type: "integer", default: 10 },
    { name: "verbose", type: "boolean", default: true },
    { name: "dryRun", type: "boolean" },
    { name: "topic", type: "string" },
  ];

  it("fills in defaults and the fitting connection", () => {
    expect(initialTexts(parameters, connections)).toEqual({
      db: "events",
      limit: "10",
      verbose: "true",
      dryRun: "false",
      topic: "",
    });
  });

  it("types each value as its parameter declares and leaves blank ones out", () => {
    expect(
      parameterValues(parameters, { db: "events", limit: "25", verbose: "true", dryRun: "false", topic: "" }),
    ).toEqual({ db: "events", limit: 25, verbose: true, dryRun: false });
  });
});

describe("parseTags", () => {
  it("splits on commas, lower-cases and drops blanks and repeats", () => {
    expect(parseTags(" CDC, postgres,, cdc ,kafka ")).toEqual(["cdc", "postgres", "kafka"]);
    expect(parseTags("")).toEqual([]);
  });
});

describe("templateUseProblems", () => {
  const shown = new Set(["limit", "db"]);

  it("puts a value's problem beside its parameter, by path or as the run's checks word it", () => {
    const error = {
      message: 'values.limit: 0 is less than the minimum, 1; parameter "db": is required: give it a value',
    };
    expect(templateUseProblems(error, shown)).toEqual({
      form: null,
      name: null,
      parameters: { limit: "0 is less than the minimum, 1", db: "Is required: give it a value" },
    });
  });

  it("prefers the fields the server lists, and keeps the name's problem for the name", () => {
    const error = {
      message: "whatever",
      data: {
        fields: [
          { path: "values.db", message: 'there is no connection named "x"' },
          { path: "name", message: "give the pipeline a name" },
        ],
      },
    };
    expect(templateUseProblems(error, shown)).toEqual({
      form: null,
      name: "Give the pipeline a name",
      parameters: { db: 'There is no connection named "x"' },
    });
  });

  it("puts on top what no input shows: other errors, and values of parameters not shown", () => {
    const error = { message: 'sample: this template has no sample data to run on; parameter "topic": is required' };
    expect(templateUseProblems(error, shown)).toEqual({
      form: "Sample: this template has no sample data to run on; topic: is required",
      name: null,
      parameters: {},
    });
  });

  it("is empty without an error", () => {
    expect(templateUseProblems(null, shown)).toEqual({ form: null, name: null, parameters: {} });
  });
});
