import { closestName } from "../suggest";
import type { BinaryOp, CallExpr, CaseExpr, CastTarget, Expr, LiteralExpr } from "./ast";
import { type ExprErrorCode, exprError } from "./errors";
import { type Token, tokenize } from "./lexer";
import { EXPR_LIMITS, utf8Length } from "./limits";
import { type Span, span } from "./position";
import type { ExprError } from "./types";

export type ParseResult = { ok: true; expr: Expr; nodeCount: number } | { ok: false; errors: ExprError[] };

/** Words that can never be a bare field name (quote them: `"case"`). The rest of SQL's words are contextual. */
const RESERVED = new Set([
  "and",
  "or",
  "not",
  "is",
  "null",
  "true",
  "false",
  "between",
  "in",
  "like",
  "ilike",
  "case",
  "when",
  "then",
  "else",
  "end",
  "cast",
  "try_cast",
  "distinct",
]);

const TYPE_NAMES: Readonly<Record<string, CastTarget>> = {
  string: "string",
  varchar: "string",
  text: "string",
  char: "string",
  int: "int",
  integer: "int",
  bigint: "int",
  smallint: "int",
  tinyint: "int",
  long: "int",
  float: "float",
  double: "float",
  real: "float",
  decimal: "float",
  numeric: "float",
  boolean: "boolean",
  bool: "boolean",
  timestamp: "timestamp",
  timestamptz: "timestamp",
  datetime: "timestamp",
  json: "json",
  jsonb: "json",
};

const INTERVAL_UNITS: Readonly<Record<string, number>> = {
  millisecond: 1,
  milliseconds: 1,
  ms: 1,
  second: 1000,
  seconds: 1000,
  minute: 60_000,
  minutes: 60_000,
  hour: 3_600_000,
  hours: 3_600_000,
  day: 86_400_000,
  days: 86_400_000,
  week: 604_800_000,
  weeks: 604_800_000,
};

const COMPARISONS: Readonly<Record<string, BinaryOp>> = {
  "=": "=",
  "<>": "<>",
  "!=": "<>",
  "<": "<",
  "<=": "<=",
  ">": ">",
  ">=": ">=",
};

/** Internal: unwinds the recursive descent at the first error. Never escapes `parse`. */
class ParseAbort {
  constructor(readonly error: ExprError) {}
}

/** Parses one expression. Never throws for any input; the first syntax or limit error is returned. */
export function parse(source: string): ParseResult {
  if (source.length > EXPR_LIMITS.maxSourceBytes || utf8Length(source) > EXPR_LIMITS.maxSourceBytes) {
    return {
      ok: false,
      errors: [
        exprError(
          source,
          "limit",
          `Expression is longer than ${EXPR_LIMITS.maxSourceBytes / 1024} KiB`,
          span(0, Math.min(source.length, 1)),
        ),
      ],
    };
  }
  const lexed = tokenize(source);
  if (!lexed.ok) {
    const { code, message, at, expected } = lexed.error;
    return { ok: false, errors: [exprError(source, code, message, at, { expected })] };
  }
  const parser = new Parser(source, lexed.tokens);
  try {
    const expr = parser.parseTop();
    return { ok: true, expr, nodeCount: parser.nodeCount };
  } catch (e) {
    if (e instanceof ParseAbort) return { ok: false, errors: [e.error] };
    throw e;
  }
}

class Parser {
  nodeCount = 0;
  private pos = 0;
  private nesting = 0;
  private readonly depth = new Map<Expr, number>();

  constructor(
    private readonly source: string,
    private readonly tokens: readonly Token[],
  ) {}

  parseTop(): Expr {
    if (this.peek().kind === "eof") this.fail(["an expression"]);
    const expr = this.parseExpr();
    if (this.peek().kind !== "eof") this.fail(["an operator", "end of input"]);
    if (this.nodeCount > EXPR_LIMITS.maxNodes) {
      this.abort("limit", `Expression has more than ${EXPR_LIMITS.maxNodes} parts`, expr.span);
    }
    return expr;
  }

  // ---- tokens ------------------------------------------------------------------------------------------

  private peek(ahead = 0): Token {
    const t = this.tokens[Math.min(this.pos + ahead, this.tokens.length - 1)];
    if (t === undefined) throw new Error("token stream without eof");
    return t;
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== "eof") this.pos++;
    return t;
  }

  private isKeyword(t: Token, word: string): boolean {
    return t.kind === "identifier" && t.value.length === word.length && t.value.toLowerCase() === word;
  }

  private atKeyword(word: string, ahead = 0): boolean {
    return this.isKeyword(this.peek(ahead), word);
  }

  private atOperator(op: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return t.kind === "operator" && t.value === op;
  }

  private eatKeyword(word: string): Token | undefined {
    return this.atKeyword(word) ? this.next() : undefined;
  }

  private eatOperator(op: string): Token | undefined {
    return this.atOperator(op) ? this.next() : undefined;
  }

  private expectOperator(op: string, expected: string[] = [op]): Token {
    const t = this.eatOperator(op);
    if (t === undefined) this.fail(expected);
    return t;
  }

  private expectKeyword(word: string, expected: string[] = [word.toUpperCase()]): Token {
    const t = this.eatKeyword(word);
    if (t === undefined) this.fail(expected);
    return t;
  }

  private describe(t: Token): string {
    switch (t.kind) {
      case "eof":
        return "end of input";
      case "number":
        return `number ${t.value}`;
      case "string":
        return `string '${t.value.length > 20 ? `${t.value.slice(0, 17)}...` : t.value}'`;
      case "identifier":
        return RESERVED.has(t.value.toLowerCase()) ? `keyword ${t.value.toUpperCase()}` : `name ${t.value}`;
      case "quoted-identifier":
        return `name "${t.value}"`;
      case "parameter":
        return `parameter {{${t.value}}}`;
      case "operator":
        return `"${t.value}"`;
    }
  }

  private fail(expected: string[], extra?: { message?: string; suggestion?: string | undefined }): never {
    const t = this.peek();
    const wanted = expected.map((e) => (/^(an? |end of input|[A-Z])/.test(e) ? e : `"${e}"`)).join(" or ");
    const message = extra?.message ?? `Expected ${wanted} but found ${this.describe(t)}`;
    throw new ParseAbort(
      exprError(this.source, "syntax", message, span(t.start, t.end), {
        expected,
        suggestion: extra?.suggestion,
      }),
    );
  }

  private abort(code: ExprErrorCode, message: string, at: Span): never {
    throw new ParseAbort(exprError(this.source, code, message, at));
  }

  // ---- nodes and limits --------------------------------------------------------------------------------

  /** Registers a node: counts it and tracks tree depth, so later recursive passes cannot overflow the stack. */
  private make<T extends Expr>(node: T, ...kids: (Expr | undefined)[]): T {
    this.nodeCount++;
    let d = 0;
    for (const k of kids) if (k !== undefined) d = Math.max(d, this.depth.get(k) ?? 0);
    d += 1;
    if (d > EXPR_LIMITS.maxDepth) {
      this.abort("limit", `Expression is nested more than ${EXPR_LIMITS.maxDepth} levels deep`, node.span);
    }
    this.depth.set(node, d);
    return node;
  }

  /** Guards the parser's own recursion (parentheses, NOT NOT ..., - - ...) before any node exists. */
  private nest<T>(at: Token, fn: () => T): T {
    if (++this.nesting > EXPR_LIMITS.maxDepth) {
      this.abort("limit", `Expression is nested more than ${EXPR_LIMITS.maxDepth} levels deep`, span(at.start, at.end));
    }
    try {
      return fn();
    } finally {
      this.nesting--;
    }
  }

  private from(start: number): Span {
    const prev = this.tokens[this.pos - 1];
    return span(start, prev ? prev.end : start);
  }

  // ---- grammar, lowest precedence first ----------------------------------------------------------------

  private parseExpr(): Expr {
    return this.nest(this.peek(), () => this.parseOr());
  }

  private parseOr(): Expr {
    let left = this.parseAnd();
    while (this.atKeyword("or")) {
      const op = this.next();
      const right = this.parseAnd();
      left = this.binary("or", left, right, op);
    }
    return left;
  }

  private parseAnd(): Expr {
    let left = this.parseNot();
    while (this.atKeyword("and")) {
      const op = this.next();
      const right = this.parseNot();
      left = this.binary("and", left, right, op);
    }
    return left;
  }

  private parseNot(): Expr {
    const t = this.peek();
    if (!this.isKeyword(t, "not")) return this.parseIs();
    this.next();
    const operand = this.nest(t, () => this.parseNot());
    return this.make({ kind: "unary", op: "not", operand, span: span(t.start, operand.span.end) }, operand);
  }

  private parseIs(): Expr {
    let left = this.parseComparison();
    while (this.atKeyword("is")) {
      this.next();
      const negated = this.eatKeyword("not") !== undefined;
      if (this.eatKeyword("distinct")) {
        this.expectKeyword("from");
        const right = this.parseComparison();
        left = this.make(
          { kind: "distinct-from", left, right, negated, span: span(left.span.start, right.span.end) },
          left,
          right,
        );
        continue;
      }
      const t = this.peek();
      const test = (["null", "true", "false", "unknown"] as const).find((w) => this.isKeyword(t, w));
      if (test === undefined) this.fail(["NULL", "TRUE", "FALSE", "UNKNOWN", "DISTINCT FROM"]);
      this.next();
      left = this.make({ kind: "is", operand: left, test, negated, span: span(left.span.start, t.end) }, left);
    }
    return left;
  }

  private parseComparison(): Expr {
    let left = this.parsePredicate();
    for (;;) {
      const t = this.peek();
      if (t.kind !== "operator") return left;
      if (t.value === "==") this.fail(["an operator"], { message: 'SQL compares with "=", not "=="' });
      const op = COMPARISONS[t.value];
      if (op === undefined) return left;
      this.next();
      const right = this.parsePredicate();
      left = this.binary(op, left, right, t);
    }
  }

  /** `x [NOT] BETWEEN a AND b`, `x [NOT] IN (...)`, `x [NOT] LIKE p [ESCAPE e]`, `x [NOT] ILIKE p`. */
  private parsePredicate(): Expr {
    const operand = this.parseConcat();
    const start = operand.span.start;
    let negated = false;
    if (this.atKeyword("not") && ["between", "in", "like", "ilike"].some((w) => this.atKeyword(w, 1))) {
      this.next();
      negated = true;
    }
    if (this.eatKeyword("between")) {
      const low = this.parseConcat();
      this.expectKeyword("and");
      const high = this.parseConcat();
      return this.make({ kind: "between", operand, low, high, negated, span: this.from(start) }, operand, low, high);
    }
    if (this.atKeyword("in")) {
      this.next();
      this.expectOperator("(");
      const items: Expr[] = [];
      do {
        if (items.length >= EXPR_LIMITS.maxInItems) {
          const t = this.peek();
          this.abort("limit", `IN list has more than ${EXPR_LIMITS.maxInItems} items`, span(start, t.end));
        }
        items.push(this.parseExpr());
      } while (this.eatOperator(","));
      this.expectOperator(")", [",", ")"]);
      return this.make({ kind: "in", operand, items, negated, span: this.from(start) }, operand, ...items);
    }
    const like = this.atKeyword("like") ? "like" : this.atKeyword("ilike") ? "ilike" : undefined;
    if (like !== undefined) {
      this.next();
      const pattern = this.parseConcat();
      const escapeChar = this.eatKeyword("escape") ? this.parseConcat() : undefined;
      const node: Expr = {
        kind: "like",
        operand,
        pattern,
        negated,
        caseInsensitive: like === "ilike",
        span: this.from(start),
      };
      if (escapeChar !== undefined) node.escape = escapeChar;
      return this.make(node, operand, pattern, escapeChar);
    }
    return operand;
  }

  private parseConcat(): Expr {
    let left = this.parseAdditive();
    for (let t = this.peek(); t.kind === "operator" && t.value === "||"; t = this.peek()) {
      this.next();
      const right = this.parseAdditive();
      left = this.binary("||", left, right, t);
    }
    return left;
  }

  private parseAdditive(): Expr {
    let left = this.parseMultiplicative();
    for (let t = this.peek(); t.kind === "operator" && (t.value === "+" || t.value === "-"); t = this.peek()) {
      this.next();
      const right = this.parseMultiplicative();
      left = this.binary(t.value === "+" ? "+" : "-", left, right, t);
    }
    return left;
  }

  private parseMultiplicative(): Expr {
    let left = this.parseUnary();
    for (
      let t = this.peek();
      t.kind === "operator" && (t.value === "*" || t.value === "/" || t.value === "%");
      t = this.peek()
    ) {
      this.next();
      const right = this.parseUnary();
      left = this.binary(t.value === "*" ? "*" : t.value === "/" ? "/" : "%", left, right, t);
    }
    return left;
  }

  private parseUnary(): Expr {
    const t = this.peek();
    if (t.kind === "operator" && (t.value === "-" || t.value === "+")) {
      this.next();
      const operand = this.nest(t, () => this.parseUnary());
      return this.make(
        { kind: "unary", op: t.value === "-" ? "-" : "+", operand, span: span(t.start, operand.span.end) },
        operand,
      );
    }
    return this.parsePostfix();
  }

  private parsePostfix(): Expr {
    let expr = this.parsePrimary();
    for (;;) {
      if (this.eatOperator(".")) {
        const name = this.peek();
        if (name.kind !== "identifier" && name.kind !== "quoted-identifier") this.fail(["a field name"]);
        this.next();
        const nameSpan = span(name.start, name.end);
        expr = this.make(
          { kind: "member", object: expr, name: name.value, nameSpan, span: span(expr.span.start, name.end) },
          expr,
        );
      } else if (this.atOperator("[")) {
        this.next();
        const index = this.parseExpr();
        this.expectOperator("]");
        expr = this.make({ kind: "index", object: expr, index, span: this.from(expr.span.start) }, expr, index);
      } else if (this.eatOperator("::")) {
        const { target, targetSpan } = this.parseTypeName();
        expr = this.make(
          { kind: "cast", operand: expr, target, targetSpan, safe: false, span: this.from(expr.span.start) },
          expr,
        );
      } else {
        return expr;
      }
    }
  }

  private parsePrimary(): Expr {
    const t = this.peek();
    switch (t.kind) {
      case "number":
        this.next();
        return this.make(numberLiteral(t));
      case "string":
        this.next();
        return this.make({ kind: "literal", literal: "string", value: t.value, span: span(t.start, t.end) });
      case "parameter":
        this.next();
        return this.make({ kind: "parameter", name: t.value, span: span(t.start, t.end) });
      case "quoted-identifier":
        this.next();
        return this.make({ kind: "field", name: t.value, quoted: true, span: span(t.start, t.end) });
      case "operator":
        if (t.value === "(") {
          this.next();
          const inner = this.parseExpr();
          this.expectOperator(")");
          return inner;
        }
        return this.fail(["an expression"]);
      case "eof":
        return this.fail(["an expression"]);
      case "identifier":
        return this.parseWord(t);
    }
  }

  private parseWord(t: Token): Expr {
    const word = t.value.toLowerCase();
    const at = span(t.start, t.end);
    switch (word) {
      case "null":
        this.next();
        return this.make({ kind: "literal", literal: "null", value: null, span: at });
      case "true":
      case "false":
        this.next();
        return this.make({ kind: "literal", literal: "boolean", value: word === "true", span: at });
      case "case":
        return this.parseCase();
      case "cast":
      case "try_cast":
        return this.parseCast();
    }
    if (RESERVED.has(word)) return this.fail(["an expression"]);
    const after = this.peek(1);
    if ((word === "timestamp" || word === "date") && after.kind === "string") {
      this.next();
      this.next();
      return this.make({ kind: "literal", literal: "timestamp", value: after.value, span: span(t.start, after.end) });
    }
    // `interval` stays usable as a field name: `interval - 5` is arithmetic, `INTERVAL 5 MINUTE` a literal.
    const intervalLiteral =
      after.kind === "string" ||
      (after.kind === "number" && this.peek(2).kind === "identifier") ||
      (this.atOperator("-", 1) && this.peek(2).kind === "string");
    if (word === "interval" && intervalLiteral) return this.parseInterval();
    if (after.kind === "operator" && after.value === "(") return this.parseCall();
    this.next();
    if (word === "current_timestamp") {
      return this.make({ kind: "call", name: t.value, nameSpan: at, args: [], distinct: false, star: false, span: at });
    }
    return this.make({ kind: "field", name: t.value, quoted: false, span: at });
  }

  private binary(op: BinaryOp, left: Expr, right: Expr, opToken: Token): Expr {
    return this.make(
      {
        kind: "binary",
        op,
        left,
        right,
        opSpan: span(opToken.start, opToken.end),
        span: span(left.span.start, right.span.end),
      },
      left,
      right,
    );
  }

  private parseCase(): CaseExpr {
    const start = this.next().start;
    if (!this.atKeyword("when") && !this.startsExpression(this.peek())) this.fail(["WHEN", "an expression"]);
    const operand = this.atKeyword("when") ? undefined : this.parseExpr();
    const whens: { when: Expr; result: Expr }[] = [];
    while (this.eatKeyword("when")) {
      const when = this.parseExpr();
      this.expectKeyword("then");
      const result = this.parseExpr();
      whens.push({ when, result });
    }
    if (whens.length === 0) this.fail(["WHEN"]);
    const otherwise = this.eatKeyword("else") ? this.parseExpr() : undefined;
    this.expectKeyword("end", ["WHEN", "ELSE", "END"]);
    const node: CaseExpr = { kind: "case", whens, span: this.from(start) };
    if (operand !== undefined) node.operand = operand;
    if (otherwise !== undefined) node.otherwise = otherwise;
    return this.make(node, operand, ...whens.flatMap((w) => [w.when, w.result]), otherwise);
  }

  private parseCast(): Expr {
    const keyword = this.next();
    const safe = keyword.value.toLowerCase() === "try_cast";
    this.expectOperator("(");
    const operand = this.parseExpr();
    this.expectKeyword("as", ["AS"]);
    const { target, targetSpan } = this.parseTypeName();
    this.expectOperator(")");
    return this.make({ kind: "cast", operand, target, targetSpan, safe, span: this.from(keyword.start) }, operand);
  }

  private parseTypeName(): { target: CastTarget; targetSpan: Span } {
    const t = this.peek();
    if (t.kind !== "identifier") this.fail(["a type name"]);
    const name = t.value.toLowerCase();
    const target = TYPE_NAMES[name];
    if (target === undefined) {
      this.fail(["a type name"], {
        message: `Unknown type ${t.value}; expected one of STRING, INT, FLOAT, BOOLEAN, TIMESTAMP, JSON`,
        suggestion: closestName(name, Object.keys(TYPE_NAMES))?.toUpperCase(),
      });
    }
    this.next();
    let end = t.end;
    if (name === "double" && this.atKeyword("precision")) end = this.next().end;
    // VARCHAR(255), DECIMAL(10, 2): the size is accepted for familiarity and has no effect.
    if (this.atOperator("(")) {
      this.next();
      do {
        if (this.peek().kind !== "number") this.fail(["a number"]);
        this.next();
      } while (this.eatOperator(","));
      end = this.expectOperator(")").end;
    }
    return { target, targetSpan: span(t.start, end) };
  }

  private parseInterval(): LiteralExpr {
    const keyword = this.next();
    let sign = 1;
    if (this.eatOperator("-")) sign = -1;
    const amount = this.peek();
    if (amount.kind !== "string" && amount.kind !== "number") this.fail(["a number", "a quoted number"]);
    this.next();
    const text = amount.value.trim();
    const withUnit = /^([+-]?\d+(?:\.\d+)?)\s*([a-zA-Z]+)$/.exec(text);
    let value: number;
    let unitName: string;
    let unitSpan: Span;
    if (withUnit && amount.kind === "string") {
      value = Number(withUnit[1]);
      unitName = withUnit[2] ?? "";
      unitSpan = span(amount.start, amount.end);
    } else {
      if (!/^[+-]?\d+(?:\.\d+)?$/.test(text)) {
        this.pos--;
        this.fail(["a number"], { message: `Interval amount '${text}' is not a number` });
      }
      value = Number(text);
      const unit = this.peek();
      if (unit.kind !== "identifier") this.fail(["a time unit (SECOND, MINUTE, HOUR, DAY, ...)"]);
      this.next();
      unitName = unit.value;
      unitSpan = span(unit.start, unit.end);
    }
    const lower = unitName.toLowerCase();
    const size = INTERVAL_UNITS[lower];
    if (size === undefined) {
      const fixed = /^(month|year|quarter)s?$/.test(lower)
        ? `${unitName.toUpperCase()} intervals have no fixed length; use date_trunc or a number of days`
        : `Unknown interval unit ${unitName}; expected MILLISECOND, SECOND, MINUTE, HOUR, DAY or WEEK`;
      throw new ParseAbort(
        exprError(this.source, "syntax", fixed, unitSpan, {
          expected: ["MILLISECOND", "SECOND", "MINUTE", "HOUR", "DAY", "WEEK"],
          suggestion: closestName(lower, Object.keys(INTERVAL_UNITS))?.toUpperCase(),
        }),
      );
    }
    return this.make({
      kind: "literal",
      literal: "interval",
      value: Math.round(sign * value * size),
      span: this.from(keyword.start),
    });
  }

  private parseCall(): Expr {
    const nameToken = this.next();
    this.next(); // "("
    const name = nameToken.value;
    const lower = name.toLowerCase();
    const nameSpan = span(nameToken.start, nameToken.end);
    const call = (args: Expr[], distinct = false, star = false): CallExpr =>
      this.make({ kind: "call", name, nameSpan, args, distinct, star, span: this.from(nameToken.start) }, ...args);
    {
      if (this.atOperator("*") && this.atOperator(")", 1)) {
        this.next();
        this.next();
        return call([], false, true);
      }
      if (this.eatOperator(")")) return call([]);
      if (!this.startsExpression(this.peek()) && !this.atKeyword("distinct")) this.fail(["an expression", ")"]);
      // extract(YEAR FROM ts [, zone])
      if (lower === "extract" && this.peek().kind === "identifier" && this.atKeyword("from", 1)) {
        const f = this.next();
        this.next();
        const unit = this.make<Expr>({
          kind: "literal",
          literal: "string",
          value: f.value.toLowerCase(),
          span: span(f.start, f.end),
        });
        const args = [unit, this.parseExpr()];
        if (this.eatOperator(",")) args.push(this.parseExpr()); // time zone
        this.expectOperator(")", [",", ")"]);
        return call(args);
      }
      // position(needle IN haystack): try the SQL form, fall back to ordinary arguments.
      if (lower === "position") {
        const saved = { pos: this.pos, nodeCount: this.nodeCount };
        const needle = this.parseConcat();
        if (this.atKeyword("in") && !this.atOperator("(", 1)) {
          this.next();
          const haystack = this.parseConcat();
          this.expectOperator(")");
          return call([needle, haystack]);
        }
        this.pos = saved.pos;
        this.nodeCount = saved.nodeCount;
      }
      const distinct = this.eatKeyword("distinct") !== undefined;
      const args: Expr[] = [this.parseExpr()];
      // substring(s FROM start [FOR length])
      if ((lower === "substring" || lower === "substr") && (this.atKeyword("from") || this.atKeyword("for"))) {
        if (this.eatKeyword("from")) args.push(this.parseExpr());
        else {
          const f = this.peek();
          args.push(this.make<Expr>({ kind: "literal", literal: "int", value: 1, span: span(f.start, f.end) }));
        }
        if (this.eatKeyword("for")) args.push(this.parseExpr());
        this.expectOperator(")");
        return call(args);
      }
      while (this.eatOperator(",")) args.push(this.parseExpr());
      this.expectOperator(")", [",", ")"]);
      return call(args, distinct);
    }
  }

  private startsExpression(t: Token): boolean {
    if (t.kind === "operator") return t.value === "(" || t.value === "-" || t.value === "+";
    if (t.kind === "identifier") {
      const w = t.value.toLowerCase();
      return !RESERVED.has(w) || ["null", "true", "false", "case", "cast", "try_cast", "not"].includes(w);
    }
    return t.kind !== "eof";
  }
}

function numberLiteral(t: Token): LiteralExpr {
  const value = Number(t.value);
  const at = span(t.start, t.end);
  const integral = /^\d+$/.test(t.value) && Number.isSafeInteger(value);
  return integral
    ? { kind: "literal", literal: "int", value, span: at }
    : { kind: "literal", literal: "float", value, span: at };
}
