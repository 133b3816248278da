import { describe, expect, it } from "vitest";
import { CLEAR_SECRET, initialValues, schemaFields, schemaFormConfig } from "./schema-form";

const schema = {
  type: "object",
  properties: {
    host: { type: "string", label: "Host", placeholder: "db.internal" },
    port: { type: "integer", default: 5432, label: "Port" },
    password: { type: "string", label: "Password", secret: true },
    sslmode: { type: "string", enum: ["disable", "require"], default: "disable", widget: "select" },
    ca: { type: "string", widget: "textarea", advanced: true },
    verify: { type: "boolean", default: true },
    ratio: { type: "number" },
  },
  required: ["host"],
};

describe("schemaFields", () => {
  it("reads labels, kinds and hints from the schema", () => {
    const fields = schemaFields(schema);
    expect(fields.map((f) => [f.name, f.kind, f.required, f.secret, f.advanced])).toEqual([
      ["host", "text", true, false, false],
      ["port", "integer", false, false, false],
      ["password", "text", false, true, false],
      ["sslmode", "enum", false, false, false],
      ["ca", "textarea", false, false, true],
      ["verify", "boolean", false, false, false],
      ["ratio", "number", false, false, false],
    ]);
    expect(fields[0]?.placeholder).toBe("db.internal");
    expect(fields[1]?.placeholder).toBe("5432");
    expect(fields[3]?.label).toBe("sslmode");
  });
});

describe("schemaFormConfig", () => {
  const fields = schemaFields(schema);

  it("round-trips a stored config, without its secrets", () => {
    const values = initialValues(fields, { host: "h", port: 6543, sslmode: "require", verify: false });
    expect(values).toEqual({ host: "h", port: "6543", sslmode: '"require"', ca: "", verify: false, ratio: "" });
    expect(schemaFormConfig(fields, values)).toEqual({
      config: { host: "h", port: 6543, sslmode: "require", verify: false },
      errors: {},
    });
  });

  it("keeps, replaces or clears a secret", () => {
    expect(schemaFormConfig(fields, { host: "h", password: "" }).config).not.toHaveProperty("password");
    expect(schemaFormConfig(fields, { host: "h", password: "pw" }).config.password).toBe("pw");
    expect(schemaFormConfig(fields, { host: "h", password: CLEAR_SECRET }).config.password).toBeNull();
  });

  it("sends required text empty for the server to name, and flags bad numbers in the browser", () => {
    expect(schemaFormConfig(fields, { host: " ", port: "5.5", ratio: "x" })).toEqual({
      config: { host: "" },
      errors: { port: "Enter a whole number.", ratio: "Enter a number." },
    });
  });
});
