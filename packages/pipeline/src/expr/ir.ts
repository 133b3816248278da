import type { DataType } from "../record-schema";
import type { AggregateFunctionDef } from "./functions/aggregate";
import type { ScalarFunctionDef } from "./functions/define";
import type { Span } from "./position";

// The checked expression: names resolved, every node typed, implicit conversions made explicit (`expect` for
// values only typed at run time, `cast` for text conversion). The compiler turns this into closures without
// making any further decisions about types.

export type CompareOp = "=" | "<>" | "<" | "<=" | ">" | ">=";
export type ArithOp = "+" | "-" | "*" | "/" | "%";
/** What a value typed `any`/`json` must turn out to be at run time. */
export type ExpectKind = "string" | "number" | "int" | "boolean" | "timestamp" | "array";
export type CastTo = "string" | "int" | "float" | "boolean" | "timestamp" | "json";

interface Typed {
  span: Span;
  type: DataType;
  nullable: boolean;
  /** The checker already reported an error here; suppresses follow-on errors. */
  invalid?: true;
}

export type Ir = Typed &
  (
    | { kind: "const"; value: unknown /** A `{{parameter}}` whose value is not known (check-only). */; unbound?: true }
    | { kind: "field"; name: string }
    | { kind: "member"; object: Ir; key: string }
    | { kind: "index"; object: Ir; index: Ir }
    | { kind: "expect"; operand: Ir; expected: ExpectKind }
    | { kind: "not"; operand: Ir }
    | { kind: "and" | "or"; left: Ir; right: Ir }
    /** `dynamic`: both sides are only typed at run time, so values are compared by their run-time types. */
    | { kind: "compare"; op: CompareOp; left: Ir; right: Ir; dynamic: boolean }
    /** `integer`: int / int truncates toward zero. */
    | { kind: "arith"; op: ArithOp; left: Ir; right: Ir; integer: boolean }
    | { kind: "neg"; operand: Ir }
    | { kind: "concat"; left: Ir; right: Ir }
    | { kind: "is"; operand: Ir; test: "null" | "true" | "false"; negated: boolean }
    | { kind: "distinct"; left: Ir; right: Ir; negated: boolean; dynamic: boolean }
    | { kind: "between"; operand: Ir; low: Ir; high: Ir; negated: boolean; dynamic: boolean }
    | { kind: "in"; operand: Ir; items: Ir[]; negated: boolean; dynamic: boolean }
    | { kind: "like"; operand: Ir; pattern: Ir; escape: string | null; negated: boolean; caseInsensitive: boolean }
    | { kind: "case"; operand?: Ir; whens: { when: Ir; result: Ir }[]; otherwise?: Ir; dynamic: boolean }
    /** `fromTimestamp`: the operand is a timestamp (so it becomes ISO text, not a number). */
    | { kind: "cast"; operand: Ir; to: CastTo; safe: boolean; fromTimestamp: boolean }
    | { kind: "call"; fn: ScalarFunctionDef; args: Ir[] }
    | { kind: "aggregate"; fn: AggregateFunctionDef; arg?: Ir; distinct: boolean; star: boolean }
  );

export type IrOf<K extends Ir["kind"]> = Extract<Ir, { kind: K }>;

/** Direct children of a checked node. */
export function irChildren(ir: Ir): Ir[] {
  switch (ir.kind) {
    case "const":
    case "field":
    case "aggregate":
      return [];
    case "member":
      return [ir.object];
    case "index":
      return [ir.object, ir.index];
    case "expect":
    case "not":
    case "neg":
    case "is":
    case "cast":
      return [ir.operand];
    case "and":
    case "or":
    case "compare":
    case "arith":
    case "concat":
    case "distinct":
      return [ir.left, ir.right];
    case "between":
      return [ir.operand, ir.low, ir.high];
    case "in":
      return [ir.operand, ...ir.items];
    case "like":
      return [ir.operand, ir.pattern];
    case "case":
      return [
        ...(ir.operand ? [ir.operand] : []),
        ...ir.whens.flatMap((w) => [w.when, w.result]),
        ...(ir.otherwise ? [ir.otherwise] : []),
      ];
    case "call":
      return ir.args;
  }
}
