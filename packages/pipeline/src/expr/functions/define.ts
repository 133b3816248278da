import { type DataType, typeName } from "../../record-schema";
import type { Evaluator } from "../evaluator";

// How a function is declared: once, with everything the checker, the compiler, the editor's autocomplete and
// the docs need. Parameters are written as text (`"start: int"`, `"length?: int"`); the same text yields the
// signature shown to people and, through template-literal types, the TypeScript types of the implementation.

/**
 * `text` accepts a value of any type and receives it converted to a string the way CAST does (so timestamps
 * arrive as ISO text); `number` is int or float; `json` is any JSON value or JSON text.
 */
export type ParamKind =
  | "string"
  | "text"
  | "int"
  | "float"
  | "number"
  | "boolean"
  | "timestamp"
  | "json"
  | "any"
  | "array";

export type ParamText = `${string}: ${ParamKind}` | `${string}?: ${ParamKind}`;

/** What each parameter kind is at run time (after NULL handling). `number` is int or float. */
interface KindValue {
  string: string;
  text: string;
  int: number;
  float: number;
  number: number;
  boolean: boolean;
  timestamp: number;
  json: unknown;
  any: unknown;
  array: readonly unknown[];
}

type ValueOf<S> = S extends `${string}?: ${infer K extends ParamKind}`
  ? KindValue[K] | undefined
  : S extends `${string}: ${infer K extends ParamKind}`
    ? KindValue[K]
    : never;

export type ArgValues<P extends readonly ParamText[]> = { -readonly [I in keyof P]: ValueOf<P[I]> };

export type FunctionCategory =
  | "string"
  | "math"
  | "date-time"
  | "json"
  | "hash"
  | "conditional"
  | "conversion"
  | "array";

/** What the checker knows about an argument. Constant arguments (literals, parameters) carry their value. */
export interface ArgInfo {
  type: DataType;
  nullable: boolean;
  constant: boolean;
  value: unknown;
}

export interface FunctionContext {
  /** Default IANA time zone. */
  timeZone: string;
  now: () => number;
}

/** A problem with one argument, reported at that argument's position. */
export interface ArgProblem {
  index: number;
  message: string;
  code?: "type" | "limit";
}

/** Untyped view of an implementation; the checker guarantees the argument types. */
export type Impl = (...args: unknown[]) => unknown;

export interface Param {
  name: string;
  kind: ParamKind;
  optional: boolean;
}

export interface ScalarFunctionDef {
  kind: "scalar";
  name: string;
  aliases: readonly string[];
  category: FunctionCategory;
  signature: string;
  doc: string;
  params: readonly Param[];
  /** Variadic tail, repeated any number of times after `params`. */
  rest?: Param;
  minArgs: number;
  maxArgs: number;
  returns: (args: readonly ArgInfo[]) => DataType;
  nullable: (args: readonly ArgInfo[]) => boolean;
  /** Extra checks beyond parameter kinds (same-type arguments, constant patterns, zones, units). */
  check?: (args: readonly ArgInfo[], ctx: FunctionContext) => ArgProblem | undefined;
  /** False for functions whose result changes between calls with the same arguments (now()). */
  pure: boolean;
  /** `propagate`: any NULL argument makes the result NULL without calling the implementation. */
  nulls: "propagate" | "pass";
  /** Builds the implementation, specialised on constant arguments (a compiled regex, a parsed pattern). */
  build?: (ctx: FunctionContext, args: readonly ArgInfo[]) => Impl;
  /** Functions that must not evaluate every argument (coalesce, if) compile their own closure. */
  lazy?: (args: readonly Evaluator[]) => Evaluator;
}

export function parseParam(text: string): Param {
  const m = /^(\w+)(\?)?: (\w+)$/.exec(text);
  if (!m) throw new Error(`Bad parameter declaration "${text}"`);
  return { name: m[1] ?? "", optional: m[2] === "?", kind: m[3] as ParamKind };
}

type Nullability = "args" | "always" | "never" | ((args: readonly ArgInfo[]) => boolean);

interface CommonSpec {
  name: string;
  aliases?: readonly string[];
  category: FunctionCategory;
  doc: string;
  returns: DataType | { text: string; of: (args: readonly ArgInfo[]) => DataType };
  nullable?: Nullability;
  check?: (args: readonly ArgInfo[], ctx: FunctionContext) => ArgProblem | undefined;
  pure?: boolean;
}

interface FixedSpec<P extends readonly ParamText[]> extends CommonSpec {
  params: P;
  impl?: (...args: ArgValues<P>) => unknown;
  prepare?: (ctx: FunctionContext, args: readonly ArgInfo[]) => (...args: ArgValues<P>) => unknown;
  nulls?: "propagate" | "pass";
}

function nullability(n: Nullability | undefined): (args: readonly ArgInfo[]) => boolean {
  if (typeof n === "function") return n;
  if (n === "always") return () => true;
  if (n === "never") return () => false;
  return (args) => args.some((a) => a.nullable);
}

function signatureOf(name: string, params: readonly Param[], rest: Param | undefined, returns: string): string {
  const parts: string[] = [];
  let optional = "";
  for (const p of params) {
    const text = `${p.name}: ${p.kind}`;
    if (p.optional) {
      parts.push(`[${text}`);
      optional += "]";
    } else parts.push(text);
  }
  if (rest) parts.push(`${rest.name}: ${rest.kind}...`);
  const list = parts.join(", ").replace(/, \[/g, " [, ");
  return `${name}(${list}${optional}) → ${returns}`;
}

/** What every declaration shares, with the signature made from its parameters (`rest` for variadics). */
function common(spec: CommonSpec, params: readonly Param[], rest?: Param) {
  const returns = spec.returns;
  const returnsText = "kind" in returns ? typeName(returns) : returns.text;
  const base = {
    kind: "scalar" as const,
    name: spec.name,
    aliases: spec.aliases ?? [],
    category: spec.category,
    doc: spec.doc,
    signature: signatureOf(spec.name, params, rest, returnsText),
    params,
    minArgs: params.filter((p) => !p.optional).length,
    maxArgs: rest ? Number.POSITIVE_INFINITY : params.length,
    returns: "kind" in returns ? () => returns : returns.of,
    nullable: nullability(spec.nullable),
    pure: spec.pure ?? true,
  };
  return spec.check ? { ...base, check: spec.check } : base;
}

/** A function with a fixed parameter list (some optional). */
export function defineFunction<const P extends readonly ParamText[]>(spec: FixedSpec<P>): ScalarFunctionDef {
  const { impl, prepare } = spec;
  // The one place typed implementations become untyped: the checker has already ensured argument types.
  const build = prepare
    ? (ctx: FunctionContext, args: readonly ArgInfo[]) => prepare(ctx, args) as unknown as Impl
    : impl
      ? () => impl as unknown as Impl
      : undefined;
  if (build === undefined) throw new Error(`Function ${spec.name} has no implementation`);
  return { ...common(spec, spec.params.map(parseParam)), nulls: spec.nulls ?? "propagate", build };
}

interface VariadicSpec<K extends ParamKind> extends CommonSpec {
  rest: `${string}: ${K}`;
  minArgs: number;
  nulls: "propagate" | "pass";
  impl?: (...args: (KindValue[K] | null)[]) => unknown;
  lazy?: (args: readonly Evaluator[]) => Evaluator;
}

/** A function taking any number (at least `minArgs`) of arguments of one kind. */
export function defineVariadic<const K extends ParamKind>(spec: VariadicSpec<K>): ScalarFunctionDef {
  const def: ScalarFunctionDef = {
    ...common(spec, [], parseParam(spec.rest)),
    rest: parseParam(spec.rest),
    minArgs: spec.minArgs,
    nulls: spec.nulls,
  };
  const { impl, lazy } = spec;
  if (impl) def.build = () => impl as unknown as Impl;
  if (lazy) def.lazy = lazy;
  return def;
}

/** A function that controls which arguments it evaluates (conditional functions). */
export function defineLazy<const P extends readonly ParamText[]>(
  spec: CommonSpec & { params: P; lazy: (args: readonly Evaluator[]) => Evaluator },
): ScalarFunctionDef {
  return { ...common(spec, spec.params.map(parseParam)), nulls: "pass", lazy: spec.lazy };
}
