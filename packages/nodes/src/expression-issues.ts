import type { ExprError, ParameterInfo } from "@sluice/pipeline/expr/types";
import type { InferIssue } from "@sluice/pipeline/node-definition";

/** Expression errors as issues on the config field that holds the expression. */
export function expressionIssues(errors: readonly ExprError[], path: (string | number)[]): InferIssue[] {
  return errors.map((e) => ({
    severity: "error",
    code: e.code === "unknown-field" ? "unknown-field" : `expression-${e.code}`,
    message: e.message,
    path,
    position: e.position,
    ...(e.suggestion !== undefined ? { suggestion: e.suggestion } : {}),
  }));
}

export function parameterInfo(declared: Readonly<Record<string, ParameterInfo>>): Record<string, ParameterInfo> {
  return Object.fromEntries(Object.entries(declared).map(([name, p]) => [name, { type: p.type }]));
}
