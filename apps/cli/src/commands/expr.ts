import { compileExpression } from "@sluice/pipeline/expr/compile";
import { ExpressionRuntimeError } from "@sluice/pipeline/expr/errors";
import type { ExprError, ParameterInfo } from "@sluice/pipeline/expr/types";
import { type DataRecord, openSchema, type RecordSchema, typeName } from "@sluice/pipeline/record-schema";
import { EXIT, type Output, UsageError } from "../io";
import { caretExcerpt } from "../source-excerpt";
import { conformRecord, inferRecordSchema, parseSchemaOption } from "./expr-schema";

export interface ExprCommandOptions {
  expression: string;
  /** JSON text of one record to evaluate the expression on. */
  input?: string | undefined;
  /** JSON text: field name → type name (see parseSchemaOption). */
  schema?: string | undefined;
  /** `name=value` bind values for `{{name}}` parameters; the value is read as JSON when it is a JSON scalar. */
  params?: readonly string[] | undefined;
  json: boolean;
}

/** What `--json` prints. `type`/`nullable` are null when the expression does not check. */
export interface ExprReport {
  type: string | null;
  nullable: boolean | null;
  value?: unknown;
  errors: ExprError[];
}

function parseInput(text: string): DataRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--input is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UsageError(`--input must be a JSON object (one record), e.g. {"amount": 120.5}`);
  }
  return value as DataRecord;
}

function parseParams(params: readonly string[]): Record<string, ParameterInfo> {
  const out: Record<string, ParameterInfo> = {};
  for (const p of params) {
    const eq = p.indexOf("=");
    if (eq <= 0) throw new UsageError(`--param takes NAME=VALUE, not "${p}"`);
    const name = p.slice(0, eq);
    const text = p.slice(eq + 1);
    let value: unknown = text;
    try {
      value = JSON.parse(text);
    } catch {
      // not JSON: the text itself is the value
    }
    if (typeof value === "number") out[name] = { type: "number", value };
    else if (typeof value === "boolean") out[name] = { type: "boolean", value };
    else out[name] = { type: "string", value: typeof value === "string" ? value : text };
  }
  return out;
}

/** The schema to check against, and the record (converted to it) to evaluate, if any. */
function prepareRecord(options: ExprCommandOptions): { schema: RecordSchema; record?: DataRecord } {
  const record = options.input === undefined ? undefined : parseInput(options.input);
  if (options.schema === undefined) {
    // Without a record to read types from, any field is allowed and typed `any`.
    return record ? { schema: inferRecordSchema(record), record } : { schema: openSchema };
  }
  const declared = parseSchemaOption(options.schema);
  if (!declared.ok) throw new UsageError(declared.message);
  if (!record) return { schema: declared.schema };
  const conformed = conformRecord(record, declared.schema);
  if (!conformed.ok) throw new UsageError(conformed.message);
  return { schema: declared.schema, record: conformed.record };
}

/** A value as JSON text; non-finite numbers (which JSON cannot spell) as their JS names. */
function showValue(value: unknown): string {
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  return JSON.stringify(value) ?? "null";
}

function runtimeErrorAsExprError(e: ExpressionRuntimeError): ExprError {
  // The error's message carries its position for logs; the report prints the position itself.
  return { code: e.code, message: e.detail, position: e.position };
}

function formatExprError(source: string, e: ExprError): string {
  const hint = e.suggestion !== undefined ? `; did you mean "${e.suggestion}"?` : "";
  return `error at ${e.position.line}:${e.position.column}: ${e.message}${hint}\n${caretExcerpt(source, e.position)}`;
}

/**
 * Type-checks one expression and, given a record (or when it reads no fields at all), evaluates it.
 * Exit 0 when it checks and evaluates, 1 when the expression is wrong or fails on the record, 2 on bad options.
 */
export function exprCommand(options: ExprCommandOptions, io: Output): number {
  const { expression } = options;
  const { schema, record } = prepareRecord(options);
  const report = checkAndEvaluate(expression, schema, parseParams(options.params ?? []), record);
  if (options.json) io.out(JSON.stringify(report, null, 2));
  else {
    if (report.type !== null) io.out(`type: ${report.type}${report.nullable ? " (nullable)" : ""}`);
    if ("value" in report) io.out(`value: ${showValue(report.value)}`);
    for (const e of report.errors) io.err(formatExprError(expression, e));
  }
  return report.errors.length > 0 ? EXIT.invalid : EXIT.ok;
}

function checkAndEvaluate(
  expression: string,
  schema: RecordSchema,
  parameters: Record<string, ParameterInfo>,
  record: DataRecord | undefined,
): ExprReport {
  const compiled = compileExpression(expression, { schema, parameters });
  if (!compiled.ok) return { type: null, nullable: null, errors: compiled.errors };
  const { fields, evaluate } = compiled.value;
  const type = typeName(compiled.value.type);
  const nullable = compiled.value.nullable;
  const subject = record ?? (fields.length === 0 ? {} : undefined);
  if (!subject) return { type, nullable, errors: [] };
  try {
    const value = evaluate(subject);
    return { type, nullable, value: value === undefined ? null : value, errors: [] };
  } catch (e) {
    if (!(e instanceof ExpressionRuntimeError)) throw e;
    return { type, nullable, errors: [runtimeErrorAsExprError(e)] };
  }
}
