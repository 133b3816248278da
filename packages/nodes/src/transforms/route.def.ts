import { checkExpression } from "@sluice/pipeline/expr/compile";
import { defineNode, type InferIssue, type PortSpec } from "@sluice/pipeline/node-definition";
import { emptySchema, type RecordSchema } from "@sluice/pipeline/record-schema";
import { z } from "zod";
import { expressionIssues, parameterInfo } from "../expression-issues";

export const UNMATCHED = "unmatched";

const Route = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,31}$/, "route names are output port names: a lower-case word (a-z, 0-9, _)")
    .meta({ label: "Output", placeholder: "big_orders" }),
  where: z
    .string()
    .min(1, "write a condition, e.g. amount > 100")
    .max(65_536)
    .meta({ label: "When", widget: "predicate", placeholder: "amount > 100" }),
});

const config = z
  .strictObject({
    routes: z.array(Route).min(1, "add at least one route").max(64, "at most 64 routes").meta({
      label: "Routes",
      help: 'Each route is an output with a SQL condition. Records that match none go to "unmatched".',
    }),
    mode: z.enum(["first", "all"]).default("first").meta({
      label: "Send a record to",
      help: "first: only the first route (in order) whose condition holds. all: every route whose condition holds.",
      widget: "select",
    }),
  })
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.routes.forEach((r, i) => {
      if (r.name === UNMATCHED) {
        ctx.addIssue({
          code: "custom",
          path: ["routes", i, "name"],
          message: `"${UNMATCHED}" is the output for records no route takes; choose another name`,
        });
      } else if (seen.has(r.name)) {
        ctx.addIssue({ code: "custom", path: ["routes", i, "name"], message: `there is already a route "${r.name}"` });
      }
      seen.add(r.name);
    });
  });

export type RouteConfig = z.output<typeof config>;

const unmatchedPort: PortSpec = { name: UNMATCHED, doc: "records that no route takes" };

export const routeDef = defineNode({
  type: "transform.route",
  version: 1,
  kind: "transform",
  title: "Route",
  category: "Transform",
  icon: "split",
  summary: "Sends records to named outputs by SQL conditions, the rest to unmatched.",
  docs: `Splits one stream into several. Each route is an output port named after the route, with a SQL condition;
records are passed on unchanged.

- **first** (default): a record goes to the first route, in the listed order, whose condition is TRUE — like
  \`CASE WHEN\`. The outputs are disjoint.
- **all**: a record goes to every route whose condition is TRUE, so it may appear on several outputs.

A record for which no condition is TRUE goes to \`unmatched\`. As in a filter, a condition that is NULL (say
\`amount > 100\` with amount NULL) does not hold. Leaving an output unconnected drops what reaches it.

Route names are port names: lower-case words, unique, and not \`unmatched\`. Renaming a route disconnects the edges
that used the old name (validation reports them). A record whose condition cannot be evaluated goes to the
dead-letter queue, and to no output.`,
  inputs: [{ name: "in" }],
  outputs: [unmatchedPort],
  ports: (c) => ({
    outputs: [...c.routes.map((r) => ({ name: r.name, doc: r.where })), unmatchedPort],
  }),
  config,
  examples: [
    {
      title: "Orders by size",
      config: {
        routes: [
          { name: "large", where: "amount >= 1000" },
          { name: "medium", where: "amount >= 100" },
        ],
      },
    },
    {
      title: "Alerts to every team concerned",
      config: {
        mode: "all",
        routes: [
          { name: "payments", where: "service = 'billing' OR path LIKE '/pay/%'" },
          { name: "oncall", where: "severity IN ('critical', 'high')" },
        ],
      },
    },
  ],
  delivery: {},
  infer: (ctx) => {
    const input = ctx.inputs.in ?? emptySchema;
    const parameters = parameterInfo(ctx.parameters);
    const issues: InferIssue[] = [];
    const outputs: Record<string, RecordSchema> = { [UNMATCHED]: input };
    ctx.config.routes.forEach((r, i) => {
      const checked = checkExpression(r.where, { schema: input, parameters }, "predicate");
      issues.push(...expressionIssues(checked.errors, ["routes", i, "where"]));
      outputs[r.name] = input;
    });
    return { outputs, issues };
  },
  summarize: (c) => `${c.mode === "all" ? "all of" : "first of"} ${c.routes.map((r) => r.name).join(", ")}`,
});
