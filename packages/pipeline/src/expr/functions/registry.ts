import { AGGREGATE_FUNCTIONS, type AggregateFunctionDef } from "./aggregate";
import { CONDITIONAL_FUNCTIONS } from "./conditional";
import { DATETIME_FUNCTIONS } from "./datetime";
import type { ScalarFunctionDef } from "./define";
import { HASH_FUNCTIONS } from "./hash";
import { JSON_FUNCTIONS } from "./json";
import { MATH_FUNCTIONS } from "./math";
import { STRING_FUNCTIONS } from "./string";

// The explicit list of every function the language knows: the checker, the compiler and the editor's
// metadata all read this table.

export type FunctionDef = ScalarFunctionDef | AggregateFunctionDef;

export const FUNCTION_DEFS: readonly FunctionDef[] = [
  ...STRING_FUNCTIONS,
  ...MATH_FUNCTIONS,
  ...DATETIME_FUNCTIONS,
  ...JSON_FUNCTIONS,
  ...HASH_FUNCTIONS,
  ...CONDITIONAL_FUNCTIONS,
  ...AGGREGATE_FUNCTIONS,
];

const byName = new Map<string, FunctionDef>();
for (const def of FUNCTION_DEFS) {
  for (const name of [def.name, ...def.aliases]) {
    if (byName.has(name)) throw new Error(`Function name ${name} is declared twice`);
    byName.set(name, def);
  }
}

/** Case-insensitive lookup by name or alias. */
export function lookupFunction(name: string): FunctionDef | undefined {
  return byName.get(name.toLowerCase());
}

export function allFunctionNames(): IterableIterator<string> {
  return byName.keys();
}
