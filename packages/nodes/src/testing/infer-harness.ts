import type { ParameterInfo } from "@sluice/pipeline/expr/types";
import type { AnyNodeDefinition, InferIssue, InferResult } from "@sluice/pipeline/node-definition";
import type { RecordSchema } from "@sluice/pipeline/record-schema";

// Unit-test support for declarations: parse a config the way validation does and run `infer` on it.

export interface Inferred extends InferResult {
  issues: InferIssue[];
  errors: InferIssue[];
}

/** Parses `config` with the node's schema (throws on an invalid config) and infers the output schemas. */
export function inferNode(
  def: AnyNodeDefinition,
  config: unknown,
  inputs: Record<string, RecordSchema> = {},
  parameters: Record<string, ParameterInfo> = {},
): Inferred {
  const parsed = def.config.parse(config);
  const result = def.infer({
    config: parsed,
    inputs,
    settings: { parallelism: 1, delivery: "exactly-once", batchSize: 1000 },
    parameters,
  });
  const issues = result.issues ?? [];
  return { ...result, issues, errors: issues.filter((i) => (i.severity ?? "error") === "error") };
}

/** The config's validation problems as `path: message` lines (empty when it is valid). */
export function configProblems(
  def: AnyNodeDefinition,
  config: unknown,
): { path: (string | number)[]; message: string }[] {
  const r = def.config.safeParse(config);
  if (r.success) return [];
  return r.error.issues.map((i) => ({
    path: i.path.map((p) => (typeof p === "number" ? p : String(p))),
    message: i.message,
  }));
}
