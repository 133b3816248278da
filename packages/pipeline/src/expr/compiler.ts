import type { DataRecord } from "../record-schema";
import { ExpressionRuntimeError, ExprFault, exprError, type RuntimeErrorCode } from "./errors";
import type { Evaluator } from "./evaluator";
import type { ArgInfo, FunctionContext } from "./functions/define";
import type { CompareOp, Ir, IrOf } from "./ir";
import { compileLike, type LikeMatcher } from "./like";
import { EXPR_LIMITS, FoldBudget, FoldDeferred, foldWithin } from "./limits";
import { type Span, toPosition } from "./position";
import { formatIsoUtc } from "./time";
import type { ExprError } from "./types";
import {
  castToBoolean,
  castToFloat,
  castToInt,
  castToTimestamp,
  compareDynamic,
  equalDynamic,
  expectArray,
  expectBoolean,
  expectInt,
  expectNumber,
  expectString,
  expectTimestamp,
  formatValue,
  getIndex,
  getMember,
} from "./values";

// Checked expression → closures. Each node becomes one closure chosen for its types and shape (a field compared
// with a constant gets its own closure, constants are folded, AND/OR short-circuit), so evaluating a record
// is a handful of direct calls: no per-record switch over node kinds, no allocation, no text evaluated as code.
// Operators and ordinary functions evaluate all their operands before looking for NULL (as SQL's strict
// functions do), so an error in an operand surfaces whether or not another operand is NULL; only AND, OR,
// CASE, IN and the conditional functions skip operands.

const hasOwn = Object.hasOwn;
const EMPTY: DataRecord = Object.freeze({});

/** A compiled node; `constant` when it was folded to `value` at compile time. */
interface Compiled {
  ev: Evaluator;
  constant: boolean;
  value: unknown;
}

export class Compiler {
  /** Compile-time errors found while folding constants (e.g. `1 / 0`, `CAST('x' AS INT)`). */
  readonly errors: ExprError[] = [];
  /** Results of aggregate slots, filled before an aggregate's outer expression is evaluated. */
  readonly aggregateResults: unknown[] = [];
  private readonly aggregateSlots = new Map<Ir, number>();
  private readonly foldBudget = new FoldBudget();

  constructor(
    private readonly source: string,
    private readonly fn: FunctionContext,
  ) {}

  /** Registers the aggregate calls of an aggregate expression, in order; they read their slot's result. */
  useAggregateSlots(nodes: readonly Ir[]): void {
    for (const [i, n] of nodes.entries()) this.aggregateSlots.set(n, i);
  }

  evaluator(ir: Ir): Evaluator {
    return this.compile(ir).ev;
  }

  // ---- runtime errors ----------------------------------------------------------------------------------

  private runtimeError(code: RuntimeErrorCode, message: string, at: Span): ExpressionRuntimeError {
    return new ExpressionRuntimeError(code, message, this.source, toPosition(this.source, at));
  }

  /** Gives any failure inside a node the node's position; errors from deeper nodes keep theirs. */
  rethrow(e: unknown, at: Span): Error {
    if (e instanceof ExpressionRuntimeError || e instanceof FoldDeferred) return e;
    if (e instanceof ExprFault) return this.runtimeError(e.code, e.message, at);
    return this.runtimeError("invalid-argument", e instanceof Error ? e.message : String(e), at);
  }

  // ---- folding -----------------------------------------------------------------------------------------

  private constant(value: unknown): Compiled {
    return { ev: () => value, constant: true, value };
  }

  /**
   * Folds a pure node whose inputs are all constant; a failure becomes a compile-time error. Folding runs
   * where expressions are validated (the web process), so it has a budget: each fold is charged the size of
   * its inputs and result and any match work, and a fold the budget cannot pay for is left to run per record.
   */
  private fold(ev: Evaluator, parts: readonly Compiled[], at: Span, pure = true): Compiled {
    const later = { ev, constant: false, value: undefined };
    if (!pure || !parts.every((p) => p.constant)) return later;
    let inputs = 1;
    for (const p of parts) inputs += sizeOf(p.value);
    if (!this.foldBudget.spend(inputs)) return later;
    try {
      const value = foldWithin(this.foldBudget, () => ev(EMPTY));
      // The result is built already (each function bounds its own output); what it costs is charged after.
      if (!this.foldBudget.spend(sizeOf(value))) this.foldBudget.remaining = 0;
      return this.constant(value);
    } catch (e) {
      if (e instanceof FoldDeferred) return later;
      const message = e instanceof ExpressionRuntimeError ? e.detail : e instanceof Error ? e.message : String(e);
      const position = e instanceof ExpressionRuntimeError ? e.position : toPosition(this.source, at);
      const code = e instanceof ExpressionRuntimeError && e.code === "limit" ? "limit" : "type";
      this.errors.push({ ...exprError(this.source, code, message, at), position });
      return later;
    }
  }

  // ---- dispatch ----------------------------------------------------------------------------------------

  compile(ir: Ir): Compiled {
    switch (ir.kind) {
      case "const":
        // A parameter without a value (check-only) is unknown, not NULL: nothing may be folded through it.
        return ir.unbound ? { ev: () => null, constant: false, value: undefined } : this.constant(ir.value);
      case "field":
        return { ev: fieldReader(ir.name), constant: false, value: undefined };
      case "member": {
        const o = this.compile(ir.object);
        const key = ir.key;
        const O = o.ev;
        return this.fold((r) => getMember(O(r), key), [o], ir.span);
      }
      case "index": {
        const o = this.compile(ir.object);
        const i = this.compile(ir.index);
        const O = o.ev;
        if (i.constant) {
          const index = i.value;
          return this.fold((r) => getIndex(O(r), index), [o, i], ir.span);
        }
        const I = i.ev;
        return this.fold((r) => getIndex(O(r), I(r)), [o, i], ir.span);
      }
      case "expect":
        return this.expect(ir);
      case "not": {
        const o = this.compile(ir.operand);
        const O = o.ev;
        return this.fold(
          (r) => {
            const v = O(r);
            return v === null ? null : !v;
          },
          [o],
          ir.span,
        );
      }
      case "and":
      case "or":
        return this.logic(ir);
      case "compare":
        return this.compare(ir);
      case "arith":
        return this.arith(ir);
      case "neg": {
        const o = this.compile(ir.operand);
        const O = o.ev;
        return this.fold(
          (r) => {
            const v = O(r);
            return v === null ? null : 0 - (v as number);
          },
          [o],
          ir.span,
        );
      }
      case "concat":
        return this.concat(ir);
      case "is":
        return this.isTest(ir);
      case "distinct":
        return this.distinct(ir);
      case "between":
        return this.between(ir);
      case "in":
        return this.inList(ir);
      case "like":
        return this.like(ir);
      case "case":
        return this.caseExpr(ir);
      case "cast":
        return this.cast(ir);
      case "call":
        return this.call(ir);
      case "aggregate": {
        const slot = this.aggregateSlots.get(ir);
        if (slot === undefined) throw new Error("aggregate node outside an aggregate expression");
        const results = this.aggregateResults;
        return { ev: () => results[slot], constant: false, value: undefined };
      }
    }
  }

  // ---- node kinds --------------------------------------------------------------------------------------

  private expect(ir: IrOf<"expect">): Compiled {
    const o = this.compile(ir.operand);
    const O = o.ev;
    const at = ir.span;
    const zone = this.fn.timeZone;
    const check: (v: unknown) => unknown =
      ir.expected === "string"
        ? expectString
        : ir.expected === "number"
          ? expectNumber
          : ir.expected === "int"
            ? expectInt
            : ir.expected === "boolean"
              ? expectBoolean
              : ir.expected === "array"
                ? expectArray
                : (v) => expectTimestamp(v, zone);
    const fast =
      ir.expected === "number"
        ? "number"
        : ir.expected === "string"
          ? "string"
          : ir.expected === "boolean"
            ? "boolean"
            : "";
    return this.fold(
      (r) => {
        const v = O(r);
        if (v === null || typeof v === fast) return v;
        try {
          return check(v);
        } catch (e) {
          throw this.rethrow(e, at);
        }
      },
      [o],
      at,
    );
  }

  private logic(ir: IrOf<"and" | "or">): Compiled {
    const l = this.compile(ir.left);
    const r = this.compile(ir.right);
    const L = l.ev;
    const R = r.ev;
    // Short-circuit folding: FALSE AND x = FALSE, TRUE OR x = TRUE, whatever x is.
    const decisive = ir.kind !== "and";
    if ((l.constant && l.value === decisive) || (r.constant && r.value === decisive)) return this.constant(decisive);
    if (l.constant && l.value === !decisive) return r;
    if (r.constant && r.value === !decisive) return l;
    const ev: Evaluator =
      ir.kind === "and"
        ? (rec) => {
            const a = L(rec);
            if (a === false) return false;
            const b = R(rec);
            if (b === false) return false;
            return a === null || b === null ? null : true;
          }
        : (rec) => {
            const a = L(rec);
            if (a === true) return true;
            const b = R(rec);
            if (b === true) return true;
            return a === null || b === null ? null : false;
          };
    return this.fold(ev, [l, r], ir.span);
  }

  private compare(ir: IrOf<"compare">): Compiled {
    const l = this.compile(ir.left);
    const r = this.compile(ir.right);
    const at = ir.span;
    if (ir.dynamic) {
      const L = l.ev;
      const R = r.ev;
      const test = dynamicComparator(ir.op);
      return this.fold(
        (rec) => {
          const a = L(rec);
          const b = R(rec);
          if (a === null || b === null) return null;
          try {
            return test(a, b);
          } catch (e) {
            throw this.rethrow(e, at);
          }
        },
        [l, r],
        at,
      );
    }
    if ((l.constant && l.value === null) || (r.constant && r.value === null)) return this.constant(null);
    if (ir.left.kind === "field" && r.constant)
      return { ev: fieldConstCompare(ir.op, ir.left.name, r.value), constant: false, value: undefined };
    if (ir.right.kind === "field" && l.constant) {
      return { ev: fieldConstCompare(flip(ir.op), ir.right.name, l.value), constant: false, value: undefined };
    }
    if (r.constant) return this.fold(constCompare(ir.op, l.ev, r.value), [l, r], at);
    return this.fold(staticCompare(ir.op, l.ev, r.ev), [l, r], at);
  }

  private arith(ir: IrOf<"arith">): Compiled {
    const l = this.compile(ir.left);
    const r = this.compile(ir.right);
    const at = ir.span;
    if ((l.constant && l.value === null) || (r.constant && r.value === null)) return this.constant(null);
    const L = l.ev;
    const R = r.ev;
    const divByZero = () => this.runtimeError("division-by-zero", "Division by zero", at);
    // SQL engines refuse a result out of range rather than carry Infinity (which JSON would turn into null).
    const overflow = () => this.runtimeError("domain", "Numeric value out of range", at);
    let ev: Evaluator;
    if (r.constant && typeof r.value === "number") {
      const c = r.value;
      // A constant divisor is checked once, here.
      if ((ir.op === "/" || ir.op === "%") && c === 0) {
        ev = (rec) => {
          if (L(rec) === null) return null;
          throw divByZero();
        };
      } else {
        ev = constRightArith(ir.op, ir.integer, L, c, overflow);
      }
    } else {
      ev = binaryArith(ir.op, ir.integer, L, R, divByZero, overflow);
    }
    return this.fold(ev, [l, r], at);
  }

  private concat(ir: IrOf<"concat">): Compiled {
    const l = this.compile(ir.left);
    const r = this.compile(ir.right);
    const L = l.ev;
    const R = r.ev;
    const at = ir.span;
    return this.fold(
      (rec) => {
        const a = L(rec);
        const b = R(rec);
        if (a === null || b === null) return null;
        const left = a as string;
        const right = b as string;
        if (left.length + right.length > EXPR_LIMITS.maxStringResult) {
          throw this.runtimeError(
            "limit",
            `|| would build a string of more than ${EXPR_LIMITS.maxStringResult} characters (1 MiB); shorten its input`,
            at,
          );
        }
        return left + right;
      },
      [l, r],
      at,
    );
  }

  private isTest(ir: IrOf<"is">): Compiled {
    const o = this.compile(ir.operand);
    const O = o.ev;
    const neg = ir.negated;
    let ev: Evaluator;
    if (ir.test === "null") ev = neg ? (r) => O(r) !== null : (r) => O(r) === null;
    else {
      const want = ir.test === "true";
      ev = neg ? (r) => O(r) !== want : (r) => O(r) === want;
    }
    return this.fold(ev, [o], ir.span);
  }

  private distinct(ir: IrOf<"distinct">): Compiled {
    const l = this.compile(ir.left);
    const r = this.compile(ir.right);
    const L = l.ev;
    const R = r.ev;
    const neg = ir.negated;
    return this.fold(
      (rec) => {
        const a = L(rec);
        const b = R(rec);
        const same = a === null || b === null ? a === b : equalDynamic(a, b);
        return neg ? same : !same;
      },
      [l, r],
      ir.span,
    );
  }

  private between(ir: IrOf<"between">): Compiled {
    const o = this.compile(ir.operand);
    const lo = this.compile(ir.low);
    const hi = this.compile(ir.high);
    const O = o.ev;
    const LO = lo.ev;
    const HI = hi.ev;
    const neg = ir.negated;
    const at = ir.span;
    const dynamic = ir.dynamic;
    const cmp = (a: unknown, b: unknown): number => {
      if (!dynamic) return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
      try {
        return compareDynamic(a, b);
      } catch (e) {
        throw this.rethrow(e, at);
      }
    };
    return this.fold(
      (rec) => {
        const v = O(rec);
        const a = LO(rec);
        const b = HI(rec);
        // (v >= a) AND (v <= b) in three-valued logic
        const ge = v === null || a === null ? null : cmp(v, a) >= 0;
        const le = v === null || b === null ? null : cmp(v, b) <= 0;
        const both = ge === false || le === false ? false : ge === null || le === null ? null : true;
        return both === null ? null : neg ? !both : both;
      },
      [o, lo, hi],
      at,
    );
  }

  private inList(ir: IrOf<"in">): Compiled {
    const o = this.compile(ir.operand);
    const items = ir.items.map((i) => this.compile(i));
    const O = o.ev;
    const neg = ir.negated;
    const at = ir.span;
    if (!ir.dynamic && items.every((i) => i.constant)) {
      const set = new Set(items.filter((i) => i.value !== null).map((i) => i.value));
      const miss = items.some((i) => i.value === null) ? null : neg;
      return this.fold(
        (rec) => {
          const v = O(rec);
          if (v === null) return null;
          return set.has(v) ? !neg : miss;
        },
        [o, ...items],
        at,
      );
    }
    const evs = items.map((i) => i.ev);
    const dynamic = ir.dynamic;
    return this.fold(
      (rec) => {
        const v = O(rec);
        if (v === null) return null;
        let sawNull = false;
        for (const item of evs) {
          const w = item(rec);
          if (w === null) sawNull = true;
          else if (dynamic ? equalDynamic(v, w) : v === w) return !neg;
        }
        return sawNull ? null : neg;
      },
      [o, ...items],
      at,
    );
  }

  private like(ir: IrOf<"like">): Compiled {
    const o = this.compile(ir.operand);
    const p = this.compile(ir.pattern);
    const O = o.ev;
    const neg = ir.negated;
    const at = ir.span;
    const { escape: escapeChar, caseInsensitive } = ir;
    if (p.constant) {
      if (p.value === null) return this.constant(null);
      const compiled = compileLike(String(p.value), escapeChar, caseInsensitive);
      if (!compiled.ok) {
        this.errors.push(exprError(this.source, "type", compiled.message, ir.pattern.span));
        return this.constant(null);
      }
      const match = compiled.match;
      return this.fold(
        (rec) => {
          const s = O(rec);
          if (s === null) return null;
          try {
            return match(s as string) !== neg;
          } catch (e) {
            throw this.rethrow(e, at);
          }
        },
        [o, p],
        at,
      );
    }
    const P = p.ev;
    const cache = new Map<string, LikeMatcher>();
    const matcherFor = (pattern: string): LikeMatcher => {
      let m = cache.get(pattern);
      if (m === undefined) {
        if (pattern.length > EXPR_LIMITS.maxDataPatternLength) {
          throw this.runtimeError(
            "limit",
            `LIKE pattern is longer than ${EXPR_LIMITS.maxDataPatternLength} characters`,
            at,
          );
        }
        const compiled = compileLike(pattern, escapeChar, caseInsensitive);
        if (!compiled.ok) throw this.runtimeError("invalid-argument", compiled.message, at);
        if (cache.size >= 64) cache.clear();
        m = compiled.match;
        cache.set(pattern, m);
      }
      return m;
    };
    return this.fold(
      (rec) => {
        const s = O(rec);
        const pattern = P(rec);
        if (s === null || pattern === null) return null;
        const match = matcherFor(pattern as string);
        try {
          return match(s as string) !== neg;
        } catch (e) {
          throw this.rethrow(e, at);
        }
      },
      [o, p],
      at,
    );
  }

  private caseExpr(ir: IrOf<"case">): Compiled {
    const operand = ir.operand === undefined ? undefined : this.compile(ir.operand);
    const whens = ir.whens.map((w) => ({ when: this.compile(w.when), result: this.compile(w.result) }));
    const otherwise = ir.otherwise === undefined ? undefined : this.compile(ir.otherwise);
    const parts = [
      ...(operand ? [operand] : []),
      ...whens.flatMap((w) => [w.when, w.result]),
      ...(otherwise ? [otherwise] : []),
    ];
    const E = otherwise?.ev ?? (() => null);
    const W = whens.map((w) => w.when.ev);
    const T = whens.map((w) => w.result.ev);
    let ev: Evaluator;
    if (operand === undefined) {
      const [w0, t0] = [W[0], T[0]];
      ev =
        W.length === 1 && w0 && t0
          ? (r) => (w0(r) === true ? t0(r) : E(r))
          : (r) => {
              for (let i = 0; i < W.length; i++) {
                if ((W[i] as Evaluator)(r) === true) return (T[i] as Evaluator)(r);
              }
              return E(r);
            };
    } else {
      const O = operand.ev;
      const dynamic = ir.dynamic;
      ev = (r) => {
        const v = O(r);
        if (v !== null) {
          for (let i = 0; i < W.length; i++) {
            const w = (W[i] as Evaluator)(r);
            if (w !== null && (dynamic ? equalDynamic(v, w) : v === w)) return (T[i] as Evaluator)(r);
          }
        }
        return E(r);
      };
    }
    return this.fold(ev, parts, ir.span);
  }

  private cast(ir: IrOf<"cast">): Compiled {
    const o = this.compile(ir.operand);
    const O = o.ev;
    const at = ir.span;
    const zone = this.fn.timeZone;
    const fromKind = ir.operand.type.kind;
    let convert: (v: unknown) => unknown;
    switch (ir.to) {
      case "string":
        convert = ir.fromTimestamp
          ? (v) => formatIsoUtc(v as number)
          : fromKind === "string"
            ? (v) => v
            : (v) => formatValue(v);
        break;
      case "int":
        convert = castToInt;
        break;
      case "float":
        convert = castToFloat;
        break;
      case "boolean":
        convert = castToBoolean;
        break;
      case "timestamp":
        convert = (v) => castToTimestamp(v, zone);
        break;
      case "json":
        convert = (v) => v;
        break;
    }
    if (fromKind === "string" && ir.to === "string") return o;
    const safe = ir.safe;
    return this.fold(
      (r) => {
        const v = O(r);
        if (v === null) return null;
        try {
          return convert(v);
        } catch (e) {
          if (safe) return null;
          throw this.rethrow(e, at);
        }
      },
      [o],
      at,
    );
  }

  private call(ir: IrOf<"call">): Compiled {
    const def = ir.fn;
    const args = ir.args.map((a) => this.compile(a));
    const evs = args.map((a) => a.ev);
    const at = ir.span;
    if (def.lazy) return this.fold(def.lazy(evs), args, at, def.pure);
    if (!def.build) throw new Error(`function ${def.name} has neither build nor lazy`);
    // Arguments folded to constants count as constant for specialisation (a pattern built from literals).
    const infos: ArgInfo[] = ir.args.map((a, i) => {
      const c = args[i];
      return { type: a.type, nullable: a.nullable, constant: c?.constant ?? false, value: c?.value };
    });
    const impl = def.build(this.fn, infos);
    const propagate = def.nulls === "propagate";
    const fail = (e: unknown) => this.rethrow(e, at);
    const [A, B, C] = evs;
    let ev: Evaluator;
    if (evs.length === 0) {
      ev = () => {
        try {
          return impl();
        } catch (e) {
          throw fail(e);
        }
      };
    } else if (evs.length === 1 && A) {
      ev = (r) => {
        const a = A(r);
        if (propagate && a === null) return null;
        try {
          return impl(a);
        } catch (e) {
          throw fail(e);
        }
      };
    } else if (evs.length === 2 && A && B) {
      const b = args[1];
      if (b?.constant && propagate && b.value !== null) {
        const bv = b.value;
        ev = (r) => {
          const a = A(r);
          if (a === null) return null;
          try {
            return impl(a, bv);
          } catch (e) {
            throw fail(e);
          }
        };
      } else {
        ev = (r) => {
          const a = A(r);
          const b2 = B(r);
          if (propagate && (a === null || b2 === null)) return null;
          try {
            return impl(a, b2);
          } catch (e) {
            throw fail(e);
          }
        };
      }
    } else if (evs.length === 3 && A && B && C) {
      ev = (r) => {
        const a = A(r);
        const b = B(r);
        const c = C(r);
        if (propagate && (a === null || b === null || c === null)) return null;
        try {
          return impl(a, b, c);
        } catch (e) {
          throw fail(e);
        }
      };
    } else {
      // Reused per call site: evaluation is synchronous and a call site cannot re-enter itself.
      const values = new Array<unknown>(evs.length);
      ev = (r) => {
        let sawNull = false;
        for (let i = 0; i < evs.length; i++) {
          const v = (evs[i] as Evaluator)(r);
          if (v === null) sawNull = true;
          values[i] = v;
        }
        if (propagate && sawNull) return null;
        try {
          return impl(...values);
        } catch (e) {
          throw fail(e);
        }
      };
    }
    return this.fold(ev, args, at, def.pure);
  }

  // ---- predicates --------------------------------------------------------------------------------------

  /** A closure answering "is this TRUE?", which lets AND/OR/NOT skip three-valued bookkeeping in filters. */
  test(ir: Ir): (record: DataRecord) => boolean {
    const folded = this.foldedLogic(ir);
    if (folded !== undefined) {
      const pass = folded === true;
      return () => pass;
    }
    switch (ir.kind) {
      case "and": {
        const L = this.test(ir.left);
        const R = this.test(ir.right);
        return (r) => L(r) && R(r);
      }
      case "or": {
        const L = this.test(ir.left);
        const R = this.test(ir.right);
        return (r) => L(r) || R(r);
      }
      case "not":
        return this.testFalse(ir.operand);
      case "compare":
        if (!ir.dynamic && ir.left.kind === "field" && ir.right.kind === "const") {
          return ir.right.value === null ? () => false : fieldConstTest(ir.op, ir.left.name, ir.right.value);
        }
        if (!ir.dynamic && ir.right.kind === "field" && ir.left.kind === "const") {
          return ir.left.value === null ? () => false : fieldConstTest(flip(ir.op), ir.right.name, ir.left.value);
        }
        break;
      default:
        break;
    }
    const c = this.compile(ir);
    if (c.constant) {
      const pass = c.value === true;
      return () => pass;
    }
    const E = c.ev;
    return (r) => E(r) === true;
  }

  /**
   * The value of an AND/OR/NOT that the scalar compiler folds to a constant (`x OR TRUE`), so the filter path
   * never evaluates an operand the value path skips — both must agree on which records fail.
   */
  private foldedLogic(ir: Ir): unknown {
    if (ir.kind !== "and" && ir.kind !== "or" && ir.kind !== "not") return undefined;
    const c = this.compile(ir);
    return c.constant ? c.value : undefined;
  }

  /** "Is this FALSE?" (NOT x is TRUE exactly when x is FALSE). */
  private testFalse(ir: Ir): (record: DataRecord) => boolean {
    const folded = this.foldedLogic(ir);
    if (folded !== undefined) {
      const fails = folded === false;
      return () => fails;
    }
    switch (ir.kind) {
      case "and": {
        const L = this.testFalse(ir.left);
        const R = this.testFalse(ir.right);
        return (r) => L(r) || R(r);
      }
      case "or": {
        const L = this.testFalse(ir.left);
        const R = this.testFalse(ir.right);
        return (r) => L(r) && R(r);
      }
      case "not":
        return this.test(ir.operand);
      default:
        break;
    }
    const c = this.compile(ir);
    if (c.constant) {
      const fails = c.value === false;
      return () => fails;
    }
    const E = c.ev;
    return (r) => E(r) === false;
  }
}

// ---- specialised closures ------------------------------------------------------------------------------

/** Own-property read of a top-level field; missing or undefined is NULL. */
function fieldReader(name: string): Evaluator {
  return (r) => {
    const v = r[name];
    return v === undefined || v === null || !hasOwn(r, name) ? null : v;
  };
}

function flip(op: CompareOp): CompareOp {
  switch (op) {
    case "<":
      return ">";
    case "<=":
      return ">=";
    case ">":
      return "<";
    case ">=":
      return "<=";
    default:
      return op;
  }
}

// The operand types were unified by the checker (numbers, strings, booleans or timestamps), for which JS's
// relational operators implement SQL's ordering; the casts below only tell TypeScript so.
type Ord = number;

function fieldConstCompare(op: CompareOp, name: string, c: unknown): Evaluator {
  const k = c as Ord;
  switch (op) {
    case "=":
      return (r) => {
        const v = r[name];
        return v === undefined || v === null || !hasOwn(r, name) ? null : v === c;
      };
    case "<>":
      return (r) => {
        const v = r[name];
        return v === undefined || v === null || !hasOwn(r, name) ? null : v !== c;
      };
    case "<":
      return (r) => {
        const v = r[name];
        return v === undefined || v === null || !hasOwn(r, name) ? null : (v as Ord) < k;
      };
    case "<=":
      return (r) => {
        const v = r[name];
        return v === undefined || v === null || !hasOwn(r, name) ? null : (v as Ord) <= k;
      };
    case ">":
      return (r) => {
        const v = r[name];
        return v === undefined || v === null || !hasOwn(r, name) ? null : (v as Ord) > k;
      };
    case ">=":
      return (r) => {
        const v = r[name];
        return v === undefined || v === null || !hasOwn(r, name) ? null : (v as Ord) >= k;
      };
  }
}

/** Filter form of field-vs-constant: TRUE only; the own-property check runs last, only for passing values. */
function fieldConstTest(op: CompareOp, name: string, c: unknown): (r: DataRecord) => boolean {
  const k = c as Ord;
  switch (op) {
    case "=":
      return (r) => r[name] === c && hasOwn(r, name);
    case "<>":
      return (r) => {
        const v = r[name];
        return v !== undefined && v !== null && v !== c && hasOwn(r, name);
      };
    case "<":
      return (r) => {
        const v = r[name];
        return v !== undefined && v !== null && (v as Ord) < k && hasOwn(r, name);
      };
    case "<=":
      return (r) => {
        const v = r[name];
        return v !== undefined && v !== null && (v as Ord) <= k && hasOwn(r, name);
      };
    case ">":
      return (r) => {
        const v = r[name];
        return v !== undefined && v !== null && (v as Ord) > k && hasOwn(r, name);
      };
    case ">=":
      return (r) => {
        const v = r[name];
        return v !== undefined && v !== null && (v as Ord) >= k && hasOwn(r, name);
      };
  }
}

function constCompare(op: CompareOp, L: Evaluator, c: unknown): Evaluator {
  const k = c as Ord;
  switch (op) {
    case "=":
      return (r) => {
        const v = L(r);
        return v === null ? null : v === c;
      };
    case "<>":
      return (r) => {
        const v = L(r);
        return v === null ? null : v !== c;
      };
    case "<":
      return (r) => {
        const v = L(r);
        return v === null ? null : (v as Ord) < k;
      };
    case "<=":
      return (r) => {
        const v = L(r);
        return v === null ? null : (v as Ord) <= k;
      };
    case ">":
      return (r) => {
        const v = L(r);
        return v === null ? null : (v as Ord) > k;
      };
    case ">=":
      return (r) => {
        const v = L(r);
        return v === null ? null : (v as Ord) >= k;
      };
  }
}

function staticCompare(op: CompareOp, L: Evaluator, R: Evaluator): Evaluator {
  const both =
    (test: (a: Ord, b: Ord) => boolean): Evaluator =>
    (r) => {
      const a = L(r);
      const b = R(r);
      return a === null || b === null ? null : test(a as Ord, b as Ord);
    };
  switch (op) {
    case "=":
      return both((a, b) => a === b);
    case "<>":
      return both((a, b) => a !== b);
    case "<":
      return both((a, b) => a < b);
    case "<=":
      return both((a, b) => a <= b);
    case ">":
      return both((a, b) => a > b);
    case ">=":
      return both((a, b) => a >= b);
  }
}

function dynamicComparator(op: CompareOp): (a: unknown, b: unknown) => boolean {
  switch (op) {
    case "=":
      return (a, b) => equalDynamic(a, b);
    case "<>":
      return (a, b) => !equalDynamic(a, b);
    case "<":
      return (a, b) => compareDynamic(a, b) < 0;
    case "<=":
      return (a, b) => compareDynamic(a, b) <= 0;
    case ">":
      return (a, b) => compareDynamic(a, b) > 0;
    case ">=":
      return (a, b) => compareDynamic(a, b) >= 0;
  }
}

/** x - x is 0 for every finite number and NaN for ±Infinity and NaN: one subtraction checks the range. */
function finite(v: number, overflow: () => Error): number {
  if (v - v !== 0) throw overflow();
  return v;
}

function constRightArith(
  op: IrOf<"arith">["op"],
  integer: boolean,
  L: Evaluator,
  c: number,
  overflow: () => Error,
): Evaluator {
  switch (op) {
    case "+":
      return (r) => {
        const a = L(r);
        return a === null ? null : finite((a as number) + c, overflow);
      };
    case "-":
      return (r) => {
        const a = L(r);
        return a === null ? null : finite((a as number) - c, overflow);
      };
    case "*":
      return (r) => {
        const a = L(r);
        return a === null ? null : finite((a as number) * c, overflow);
      };
    case "/":
      return integer
        ? (r) => {
            const a = L(r);
            return a === null ? null : Math.trunc((a as number) / c) + 0;
          }
        : (r) => {
            const a = L(r);
            return a === null ? null : finite((a as number) / c, overflow);
          };
    case "%":
      return (r) => {
        const a = L(r);
        return a === null ? null : ((a as number) % c) + 0;
      };
  }
}

function binaryArith(
  op: IrOf<"arith">["op"],
  integer: boolean,
  L: Evaluator,
  R: Evaluator,
  divByZero: () => Error,
  overflow: () => Error,
): Evaluator {
  const both =
    (f: (a: number, b: number) => number): Evaluator =>
    (r) => {
      const a = L(r);
      const b = R(r);
      return a === null || b === null ? null : f(a as number, b as number);
    };
  switch (op) {
    case "+":
      return both((a, b) => finite(a + b, overflow));
    case "-":
      return both((a, b) => finite(a - b, overflow));
    case "*":
      return both((a, b) => finite(a * b, overflow));
    case "/":
      return both((a, b) => {
        if (b === 0) throw divByZero();
        return integer ? Math.trunc(a / b) + 0 : finite(a / b, overflow);
      });
    case "%":
      return both((a, b) => {
        if (b === 0) throw divByZero();
        return (a % b) + 0;
      });
  }
}

/** What a folded value weighs for the fold budget: its characters or items, 1 for anything else. */
function sizeOf(value: unknown): number {
  if (typeof value === "string") return value.length;
  if (Array.isArray(value)) return value.length + 1;
  if (value !== null && typeof value === "object") return Object.keys(value).length + 1;
  return 1;
}
