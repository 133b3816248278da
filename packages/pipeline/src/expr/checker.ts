import { type DataType, type Field, findField, t, typeName } from "../record-schema";
import { closestName } from "../suggest";
import type { CallExpr, CaseExpr, Expr } from "./ast";
import { type ExprErrorCode, exprError } from "./errors";
import type { AggregateFunctionDef } from "./functions/aggregate";
import type { ArgInfo, FunctionContext, ParamKind, ScalarFunctionDef } from "./functions/define";
import { allFunctionNames, lookupFunction } from "./functions/registry";
import type { CastTo, CompareOp, ExpectKind, Ir } from "./ir";
import { compileLike } from "./like";
import { EXPR_LIMITS, utf8Length } from "./limits";
import type { Span } from "./position";
import { parseTimestamp } from "./time";
import { isDynamic, unifyAll } from "./type-rules";
import type { CompileOptions, ExprError } from "./types";

export type CheckMode = "scalar" | "predicate" | "aggregate";

export interface CheckInput {
  source: string;
  options: CompileOptions;
  mode: CheckMode;
  /** True when compiling: every parameter must then have a value. */
  bind: boolean;
  /** Validated default time zone. */
  timeZone: string;
}

export interface CheckOutput {
  ir: Ir;
  errors: ExprError[];
  /** Top-level input fields read, in order of first use. */
  fields: string[];
}

/** Resolves names and types of a parsed expression against the input schema. Reports every error it finds. */
export function checkTree(expr: Expr, input: CheckInput): CheckOutput {
  const checker = new Checker(input);
  let ir = checker.visit(expr);
  if (input.mode === "predicate") ir = checker.requireBoolean(ir, "A filter");
  return { ir, errors: checker.errors, fields: [...checker.fields] };
}

const NUMERIC = new Set(["int", "float"]);

class Checker {
  readonly errors: ExprError[] = [];
  readonly fields = new Set<string>();
  private inAggregate = false;
  private readonly ctx: FunctionContext;

  constructor(private readonly input: CheckInput) {
    this.ctx = { timeZone: input.timeZone, now: input.options.now ?? Date.now };
  }

  // ---- reporting ---------------------------------------------------------------------------------------

  private report(code: ExprErrorCode, message: string, at: Span, suggestion?: string): void {
    this.errors.push(exprError(this.input.source, code, message, at, { suggestion }));
  }

  /** Reports and returns a placeholder that suppresses errors about its uses. */
  private fail(code: ExprErrorCode, message: string, at: Span, suggestion?: string): Ir {
    this.report(code, message, at, suggestion);
    return invalid(at);
  }

  // ---- dispatch ----------------------------------------------------------------------------------------

  visit(e: Expr): Ir {
    switch (e.kind) {
      case "literal":
        return this.literal(e);
      case "field":
        return this.field(e.name, e.span);
      case "parameter":
        return this.parameter(e.name, e.span);
      case "member":
        return this.lookupMember(this.visit(e.object), e.name, e.nameSpan, e.span);
      case "index":
        return this.index(this.visit(e.object), this.visit(e.index), e.span);
      case "unary":
        return this.unary(e.op, this.visit(e.operand), e.span);
      case "binary": {
        const left = this.visit(e.left);
        const right = this.visit(e.right);
        return this.binary(e.op, left, right, e.span);
      }
      case "is": {
        const operand = this.visit(e.operand);
        if (e.test === "null" || e.test === "unknown") {
          return {
            kind: "is",
            operand,
            test: "null",
            negated: e.negated,
            type: t.boolean,
            nullable: false,
            span: e.span,
          };
        }
        const checked = this.requireBoolean(operand, `IS ${e.negated ? "NOT " : ""}${e.test.toUpperCase()}`);
        return {
          kind: "is",
          operand: checked,
          test: e.test,
          negated: e.negated,
          type: t.boolean,
          nullable: false,
          span: e.span,
        };
      }
      case "distinct-from": {
        const h = this.harmonize([this.visit(e.left), this.visit(e.right)], "IS DISTINCT FROM");
        if (h === undefined) return invalid(e.span);
        const [left, right] = h.values as [Ir, Ir];
        return {
          kind: "distinct",
          left,
          right,
          negated: e.negated,
          dynamic: h.dynamic,
          type: t.boolean,
          nullable: false,
          span: e.span,
        };
      }
      case "between": {
        const h = this.harmonize([this.visit(e.operand), this.visit(e.low), this.visit(e.high)], "BETWEEN");
        if (h === undefined) return invalid(e.span);
        const [operand, low, high] = h.values as [Ir, Ir, Ir];
        const nullable = operand.nullable || low.nullable || high.nullable;
        return {
          kind: "between",
          operand,
          low,
          high,
          negated: e.negated,
          dynamic: h.dynamic,
          type: t.boolean,
          nullable,
          span: e.span,
        };
      }
      case "in": {
        const h = this.harmonize([this.visit(e.operand), ...e.items.map((i) => this.visit(i))], "IN");
        if (h === undefined) return invalid(e.span);
        const [operand, ...items] = h.values as [Ir, ...Ir[]];
        const nullable = operand.nullable || items.some((i) => i.nullable);
        return {
          kind: "in",
          operand,
          items,
          negated: e.negated,
          dynamic: h.dynamic,
          type: t.boolean,
          nullable,
          span: e.span,
        };
      }
      case "like":
        return this.like(e);
      case "case":
        return this.caseExpr(e);
      case "cast":
        return this.cast(this.visit(e.operand), e.target, e.safe, e.span, e.targetSpan);
      case "call":
        return this.call(e);
    }
  }

  // ---- leaves ------------------------------------------------------------------------------------------

  private literal(e: Extract<Expr, { kind: "literal" }>): Ir {
    const at = e.span;
    switch (e.literal) {
      case "int":
      case "interval":
        return constant(e.value, t.int, at);
      case "float":
        return constant(e.value, t.float, at);
      case "string":
        return constant(e.value, t.string, at);
      case "boolean":
        return constant(e.value, t.boolean, at);
      case "null":
        return constant(null, t.null, at);
      case "timestamp": {
        const ms = parseTimestamp(e.value, this.input.timeZone);
        if (ms === undefined) {
          return this.fail(
            "type",
            `'${e.value}' is not a valid timestamp; write 'YYYY-MM-DD[ HH:MM[:SS[.fff]]][Z|+HH:MM]'`,
            at,
          );
        }
        return constant(ms, t.timestamp, at);
      }
    }
  }

  private field(name: string, at: Span): Ir {
    if (this.input.mode === "aggregate" && !this.inAggregate) {
      return this.fail(
        "aggregate",
        `Field "${name}" must be inside an aggregate function such as first(${name}) or sum(${name})`,
        at,
      );
    }
    const schema = this.input.options.schema;
    const f = findField(schema, name);
    if (f === undefined && !schema.open) {
      return this.fail(
        "unknown-field",
        `Unknown field "${name}"`,
        at,
        closestName(
          name,
          schema.fields.map((x) => x.name),
        ),
      );
    }
    this.fields.add(name);
    return { kind: "field", name, type: f ? f.type : t.any, nullable: f ? f.nullable : true, span: at };
  }

  private parameter(name: string, at: Span): Ir {
    const params = this.input.options.parameters ?? {};
    const info = Object.hasOwn(params, name) ? params[name] : undefined;
    if (info === undefined) {
      return this.fail("parameter", `Unknown parameter {{${name}}}`, at, closestName(name, Object.keys(params)));
    }
    if (info.type === "expression") {
      // Alone in the field and not yet known (the editor, before a value is given): it could be any expression.
      const whole = this.input.source.slice(0, at.start).trim() === "" && this.input.source.slice(at.end).trim() === "";
      if (whole && !this.input.bind)
        return { kind: "const", value: null, unbound: true, type: t.any, nullable: true, span: at };
      return this.fail(
        "parameter",
        whole
          ? `Parameter {{${name}}} has no value`
          : `Parameter {{${name}}} is an expression: it can only be the whole field, not part of another expression`,
        at,
      );
    }
    const value = info.value;
    if (value === undefined) {
      if (this.input.bind) return this.fail("parameter", `Parameter {{${name}}} has no value`, at);
      const type = info.type === "string" ? t.string : info.type === "boolean" ? t.boolean : t.float;
      return { kind: "const", value: null, unbound: true, type, nullable: false, span: at };
    }
    if (typeof value !== info.type || (typeof value === "number" && !Number.isFinite(value))) {
      return this.fail("parameter", `Parameter {{${name}}} is declared ${info.type} but its value is not`, at);
    }
    if (typeof value === "string" && utf8Length(value) > EXPR_LIMITS.maxStringBytes) {
      return this.fail("limit", `Parameter {{${name}}} is longer than ${EXPR_LIMITS.maxStringBytes} bytes`, at);
    }
    const type =
      typeof value === "string"
        ? t.string
        : typeof value === "boolean"
          ? t.boolean
          : Number.isInteger(value)
            ? t.int
            : t.float;
    return constant(value, type, at);
  }

  // ---- access ------------------------------------------------------------------------------------------

  private lookupMember(object: Ir, key: string, keySpan: Span, at: Span): Ir {
    if (object.invalid) return invalid(at);
    const type = object.type;
    if (type.kind === "object") {
      const f = type.fields.find((x: Field) => x.name === key);
      if (f === undefined) {
        return this.fail(
          "unknown-field",
          `Unknown field "${key}" in ${typeName(type)}`,
          keySpan,
          closestName(
            key,
            type.fields.map((x) => x.name),
          ),
        );
      }
      return { kind: "member", object, key, type: f.type, nullable: object.nullable || f.nullable, span: at };
    }
    if (isDynamic(type) || type.kind === "null") {
      return { kind: "member", object, key, type: type.kind === "null" ? t.any : type, nullable: true, span: at };
    }
    return this.fail("type", `Cannot read field "${key}" of a ${typeName(type)} value`, keySpan);
  }

  private index(object: Ir, index: Ir, at: Span): Ir {
    if (object.invalid || index.invalid) return invalid(at);
    const type = object.type;
    if (type.kind === "array") {
      const i = this.coerce(index, "int", "An array position");
      if (i.invalid) return invalid(at);
      return { kind: "index", object, index: i, type: type.items, nullable: true, span: at };
    }
    if (type.kind === "object") {
      if (index.kind === "const" && typeof index.value === "string") {
        return this.lookupMember(object, index.value, index.span, at);
      }
      return this.fail("type", `A field of ${typeName(type)} must be named by a constant string`, index.span);
    }
    if (isDynamic(type) || type.kind === "null") {
      const k = index.type.kind;
      const unboundNumber = index.kind === "const" && index.unbound === true && k === "float";
      if (!(k === "int" || k === "string" || k === "null" || isDynamic(index.type) || unboundNumber)) {
        return this.fail(
          "type",
          `Expected an array position (int) or a key (string), got ${typeName(index.type)}`,
          index.span,
        );
      }
      return { kind: "index", object, index, type: type.kind === "null" ? t.any : type, nullable: true, span: at };
    }
    return this.fail("type", `Cannot index a ${typeName(type)} value`, object.span);
  }

  // ---- operators ---------------------------------------------------------------------------------------

  requireBoolean(ir: Ir, what: string): Ir {
    if (ir.invalid || ir.type.kind === "boolean" || ir.type.kind === "null") return ir;
    if (isDynamic(ir.type)) return expect(ir, "boolean", t.boolean);
    return this.fail("type", `${what} expects a boolean, got ${typeName(ir.type)}`, ir.span);
  }

  private unary(op: "-" | "+" | "not", operand: Ir, at: Span): Ir {
    if (op === "not") {
      const o = this.requireBoolean(operand, "NOT");
      return { kind: "not", operand: o, type: t.boolean, nullable: o.nullable, span: at };
    }
    if (operand.invalid) return invalid(at);
    const kind = operand.type.kind;
    if (NUMERIC.has(kind) || kind === "null") {
      return op === "+" ? operand : { kind: "neg", operand, type: operand.type, nullable: operand.nullable, span: at };
    }
    if (isDynamic(operand.type)) {
      const o = expect(operand, "number", t.float);
      return op === "+" ? o : { kind: "neg", operand: o, type: t.float, nullable: true, span: at };
    }
    return this.fail("type", `Unary ${op} expects a number, got ${typeName(operand.type)}`, operand.span);
  }

  private binary(op: Extract<Expr, { kind: "binary" }>["op"], left: Ir, right: Ir, at: Span): Ir {
    switch (op) {
      case "and":
      case "or": {
        const l = this.requireBoolean(left, op.toUpperCase());
        const r = this.requireBoolean(right, op.toUpperCase());
        return { kind: op, left: l, right: r, type: t.boolean, nullable: l.nullable || r.nullable, span: at };
      }
      case "=":
      case "<>":
      case "<":
      case "<=":
      case ">":
      case ">=": {
        const h = this.harmonize([left, right], op);
        if (h === undefined) return invalid(at);
        const [l, r] = h.values as [Ir, Ir];
        return {
          kind: "compare",
          op: op as CompareOp,
          left: l,
          right: r,
          dynamic: h.dynamic,
          type: t.boolean,
          nullable: l.nullable || r.nullable,
          span: at,
        };
      }
      case "||":
        return this.concat(left, right, at);
      default:
        return this.arith(op, left, right, at);
    }
  }

  private arith(op: "+" | "-" | "*" | "/" | "%", left: Ir, right: Ir, at: Span): Ir {
    if (left.invalid || right.invalid) return invalid(at);
    const lk = left.type.kind;
    const rk = right.type.kind;
    const nullable = left.nullable || right.nullable;
    // Timestamps: ts ± int (milliseconds, e.g. an INTERVAL), int + ts, ts - ts (milliseconds between).
    if (lk === "timestamp" || rk === "timestamp") {
      const otherIsTs = lk === "timestamp" && rk === "timestamp";
      const make = (type: DataType, l: Ir, r: Ir): Ir => ({
        kind: "arith",
        op,
        left: l,
        right: r,
        integer: false,
        type,
        nullable,
        span: at,
      });
      if (otherIsTs && op === "-") return make(t.int, left, right);
      const other = lk === "timestamp" ? right : left;
      const okOp = op === "+" || (op === "-" && lk === "timestamp");
      if (okOp && !otherIsTs) {
        const o =
          NUMERIC.has(other.type.kind) || other.type.kind === "null"
            ? other
            : isDynamic(other.type)
              ? expect(other, "number", t.float)
              : undefined;
        if (o !== undefined) return lk === "timestamp" ? make(t.timestamp, left, o) : make(t.timestamp, o, right);
      }
      const tsSide = lk === "timestamp" ? left : right;
      const offender =
        op !== "+" && op !== "-"
          ? tsSide
          : otherIsTs || (op === "-" && rk === "timestamp")
            ? right
            : tsSide === left
              ? right
              : left;
      return this.fail(
        "type",
        `Cannot apply ${op} to ${typeName(left.type)} and ${typeName(right.type)}; timestamps support ts + interval, ts - interval and ts - ts`,
        offender.span,
      );
    }
    const l = this.numericOperand(left, op, right);
    const r = this.numericOperand(right, op, left);
    if (l === undefined || r === undefined) return invalid(at);
    const lt = l.type.kind;
    const rt = r.type.kind;
    const integer = (lt === "int" || lt === "null") && (rt === "int" || rt === "null");
    return { kind: "arith", op, left: l, right: r, integer, type: integer ? t.int : t.float, nullable, span: at };
  }

  private numericOperand(ir: Ir, op: string, other: Ir): Ir | undefined {
    const kind = ir.type.kind;
    if (NUMERIC.has(kind) || kind === "null") return ir;
    if (isDynamic(ir.type)) return expect(ir, "number", t.float);
    const hint = op === "+" && (kind === "string" || other.type.kind === "string") ? "; use || to join strings" : "";
    this.report("type", `Operator ${op} expects numbers, got ${typeName(ir.type)}${hint}`, ir.span);
    return undefined;
  }

  private concat(left: Ir, right: Ir, at: Span): Ir {
    const l = this.asText(left, "||");
    const r = this.asText(right, "||");
    if (l.invalid || r.invalid) return invalid(at);
    return { kind: "concat", left: l, right: r, type: t.string, nullable: l.nullable || r.nullable, span: at };
  }

  /** A value as text for || and text parameters: CAST(x AS STRING) inserted where needed. */
  private asText(ir: Ir, what: string): Ir {
    if (ir.invalid || ir.type.kind === "string" || ir.type.kind === "null") return ir;
    const k = ir.type.kind;
    if (k === "array" || k === "object") {
      return this.fail("type", `${what} cannot use a ${typeName(ir.type)} value as text; use to_json()`, ir.span);
    }
    return castNode(ir, "string", false, ir.span);
  }

  /**
   * Brings values that are compared with each other (both sides of =, BETWEEN bounds, IN items, CASE x WHEN)
   * to one comparable type. The anchor is the first value with a static type, preferring non-constants, so
   * `amount > 'x'` blames the literal. Values typed only at run time get a check; string constants compared
   * with timestamps are parsed now. Returns undefined after reporting if a value cannot be compared.
   */
  private harmonize(values: Ir[], what: string): { values: Ir[]; dynamic: boolean } | undefined {
    if (values.some((v) => v.invalid)) return undefined;
    const statics = values.filter((v) => !isDynamic(v.type) && v.type.kind !== "null");
    if (statics.length === 0) return { values, dynamic: values.some((v) => isDynamic(v.type)) };
    const anchor =
      statics.find((v) => v.kind !== "const") ?? statics.find((v) => v.type.kind !== "string") ?? statics[0];
    if (anchor === undefined) return { values, dynamic: false };
    const ak = anchor.type.kind;
    if (ak === "array" || ak === "object") {
      this.report("type", `Cannot compare ${typeName(anchor.type)} values with ${what}`, anchor.span);
      return undefined;
    }
    const out: Ir[] = [];
    let ok = true;
    for (const v of values) {
      const k = v.type.kind;
      if (v === anchor || k === "null" || (NUMERIC.has(k) && NUMERIC.has(ak)) || k === ak) {
        out.push(v);
      } else if (isDynamic(v.type)) {
        out.push(expect(v, expectKindFor(ak), anchor.type.kind === "int" ? t.float : anchor.type));
      } else if (ak === "timestamp" && k === "string" && v.kind === "const") {
        const ms = typeof v.value === "string" ? parseTimestamp(v.value, this.input.timeZone) : undefined;
        if (ms === undefined && !v.unbound) {
          this.report(
            "type",
            `Cannot compare timestamp with '${String(v.value)}': it is not a valid timestamp`,
            v.span,
          );
          ok = false;
        } else {
          out.push(v.unbound ? { ...v, type: t.timestamp } : constant(ms, t.timestamp, v.span));
        }
      } else {
        const hint = ak === "timestamp" && k === "string" ? "; use CAST(x AS TIMESTAMP)" : "";
        const where = /^[A-Z]/.test(what) ? ` in ${what}` : "";
        this.report("type", `Cannot compare ${typeName(anchor.type)} with ${typeName(v.type)}${where}${hint}`, v.span);
        ok = false;
      }
    }
    return ok ? { values: out, dynamic: false } : undefined;
  }

  private like(e: Extract<Expr, { kind: "like" }>): Ir {
    const what = e.caseInsensitive ? "ILIKE" : "LIKE";
    const operand = this.coerce(this.visit(e.operand), "string", what);
    const pattern = this.coerce(this.visit(e.pattern), "string", `${what} pattern`);
    let escapeChar: string | null = "\\";
    if (e.escape !== undefined) {
      const esc = this.visit(e.escape);
      if (esc.kind !== "const" || typeof esc.value !== "string" || esc.value.length > 1) {
        this.report("type", "ESCAPE must be a constant string of one character (or '' for none)", e.escape.span);
        return invalid(e.span);
      }
      escapeChar = esc.value === "" ? null : esc.value;
    }
    if (operand.invalid || pattern.invalid) return invalid(e.span);
    if (pattern.kind === "const" && typeof pattern.value === "string") {
      const compiled = compileLike(pattern.value, escapeChar, e.caseInsensitive);
      if (!compiled.ok) return this.fail("type", compiled.message, pattern.span);
    }
    return {
      kind: "like",
      operand,
      pattern,
      escape: escapeChar,
      negated: e.negated,
      caseInsensitive: e.caseInsensitive,
      type: t.boolean,
      nullable: operand.nullable || pattern.nullable,
      span: e.span,
    };
  }

  private caseExpr(e: CaseExpr): Ir {
    let operand: Ir | undefined;
    let whens: Ir[];
    let dynamic = false;
    let failed = false;
    if (e.operand !== undefined) {
      const h = this.harmonize([this.visit(e.operand), ...e.whens.map((w) => this.visit(w.when))], "CASE");
      if (h === undefined) {
        failed = true;
        whens = [];
      } else {
        [operand, ...whens] = h.values as [Ir, ...Ir[]];
        dynamic = h.dynamic;
      }
    } else {
      whens = e.whens.map((w) => this.requireBoolean(this.visit(w.when), "WHEN"));
    }
    const thens = e.whens.map((w) => this.visit(w.result));
    const otherwise = e.otherwise === undefined ? undefined : this.visit(e.otherwise);
    const results = otherwise === undefined ? thens : [...thens, otherwise];
    if (failed || results.some((r) => r.invalid) || whens.some((w) => w.invalid)) return invalid(e.span);
    const u = unifyAll(results.map((r) => r.type));
    if (!u.ok) {
      const bad = results[u.index];
      const before = unifyAll(results.slice(0, u.index).map((r) => r.type));
      return this.fail(
        "type",
        `CASE branches must have the same type: expected ${before.ok ? typeName(before.type) : "?"}, got ${bad ? typeName(bad.type) : "?"}`,
        bad?.span ?? e.span,
      );
    }
    const node: Ir = {
      kind: "case",
      whens: whens.map((when, i) => ({ when, result: thens[i] as Ir })),
      dynamic,
      type: u.type,
      nullable: otherwise === undefined || results.some((r) => r.nullable),
      span: e.span,
    };
    if (operand !== undefined) node.operand = operand;
    if (otherwise !== undefined) node.otherwise = otherwise;
    return node;
  }

  private cast(operand: Ir, to: CastTo, safe: boolean, at: Span, targetSpan: Span): Ir {
    if (operand.invalid) return invalid(at);
    const from = operand.type.kind;
    const allowed: Record<CastTo, readonly string[]> = {
      string: ["*"],
      json: ["*"],
      int: ["int", "float", "string", "boolean", "timestamp"],
      float: ["int", "float", "string", "boolean", "timestamp"],
      boolean: ["boolean", "int", "float", "string"],
      timestamp: ["timestamp", "int", "float", "string"],
    };
    const ok = allowed[to][0] === "*" || from === "null" || isDynamic(operand.type) || allowed[to].includes(from);
    if (!ok) return this.fail("type", `Cannot cast ${typeName(operand.type)} to ${to.toUpperCase()}`, targetSpan);
    return castNode(operand, to, safe, at);
  }

  // ---- functions ---------------------------------------------------------------------------------------

  private call(e: CallExpr): Ir {
    const def = lookupFunction(e.name);
    if (def === undefined) {
      for (const a of e.args) this.visit(a);
      return this.fail(
        "unknown-function",
        `Unknown function ${e.name}()`,
        e.nameSpan,
        closestName(e.name.toLowerCase(), allFunctionNames()),
      );
    }
    return def.kind === "aggregate" ? this.aggregate(e, def) : this.scalarCall(e, def);
  }

  private aggregate(e: CallExpr, def: AggregateFunctionDef): Ir {
    const name = e.name.toLowerCase();
    if (this.input.mode !== "aggregate") {
      return this.fail("aggregate", `Aggregate function ${name}() can only be used in window aggregates`, e.nameSpan);
    }
    if (this.inAggregate) {
      return this.fail(
        "aggregate",
        `Aggregate functions cannot be nested (${name}() inside another aggregate)`,
        e.span,
      );
    }
    if (e.star && !def.allowsStar) return this.fail("type", `${name}(*) is not allowed; only count(*) takes *`, e.span);
    if (e.distinct && !def.allowsDistinct) {
      return this.fail("aggregate", `DISTINCT is only supported in count(), not ${name}()`, e.span);
    }
    if (!e.star && e.args.length !== 1) {
      return this.fail("arity", `${name}() takes exactly 1 argument, got ${e.args.length}`, e.span);
    }
    const base = {
      kind: "aggregate" as const,
      fn: def,
      distinct: e.distinct,
      star: e.star,
      span: e.span,
      nullable: def.nullable,
    };
    const first = e.args[0];
    if (e.star || first === undefined) return { ...base, type: def.returns(undefined) };
    this.inAggregate = true;
    let arg: Ir;
    try {
      arg = this.coerce(this.visit(first), def.param.kind, `${name}() argument ${def.param.name}`);
    } finally {
      this.inAggregate = false;
    }
    if (arg.invalid) return invalid(e.span);
    const info = argInfo(arg);
    const problem = def.check?.(info);
    if (problem) return this.fail(problem.code ?? "type", `${name}(): ${problem.message}`, arg.span);
    return { ...base, arg, type: def.returns(info) };
  }

  private scalarCall(e: CallExpr, def: ScalarFunctionDef): Ir {
    const name = e.name.toLowerCase();
    if (e.star) return this.fail("type", `${name}(*) is not allowed; only count(*) takes *`, e.span);
    if (e.distinct) return this.fail("aggregate", `DISTINCT is only supported in count(), not ${name}()`, e.span);
    const n = e.args.length;
    if (n < def.minArgs || n > def.maxArgs) {
      for (const a of e.args) this.visit(a);
      return this.fail("arity", `${name}() takes ${arityText(def)}, got ${n}: ${def.signature}`, e.span);
    }
    const args = e.args.map((a, i) => {
      const param = def.params[i] ?? def.rest;
      const v = this.visit(a);
      return param ? this.coerce(v, param.kind, `${name}() argument ${param.name}`) : v;
    });
    if (args.some((a) => a.invalid)) return invalid(e.span);
    const infos = args.map(argInfo);
    const problem = def.check?.(infos, this.ctx);
    if (problem) {
      return this.fail(problem.code ?? "type", `${name}(): ${problem.message}`, args[problem.index]?.span ?? e.span);
    }
    return { kind: "call", fn: def, args, type: def.returns(infos), nullable: def.nullable(infos), span: e.span };
  }

  /** Fits a value to a parameter kind: checks static types, inserts run-time checks for dynamic ones. */
  private coerce(ir: Ir, kind: ParamKind, what: string): Ir {
    if (ir.invalid || ir.type.kind === "null" || kind === "any" || kind === "json") return ir;
    if (kind === "text") return this.asText(ir, what);
    const k = ir.type.kind;
    const dynamic = isDynamic(ir.type);
    const mismatch = () => this.fail("type", `${what} must be ${article(kind)}, got ${typeName(ir.type)}`, ir.span);
    switch (kind) {
      case "string":
        return k === "string" ? ir : dynamic ? expect(ir, "string", t.string) : mismatch();
      case "int":
        if (k === "int" || (ir.kind === "const" && ir.unbound && k === "float")) return ir;
        return dynamic ? expect(ir, "int", t.int) : mismatch();
      case "float":
      case "number":
        return NUMERIC.has(k) ? ir : dynamic ? expect(ir, "number", t.float) : mismatch();
      case "boolean":
        return k === "boolean" ? ir : dynamic ? expect(ir, "boolean", t.boolean) : mismatch();
      case "timestamp":
        if (k === "timestamp") return ir;
        if (dynamic) return expect(ir, "timestamp", t.timestamp);
        if (k === "string" && ir.kind === "const") {
          if (ir.unbound) return { ...ir, type: t.timestamp };
          const ms = typeof ir.value === "string" ? parseTimestamp(ir.value, this.input.timeZone) : undefined;
          if (ms !== undefined) return constant(ms, t.timestamp, ir.span);
          return this.fail("type", `${what} must be a timestamp; '${String(ir.value)}' is not one`, ir.span);
        }
        return mismatch();
      case "array":
        return k === "array" ? ir : dynamic ? expect(ir, "array", t.array(t.any)) : mismatch();
    }
  }
}

// ---- helpers -----------------------------------------------------------------------------------------

function invalid(at: Span): Ir {
  return { kind: "const", value: null, type: t.any, nullable: true, invalid: true, span: at };
}

function constant(value: unknown, type: DataType, at: Span): Ir {
  return { kind: "const", value, type, nullable: value === null, span: at };
}

function expect(operand: Ir, expected: ExpectKind, type: DataType): Ir {
  return { kind: "expect", operand, expected, type, nullable: operand.nullable, span: operand.span };
}

function castNode(operand: Ir, to: CastTo, safe: boolean, at: Span): Ir {
  const type: DataType = to === "string" ? t.string : to === "json" ? t.json : { kind: to };
  return {
    kind: "cast",
    operand,
    to,
    safe,
    fromTimestamp: operand.type.kind === "timestamp",
    type,
    nullable: operand.nullable || safe,
    span: at,
  };
}

function expectKindFor(kind: string): ExpectKind {
  switch (kind) {
    case "int":
    case "float":
      return "number";
    case "string":
      return "string";
    case "boolean":
      return "boolean";
    default:
      return "timestamp";
  }
}

function argInfo(ir: Ir): ArgInfo {
  const isConst = ir.kind === "const" && !ir.unbound;
  return { type: ir.type, nullable: ir.nullable, constant: isConst, value: ir.kind === "const" ? ir.value : undefined };
}

function arityText(def: ScalarFunctionDef): string {
  const plural = (n: number) => `${n} argument${n === 1 ? "" : "s"}`;
  if (def.maxArgs === Number.POSITIVE_INFINITY) return `at least ${plural(def.minArgs)}`;
  if (def.minArgs === def.maxArgs) return plural(def.minArgs);
  return `${def.minArgs} to ${plural(def.maxArgs)}`;
}

function article(kind: ParamKind): string {
  return kind === "int" ? "an int" : kind === "array" ? "an array" : `a ${kind}`;
}
