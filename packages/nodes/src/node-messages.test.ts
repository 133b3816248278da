import { configJsonSchema, type JsonSchema } from "@sluice/pipeline/config-schema";
import { initialConfig } from "@sluice/pipeline/initial-config";
import { fieldLabel } from "@sluice/pipeline/issue-sentences";
import { issueSentence, type ValidationIssue } from "@sluice/pipeline/issues";
import type { AnyNodeDefinition } from "@sluice/pipeline/node-definition";
import { validate } from "@sluice/pipeline/validate";
import { describe, expect, it } from "vitest";
import { catalog } from "./catalog";

// Every message a user sees about a node is a sentence about their pipeline that names the field (by the label its
// form shows) or the node: for every node type as the editor drops it, and with each required field emptied.

const RAW_ZOD =
  /Invalid input|expected \w+, received|Too small|Too big|Unrecognized key|Invalid (string|option|element|key)|must match pattern/i;

const defs = catalog.list();

function pipeline(nodes: { id: string; type: string; config: unknown }[], settings?: unknown) {
  return {
    apiVersion: "sluice/v1",
    kind: "Pipeline",
    metadata: { name: "messages" },
    spec: { ...(settings === undefined ? {} : { settings }), nodes, edges: [] },
  };
}

/** The node's issues, checked against what every message must be; returns them for further checks. */
function expectSentences(def: AnyNodeDefinition, config: unknown): ValidationIssue[] {
  const issues = validate(pipeline([{ id: "n1", type: def.type, config }]), catalog).issues;
  const schema = configJsonSchema(def);
  for (const issue of issues) {
    const text = issueSentence(issue);
    expect(text, text).not.toMatch(RAW_ZOD);
    expect(text, text).toMatch(/^[A-Z“"].*[.?]$/s);
    if (issue.code === "config-invalid") {
      // The message itself is the sentence, starting with the field's label (or the node's title for the whole).
      const label = fieldLabel((issue.path ?? []).slice(1), schema, def.title);
      expect(issue.message.startsWith(`${label[0]!.toUpperCase()}${label.slice(1)}: `), issue.message).toBe(true);
      expect(issue.message).toMatch(/^[A-Z“].*\.$/s);
    } else if (issue.nodeId === "n1") {
      expect(text.includes(def.title) || text.includes("n1"), text).toBe(true);
    }
  }
  return issues;
}

/** An empty value of the field's kind, as a cleared form control leaves it. */
function emptied(schema: JsonSchema | undefined): unknown {
  const type = Array.isArray(schema?.type) ? schema.type[0] : schema?.type;
  if (type === "string") return "";
  if (type === "array") return [];
  if (type === "object") return {};
  return undefined;
}

describe("node messages", () => {
  it.each(defs.map((d) => [d.type, d] as const))("%s as dropped from the palette reads as sentences", (_t, def) => {
    const issues = expectSentences(def, initialConfig(configJsonSchema(def)));
    // The editor starts required fields empty: each one it starts empty is asked for, once.
    const config = initialConfig(configJsonSchema(def));
    for (const key of Object.keys(config)) {
      const about = issues.filter((i) => i.code === "config-invalid" && i.path?.[1] === key && i.path.length === 2);
      expect(about.length, `${def.type}.${key}`).toBeLessThanOrEqual(1);
    }
  });

  const required = defs.flatMap((def) => {
    const schema = configJsonSchema(def);
    return (schema.required ?? []).map((key) => [def.type, key, def, schema.properties?.[key]] as const);
  });

  it.each(required)("%s with %s missing or emptied reads as sentences", (_t, key, def, field) => {
    const example = def.examples[0]!.config as Record<string, unknown>;
    const { [key]: _gone, ...rest } = example;
    const missing = expectSentences(def, rest).filter((i) => i.code === "config-invalid");
    expect(missing.map((i) => i.path)).toContainEqual(["config", key]);
    expect(missing.filter((i) => i.path?.[1] === key)).toHaveLength(1);
    const value = emptied(field);
    if (value !== undefined) expectSentences(def, { ...example, [key]: value });
  });

  it("says what is wrong with a value, not only that it is missing", () => {
    const topn = catalog.get("transform.topn")!;
    const [issue] = validate(
      pipeline([{ id: "n1", type: topn.type, config: { orderBy: "price", n: "three" } }]),
      catalog,
    ).issues.filter((i) => i.code === "config-invalid");
    expect(issue?.message).toBe("N: must be a number.");
    const map = catalog.get("transform.map")!;
    const unknown = validate(
      pipeline([{ id: "n1", type: map.type, config: { set: { a: "1" }, sett: 1 } }]),
      catalog,
    ).issues.filter((i) => i.code === "config-invalid");
    expect(unknown.map((i) => i.message)).toEqual(["Map: “sett” is not a known setting; remove it."]);
  });

  it("gives the PostgreSQL source's table or query one right sentence", () => {
    const pg = catalog.get("source.postgres")!;
    const messages = (config: object) =>
      validate(pipeline([{ id: "n1", type: pg.type, config: { connection: "db", cursor: "id", ...config } }]), catalog)
        .issues.filter((i) => i.code === "config-invalid")
        .map((i) => i.message);
    expect(messages({})).toEqual(["Table: name the table to read, or write a query under Advanced."]);
    expect(messages({ table: "orders", query: "SELECT 1" })).toEqual(["Query: give a table or a query, not both."]);
    expect(messages({ table: "orders" })).toEqual([]);
  });

  it("does not compare the Select node's lists when one is left empty", () => {
    const select = catalog.get("transform.select")!;
    const messages = (config: object) =>
      validate(pipeline([{ id: "n1", type: select.type, config }]), catalog)
        .issues.filter((i) => i.code === "config-invalid")
        .map((i) => i.message);
    expect(messages({ fields: ["a"], drop: [], rename: {} })).toEqual([]);
    expect(messages({})).toEqual(["Keep only: list the fields to keep, or fill in Remove or Rename instead."]);
    expect(messages({ fields: ["a"], drop: ["b"] })).toEqual([
      "Remove: use either Keep only, or Remove and Rename, not both.",
    ]);
  });
});

describe("pipeline settings messages", () => {
  const source = { id: "gen", type: "source.generator", config: {} };
  const sink = { id: "out", type: "sink.discard", config: {} };

  it.each([
    [{ parallelism: 0 }, "Settings › Parallelism: must be at least 1."],
    [{ parallelism: "four" }, "Settings › Parallelism: must be a number."],
    [{ parallelism: 2.5 }, "Settings › Parallelism: must be a whole number."],
    [{ delivery: "sometimes" }, "Settings › Delivery: choose one of “exactly-once” or “at-least-once”."],
    [{ timeField: "" }, "Settings › Time field: required."],
    [{ maxOutOfOrder: "soon" }, "Settings › Out-of-orderness: write a duration such as 250ms, 5s, 1m, 2h or 1d."],
    [{ parallelism: 2, colour: "blue" }, "Settings: “colour” is not a known setting; remove it."],
  ])("%j reads %j", (settings, expected) => {
    const issues = validate(pipeline([source, sink], settings), catalog).issues;
    expect(issues.map((i) => i.message)).toEqual([expected]);
    for (const i of issues) expect(issueSentence(i)).not.toMatch(RAW_ZOD);
  });

  it("names the pipeline for a problem with the whole file", () => {
    const issues = validate({ apiVersion: "sluice/v1", kind: "Pipeline", spec: { nodes: [] } }, catalog).issues;
    expect(issues.map((i) => i.message)).toEqual(["The pipeline's details: required."]);
  });
});
