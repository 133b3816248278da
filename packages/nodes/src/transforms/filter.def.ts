import { checkExpression } from "@sluice/pipeline/expr/compile";
import { defineNode, type InferIssue } from "@sluice/pipeline/node-definition";
import { emptySchema } from "@sluice/pipeline/record-schema";
import { z } from "zod";
import { expressionIssues, parameterInfo } from "../expression-issues";

const config = z.strictObject({
  where: z
    .string()
    .min(1, "write a condition, e.g. status = 200")
    .max(65_536)
    .meta({
      label: "Keep records where",
      help: "A SQL condition. Records for which it is false or NULL are dropped.",
      widget: "predicate",
      placeholder: "status = 200 AND amount > 100",
      examples: ["status = 200", "country IN ('DE', 'FR') AND amount BETWEEN 10 AND 100", "path LIKE '/shop/%'"],
    }),
});

export type FilterConfig = z.output<typeof config>;

export const filterDef = defineNode({
  type: "transform.filter",
  version: 1,
  kind: "transform",
  title: "Filter",
  category: "Transform",
  icon: "filter",
  summary: "Keeps the records that match a SQL condition.",
  docs: `Passes on the records for which the condition is TRUE. As in SQL, a condition that is NULL (unknown) — for
example \`amount > 100\` when amount is NULL — does not pass. The output schema is the input schema.

A record whose condition cannot be evaluated (say, a division by zero) goes to the dead-letter queue with the error,
and the run goes on.`,
  inputs: [{ name: "in" }],
  outputs: [{ name: "out" }],
  config,
  examples: [
    { title: "Successful requests only", config: { where: "status = 200" } },
    { title: "Big orders from two countries", config: { where: "country IN ('DE', 'FR') AND amount > 100" } },
  ],
  delivery: {},
  infer: (ctx) => {
    const input = ctx.inputs.in ?? emptySchema;
    const checked = checkExpression(
      ctx.config.where,
      { schema: input, parameters: parameterInfo(ctx.parameters) },
      "predicate",
    );
    const issues: InferIssue[] = expressionIssues(checked.errors, ["where"]);
    return { outputs: { out: input }, issues };
  },
  summarize: (c) => c.where,
});
