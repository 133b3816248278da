import type { SourcePosition } from "../issues";
import type { DataRecord, DataType, RecordSchema } from "../record-schema";

// The contract of the SQL expression language: parsed once, type-checked against the input schema,
// compiled to plain JS closures. Nothing here ever evaluates user text as code.

export interface ExprError {
  /** Stable code: `syntax`, `unknown-field`, `unknown-function`, `type`, `arity`, `aggregate`, `limit`, `parameter`. */
  code: string;
  message: string;
  position: SourcePosition;
  /** For syntax errors: what the parser expected at `position`. */
  expected?: string[];
  /** For unknown names: the closest known name. */
  suggestion?: string;
}

export interface ParameterInfo {
  /**
   * An `expression` parameter is SQL text, never a value: it may only stand alone as a whole expression field,
   * where the definition puts its text in the field's place before the field is parsed (see bindParameters).
   */
  type: "string" | "number" | "boolean" | "expression";
  /** Bound value; absent while only type-checking (e.g. in the editor). */
  value?: string | number | boolean;
}

export interface CompileOptions {
  schema: RecordSchema;
  /** Pipeline parameters, referenced in expressions as `{{name}}` (a typed bind value, never text substitution). */
  parameters?: Readonly<Record<string, ParameterInfo>>;
  /** Default time zone for date-time functions without an explicit zone. IANA name; default "UTC". */
  timeZone?: string;
  /** Clock for now(); injectable so replays and tests are deterministic. Defaults to Date.now. */
  now?: () => number;
}

export interface CompiledExpression {
  source: string;
  type: DataType;
  nullable: boolean;
  /** Top-level input fields the expression reads. */
  fields: readonly string[];
  evaluate(record: DataRecord): unknown;
}

export interface CompiledPredicate {
  source: string;
  fields: readonly string[];
  /** SQL semantics: NULL (unknown) does not pass. */
  test(record: DataRecord): boolean;
}

/**
 * A window aggregate such as `count(*)`, `sum(amount)`, `count(distinct user)` or `round(avg(price), 2)`.
 * The accumulator is plain JSON so the engine can checkpoint it.
 */
export interface CompiledAggregate {
  source: string;
  type: DataType;
  nullable: boolean;
  fields: readonly string[];
  init(): unknown;
  add(acc: unknown, record: DataRecord): unknown;
  merge(a: unknown, b: unknown): unknown;
  result(acc: unknown): unknown;
}

export type CompileResult<T> = { ok: true; value: T } | { ok: false; errors: ExprError[] };
