import { checkExpression } from "@sluice/pipeline/expr/compile";
import type { ParameterInfo } from "@sluice/pipeline/expr/types";
import type { InferIssue } from "@sluice/pipeline/node-definition";
import { type DataType, type RecordSchema, t } from "@sluice/pipeline/record-schema";
import { z } from "zod";
import { expressionIssues, parameterInfo } from "../expression-issues";

// Key expressions of stateful operators: what records are grouped and partitioned by. Browser-safe.

export const KeyExpression = z
  .string()
  .min(1, "write a key expression, e.g. user_id")
  .max(65_536)
  .meta({ widget: "expression", placeholder: "user_id", examples: ["user_id", "lower(host)", "auction"] });

export interface CheckedKey {
  type: DataType;
  nullable: boolean;
}

/** Type-checks key expressions against `schema`; errors land on `[...path, i]` (or `pathOf(i)`). */
export function checkKeys(
  sources: readonly string[],
  schema: RecordSchema,
  parameters: Readonly<Record<string, ParameterInfo>>,
  pathOf: (i: number) => (string | number)[],
  issues: InferIssue[],
): CheckedKey[] {
  const params = parameterInfo(parameters);
  return sources.map((source, i) => {
    const checked = checkExpression(source, { schema, parameters: params }, "scalar");
    issues.push(...expressionIssues(checked.errors, pathOf(i)));
    return { type: checked.type ?? t.any, nullable: checked.nullable ?? true };
  });
}
