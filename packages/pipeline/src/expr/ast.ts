import type { Span } from "./position";

// The syntax tree, exactly as written. Types and names are resolved later by the checker, so the editor can
// parse without a schema. Every node carries the span of text it came from, for error positions.

export type BinaryOp = "and" | "or" | "=" | "<>" | "<" | "<=" | ">" | ">=" | "+" | "-" | "*" | "/" | "%" | "||";

export type CastTarget = "string" | "int" | "float" | "boolean" | "timestamp" | "json";

export type Expr =
  | LiteralExpr
  | FieldExpr
  | MemberExpr
  | IndexExpr
  | ParameterExpr
  | UnaryExpr
  | BinaryExpr
  | IsExpr
  | DistinctFromExpr
  | BetweenExpr
  | InExpr
  | LikeExpr
  | CaseExpr
  | CastExpr
  | CallExpr;

interface Node {
  span: Span;
}

export type LiteralExpr = Node & { kind: "literal" } & (
    | { literal: "int" | "float"; value: number }
    | { literal: "string"; value: string }
    | { literal: "boolean"; value: boolean }
    | { literal: "null"; value: null }
    /** `TIMESTAMP '…'` / `DATE '…'`: the text, parsed by the checker in the configured time zone. */
    | { literal: "timestamp"; value: string }
    /** `INTERVAL '5' MINUTE`: milliseconds. */
    | { literal: "interval"; value: number }
  );

/** A top-level field of the input record: `amount` or `"order id"`. */
export interface FieldExpr extends Node {
  kind: "field";
  name: string;
  quoted: boolean;
}

/** `object.name` */
export interface MemberExpr extends Node {
  kind: "member";
  object: Expr;
  name: string;
  nameSpan: Span;
}

/** `array[1]` (1-based) or `object['key']` */
export interface IndexExpr extends Node {
  kind: "index";
  object: Expr;
  index: Expr;
}

/** `{{name}}` */
export interface ParameterExpr extends Node {
  kind: "parameter";
  name: string;
}

export interface UnaryExpr extends Node {
  kind: "unary";
  op: "-" | "+" | "not";
  operand: Expr;
}

export interface BinaryExpr extends Node {
  kind: "binary";
  op: BinaryOp;
  left: Expr;
  right: Expr;
  opSpan: Span;
}

/** `x IS [NOT] NULL | TRUE | FALSE | UNKNOWN` */
export interface IsExpr extends Node {
  kind: "is";
  operand: Expr;
  test: "null" | "true" | "false" | "unknown";
  negated: boolean;
}

/** `a IS [NOT] DISTINCT FROM b`: equality where NULL equals NULL. */
export interface DistinctFromExpr extends Node {
  kind: "distinct-from";
  left: Expr;
  right: Expr;
  negated: boolean;
}

export interface BetweenExpr extends Node {
  kind: "between";
  operand: Expr;
  low: Expr;
  high: Expr;
  negated: boolean;
}

export interface InExpr extends Node {
  kind: "in";
  operand: Expr;
  items: Expr[];
  negated: boolean;
}

export interface LikeExpr extends Node {
  kind: "like";
  operand: Expr;
  pattern: Expr;
  escape?: Expr;
  negated: boolean;
  caseInsensitive: boolean;
}

export interface CaseExpr extends Node {
  kind: "case";
  /** Present for the simple form `CASE x WHEN v THEN ...`. */
  operand?: Expr;
  whens: { when: Expr; result: Expr }[];
  otherwise?: Expr;
}

export interface CastExpr extends Node {
  kind: "cast";
  operand: Expr;
  target: CastTarget;
  targetSpan: Span;
  /** `TRY_CAST`: a value that cannot be converted becomes NULL instead of failing the record. */
  safe: boolean;
}

export interface CallExpr extends Node {
  kind: "call";
  /** As written; function names are case-insensitive. */
  name: string;
  nameSpan: Span;
  args: Expr[];
  /** `count(DISTINCT x)` */
  distinct: boolean;
  /** `count(*)` */
  star: boolean;
}
