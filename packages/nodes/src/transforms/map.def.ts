import { checkExpression } from "@sluice/pipeline/expr/compile";
import { defineNode, type InferIssue } from "@sluice/pipeline/node-definition";
import { type DataType, emptySchema, type Field, field, type RecordSchema, t } from "@sluice/pipeline/record-schema";
import { z } from "zod";
import { expressionIssues, parameterInfo } from "../expression-issues";
import { derivedSchema, FieldRef, NewFieldName, unknownFieldIssue } from "../record-fields";

const Expression = z
  .string()
  .min(1, "write an expression, e.g. price * quantity")
  .max(65_536)
  .meta({
    widget: "expression",
    placeholder: "price * quantity",
    examples: ["price * quantity", "upper(country)", "CASE WHEN amount > 100 THEN 'big' ELSE 'small' END"],
  });

const config = z
  .strictObject({
    set: z
      .record(NewFieldName, Expression)
      .refine((set) => Object.keys(set).length > 0, "compute at least one field (to only remove fields, use Select)")
      .meta({
        label: "Computed fields",
        help: "Field name → SQL expression, computed in order. Each expression sees the input record with the fields computed above it; a name that already exists is replaced in place.",
        widget: "key-value",
      }),
    drop: z.array(FieldRef).max(1000).default([]).meta({
      label: "Remove fields",
      help: "Fields to leave out of the output. Removed last, so the expressions can still read them.",
      widget: "fields",
    }),
  })
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.drop.forEach((name, i) => {
      if (Object.hasOwn(c.set, name)) {
        ctx.addIssue({
          code: "custom",
          path: ["drop", i],
          message: `"${name}" is computed in set; computing and removing it makes no sense`,
        });
      } else if (seen.has(name)) {
        ctx.addIssue({ code: "custom", path: ["drop", i], message: `"${name}" is listed twice` });
      }
      seen.add(name);
    });
  });

export type MapConfig = z.output<typeof config>;

/** The schema after computing `name`: replaced in place when it exists, appended otherwise. */
export function withComputedField(schema: RecordSchema, name: string, type: DataType, nullable: boolean): RecordSchema {
  const computed = field(name, type, nullable);
  const at = schema.fields.findIndex((f) => f.name === name);
  const fields: Field[] =
    at < 0 ? [...schema.fields, computed] : schema.fields.map((f, i) => (i === at ? computed : f));
  return { ...schema, fields };
}

export const mapDef = defineNode({
  type: "transform.map",
  version: 1,
  kind: "transform",
  title: "Map",
  category: "Transform",
  icon: "wand",
  summary: "Adds or replaces fields computed with SQL expressions.",
  docs: `Computes fields from SQL expressions, like \`SELECT *, price * quantity AS total\`. Every input field is passed
on unless it is listed under *Remove fields*.

**Order.** Computed fields are evaluated in the order they are listed, and each expression sees the input record with
the fields computed above it. So \`net: price * quantity\` followed by \`gross: net * 1.19\` works, and after
\`amount: round(amount, 2)\` later expressions see the rounded amount. An expression cannot read a field computed
below it.

**Replacing and adding.** A computed field whose name already exists replaces that field's value where it stands;
a new name is added at the end, in the order listed. *Remove fields* is applied last, so expressions can still read
the fields being removed (compute \`total\` from \`price\` and \`quantity\`, then remove both).

**Types.** Each computed field's type is the type the expression checker infers (an \`int\` expression gives an \`int\`
field; one that can be NULL gives a nullable field), so nodes downstream see precise schemas. If the event-time field
is replaced by a value that is not a timestamp, the output no longer has an event time.

**Errors.** A record whose expression fails (division by zero, an impossible cast, a value of the wrong type in a
schemaless field) goes to the dead-letter queue with the field name and the error; the run goes on.`,
  inputs: [{ name: "in" }],
  outputs: [{ name: "out" }],
  config,
  examples: [
    {
      title: "Order total with tax, dropping the parts",
      config: {
        set: { net: "price * quantity", gross: "round(net * 1.19, 2)" },
        drop: ["price", "quantity"],
      },
    },
    {
      title: "Normalise a country code and bucket users",
      config: { set: { country: "upper(trim(country))", bucket: "hash(user_id) % 16" } },
    },
  ],
  delivery: {},
  infer: (ctx) => {
    const input = ctx.inputs.in ?? emptySchema;
    const parameters = parameterInfo(ctx.parameters);
    const issues: InferIssue[] = [];
    let schema = input;
    for (const [name, source] of Object.entries(ctx.config.set)) {
      const checked = checkExpression(source, { schema, parameters }, "scalar");
      issues.push(...expressionIssues(checked.errors, ["set", name]));
      schema = withComputedField(schema, name, checked.type ?? t.any, checked.nullable ?? true);
    }
    const drop = new Set(ctx.config.drop);
    ctx.config.drop.forEach((name, i) => {
      const issue = unknownFieldIssue(input, name, ["drop", i]);
      if (issue) issues.push(issue);
    });
    const fields = schema.fields.filter((f) => !drop.has(f.name));
    return { outputs: { out: derivedSchema(input, fields, input.open) }, issues };
  },
  summarize: (c) => {
    const names = Object.keys(c.set);
    const shown = names.length > 3 ? `${names.slice(0, 3).join(", ")}, +${names.length - 3}` : names.join(", ");
    return `set ${shown}${c.drop.length > 0 ? ` · drop ${c.drop.length}` : ""}`;
  },
});
