import { defineNode, type InferIssue } from "@sluice/pipeline/node-definition";
import { emptySchema, type Field, field, findField, type RecordSchema, t } from "@sluice/pipeline/record-schema";
import { z } from "zod";
import { derivedSchema, FieldRef, NewFieldName, unknownFieldIssue } from "../record-fields";

const Pick = z.union([
  FieldRef.meta({ title: "Keep field" }),
  z.strictObject({ from: FieldRef, as: NewFieldName }).meta({ title: "Keep and rename" }),
]);

const config = z
  .strictObject({
    fields: z
      .array(Pick)
      .min(1, "keep at least one field")
      .max(1000)
      .optional()
      .meta({
        label: "Keep only",
        help: 'The fields to keep, in output order. Write a name to keep a field as it is, or { from, as } to rename it. Leave empty to use "Remove" and "Rename" instead.',
        widget: "fields",
        examples: [["user_id", { from: "amount", as: "total" }]],
      }),
    drop: z
      .array(FieldRef)
      .max(1000)
      .optional()
      .meta({ label: "Remove", help: "Fields to leave out; every other field is kept.", widget: "fields" }),
    rename: z.record(FieldRef, NewFieldName).optional().meta({
      label: "Rename",
      help: "Old name → new name. Renamed fields keep their position.",
      widget: "key-value",
    }),
  })
  .superRefine((c, ctx) => {
    const drop = c.drop ?? [];
    const rename = Object.entries(c.rename ?? {});
    if (c.fields !== undefined) {
      // An emptied Remove or Rename is not a second way of selecting.
      for (const [key, given] of [
        ["drop", drop.length > 0],
        ["rename", rename.length > 0],
      ] as const) {
        if (given) {
          ctx.addIssue({
            code: "custom",
            path: [key],
            message: "use either Keep only, or Remove and Rename, not both",
          });
        }
      }
      const names = new Set<string>();
      c.fields.forEach((pick, i) => {
        const name = typeof pick === "string" ? pick : pick.as;
        if (names.has(name)) {
          ctx.addIssue({
            code: "custom",
            path: typeof pick === "string" ? ["fields", i] : ["fields", i, "as"],
            message: `the output already has a field "${name}"`,
          });
        }
        names.add(name);
      });
      return;
    }
    if (drop.length === 0 && rename.length === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["fields"],
        message: "list the fields to keep, or fill in Remove or Rename instead",
      });
    }
    const dropped = new Set<string>();
    drop.forEach((name, i) => {
      if (dropped.has(name)) ctx.addIssue({ code: "custom", path: ["drop", i], message: `"${name}" is listed twice` });
      dropped.add(name);
    });
    const targets = new Set<string>();
    for (const [from, to] of rename) {
      if (dropped.has(from)) {
        ctx.addIssue({ code: "custom", path: ["rename", from], message: `"${from}" is also removed (drop)` });
      }
      if (targets.has(to)) {
        ctx.addIssue({ code: "custom", path: ["rename", from], message: `two fields are renamed to "${to}"` });
      }
      targets.add(to);
    }
  });

export type SelectConfig = z.output<typeof config>;

/** Keep mode, normalised: output name and the input field it comes from, in output order. */
export function selectedFields(c: SelectConfig): { from: string; as: string }[] | undefined {
  return c.fields?.map((p) => (typeof p === "string" ? { from: p, as: p } : p));
}

function inferKeep(input: RecordSchema, picks: { from: string; as: string }[], issues: InferIssue[]): RecordSchema {
  const fields: Field[] = [];
  let eventTime: string | undefined;
  picks.forEach((pick, i) => {
    const found = findField(input, pick.from);
    if (!found) {
      const issue = unknownFieldIssue(input, pick.from, pick.from === pick.as ? ["fields", i] : ["fields", i, "from"]);
      if (issue) issues.push(issue);
    }
    if (pick.from === input.eventTime && eventTime === undefined) eventTime = pick.as;
    fields.push(found ? { ...found, name: pick.as } : field(pick.as, t.any, true));
  });
  // Only the listed fields come out, so the output is closed even when the input is open.
  return derivedSchema(input, fields, false, eventTime ?? null);
}

function inferChange(input: RecordSchema, c: SelectConfig, issues: InferIssue[]): RecordSchema {
  const drop = new Set(c.drop ?? []);
  const rename = new Map(Object.entries(c.rename ?? {}));
  (c.drop ?? []).forEach((name, i) => {
    const issue = unknownFieldIssue(input, name, ["drop", i]);
    if (issue) issues.push(issue);
  });
  for (const [from, to] of rename) {
    const issue = unknownFieldIssue(input, from, ["rename", from]);
    if (issue) issues.push(issue);
    const clash = findField(input, to);
    if (clash && !drop.has(to) && !rename.has(to)) {
      issues.push({
        severity: "error",
        code: "duplicate-field",
        message: `renaming "${from}" to "${to}" clashes with the existing field "${to}"; remove or rename that one too`,
        path: ["rename", from],
      });
    }
  }
  const fields = input.fields
    .filter((f) => !drop.has(f.name))
    .map((f) => {
      const to = rename.get(f.name);
      return to === undefined ? f : { ...f, name: to };
    });
  const time = input.eventTime;
  const eventTime = time === undefined || drop.has(time) ? null : (rename.get(time) ?? time);
  return derivedSchema(input, fields, input.open, eventTime);
}

export const selectDef = defineNode({
  type: "transform.select",
  version: 1,
  kind: "transform",
  title: "Select fields",
  category: "Transform",
  icon: "columns",
  summary: "Keeps, renames, removes and reorders fields.",
  docs: `Reshapes records without computing anything. Use one of two forms:

- **Keep only** (\`fields\`): the output has exactly the listed fields, in that order. A plain name keeps a field;
  \`{ from: amount, as: total }\` keeps it under a new name. The same input field may be listed twice under two
  names. A field missing from a record comes out as NULL, and the output schema is closed even when the input is
  schemaless.
- **Remove / rename** (\`drop\`, \`rename\`): every field passes except those removed; renamed fields keep their
  position. Renaming two fields into each other's names (a swap) works. With a schemaless input, a record that
  already has a field under a new name gets the renamed value.

Unknown field names are configuration errors (with a suggestion) when the input schema is known. The event-time
field stays the event time under its new name, and the output has no event time if it is removed.`,
  inputs: [{ name: "in" }],
  outputs: [{ name: "out" }],
  config,
  examples: [
    { title: "Keep two fields, renaming one", config: { fields: ["user_id", { from: "amount", as: "total" }] } },
    { title: "Remove a field and rename another", config: { drop: ["amount"], rename: { country: "country_code" } } },
  ],
  delivery: {},
  infer: (ctx) => {
    const input = ctx.inputs.in ?? emptySchema;
    const issues: InferIssue[] = [];
    const picks = selectedFields(ctx.config);
    const out = picks ? inferKeep(input, picks, issues) : inferChange(input, ctx.config, issues);
    return { outputs: { out }, issues };
  },
  summarize: (c) => {
    const picks = selectedFields(c);
    if (picks) return `keep ${picks.map((p) => (p.from === p.as ? p.as : `${p.from} → ${p.as}`)).join(", ")}`;
    const parts: string[] = [];
    if (c.drop && c.drop.length > 0) parts.push(`remove ${c.drop.join(", ")}`);
    const rename = Object.entries(c.rename ?? {});
    if (rename.length > 0) parts.push(`rename ${rename.map(([a, b]) => `${a} → ${b}`).join(", ")}`);
    return parts.join(" · ");
  },
});
