import { type DataRecord, field, type RecordSchema, t } from "../record-schema";
import { checkExpression, compileAggregate, compileExpression, compilePredicate } from "./compile";
import { ExpressionRuntimeError } from "./errors";
import type { CompiledAggregate, CompileOptions, ExprError } from "./types";

// Shared fixtures for the expression tests (not used by production code).

export const schema: RecordSchema = {
  open: false,
  fields: [
    field("amount", t.int),
    field("price", t.float),
    field("country", t.string),
    field("name", t.string, true),
    field("ts", t.timestamp),
    field("flag", t.boolean, true),
    field("tags", t.array(t.string), true),
    field("payload", t.json, true),
    field("customer", t.object([field("id", t.int), field("address", t.object([field("city", t.string)]), true)])),
    field("n", t.int, true),
    field("f", t.float, true),
    field("s", t.string, true),
    field("b", t.boolean, true),
    field("data", t.any, true),
    field("order id", t.int, true),
  ],
};

export const openSchema: RecordSchema = { open: true, fields: [field("amount", t.int)] };

export const NOW = Date.UTC(2024, 0, 15, 12, 0, 0);

export function options(extra: Partial<CompileOptions> = {}): CompileOptions {
  return { schema, now: () => NOW, ...extra };
}

/** Compiles (failing the test with the errors if it does not compile) and evaluates once. */
export function run(source: string, record: DataRecord = {}, extra: Partial<CompileOptions> = {}): unknown {
  const compiled = compileExpression(source, options(extra));
  if (!compiled.ok) throw new Error(`\`${source}\` did not compile: ${JSON.stringify(compiled.errors)}`);
  return compiled.value.evaluate(record);
}

export function passes(source: string, record: DataRecord = {}, extra: Partial<CompileOptions> = {}): boolean {
  const compiled = compilePredicate(source, options(extra));
  if (!compiled.ok) throw new Error(`\`${source}\` did not compile: ${JSON.stringify(compiled.errors)}`);
  return compiled.value.test(record);
}

/** The errors compiling `source` as a scalar expression (empty if it compiles). */
export function errorsOf(source: string, extra: Partial<CompileOptions> = {}): ExprError[] {
  const compiled = compileExpression(source, options(extra));
  return compiled.ok ? [] : compiled.errors;
}

/** The single error of `source`, checked through both checkExpression and compileExpression. */
export function errorOf(
  source: string,
  mode: "scalar" | "predicate" | "aggregate" = "scalar",
  extra: Partial<CompileOptions> = {},
): ExprError {
  const checked = checkExpression(source, options(extra), mode);
  const compiled =
    mode === "scalar"
      ? compileExpression(source, options(extra))
      : mode === "predicate"
        ? compilePredicate(source, options(extra))
        : compileAggregate(source, options(extra));
  const errors = compiled.ok ? [] : compiled.errors;
  const [first] = errors.length > 0 ? errors : checked.errors;
  if (first === undefined) throw new Error(`\`${source}\` has no error`);
  return first;
}

/** The error thrown when evaluating `source` on `record`; fails if nothing is thrown. */
export function runtimeErrorOf(source: string, record: DataRecord = {}, extra: Partial<CompileOptions> = {}) {
  try {
    run(source, record, extra);
  } catch (e) {
    if (e instanceof ExpressionRuntimeError) return e;
    throw e;
  }
  throw new Error(`\`${source}\` did not fail`);
}

export function aggregate(source: string, extra: Partial<CompileOptions> = {}): CompiledAggregate {
  const compiled = compileAggregate(source, options(extra));
  if (!compiled.ok) throw new Error(`\`${source}\` did not compile: ${JSON.stringify(compiled.errors)}`);
  return compiled.value;
}

/** Aggregates `records` in arrival order and returns the result. */
export function aggregateOver(source: string, records: readonly DataRecord[], extra: Partial<CompileOptions> = {}) {
  const agg = aggregate(source, extra);
  let acc = agg.init();
  for (const r of records) acc = agg.add(acc, r);
  return agg.result(acc);
}
