import { field, type RecordSchema, t } from "@sluice/pipeline/record-schema";
import { describe, expect, it } from "vitest";
import { NodeConfigError } from "../runtime-expressions";
import { inferNode } from "../testing/infer-harness";
import { OperatorRun, testContext } from "../testing/operator-harness";
import { type ValidateConfig, VIOLATION_TYPE, validateDef } from "./validate.def";
import { validateRuntime } from "./validate.run";

const users: RecordSchema = {
  fields: [field("id", t.int), field("email", t.string, true), field("tags", t.json, true)],
  open: false,
};

const schema = {
  type: "object",
  required: ["id", "email"],
  properties: {
    id: { type: "integer", minimum: 1 },
    email: { type: "string", format: "email" },
    tags: { type: "array", items: { type: "string" }, default: [] },
  },
  additionalProperties: false,
};

const run = (config: unknown) =>
  new OperatorRun(validateRuntime.create(testContext<ValidateConfig>(validateDef, config, { inputs: { in: users } })));

describe("transform.validate", () => {
  it("passes valid records on unchanged and lists what is wrong with the others", () => {
    const good = Object.freeze({ id: 1, email: "a@example.com" });
    const bad = Object.freeze({ id: 0, email: "nope", tags: Object.freeze([1]), extra: true });
    const op = run({ schema }).push([good, bad, { email: "b@example.com" }]);
    const out = op.take("out");
    expect(out).toEqual([good]);
    expect(out[0]).toBe(good);
    expect(good).toEqual({ id: 1, email: "a@example.com" });
    const errors = op.take("errors");
    expect(errors[0]).toEqual({
      id: 0,
      email: "nope",
      tags: [1],
      extra: true,
      _errors: [
        { path: "", keyword: "additionalProperties", message: "must NOT have the additional property 'extra'" },
        { path: "/id", keyword: "minimum", message: "must be >= 1" },
        { path: "/email", keyword: "format", message: 'must match format "email"' },
        { path: "/tags/0", keyword: "type", message: "must be string" },
      ],
    });
    expect(errors[1]!._errors).toEqual([
      { path: "", keyword: "required", message: "must have required property 'id'" },
    ]);
    // Neither defaults nor coercion touch the input.
    expect(bad).toEqual({ id: 0, email: "nope", tags: [1], extra: true });
    expect(Object.hasOwn(good, "tags")).toBe(false);
  });

  it("caps the listed errors and uses the configured field", () => {
    const [r] = run({ schema, errorsField: "problems", maxErrors: 2 })
      .push([{ id: -1, email: 3, tags: "x", more: 1 }])
      .take("errors");
    expect(r!.problems).toHaveLength(2);
    expect(r!._errors).toBeUndefined();
  });

  it("infers the errors output with the problems field", () => {
    const { outputs, errors } = inferNode(validateDef, { schema }, { in: users });
    expect(errors).toEqual([]);
    expect(outputs.out).toBe(users);
    expect(outputs.errors).toEqual({
      fields: [...users.fields, field("_errors", t.array(VIOLATION_TYPE), false)],
      open: false,
    });
    expect(inferNode(validateDef, { schema, errorsField: "email" }, { in: users }).errors[0]?.path).toEqual([
      "errorsField",
    ]);
  });

  it("reports an invalid schema at its place", () => {
    const bad = inferNode(
      validateDef,
      { schema: { type: "object", properties: { id: { type: "integr" } } } },
      { in: users },
    );
    expect(bad.errors).toEqual([
      expect.objectContaining({ path: ["schema", "properties", "id", "type"], code: "json-schema" }),
    ]);
    expect(bad.errors[0]!.message).toMatch(/must be equal to one of the allowed values: "array", "boolean"/);
    const ref = inferNode(validateDef, { schema: { $ref: "#/$defs/missing" } }, { in: users });
    expect(ref.errors[0]!.message).toMatch(/can't resolve reference #\/\$defs\/missing/);
    const format = inferNode(validateDef, { schema: { properties: { e: { format: "emial" } } } }, { in: users });
    expect(format.errors[0]).toMatchObject({
      path: ["schema", "properties", "e", "format"],
      message: 'unknown format "emial"',
    });
    const draft7 = inferNode(
      validateDef,
      { schema: { $schema: "http://json-schema.org/draft-07/schema#" } },
      { in: users },
    );
    expect(draft7.errors[0]).toMatchObject({ path: ["schema", "$schema"] });
    const regex = inferNode(validateDef, { schema: { properties: { e: { pattern: "(" } } } }, { in: users });
    expect(regex.errors[0]!.message).toMatch(/Invalid regular expression/);
  });

  it("treats misspelt keywords as errors and other unknown ones as warnings", () => {
    const { issues } = inferNode(
      validateDef,
      {
        schema: {
          type: "object",
          requried: ["id"],
          properties: { id: { minimun: 1, "x-note": "ok", example: 3, frobnicate: true } },
        },
      },
      { in: users },
    );
    expect(issues.map((i) => [i.severity, i.path, i.suggestion])).toEqual([
      ["error", ["schema", "requried"], "required"],
      ["error", ["schema", "properties", "id", "minimun"], "minimum"],
      ["warning", ["schema", "properties", "id", "example"], "examples"],
      ["warning", ["schema", "properties", "id", "frobnicate"], undefined],
    ]);
  });

  it("warns when the schema cannot describe a record", () => {
    const { issues } = inferNode(validateDef, { schema: { type: "string" } }, { in: users });
    expect(issues).toEqual([expect.objectContaining({ severity: "warning", path: ["schema", "type"] })]);
  });

  it("fails loudly at run time on a schema that does not compile", () => {
    const ctx = testContext<ValidateConfig>(validateDef, { schema: { $ref: "#/nowhere" } });
    expect(() => validateRuntime.create(ctx)).toThrow(NodeConfigError);
  });

  it("lets two nodes use schemas with the same $id", () => {
    const withId = { schema: { $id: "https://example.com/user", type: "object" } };
    expect(inferNode(validateDef, withId).errors).toEqual([]);
    expect(inferNode(validateDef, withId).errors).toEqual([]);
    run(withId);
    expect(
      run(withId)
        .push([{ id: 1 }])
        .take(),
    ).toHaveLength(1);
  });

  it("checks a pattern in linear time, and keeps patterns apart", () => {
    // `^(a+)+$` on 30 a's and a "!" takes a backtracking RegExp minutes; RE2 answers at once.
    const patterns = { type: "object", properties: { email: { pattern: "^(a+)+$" }, id: { type: "integer" } } };
    const started = performance.now();
    const op = run({ schema: patterns }).push([
      { id: 1, email: `${"a".repeat(30)}!` },
      { id: 2, email: "aaa" },
    ]);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(op.take("out")).toEqual([{ id: 2, email: "aaa" }]);
    expect(op.take("errors")).toHaveLength(1);
    const two = { type: "object", properties: { email: { pattern: "^x" }, name: { pattern: "^y" } } };
    expect(
      run({ schema: two })
        .push([{ email: "x1", name: "y1" }])
        .take("out"),
    ).toHaveLength(1);
    const backref = inferNode(validateDef, { schema: { properties: { e: { pattern: "(a)\\1" } } } }, { in: users });
    expect(backref.errors[0]!.message).toMatch(/backreference/);
  });
});
