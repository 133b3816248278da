import { configJsonSchema, type JsonSchema } from "./config-schema";
import type { PipelineDefinition } from "./definition";
import type { AnyNodeDefinition } from "./node-definition";

// Pipeline parameters in node configs. In ordinary string fields `{{name}}` is replaced by the value when a run
// starts (a string that is exactly `{{name}}` takes the value with its type, so numbers stay numbers). In
// expression fields `{{name}}` is left alone: the expression compiler treats it as a typed bind value, so a
// parameter can never inject SQL text.

export type ParameterValue = string | number | boolean;

const REF = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
const WHOLE_REF = /^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/;
const EXPRESSION_WIDGETS = new Set(["expression", "predicate", "aggregate"]);

/** A config path pattern; "*" stands for any key of a record or index of a list. */
type PathPattern = readonly string[];

const expressionPatternCache = new WeakMap<AnyNodeDefinition, PathPattern[]>();

function collectExpressionPaths(schema: JsonSchema, at: string[], out: PathPattern[], depth = 0): void {
  if (depth > 12) return;
  if (typeof schema.widget === "string" && EXPRESSION_WIDGETS.has(schema.widget)) {
    out.push(at);
    return;
  }
  for (const [key, child] of Object.entries(schema.properties ?? {}))
    collectExpressionPaths(child, [...at, key], out, depth + 1);
  if (schema.additionalProperties && typeof schema.additionalProperties === "object") {
    collectExpressionPaths(schema.additionalProperties, [...at, "*"], out, depth + 1);
  }
  if (schema.items) collectExpressionPaths(schema.items, [...at, "*"], out, depth + 1);
  for (const alt of [...(schema.oneOf ?? []), ...(schema.anyOf ?? [])]) collectExpressionPaths(alt, at, out, depth + 1);
}

/** The config fields of a node type that hold SQL expressions (from the `widget` hint on its schema). */
export function expressionPaths(def: AnyNodeDefinition): PathPattern[] {
  let patterns = expressionPatternCache.get(def);
  if (!patterns) {
    patterns = [];
    collectExpressionPaths(configJsonSchema(def), [], patterns);
    expressionPatternCache.set(def, patterns);
  }
  return patterns;
}

function matches(pattern: PathPattern, path: readonly (string | number)[]): boolean {
  return pattern.length === path.length && pattern.every((p, i) => p === "*" || p === String(path[i]));
}

export interface ParameterRef {
  name: string;
  path: (string | number)[];
}

/** Every `{{name}}` in a config's plain string fields (expression fields are the expression checker's business). */
export function parameterRefs(config: unknown, def: AnyNodeDefinition): ParameterRef[] {
  const patterns = expressionPaths(def);
  const refs: ParameterRef[] = [];
  const visit = (value: unknown, path: (string | number)[], depth: number) => {
    if (depth > 64) return;
    if (typeof value === "string") {
      if (patterns.some((p) => matches(p, path))) return;
      for (const m of value.matchAll(REF)) refs.push({ name: m[1]!, path });
    } else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) visit(value[i], [...path, i], depth + 1);
    } else if (value !== null && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) visit(v, [...path, k], depth + 1);
    }
  };
  visit(config, [], 0);
  return refs;
}

/**
 * Replaces `{{name}}` in plain string fields with the parameter's value; names without a value stay as written.
 * Returns a new config; the input is not changed.
 */
export function bindParameters(
  config: unknown,
  def: AnyNodeDefinition,
  values: Readonly<Record<string, ParameterValue>>,
): unknown {
  const patterns = expressionPaths(def);
  const bind = (value: unknown, path: (string | number)[], depth: number): unknown => {
    if (depth > 64) return value;
    if (typeof value === "string") {
      if (!value.includes("{{") || patterns.some((p) => matches(p, path))) return value;
      const whole = WHOLE_REF.exec(value);
      if (whole && Object.hasOwn(values, whole[1]!)) return values[whole[1]!];
      return value.replace(REF, (text, name: string) => (Object.hasOwn(values, name) ? String(values[name]) : text));
    }
    if (Array.isArray(value)) return value.map((v, i) => bind(v, [...path, i], depth + 1));
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, bind(v, [...path, k], depth + 1)]));
    }
    return value;
  };
  return bind(config, [], 0);
}

export class ParameterError extends Error {
  override name = "ParameterError";
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(`parameters.${parameter}: ${message}`);
  }
}

/**
 * A run's parameter values: the declared defaults, overridden by the given values, each checked against its
 * declared type. Throws ParameterError naming the parameter.
 */
export function resolveParameterValues(
  def: PipelineDefinition,
  given: Readonly<Record<string, ParameterValue>>,
): Record<string, ParameterValue> {
  const declared = new Map(def.spec.parameters.map((p) => [p.name, p]));
  for (const name of Object.keys(given)) {
    if (!declared.has(name)) throw new ParameterError(name, `the pipeline declares no parameter "${name}"`);
  }
  const values: Record<string, ParameterValue> = {};
  for (const p of def.spec.parameters) {
    const value = Object.hasOwn(given, p.name) ? given[p.name] : p.default;
    if (value === undefined) throw new ParameterError(p.name, "needs a value (it has no default)");
    if (typeof value !== p.type) throw new ParameterError(p.name, `must be a ${p.type}, got ${typeof value}`);
    values[p.name] = value;
  }
  return values;
}

/** Reads `NAME=VALUE` text (a command line) as the value type the pipeline declares for NAME. */
export function parseParameterText(def: PipelineDefinition, text: string): [string, ParameterValue] {
  const eq = text.indexOf("=");
  if (eq <= 0) throw new ParameterError(text, "write NAME=VALUE");
  const name = text.slice(0, eq);
  const raw = text.slice(eq + 1);
  const p = def.spec.parameters.find((x) => x.name === name);
  if (!p) throw new ParameterError(name, `the pipeline declares no parameter "${name}"`);
  if (p.type === "number") {
    const n = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(n)) throw new ParameterError(name, `must be a number, got "${raw}"`);
    return [name, n];
  }
  if (p.type === "boolean") {
    if (raw !== "true" && raw !== "false") throw new ParameterError(name, `must be true or false, got "${raw}"`);
    return [name, raw === "true"];
  }
  return [name, raw];
}
