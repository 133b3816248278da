import type { SourcePosition } from "../issues";
import { type Span, toPosition } from "./position";
import type { ExprError } from "./types";

export type ExprErrorCode =
  | "syntax"
  | "unknown-field"
  | "unknown-function"
  | "type"
  | "arity"
  | "aggregate"
  | "limit"
  | "parameter";

export function exprError(
  source: string,
  code: ExprErrorCode,
  message: string,
  at: Span,
  extra?: { expected?: string[]; suggestion?: string | undefined },
): ExprError {
  const error: ExprError = { code, message, position: toPosition(source, at) };
  if (extra?.expected) error.expected = extra.expected;
  if (extra?.suggestion !== undefined) error.suggestion = extra.suggestion;
  return error;
}

export type RuntimeErrorCode = "division-by-zero" | "type" | "cast" | "domain" | "limit" | "invalid-argument";

/**
 * A record made the expression fail (division by zero, a value of the wrong type in a schemaless field, an
 * impossible cast, ...). The engine sends that record to the dead-letter queue with this error and goes on.
 */
export class ExpressionRuntimeError extends Error {
  override readonly name = "ExpressionRuntimeError";
  constructor(
    readonly code: RuntimeErrorCode,
    message: string,
    /** The whole expression text. */
    readonly source: string,
    /** The sub-expression that failed. */
    readonly position: SourcePosition,
  ) {
    super(`${message} (at ${position.line}:${position.column} in \`${clip(source)}\`)`);
    this.detail = message;
  }
  /** The message alone, without the position and the expression text. */
  readonly detail: string;
}

/**
 * Thrown by function implementations, which know what went wrong but not where; the compiled call site
 * catches it and rethrows an `ExpressionRuntimeError` carrying the call's position.
 */
export class ExprFault extends Error {
  override readonly name = "ExprFault";
  constructor(
    readonly code: RuntimeErrorCode,
    message: string,
  ) {
    super(message);
  }
}

function clip(source: string): string {
  return source.length > 120 ? `${source.slice(0, 117)}...` : source;
}
