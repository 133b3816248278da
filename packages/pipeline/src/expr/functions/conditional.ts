import { type DataType, t, typeName } from "../../record-schema";
import type { Evaluator } from "../evaluator";
import { isDynamic, isOrderable, unifyAll } from "../type-rules";
import { compareDynamic, equalDynamic, runtimeTypeName } from "../values";
import {
  type ArgInfo,
  type ArgProblem,
  defineFunction,
  defineLazy,
  defineVariadic,
  type ScalarFunctionDef,
} from "./define";

// NULL handling, choices and comparisons across arguments. Arguments of these functions must share a type
// (int and float mix; NULL fits anything); the result has that type.

function sharedType(args: readonly ArgInfo[], from = 0): DataType {
  const u = unifyAll(args.slice(from).map((a) => a.type));
  return u.ok ? u.type : t.any;
}

function sameTypeProblem(what: string, from = 0, orderable = false) {
  return (args: readonly ArgInfo[]): ArgProblem | undefined => {
    const rest = args.slice(from);
    const u = unifyAll(rest.map((a) => a.type));
    if (!u.ok) {
      const bad = rest[u.index];
      const before = unifyAll(rest.slice(0, u.index).map((a) => a.type));
      const expected = before.ok ? typeName(before.type) : "?";
      return {
        index: u.index + from,
        message: `${what} arguments must have the same type: expected ${expected}, got ${bad ? typeName(bad.type) : "?"}`,
      };
    }
    if (orderable && !isOrderable(u.type)) {
      return { index: from, message: `${what} needs values that can be ordered, got ${typeName(u.type)}` };
    }
    return undefined;
  };
}

function firstNonNull(args: readonly Evaluator[]): Evaluator {
  const [a, b, c] = args;
  if (args.length === 1 && a) return a;
  if (args.length === 2 && a && b) {
    return (r) => {
      const v = a(r);
      return v === null ? b(r) : v;
    };
  }
  if (args.length === 3 && a && b && c) {
    return (r) => {
      const v = a(r);
      if (v !== null) return v;
      const w = b(r);
      return w === null ? c(r) : w;
    };
  }
  return (r) => {
    for (const f of args) {
      const v = f(r);
      if (v !== null) return v;
    }
    return null;
  };
}

/** Greatest/least over non-NULL values; NULL only when every argument is NULL. */
function extreme(sign: 1 | -1) {
  return (...values: unknown[]) => {
    let best: unknown = null;
    for (const v of values) {
      if (v !== null && (best === null || compareDynamic(v, best) * sign > 0)) best = v;
    }
    return best;
  };
}

export const CONDITIONAL_FUNCTIONS: readonly ScalarFunctionDef[] = [
  defineVariadic({
    name: "coalesce",
    category: "conditional",
    doc: "The first argument that is not NULL (later arguments are not evaluated).",
    rest: "values: any",
    minArgs: 1,
    nulls: "pass",
    returns: { text: "the arguments' type", of: (args) => sharedType(args) },
    nullable: (args) => args.every((a) => a.nullable),
    check: sameTypeProblem("coalesce"),
    lazy: firstNonNull,
  }),
  defineLazy({
    name: "ifnull",
    category: "conditional",
    doc: "value, or fallback when value is NULL.",
    params: ["value: any", "fallback: any"],
    returns: { text: "the arguments' type", of: (args) => sharedType(args) },
    nullable: (args) => args.every((a) => a.nullable),
    check: sameTypeProblem("ifnull"),
    lazy: firstNonNull,
  }),
  defineFunction({
    name: "nullif",
    category: "conditional",
    doc: "NULL when value equals other, else value.",
    params: ["value: any", "other: any"],
    returns: { text: "value's type", of: (args) => sharedType(args.slice(0, 1)) },
    nullable: "always",
    nulls: "pass",
    check: sameTypeProblem("nullif"),
    impl: (a, b) => (a === null || (b !== null && equalDynamic(a, b)) ? null : a),
  }),
  defineLazy({
    name: "if",
    aliases: ["iif"],
    category: "conditional",
    doc: "then_value when condition is TRUE, else else_value (NULL counts as not TRUE). Only the chosen branch is evaluated.",
    params: ["condition: boolean", "then_value: any", "else_value: any"],
    returns: { text: "the branches' type", of: (args) => sharedType(args, 1) },
    nullable: (args) => args.slice(1).some((a) => a.nullable),
    check: sameTypeProblem("if", 1),
    lazy: ([cond, then, otherwise]) => {
      if (!cond || !then || !otherwise) throw new Error("if() compiled with missing arguments");
      return (r) => (cond(r) === true ? then(r) : otherwise(r));
    },
  }),
  defineVariadic({
    name: "greatest",
    category: "conditional",
    doc: "The largest argument, ignoring NULLs.",
    rest: "values: any",
    minArgs: 1,
    nulls: "pass",
    returns: { text: "the arguments' type", of: (args) => sharedType(args) },
    nullable: (args) => args.every((a) => a.nullable),
    check: sameTypeProblem("greatest", 0, true),
    impl: extreme(1),
  }),
  defineVariadic({
    name: "least",
    category: "conditional",
    doc: "The smallest argument, ignoring NULLs.",
    rest: "values: any",
    minArgs: 1,
    nulls: "pass",
    returns: { text: "the arguments' type", of: (args) => sharedType(args) },
    nullable: (args) => args.every((a) => a.nullable),
    check: sameTypeProblem("least", 0, true),
    impl: extreme(-1),
  }),
  defineFunction({
    name: "typeof",
    category: "conditional",
    doc: "The type of the value: its declared type, or for schemaless values what it holds (string, number, boolean, array, object, null).",
    params: ["value: any"],
    returns: t.string,
    nullable: "never",
    nulls: "pass",
    prepare: (_ctx, args) => {
      const type = args[0]?.type ?? t.any;
      const declared = isDynamic(type) ? undefined : typeName(type);
      return (v) => (v === null ? "null" : (declared ?? runtimeTypeName(v)));
    },
  }),
  defineFunction({
    name: "array_contains",
    category: "array",
    doc: "Whether the array has an element equal to value; NULL if value is NULL.",
    params: ["values: array", "value: any"],
    returns: t.boolean,
    impl: (values, value) => values.some((v) => v !== null && v !== undefined && equalDynamic(v, value)),
  }),
];
