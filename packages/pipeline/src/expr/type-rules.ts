import { type DataType, sameType, t } from "../record-schema";

// Type relations shared by the checker and the function declarations.

/** Types whose values are only known at run time: checked and converted when a record is evaluated. */
export function isDynamic(type: DataType): boolean {
  return type.kind === "any" || type.kind === "json";
}

/** Types that can be ordered with < and >: numbers, strings, booleans, timestamps (and dynamic values). */
export function isOrderable(type: DataType): boolean {
  return ["int", "float", "string", "boolean", "timestamp", "null"].includes(type.kind) || isDynamic(type);
}

/**
 * The type of a value that may come from either side (CASE branches, coalesce arguments): NULL takes the
 * other side's type, int widens to float, a dynamic side makes the result dynamic. Undefined if incompatible.
 */
export function unify(a: DataType, b: DataType): DataType | undefined {
  if (a.kind === "null") return b;
  if (b.kind === "null") return a;
  if (isDynamic(a) || isDynamic(b)) return a.kind === "json" && b.kind === "json" ? t.json : t.any;
  if ((a.kind === "int" && b.kind === "float") || (a.kind === "float" && b.kind === "int")) return t.float;
  return sameType(a, b) ? a : undefined;
}

/** Unifies all types, or names the first that does not fit (by index). */
export function unifyAll(types: readonly DataType[]): { ok: true; type: DataType } | { ok: false; index: number } {
  let acc: DataType = t.null;
  for (const [index, type] of types.entries()) {
    const next = unify(acc, type);
    if (next === undefined) return { ok: false, index };
    acc = next;
  }
  return { ok: true, type: acc };
}

/** int stays int; anything else numeric is float. */
export function numericResult(type: DataType | undefined): DataType {
  return type?.kind === "int" ? t.int : t.float;
}
