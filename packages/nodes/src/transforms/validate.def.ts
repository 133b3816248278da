import { defineNode, type InferIssue } from "@sluice/pipeline/node-definition";
import { emptySchema, field, findField, t } from "@sluice/pipeline/record-schema";
import { z } from "zod";
import { checkJsonSchema } from "../json-schema-check";
import { NewFieldName } from "../record-fields";

const config = z.strictObject({
  schema: z.record(z.string(), z.unknown()).meta({
    label: "JSON Schema",
    help: "A JSON Schema (draft 2020-12) every record must satisfy. Timestamps are epoch milliseconds (numbers).",
    widget: "code",
    examples: [{ type: "object", required: ["id"], properties: { id: { type: "integer", minimum: 1 } } }],
  }),
  errorsField: NewFieldName.default("_errors").meta({
    label: "Errors field",
    help: "The field that lists what is wrong, on records sent to the errors output.",
    advanced: true,
  }),
  maxErrors: z.number().int().min(1).max(100).default(10).meta({
    label: "Errors per record",
    help: "At most this many problems are listed per invalid record.",
    advanced: true,
  }),
});

export type ValidateConfig = z.output<typeof config>;

export const VIOLATION_TYPE = t.object([
  field("path", t.string, false, "JSON pointer to the offending value; empty for the record itself"),
  field("keyword", t.string, false, "the JSON Schema keyword that failed"),
  field("message", t.string, false),
]);

export const validateDef = defineNode({
  type: "transform.validate",
  version: 1,
  kind: "transform",
  title: "Validate",
  category: "Quality",
  icon: "shield-check",
  summary: "Checks records against a JSON Schema; invalid ones go to the errors output.",
  docs: `Checks every record against a JSON Schema (draft 2020-12, with the standard formats such as \`email\`,
\`date-time\`, \`uuid\`, \`ipv4\`). Valid records leave unchanged on \`out\`. Invalid records leave on \`errors\` as a
copy with one more field (\`_errors\` unless renamed) listing what is wrong, up to *Errors per record* entries:

\`\`\`json
{ "id": -3, "email": "nope", "_errors": [
  { "path": "/id", "keyword": "minimum", "message": "must be >= 1" },
  { "path": "/email", "keyword": "format", "message": "must match format \\"email\\"" } ] }
\`\`\`

\`path\` is a JSON pointer into the record (\`""\` is the record itself, e.g. for a missing required field, whose
name is in the message). Validation never changes a record: defaults in the schema are not applied and types
are not coerced, so \`"42"\` is not an integer. Timestamps are epoch milliseconds, so describe them as numbers.

The schema itself is checked in the editor: an invalid schema, an unresolvable \`$ref\`, an unknown format or a
keyword that looks like a misspelling (\`requried\`) is a configuration error at its place in the schema; other
unknown keywords are ignored with a warning (prefix your own annotations with \`x-\` to silence it). Only draft
2020-12 is supported; most draft-07 schemas work once their \`$schema\` line is removed.

The \`errors\` output can feed a sink of its own (a quarantine table); leaving it unconnected drops invalid
records, so connect it when they matter.`,
  inputs: [{ name: "in" }],
  outputs: [
    { name: "out", doc: "valid records" },
    { name: "errors", doc: "invalid records, with the list of problems" },
  ],
  config,
  examples: [
    {
      title: "Orders need an id, a positive amount and a known currency",
      config: {
        schema: {
          type: "object",
          required: ["order_id", "amount", "currency"],
          properties: {
            order_id: { type: "string", minLength: 1 },
            amount: { type: "number", exclusiveMinimum: 0 },
            currency: { enum: ["EUR", "USD", "GBP"] },
            email: { type: "string", format: "email" },
          },
        },
      },
    },
  ],
  delivery: {},
  infer: (ctx) => {
    const input = ctx.inputs.in ?? emptySchema;
    const c = ctx.config;
    const issues: InferIssue[] = [];
    for (const p of checkJsonSchema(c.schema)) {
      issues.push({
        severity: p.severity,
        code: "json-schema",
        message: p.message,
        path: ["schema", ...p.path],
        ...(p.suggestion !== undefined ? { suggestion: p.suggestion } : {}),
      });
    }
    const type = c.schema.type;
    if (typeof type === "string" && type !== "object") {
      issues.push({
        severity: "warning",
        code: "json-schema",
        message: `records are objects, so a schema of type "${type}" rejects every record`,
        path: ["schema", "type"],
      });
    }
    if (findField(input, c.errorsField)) {
      issues.push({
        severity: "error",
        code: "duplicate-field",
        message: `the input already has a field "${c.errorsField}"; choose another errors field`,
        path: ["errorsField"],
      });
    }
    const errors = {
      ...input,
      fields: [
        ...input.fields.filter((f) => f.name !== c.errorsField),
        field(c.errorsField, t.array(VIOLATION_TYPE), false),
      ],
    };
    return { outputs: { out: input, errors }, issues };
  },
  summarize: (c) => {
    const required = Array.isArray(c.schema.required) ? c.schema.required.length : 0;
    const properties =
      c.schema.properties !== null && typeof c.schema.properties === "object"
        ? Object.keys(c.schema.properties).length
        : 0;
    return `JSON Schema · ${properties} properties${required > 0 ? `, ${required} required` : ""}`;
  },
});
