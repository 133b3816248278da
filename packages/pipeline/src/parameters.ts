import { configJsonSchema, type JsonSchema } from "./config-schema";
import type { PipelineDefinition, PipelineParameter } from "./definition";
import { parseDuration } from "./duration";
import { parse } from "./expr/parser";
import { compileRegex } from "./expr/regex";
import type { ParameterInfo } from "./expr/types";
import type { AnyNodeDefinition } from "./node-definition";

// Pipeline parameters in node configs. In ordinary string fields `{{name}}` is replaced by the value when a run
// starts (a string that is exactly `{{name}}` takes the value with its type, so numbers stay numbers). In
// expression fields `{{name}}` is left alone: the expression compiler treats it as a typed bind value, so a
// parameter can never inject SQL text. The one exception is an `expression` parameter written as a whole
// expression field (`where: "{{filter}}"`): its value takes the field's place and is then parsed and checked as
// that field's expression on its own, so it is never spliced into other SQL text.

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
  /** Names of `expression` parameters: the only ones bound into expression fields, and only as the whole field. */
  expressions: ReadonlySet<string> = new Set(),
): unknown {
  const patterns = expressionPaths(def);
  const bind = (value: unknown, path: (string | number)[], depth: number): unknown => {
    if (depth > 64) return value;
    if (typeof value === "string") {
      if (!value.includes("{{")) return value;
      if (patterns.some((p) => matches(p, path))) {
        const name = WHOLE_REF.exec(value)?.[1];
        return name !== undefined && expressions.has(name) && Object.hasOwn(values, name) ? values[name] : value;
      }
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
    super(`parameter "${parameter}": ${message}`);
  }
}

/** A value as a message quotes it: text in quotes, numbers and booleans as they are. */
function shown(value: unknown): string {
  const text = typeof value === "string" ? JSON.stringify(value) : String(value);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

/** Whether the whole of `text` matches an RE2 pattern; a message when the pattern itself is unusable. */
function matchesPattern(pattern: string, text: string): boolean | string {
  const compiled = compileRegex(pattern, "");
  if (!compiled.ok) return compiled.message;
  return compiled.regex.engine.matches(text);
}

/** What is wrong with `value` for parameter `p` (its type, bounds, choices, pattern), or undefined when it fits. */
export function parameterValueProblem(p: PipelineParameter, value: unknown): string | undefined {
  switch (p.type) {
    case "string": {
      if (typeof value !== "string") return `${shown(value)} is not text`;
      if (p.maxLength !== undefined && value.length > p.maxLength)
        return `${shown(value)} is longer than ${p.maxLength} characters`;
      if (p.pattern !== undefined) {
        const ok = matchesPattern(p.pattern, value);
        if (typeof ok === "string") return `its pattern is not usable: ${ok}`;
        if (!ok) return `${shown(value)} does not match the pattern ${p.pattern}`;
      }
      return undefined;
    }
    case "integer":
    case "number": {
      if (typeof value !== "number" || !Number.isFinite(value)) return `${shown(value)} is not a number`;
      if (p.type === "integer" && !Number.isSafeInteger(value)) return `${shown(value)} is not an integer`;
      if (p.min !== undefined && value < p.min) return `${value} is less than the minimum, ${p.min}`;
      if (p.max !== undefined && value > p.max) return `${value} is more than the maximum, ${p.max}`;
      return undefined;
    }
    case "boolean":
      return typeof value === "boolean" ? undefined : `${shown(value)} is not true or false`;
    case "choice": {
      const choices = p.choices ?? [];
      if (typeof value === "string" && choices.includes(value)) return undefined;
      return `${shown(value)} is not one of ${choices.map((c) => shown(c)).join(", ")}`;
    }
    case "duration":
      return (typeof value === "string" || typeof value === "number") && parseDuration(value) !== undefined
        ? undefined
        : `${shown(value)} is not a duration; write e.g. 250ms, 5s, 1m, 2h or 1d`;
    case "expression": {
      if (typeof value !== "string") return `${shown(value)} is not an expression`;
      const parsed = parse(value);
      if (parsed.ok) return undefined;
      const first = parsed.errors[0];
      const at = first ? ` at column ${first.position.column}` : "";
      return `${shown(value)} is not an expression: ${first?.message ?? "it does not parse"}${at}`;
    }
    case "connection":
      return typeof value === "string" && value.trim().length > 0 && !value.includes("{{")
        ? undefined
        : `${shown(value)} is not a connection name`;
  }
}

export interface DeclarationProblem {
  /** Inside the parameter's declaration, e.g. ["default"]. */
  path: string[];
  message: string;
}

const APPLIES_TO: Readonly<Record<string, readonly PipelineParameter["type"][]>> = {
  choices: ["choice"],
  connectorType: ["connection"],
  min: ["integer", "number"],
  max: ["integer", "number"],
  pattern: ["string"],
  maxLength: ["string"],
};

/**
 * What is wrong with one declaration on its own: options that do not apply to its type, a choice without choices,
 * a slot without a connector type, bounds the wrong way round, an unusable pattern, a default that does not fit.
 * Names that repeat and connector types nobody knows need the whole pipeline and catalog: validate() checks those.
 */
export function parameterDeclarationProblems(p: PipelineParameter): DeclarationProblem[] {
  const problems: DeclarationProblem[] = [];
  for (const [key, types] of Object.entries(APPLIES_TO)) {
    if ((p as Record<string, unknown>)[key] !== undefined && !types.includes(p.type)) {
      problems.push({ path: [key], message: `"${key}" applies to ${types.join(" and ")} parameters, not ${p.type}` });
    }
  }
  if (p.type === "choice" && p.choices === undefined)
    problems.push({ path: ["choices"], message: "a choice parameter lists its choices" });
  if (p.choices !== undefined && new Set(p.choices).size !== p.choices.length)
    problems.push({ path: ["choices"], message: "a choice is listed twice" });
  if (p.type === "connection" && p.connectorType === undefined)
    problems.push({ path: ["connectorType"], message: "a connection slot names the connector type it takes" });
  if (p.min !== undefined && p.max !== undefined && p.min > p.max)
    problems.push({ path: ["max"], message: `the maximum, ${p.max}, is less than the minimum, ${p.min}` });
  if (p.type === "integer") {
    for (const key of ["min", "max"] as const) {
      const bound = p[key];
      if (bound !== undefined && !Number.isSafeInteger(bound))
        problems.push({ path: [key], message: `${bound} is not an integer` });
    }
  }
  if (p.pattern !== undefined) {
    const compiled = compileRegex(p.pattern, "");
    if (!compiled.ok) problems.push({ path: ["pattern"], message: `the pattern is not usable: ${compiled.message}` });
  }
  if (p.default !== undefined && problems.length === 0) {
    const problem = parameterValueProblem(p, p.default);
    if (problem !== undefined) problems.push({ path: ["default"], message: `the default: ${problem}` });
  }
  return problems;
}

/**
 * A run's parameter values: the declared defaults, overridden by the given values, each checked against its
 * declared type. A `required` parameter must be given (its default only fills the form in). With the workspace's
 * connections (name → connector type), a connection slot's value must name one of the slot's type. Throws
 * ParameterError naming the parameter.
 */
export function resolveParameterValues(
  def: PipelineDefinition,
  given: Readonly<Record<string, ParameterValue>>,
  connections?: Readonly<Record<string, string>>,
): Record<string, ParameterValue> {
  const declared = new Map(def.spec.parameters.map((p) => [p.name, p]));
  for (const name of Object.keys(given)) {
    if (!declared.has(name)) throw new ParameterError(name, "the pipeline declares no such parameter");
  }
  const values: Record<string, ParameterValue> = {};
  for (const p of def.spec.parameters) {
    const isGiven = Object.hasOwn(given, p.name);
    if (!isGiven && p.required) throw new ParameterError(p.name, "is required: give it a value");
    const value = isGiven ? given[p.name] : p.default;
    if (value === undefined) throw new ParameterError(p.name, "needs a value (it has no default)");
    const problem = parameterValueProblem(p, value);
    if (problem !== undefined) throw new ParameterError(p.name, problem);
    if (p.type === "connection" && connections && p.connectorType !== undefined) {
      const name = value as string;
      const type = Object.hasOwn(connections, name) ? connections[name] : undefined;
      if (type === undefined) throw new ParameterError(p.name, `there is no connection named ${shown(name)}`);
      if (type !== p.connectorType)
        throw new ParameterError(
          p.name,
          `connection ${shown(name)} is a ${type} connection; the slot takes a ${p.connectorType} connection`,
        );
    }
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
  if (!p) throw new ParameterError(name, "the pipeline declares no such parameter");
  let value: ParameterValue = raw;
  if (p.type === "number" || p.type === "integer") {
    const n = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(n)) throw new ParameterError(name, `${shown(raw)} is not a number`);
    value = n;
  } else if (p.type === "boolean") {
    if (raw !== "true" && raw !== "false") throw new ParameterError(name, `${shown(raw)} is not true or false`);
    value = raw === "true";
  }
  const problem = parameterValueProblem(p, value);
  if (problem !== undefined) throw new ParameterError(name, problem);
  return [name, value];
}

/**
 * The parameters as the expression compiler sees them, with their values when given. Integers and numbers are
 * numbers, a duration is its milliseconds, choices and connection names are text; an expression parameter can
 * only stand as a whole expression field (see bindParameters), which the checker enforces.
 */
export function expressionParameters(
  declared: readonly PipelineParameter[],
  values?: Readonly<Record<string, ParameterValue>>,
): Record<string, ParameterInfo> {
  const infos: Record<string, ParameterInfo> = {};
  for (const p of declared) {
    const value = values && Object.hasOwn(values, p.name) ? values[p.name] : undefined;
    switch (p.type) {
      case "integer":
      case "number":
      case "boolean":
        infos[p.name] = {
          type: p.type === "boolean" ? "boolean" : "number",
          ...(value === undefined ? {} : { value }),
        };
        break;
      case "duration": {
        const ms = value === undefined ? undefined : parseDuration(value as string | number);
        infos[p.name] = { type: "number", ...(ms === undefined ? {} : { value: ms }) };
        break;
      }
      case "expression":
        infos[p.name] = { type: "expression" };
        break;
      default:
        infos[p.name] = { type: "string", ...(value === undefined ? {} : { value: String(value) }) };
    }
  }
  return infos;
}

/** The values expressions bind at run time (see expressionParameters): a duration as its milliseconds. */
export function expressionParameterValues(
  declared: readonly PipelineParameter[],
  values: Readonly<Record<string, ParameterValue>>,
): Record<string, ParameterValue> {
  const out: Record<string, ParameterValue> = {};
  for (const [name, info] of Object.entries(expressionParameters(declared, values))) {
    if (info.type !== "expression" && info.value !== undefined) out[name] = info.value;
  }
  // Values of names the definition does not declare (an older run's) keep their own type, as before.
  for (const [name, value] of Object.entries(values))
    if (!Object.hasOwn(out, name) && !declared.some((p) => p.name === name)) out[name] = value;
  return out;
}
