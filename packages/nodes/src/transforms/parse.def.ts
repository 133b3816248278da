import { defineNode, type InferIssue } from "@sluice/pipeline/node-definition";
import {
  type DataType,
  emptySchema,
  type Field,
  field,
  findField,
  type RecordSchema,
  t,
  typeName,
} from "@sluice/pipeline/record-schema";
import { z } from "zod";
import { derivedSchema, FieldRef, NewFieldName, unknownFieldIssue } from "../record-fields";
import type { ParsedType } from "./parse-text";

const PARSED_TYPES = [
  "string",
  "int",
  "float",
  "boolean",
  "timestamp",
  "json",
] as const satisfies readonly ParsedType[];

const Declared = z.union([
  NewFieldName.meta({ title: "Name" }),
  z
    .strictObject({
      name: NewFieldName,
      type: z.enum(PARSED_TYPES).default("string"),
      nullable: z
        .boolean()
        .default(true)
        .meta({ help: "Off: a record whose value is NULL or missing goes to the dead-letter queue." }),
    })
    .meta({ title: "Name and type" }),
]);

const SingleChar = (what: string) =>
  z
    .string()
    .length(1, `the ${what} is one character`)
    .refine((c) => c !== "\n" && c !== "\r", `the ${what} cannot be a line break`);

const config = z
  .strictObject({
    field: FieldRef.meta({ label: "Text field", help: "The field holding the JSON or CSV text.", widget: "field" }),
    format: z.enum(["json", "csv"]).default("json").meta({ label: "Format", widget: "select" }),
    fields: z
      .array(Declared)
      .min(1)
      .max(1000)
      .optional()
      .meta({
        label: "Fields",
        help: "The fields to read, with their types (string, int, float, boolean, timestamp, json). For CSV: every column, in order (required). For JSON: the keys to take; leave empty to take the whole object, untyped.",
        widget: "fields",
        examples: [["id", { name: "amount", type: "float" }, { name: "ts", type: "timestamp", nullable: false }]],
      }),
    delimiter: SingleChar("delimiter").default(",").meta({
      label: "Delimiter",
      help: 'CSV only: the character between values, e.g. "," ";" or a tab.',
      advanced: true,
    }),
    quote: SingleChar("quote")
      .default('"')
      .meta({ label: "Quote", help: "CSV only: the character around values that contain delimiters.", advanced: true }),
    target: NewFieldName.optional().meta({
      label: "Into field",
      help: "Put the parsed fields into this object field instead of alongside the record's fields.",
      advanced: true,
    }),
    keepSource: z.boolean().default(false).meta({
      label: "Keep the text",
      help: "Keep the original text field in the output.",
      advanced: true,
    }),
  })
  .superRefine((c, ctx) => {
    if (c.format === "csv" && c.fields === undefined) {
      ctx.addIssue({ code: "custom", path: ["fields"], message: "name the CSV columns, in order" });
    }
    if (c.format === "csv" && c.delimiter === c.quote) {
      ctx.addIssue({ code: "custom", path: ["quote"], message: "the quote and the delimiter must differ" });
    }
    if (c.keepSource && c.target === c.field) {
      ctx.addIssue({
        code: "custom",
        path: ["target"],
        message: `"${c.field}" holds the text being kept; choose another field for the parsed values`,
      });
    }
    const names = new Set<string>();
    (c.fields ?? []).forEach((d, i) => {
      const name = typeof d === "string" ? d : d.name;
      if (names.has(name))
        ctx.addIssue({ code: "custom", path: ["fields", i], message: `"${name}" is declared twice` });
      names.add(name);
    });
  });

export type ParseConfig = z.output<typeof config>;

export interface DeclaredField {
  name: string;
  type: ParsedType;
  nullable: boolean;
}

/** The declared fields, normalised. A bare name is text for CSV and an untyped value (json) for JSON. */
export function declaredFields(c: ParseConfig): DeclaredField[] | undefined {
  const bare: ParsedType = c.format === "csv" ? "string" : "json";
  return c.fields?.map((d) => (typeof d === "string" ? { name: d, type: bare, nullable: true } : d));
}

const TEXT_KINDS = new Set(["string", "json", "any"]);

function parsedFields(declared: readonly DeclaredField[]): Field[] {
  return declared.map((d) => field(d.name, t[d.type], d.nullable));
}

function inferParse(input: RecordSchema, c: ParseConfig, issues: InferIssue[]): RecordSchema {
  const source = findField(input, c.field);
  if (!source) {
    const issue = unknownFieldIssue(input, c.field, ["field"]);
    if (issue) issues.push(issue);
  } else if (!TEXT_KINDS.has(source.type.kind)) {
    issues.push({
      severity: "error",
      code: "type",
      message: `"${c.field}" is ${typeName(source.type)}, not text`,
      path: ["field"],
    });
  }
  const declared = declaredFields(c);
  const kept = c.keepSource ? input.fields : input.fields.filter((f) => f.name !== c.field);
  const taken = new Set(kept.map((f) => f.name));

  if (c.target !== undefined) {
    if (taken.has(c.target)) {
      issues.push({
        severity: "error",
        code: "duplicate-field",
        message: `the input already has a field "${c.target}"; choose another target`,
        path: ["target"],
      });
    }
    const type: DataType = declared ? t.object(parsedFields(declared)) : t.json;
    const nested = field(c.target, type, source === undefined || source.nullable);
    const fields =
      c.target === c.field && !c.keepSource
        ? input.fields.map((f) => (f.name === c.field ? nested : f))
        : [...kept.filter((f) => f.name !== c.target), nested];
    if (!fields.includes(nested)) fields.push(nested);
    return derivedSchema(input, fields, input.open);
  }

  if (!declared) return derivedSchema(input, kept, true);
  declared.forEach((d, i) => {
    if (taken.has(d.name)) {
      issues.push({
        severity: "error",
        code: "duplicate-field",
        message: `the input already has a field "${d.name}"; rename it, or set "target" to nest the parsed fields`,
        path: ["fields", i],
      });
    }
  });
  const fields = [...kept.filter((f) => !declared.some((d) => d.name === f.name)), ...parsedFields(declared)];
  return derivedSchema(input, fields, input.open);
}

export const parseDef = defineNode({
  type: "transform.parse",
  version: 1,
  kind: "transform",
  title: "Parse",
  category: "Transform",
  icon: "braces",
  summary: "Parses a JSON or CSV text field into typed fields.",
  docs: `Reads a text field holding JSON or one CSV line and turns it into fields of the record.

**JSON.** The text must hold an object. With *Fields* declared, exactly those keys are taken (a missing key is NULL,
other keys are ignored) and converted to the declared types, so downstream nodes get a closed, typed schema.
Without *Fields*, every key of the object is taken as it is and the output schema is open (fields unknown to the
editor type as \`any\`); with *Into field* set, the parsed value may then be any JSON value.

**CSV.** The text is one record in RFC 4180 form: values split on the delimiter, values containing the
delimiter, quotes or line breaks wrapped in quotes, quotes inside doubled (\`"say ""hi"""\`). No whitespace is
trimmed. *Fields* names every column, in order; a record with another number of columns is an error. An empty
unquoted value is NULL; \`""\` is the empty string.

**Types.** \`string\`, \`int\`, \`float\`, \`boolean\`, \`timestamp\` and \`json\` (the value as it is; for CSV, the cell
parsed as JSON). Numbers and booleans may arrive as text (\`"42"\`, \`"true"\`/\`"yes"\`/\`"1"\`); timestamps may be
epoch milliseconds or ISO 8601 text (UTC unless it carries an offset). Nothing is rounded or truncated: \`4.5\` is
not an \`int\`. A bare name is \`string\` for CSV and \`json\` for JSON. Fields are nullable unless declared with
\`nullable: false\`, in which case a NULL or missing value is an error.

**Where the fields go.** By default the parsed fields join the record (after its other fields) and the text field
is removed (*Keep the text* keeps it). A parsed field may not have the name of a field the record already has; use
*Into field* to nest the parsed fields in one object field instead (it may be the text field itself, which is then
replaced). With an open input schema a clash cannot be seen in advance: the parsed value wins.

**Errors.** A record whose text is malformed, or whose values do not fit the declared types, goes to the
dead-letter queue with the parser's message and position (\`invalid JSON at line 1 column 9 (position 9)\`,
\`the quote at position 5 is never closed\`, \`expected 3 columns but found 4\`). A NULL or missing text gives NULL
fields.`,
  inputs: [{ name: "in" }],
  outputs: [{ name: "out" }],
  config,
  examples: [
    {
      title: "Typed fields from a JSON payload",
      config: {
        field: "payload",
        fields: ["user_id", { name: "amount", type: "float" }, { name: "ts", type: "timestamp", nullable: false }],
      },
    },
    {
      title: "A semicolon-separated line",
      config: { field: "line", format: "csv", delimiter: ";", fields: ["sensor", { name: "reading", type: "float" }] },
    },
    { title: "Whole JSON object into a nested field", config: { field: "body", target: "body" } },
  ],
  delivery: {},
  infer: (ctx) => {
    const issues: InferIssue[] = [];
    const out = inferParse(ctx.inputs.in ?? emptySchema, ctx.config, issues);
    return { outputs: { out }, issues };
  },
  summarize: (c) => {
    const declared = declaredFields(c);
    const what = declared ? declared.map((d) => d.name).join(", ") : "all keys";
    return `${c.format.toUpperCase()} ${c.field} → ${c.target !== undefined ? `${c.target}{${what}}` : what}`;
  },
});
