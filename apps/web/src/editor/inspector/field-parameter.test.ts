import { describe, expect, it } from "vitest";
import type { Control } from "@/forms/schema";
import { canBeParameter, parameterFromField } from "./field-parameter";

const common = { label: "Rate", advanced: false };

describe("making a config field a parameter", () => {
  it("declares the field's type with its options and the current value as default", () => {
    const number: Control = { ...common, kind: "number", integer: true, min: 1, max: 100, help: "Records per second" };
    expect(parameterFromField(number, ["rate"], 25, new Set())).toEqual({
      parameter: {
        name: "rate",
        type: "integer",
        min: 1,
        max: 100,
        label: "Rate",
        default: 25,
        description: "Records per second",
      },
      reference: "{{rate}}",
    });
    const connection: Control = { ...common, label: "Connection", kind: "connection", connectionType: "postgres" };
    expect(parameterFromField(connection, ["connection"], "main", new Set()).parameter).toEqual({
      name: "connection",
      type: "connection",
      connectorType: "postgres",
      label: "Connection",
      default: "main",
    });
    const choice: Control = { ...common, label: "Mode", kind: "enum", options: ["insert", "upsert"] };
    expect(parameterFromField(choice, ["mode"], undefined, new Set()).parameter).toEqual({
      name: "mode",
      type: "choice",
      choices: ["insert", "upsert"],
      label: "Mode",
    });
    const where: Control = { ...common, label: "Where", kind: "expression", mode: "predicate" };
    expect(parameterFromField(where, ["where"], "status = 200", new Set()).parameter).toMatchObject({
      type: "expression",
      default: "status = 200",
    });
  });

  it("names the parameter after the field's path, unique in the pipeline", () => {
    const text: Control = { ...common, kind: "text", multiline: false, monospace: false, secret: false };
    expect(parameterFromField(text, ["window", "size"], "x", new Set()).reference).toBe("{{window_size}}");
    expect(parameterFromField(text, ["topic"], "x", new Set(["topic", "topic2"])).reference).toBe("{{topic3}}");
    expect(parameterFromField(text, ["fields", 0, "name"], "x", new Set()).parameter.name).toBe("fields_name");
  });

  it("offers it only for single values that are not secrets or parameters already", () => {
    const text: Control = { ...common, kind: "text", multiline: false, monospace: false, secret: false };
    expect(canBeParameter(text, "clicks")).toBe(true);
    expect(canBeParameter(text, "{{topic}}")).toBe(false);
    expect(canBeParameter({ ...text, secret: true }, "hunter2")).toBe(false);
    expect(canBeParameter({ ...common, kind: "json" }, {})).toBe(false);
  });
});
