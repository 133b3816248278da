import { defineNode, type InferIssue } from "@sluice/pipeline/node-definition";
import { type DataType, emptySchema, type Field, field, findField, t, typeName } from "@sluice/pipeline/record-schema";
import { z } from "zod";
import { derivedSchema, FieldRef, NewFieldName, unknownFieldIssue } from "../record-fields";

const config = z
  .strictObject({
    field: FieldRef.meta({
      label: "Array field",
      help: "The field holding the array to explode.",
      widget: "field",
      placeholder: "items",
    }),
    as: NewFieldName.optional().meta({
      label: "Element field",
      help: "Where each element goes. Leave empty to put it under the array field's own name.",
      placeholder: "item",
    }),
    index: NewFieldName.optional().meta({
      label: "Position field",
      help: "Also add the element's position, counting from 1 (as tags[1] in expressions).",
      advanced: true,
      placeholder: "position",
    }),
    keepEmpty: z.boolean().default(false).meta({
      label: "Keep records without elements",
      help: "Emit one record with a NULL element when the array is empty or NULL, instead of none.",
      advanced: true,
    }),
  })
  .superRefine((c, ctx) => {
    const element = c.as ?? c.field;
    if (c.index !== undefined && c.index === element) {
      ctx.addIssue({
        code: "custom",
        path: ["index"],
        message: `the element already goes to "${element}"; choose another name for the position`,
      });
    }
  });

export type FlattenConfig = z.output<typeof config>;

/** The element type of the array field, or why the field cannot be flattened. */
function elementType(type: DataType): DataType | undefined {
  switch (type.kind) {
    case "array":
      return type.items;
    case "json":
      return t.json;
    case "any":
    case "null":
      return t.any;
    default:
      return undefined;
  }
}

export const flattenDef = defineNode({
  type: "transform.flatten",
  version: 1,
  kind: "transform",
  title: "Flatten",
  category: "Transform",
  icon: "list-tree",
  summary: "Explodes an array field into one record per element.",
  docs: `Turns a record whose field holds an array into one record per element, like SQL's
\`CROSS JOIN UNNEST(items) AS t(item)\`. Each output record is a copy of the input record in which the array is
replaced by one element: under the array field's own name by default (the field keeps its position), or under
*Element field* (added at the end; the array itself is then left out, so it is not repeated in every record).

*Position field* adds the element's position counting from 1, matching \`items[1]\` in expressions, like SQL's
\`WITH ORDINALITY\`. Elements are emitted in array order; a NULL element gives a record with a NULL field.

A record whose array is empty, NULL or missing produces no record, or with *Keep records without elements* one
record whose element (and position) is NULL, like a \`LEFT JOIN UNNEST\`. A value that is not an array (say, the
JSON text of one — use Parse first) sends the record to the dead-letter queue.`,
  inputs: [{ name: "in" }],
  outputs: [{ name: "out" }],
  config,
  examples: [
    { title: "One record per order line", config: { field: "items", as: "item", index: "line" } },
    { title: "Explode tags, keeping untagged records", config: { field: "tags", keepEmpty: true } },
  ],
  delivery: {},
  infer: (ctx) => {
    const input = ctx.inputs.in ?? emptySchema;
    const c = ctx.config;
    const issues: InferIssue[] = [];
    const source = findField(input, c.field);
    let element: DataType = t.any;
    if (!source) {
      const issue = unknownFieldIssue(input, c.field, ["field"]);
      if (issue) issues.push(issue);
    } else {
      const type = elementType(source.type);
      if (type) element = type;
      else {
        issues.push({
          severity: "error",
          code: "type",
          message: `"${c.field}" is ${typeName(source.type)}, not an array`,
          path: ["field"],
        });
      }
    }
    const name = c.as ?? c.field;
    if (name !== c.field && findField(input, name)) {
      issues.push({
        severity: "error",
        code: "duplicate-field",
        message: `the input already has a field "${name}"; choose another name for the element`,
        path: ["as"],
      });
    }
    if (c.index !== undefined && c.index !== c.field && findField(input, c.index)) {
      issues.push({
        severity: "error",
        code: "duplicate-field",
        message: `the input already has a field "${c.index}"; choose another name for the position`,
        path: ["index"],
      });
    }
    // Array types say nothing about NULL elements, so the element is nullable.
    const elementField = field(name, element, true);
    let fields: Field[] =
      name === c.field
        ? input.fields.map((f) => (f.name === c.field ? elementField : f))
        : [...input.fields.filter((f) => f.name !== c.field), elementField];
    if (!fields.includes(elementField)) fields = [...fields, elementField];
    if (c.index !== undefined) fields.push(field(c.index, t.int, c.keepEmpty));
    return { outputs: { out: derivedSchema(input, fields, input.open) }, issues };
  },
  summarize: (c) => `each of ${c.field}${c.as !== undefined ? ` as ${c.as}` : ""}${c.keepEmpty ? " · keep empty" : ""}`,
});
