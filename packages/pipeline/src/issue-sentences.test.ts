import { describe, expect, it } from "vitest";
import { z } from "zod";
import { configJsonSchema } from "./config-schema";
import { humanize, parseOptions, zodIssueSentences } from "./issue-sentences";
import { issueSentence, problemSentence } from "./issues";
import { createCatalog } from "./node-definition";
import { validate } from "./validate";

// A schema written as a node author would, with labels on some fields and none on others.
const declared = {
  config: z.strictObject({
    table: z.string().min(1, "name a table").meta({ label: "Table" }),
    batchSize: z.number().int().min(1).max(500).default(10),
    mode: z.enum(["insert", "upsert"]).default("insert"),
    routes: z
      .array(z.strictObject({ name: z.string().min(1), where: z.string().min(1).meta({ label: "Condition" }) }))
      .min(1)
      .meta({ label: "Routes" }),
    set: z.record(z.string(), z.string().min(1)).meta({ label: "Computed fields" }),
    kind: z.discriminatedUnion("type", [
      z.object({ type: z.literal("a") }),
      z.object({ type: z.literal("b"), size: z.number() }),
    ]),
  }),
};

function sentences(config: unknown): string[] {
  const r = declared.config.safeParse(config, parseOptions);
  if (r.success) return [];
  return zodIssueSentences(r.error.issues, configJsonSchema(declared), config, "Test node").map((i) => i.message);
}

const valid = { table: "t", routes: [{ name: "r", where: "x" }], set: { a: "1" }, kind: { type: "a" } };

describe("issue sentences", () => {
  it("names a missing field by its label, or by its name made readable", () => {
    expect(sentences({ ...valid, table: undefined })).toEqual(["Table: required."]);
    expect(sentences({ ...valid, routes: undefined })).toEqual(["Routes: add at least one."]);
    expect(sentences({ ...valid, batchSize: 0 })).toEqual(["Batch size: must be at least 1."]);
    expect(sentences({ ...valid, batchSize: 501 })).toEqual(["Batch size: must be at most 500."]);
    expect(sentences({ ...valid, batchSize: "ten" })).toEqual(["Batch size: must be a number."]);
  });

  it("keeps what the declaration wrote, after the label, as a sentence", () => {
    expect(sentences({ ...valid, table: "" })).toEqual(["Table: name a table."]);
  });

  it("walks into lists and maps", () => {
    expect(sentences({ ...valid, routes: [] })).toEqual(["Routes: add at least one."]);
    expect(sentences({ ...valid, routes: [valid.routes[0], { name: "s", where: "" }] })).toEqual([
      "Routes › item 2 › Condition: required.",
    ]);
    expect(sentences({ ...valid, set: { total: "" } })).toEqual(["Computed fields › “total”: required."]);
  });

  it("lists the choices of an enum and of a tagged union", () => {
    expect(sentences({ ...valid, mode: "merge" })).toEqual(["Mode: choose one of “insert” or “upsert”."]);
    expect(sentences({ ...valid, kind: { type: "c" } })).toEqual(["Kind › Type: choose one of “a” or “b”."]);
  });

  it("names the node for a setting it does not know", () => {
    expect(sentences({ ...valid, colour: "red" })).toEqual(["Test node: “colour” is not a known setting; remove it."]);
    expect(sentences({ ...valid, a: 1, b: 2 })).toEqual([
      "Test node: “a” and “b” are not known settings; remove them.",
    ]);
  });

  it("says one thing per field: the first problem", () => {
    const twice = {
      config: z.strictObject({
        name: z
          .string()
          .min(1)
          .regex(/^[a-z]+$/, "lower-case letters"),
      }),
    };
    const r = twice.config.safeParse({ name: "" }, parseOptions);
    expect(r.success).toBe(false);
    if (r.success) return;
    expect(r.error.issues).toHaveLength(2);
    expect(zodIssueSentences(r.error.issues, configJsonSchema(twice), { name: "" }, "N").map((i) => i.message)).toEqual(
      ["Name: required."],
    );
  });

  it("makes names readable", () => {
    expect(humanize("routingKey")).toBe("Routing key");
    expect(humanize("apiVersion")).toBe("API version");
    expect(humanize("out_of_orderness")).toBe("Out of orderness");
  });
});

describe("sentences about the pipeline file itself", () => {
  const sentencesOf = (input: unknown) => validate(input, createCatalog([])).issues.map(issueSentence);

  it("names its top-level parts as a person knows them, not by their keys", () => {
    expect(sentencesOf({ apiVersion: "sluice/v1", kind: "Pipeline", metadata: { name: "x" } })).toEqual([
      "The pipeline's nodes and edges: required.",
    ]);
    expect(sentencesOf({ kind: "Pipeline", spec: { nodes: [], edges: [] } })).toEqual([
      "The pipeline's format version (apiVersion): required.",
      "The pipeline's details: required.",
    ]);
  });

  it("leads with the node a problem is in unless the sentence names it already", () => {
    const issue = { severity: "error" as const, code: "x", message: "condition: unknown field", nodeId: "keep" };
    expect(problemSentence(issue)).toBe("Node keep: Condition: unknown field.");
    expect(problemSentence({ ...issue, message: 'node "keep" is connected to itself' })).toBe(
      'Node "keep" is connected to itself.',
    );
  });
});
