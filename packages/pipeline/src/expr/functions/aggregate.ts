import { type DataType, t, typeName } from "../../record-schema";
import { isOrderable, numericResult } from "../type-rules";
import { compareDynamic, toJsonText } from "../values";
import { type ArgInfo, type ArgProblem, type Param, parseParam } from "./define";

// Window aggregates. Each keeps a state that is plain JSON (numbers, null, arrays, objects) so the engine can
// checkpoint it, and whose `merge` is associative so session windows can be combined in any grouping.
// `add` may update the state in place and returns it; `merge` never modifies its inputs.

export interface AccumulatorOps {
  /** Updates its state in place (and never throws); others return a new state and may throw. */
  mutates: boolean;
  init(): unknown;
  /** `value` is the evaluated argument (NULL as null); ignored by count(*). */
  add(state: unknown, value: unknown): unknown;
  merge(a: unknown, b: unknown): unknown;
  result(state: unknown): unknown;
}

export interface AggregateFunctionDef {
  kind: "aggregate";
  name: string;
  aliases: readonly string[];
  category: "aggregate";
  signature: string;
  doc: string;
  param: Param;
  allowsStar: boolean;
  allowsDistinct: boolean;
  returns: (arg: ArgInfo | undefined) => DataType;
  /** Whether the result can be NULL (e.g. sum of no non-NULL values). */
  nullable: boolean;
  check?: (arg: ArgInfo) => ArgProblem | undefined;
  accumulator: (arg: ArgInfo | undefined, options: { distinct: boolean; star: boolean }) => AccumulatorOps;
}

interface AggregateSpec extends Omit<AggregateFunctionDef, "kind" | "aliases" | "category" | "signature" | "param"> {
  param: `${string}: ${string}`;
  aliases?: readonly string[];
  signature: string;
}

function defineAggregate(spec: AggregateSpec): AggregateFunctionDef {
  const { param, aliases, ...rest } = spec;
  return { ...rest, kind: "aggregate", category: "aggregate", aliases: aliases ?? [], param: parseParam(param) };
}

const num = (v: unknown) => v as number;

const counter: AccumulatorOps = {
  mutates: false,
  init: () => 0,
  add: (s, v) => (v === null ? s : num(s) + 1),
  merge: (a, b) => num(a) + num(b),
  result: (s) => s,
};

const rowCounter: AccumulatorOps = { ...counter, add: (s) => num(s) + 1 };

/** Distinct values as keys of an object (type-prefixed so 1 and '1' differ and no key is `__proto__`). */
function distinctKey(v: unknown): string {
  switch (typeof v) {
    case "string":
      return `s:${v}`;
    case "number":
      return `n:${v}`;
    case "boolean":
      return `b:${v}`;
    default:
      return `j:${toJsonText(v)}`;
  }
}

type KeySet = Record<string, 1>;

const distinctCounter: AccumulatorOps = {
  mutates: true,
  init: () => ({}),
  add: (s, v) => {
    if (v !== null) (s as KeySet)[distinctKey(v)] = 1;
    return s;
  },
  merge: (a, b) => Object.assign({}, a as KeySet, b as KeySet),
  result: (s) => Object.keys(s as KeySet).length,
};

const summer: AccumulatorOps = {
  mutates: false,
  init: () => null,
  add: (s, v) => (v === null ? s : s === null ? v : num(s) + num(v)),
  merge: (a, b) => (a === null ? b : b === null ? a : num(a) + num(b)),
  result: (s) => s,
};

type SumCount = [number, number];

const averager: AccumulatorOps = {
  mutates: true,
  init: (): SumCount => [0, 0],
  add: (s, v) => {
    if (v !== null) {
      const sc = s as SumCount;
      sc[0] += num(v);
      sc[1] += 1;
    }
    return s;
  },
  merge: (a, b) => {
    const [sa, ca] = a as SumCount;
    const [sb, cb] = b as SumCount;
    return [sa + sb, ca + cb];
  },
  result: (s) => {
    const [sum, count] = s as SumCount;
    return count === 0 ? null : sum / count;
  },
};

function extreme(sign: 1 | -1): AccumulatorOps {
  const pick = (a: unknown, b: unknown) => (a === null ? b : b === null ? a : compareDynamic(b, a) * sign > 0 ? b : a);
  return { mutates: false, init: () => null, add: pick, merge: pick, result: (s) => s };
}

const first: AccumulatorOps = {
  mutates: false,
  init: () => null,
  add: (s, v) => (s === null ? v : s),
  merge: (a, b) => (a === null ? b : a),
  result: (s) => s,
};

const last: AccumulatorOps = {
  mutates: false,
  init: () => null,
  add: (s, v) => (v === null ? s : v),
  merge: (a, b) => (b === null ? a : b),
  result: (s) => s,
};

const sameAsArg = (arg: ArgInfo | undefined): DataType =>
  arg === undefined || arg.type.kind === "null" ? t.any : arg.type;

function orderable(arg: ArgInfo): ArgProblem | undefined {
  if (isOrderable(arg.type)) return undefined;
  return { index: 0, message: `Cannot order values of type ${typeName(arg.type)}` };
}

export const AGGREGATE_FUNCTIONS: readonly AggregateFunctionDef[] = [
  defineAggregate({
    name: "count",
    signature: "count(* | value: any | DISTINCT value: any) → int",
    doc: "Number of records (count(*)), of non-NULL values, or of distinct non-NULL values.",
    param: "value: any",
    allowsStar: true,
    allowsDistinct: true,
    returns: () => t.int,
    nullable: false,
    accumulator: (_arg, { distinct, star }) => (star ? rowCounter : distinct ? distinctCounter : counter),
  }),
  defineAggregate({
    name: "sum",
    signature: "sum(value: number) → int | float",
    doc: "Sum of the non-NULL values; NULL if there are none.",
    param: "value: number",
    allowsStar: false,
    allowsDistinct: false,
    returns: (arg) => numericResult(arg?.type),
    nullable: true,
    accumulator: () => summer,
  }),
  defineAggregate({
    name: "avg",
    aliases: ["mean"],
    signature: "avg(value: number) → float",
    doc: "Mean of the non-NULL values; NULL if there are none.",
    param: "value: number",
    allowsStar: false,
    allowsDistinct: false,
    returns: () => t.float,
    nullable: true,
    accumulator: () => averager,
  }),
  defineAggregate({
    name: "min",
    signature: "min(value: any) → same type",
    doc: "Smallest non-NULL value (numbers, strings, booleans, timestamps).",
    param: "value: any",
    allowsStar: false,
    allowsDistinct: false,
    returns: sameAsArg,
    nullable: true,
    check: orderable,
    accumulator: () => extreme(-1),
  }),
  defineAggregate({
    name: "max",
    signature: "max(value: any) → same type",
    doc: "Largest non-NULL value (numbers, strings, booleans, timestamps).",
    param: "value: any",
    allowsStar: false,
    allowsDistinct: false,
    returns: sameAsArg,
    nullable: true,
    check: orderable,
    accumulator: () => extreme(1),
  }),
  defineAggregate({
    name: "first",
    aliases: ["first_value"],
    signature: "first(value: any) → same type",
    doc: "The first non-NULL value in arrival order (of merged windows, the earlier one's).",
    param: "value: any",
    allowsStar: false,
    allowsDistinct: false,
    returns: sameAsArg,
    nullable: true,
    accumulator: () => first,
  }),
  defineAggregate({
    name: "last",
    aliases: ["last_value"],
    signature: "last(value: any) → same type",
    doc: "The last non-NULL value in arrival order (of merged windows, the later one's).",
    param: "value: any",
    allowsStar: false,
    allowsDistinct: false,
    returns: sameAsArg,
    nullable: true,
    accumulator: () => last,
  }),
];
