import type { DataRecord, DataType } from "../record-schema";
import { closestName } from "../suggest";
import { type CheckMode, type CheckOutput, checkTree } from "./checker";
import { Compiler } from "./compiler";
import { exprError } from "./errors";
import type { Evaluator } from "./evaluator";
import type { AccumulatorOps } from "./functions/aggregate";
import type { FunctionCategory } from "./functions/define";
import { FUNCTION_DEFS } from "./functions/registry";
import { type Ir, irChildren } from "./ir";
import { withinExpression } from "./limits";
import { parse } from "./parser";
import { type Span, span } from "./position";
import { isValidTimeZone, knownTimeZones } from "./time";
import type {
  CompiledAggregate,
  CompiledExpression,
  CompiledPredicate,
  CompileOptions,
  CompileResult,
  ExprError,
} from "./types";

// The expression language's front door: parse → check → compile. Bad expressions come back as errors with
// positions; nothing here throws for anything a user can type.

export interface FunctionInfo {
  name: string;
  aliases: readonly string[];
  /** e.g. `substr(text: string, start: int [, length: int]) → string` */
  signature: string;
  doc: string;
  category: FunctionCategory | "aggregate";
  /** Only valid in window aggregates (`compileAggregate`). */
  aggregate: boolean;
}

/** Every function, for editor autocomplete and the reference docs; derived from the declarations themselves. */
export const FUNCTIONS: readonly FunctionInfo[] = FUNCTION_DEFS.map((def) => ({
  name: def.name,
  aliases: def.aliases,
  signature: def.signature,
  doc: def.doc,
  category: def.category,
  aggregate: def.kind === "aggregate",
}));

export interface CheckResult {
  type?: DataType;
  nullable?: boolean;
  errors: ExprError[];
  fields: string[];
}

type Prepared =
  | { ok: true; check: CheckOutput; timeZone: string }
  | {
      ok: false;
      errors: ExprError[] /** Fields found before the errors, still useful to an editor. */;
      fields: string[];
    };

function prepare(source: string, options: CompileOptions, mode: CheckMode, bind: boolean): Prepared {
  if (typeof source !== "string") {
    return { ok: false, errors: [exprError("", "syntax", "An expression must be text", span(0, 0))], fields: [] };
  }
  const timeZone = options.timeZone ?? "UTC";
  if (!isValidTimeZone(timeZone)) {
    const message = `Unknown time zone '${timeZone}' in the pipeline settings`;
    const suggestion = closestName(timeZone, knownTimeZones());
    const error = exprError(source, "parameter", message, span(0, source.length), { suggestion });
    return { ok: false, errors: [error], fields: [] };
  }
  const parsed = parse(source);
  if (!parsed.ok) return { ok: false, errors: parsed.errors, fields: [] };
  const check = checkTree(parsed.expr, { source, options, mode, bind, timeZone });
  if (check.errors.length > 0) return { ok: false, errors: check.errors, fields: check.fields };
  return { ok: true, check, timeZone };
}

/**
 * Type-checks for the editor and definition validation; parameters need no values. It also folds constant
 * sub-expressions, so what fails only at compile time (`1 / 0`) is reported here too.
 */
export function checkExpression(source: string, options: CompileOptions, mode: CheckMode): CheckResult {
  return withinExpression(() => {
    const pre = prepare(source, options, mode, false);
    if (!pre.ok) return { errors: pre.errors, fields: pre.fields };
    const { ir, fields } = pre.check;
    const compiler = compilerFor(source, options, pre.timeZone);
    if (mode === "predicate") compiler.test(ir);
    else if (mode === "aggregate") aggregateParts(compiler, ir);
    else compiler.evaluator(ir);
    if (compiler.errors.length > 0) return { errors: compiler.errors, fields };
    return { type: ir.type, nullable: ir.nullable, errors: [], fields };
  });
}

function compilerFor(source: string, options: CompileOptions, timeZone: string): Compiler {
  return new Compiler(source, { timeZone, now: options.now ?? Date.now });
}

export function compileExpression(source: string, options: CompileOptions): CompileResult<CompiledExpression> {
  return withinExpression(() => {
    const pre = prepare(source, options, "scalar", true);
    if (!pre.ok) return { ok: false, errors: pre.errors };
    const { ir, fields } = pre.check;
    const compiler = compilerFor(source, options, pre.timeZone);
    const evaluate = compiler.evaluator(ir);
    if (compiler.errors.length > 0) return { ok: false, errors: compiler.errors };
    return { ok: true, value: { source, type: ir.type, nullable: ir.nullable, fields, evaluate } };
  });
}

export function compilePredicate(source: string, options: CompileOptions): CompileResult<CompiledPredicate> {
  return withinExpression(() => {
    const pre = prepare(source, options, "predicate", true);
    if (!pre.ok) return { ok: false, errors: pre.errors };
    const { ir, fields } = pre.check;
    const compiler = compilerFor(source, options, pre.timeZone);
    const test = compiler.test(ir);
    if (compiler.errors.length > 0) return { ok: false, errors: compiler.errors };
    return { ok: true, value: { source, fields, test } };
  });
}

/** Aggregate calls in evaluation order; their arguments never contain aggregates (the checker forbids it). */
function aggregateNodes(ir: Ir, out: Extract<Ir, { kind: "aggregate" }>[] = []): Extract<Ir, { kind: "aggregate" }>[] {
  if (ir.kind === "aggregate") {
    out.push(ir);
    return out;
  }
  for (const child of irChildren(ir)) aggregateNodes(child, out);
  return out;
}

const EMPTY: DataRecord = Object.freeze({});

/** Compiles the aggregate calls' arguments (one slot each) and the expression over their results. */
function aggregateParts(compiler: Compiler, ir: Ir) {
  const nodes = aggregateNodes(ir);
  const slots = nodes.map((node) => {
    const info = node.arg
      ? { type: node.arg.type, nullable: node.arg.nullable, constant: node.arg.kind === "const", value: undefined }
      : undefined;
    const ops: AccumulatorOps = node.fn.accumulator(info, { distinct: node.distinct, star: node.star });
    const arg: Evaluator = node.arg ? compiler.evaluator(node.arg) : () => null;
    return { ops, arg };
  });
  compiler.useAggregateSlots(nodes);
  return { nodes, slots, outer: compiler.evaluator(ir) };
}

export function compileAggregate(source: string, options: CompileOptions): CompileResult<CompiledAggregate> {
  return withinExpression(() => {
    const pre = prepare(source, options, "aggregate", true);
    if (!pre.ok) return { ok: false, errors: pre.errors };
    const { ir, fields } = pre.check;
    const compiler = compilerFor(source, options, pre.timeZone);
    const { nodes, slots, outer } = aggregateParts(compiler, ir);
    if (compiler.errors.length > 0) return { ok: false, errors: compiler.errors };
    const results = compiler.aggregateResults;
    const n = slots.length;
    const ops = slots.map((s) => s.ops);
    const args = slots.map((s) => s.arg);
    const spans = nodes.map((node) => node.span);
    const values = new Array<unknown>(n);
    const next = new Array<unknown>(n);
    const state = (acc: unknown): unknown[] => {
      if (!Array.isArray(acc) || acc.length !== n) throw new Error(`Accumulator for \`${source}\` has the wrong shape`);
      return acc;
    };
    const value: CompiledAggregate = {
      source,
      type: ir.type,
      nullable: ir.nullable,
      fields,
      init: () => ops.map((o) => o.init()),
      add: (acc, record) => {
        const s = state(acc);
        // All-or-nothing: a record that fails (bad value, incomparable type) leaves the state untouched, since
        // the engine sends it to the dead-letter queue instead of counting it.
        for (let i = 0; i < n; i++) values[i] = (args[i] as Evaluator)(record);
        for (let i = 0; i < n; i++) {
          const o = ops[i] as AccumulatorOps;
          if (o.mutates) continue;
          try {
            next[i] = o.add(s[i], values[i]);
          } catch (e) {
            throw compiler.rethrow(e, spans[i] as Span);
          }
        }
        for (let i = 0; i < n; i++) {
          const o = ops[i] as AccumulatorOps;
          s[i] = o.mutates ? o.add(s[i], values[i]) : next[i];
        }
        return s;
      },
      merge: (a, b) => {
        const sa = state(a);
        const sb = state(b);
        return ops.map((o, i) => {
          try {
            return o.merge(sa[i], sb[i]);
          } catch (e) {
            throw compiler.rethrow(e, spans[i] as Span);
          }
        });
      },
      result: (acc) => {
        const s = state(acc);
        for (let i = 0; i < n; i++) results[i] = (ops[i] as AccumulatorOps).result(s[i]);
        return outer(EMPTY);
      },
    };
    return { ok: true, value };
  });
}
