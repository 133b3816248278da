import { describe, expect, it } from "vitest";
import type { Expr } from "./ast";
import { parse } from "./parser";

/** Fully parenthesised rendering, so precedence and associativity are visible in one string. */
function show(e: Expr): string {
  switch (e.kind) {
    case "literal":
      return e.literal === "string"
        ? `'${e.value}'`
        : e.literal === "timestamp"
          ? `TS'${e.value}'`
          : e.literal === "interval"
            ? `${e.value}ms`
            : String(e.value);
    case "field":
      return e.quoted ? `"${e.name}"` : e.name;
    case "parameter":
      return `{{${e.name}}}`;
    case "member":
      return `${show(e.object)}.${e.name}`;
    case "index":
      return `${show(e.object)}[${show(e.index)}]`;
    case "unary":
      return `(${e.op === "not" ? "NOT " : e.op}${show(e.operand)})`;
    case "binary":
      return `(${show(e.left)} ${e.op.toUpperCase()} ${show(e.right)})`;
    case "is":
      return `(${show(e.operand)} IS ${e.negated ? "NOT " : ""}${e.test.toUpperCase()})`;
    case "distinct-from":
      return `(${show(e.left)} IS ${e.negated ? "NOT " : ""}DISTINCT FROM ${show(e.right)})`;
    case "between":
      return `(${show(e.operand)} ${e.negated ? "NOT " : ""}BETWEEN ${show(e.low)} AND ${show(e.high)})`;
    case "in":
      return `(${show(e.operand)} ${e.negated ? "NOT " : ""}IN [${e.items.map(show).join(", ")}])`;
    case "like":
      return `(${show(e.operand)} ${e.negated ? "NOT " : ""}${e.caseInsensitive ? "ILIKE" : "LIKE"} ${show(e.pattern)}${e.escape ? ` ESCAPE ${show(e.escape)}` : ""})`;
    case "case":
      return `CASE${e.operand ? ` ${show(e.operand)}` : ""}${e.whens.map((w) => ` WHEN ${show(w.when)} THEN ${show(w.result)}`).join("")}${e.otherwise ? ` ELSE ${show(e.otherwise)}` : ""} END`;
    case "cast":
      return `${e.safe ? "TRY_CAST" : "CAST"}(${show(e.operand)} AS ${e.target})`;
    case "call":
      return `${e.name}(${e.star ? "*" : ""}${e.distinct ? "DISTINCT " : ""}${e.args.map(show).join(", ")})`;
  }
}

function p(source: string): string {
  const r = parse(source);
  if (!r.ok) throw new Error(`${source}: ${JSON.stringify(r.errors)}`);
  return show(r.expr);
}

function expr(source: string): Expr {
  const r = parse(source);
  if (!r.ok) throw new Error(`${source}: ${JSON.stringify(r.errors)}`);
  return r.expr;
}

describe("parse: literals and names", () => {
  it.each([
    ["42", "42"],
    ["4.5", "4.5"],
    ["1e3", "1000"],
    ["'it''s'", "'it's'"],
    ["TRUE", "true"],
    ["false", "false"],
    ["NuLl", "null"],
    ["TIMESTAMP '2024-01-02 03:04:05'", "TS'2024-01-02 03:04:05'"],
    ["DATE '2024-01-02'", "TS'2024-01-02'"],
    ["INTERVAL '5' MINUTE", "300000ms"],
    ["interval 2 hours", "7200000ms"],
    ["INTERVAL '1.5 seconds'", "1500ms"],
    ["INTERVAL -'3' DAY", "-259200000ms"],
    ["amount", "amount"],
    ['"order id"', '"order id"'],
    ["{{limit}}", "{{limit}}"],
    ["a.b.c", "a.b.c"],
    ['a."b c"', "a.b c"],
    ["tags[1]", "tags[1]"],
    ["payload['key']", "payload['key']"],
    ["m['a'][2].x", "m['a'][2].x"],
    ["timestamp", "timestamp"],
    ["interval - 5", "(interval - 5)"],
    ["date = 'x'", "(date = 'x')"],
    ["current_timestamp", "current_timestamp()"],
  ])("%s", (source, shown) => {
    expect(p(source)).toBe(shown);
  });

  it("types integer and decimal literals", () => {
    expect(expr("7")).toMatchObject({ literal: "int", value: 7 });
    expect(expr("7.0")).toMatchObject({ literal: "float", value: 7 });
    expect(expr("99999999999999999999")).toMatchObject({ literal: "float" });
  });
});

describe("parse: operators and precedence", () => {
  it.each([
    ["a OR b AND c", "(a OR (b AND c))"],
    ["a AND b OR c AND d", "((a AND b) OR (c AND d))"],
    ["NOT a AND b", "((NOT a) AND b)"],
    ["NOT a = b", "(NOT (a = b))"],
    ["NOT NOT a", "(NOT (NOT a))"],
    ["a = b AND c <> d", "((a = b) AND (c <> d))"],
    ["a != b", "(a <> b)"],
    ["a + b * c", "(a + (b * c))"],
    ["a - b - c", "((a - b) - c)"],
    ["a / b % c", "((a / b) % c)"],
    ["(a + b) * c", "((a + b) * c)"],
    ["-a * b", "((-a) * b)"],
    ["- -a", "(-(-a))"],
    ["+a", "(+a)"],
    ["a || b + c", "(a || (b + c))"],
    ["a || b = c", "((a || b) = c)"],
    ["a + 1 > b * 2", "((a + 1) > (b * 2))"],
    ["a < b = c", "((a < b) = c)"],
    ["a = b IS NULL", "((a = b) IS NULL)"],
    ["a IS NOT NULL AND b IS TRUE", "((a IS NOT NULL) AND (b IS TRUE))"],
    ["a IS NOT FALSE", "(a IS NOT FALSE)"],
    ["a IS UNKNOWN", "(a IS UNKNOWN)"],
    ["a IS NOT DISTINCT FROM b + 1", "(a IS NOT DISTINCT FROM (b + 1))"],
    ["a BETWEEN 1 AND 2 AND b", "((a BETWEEN 1 AND 2) AND b)"],
    ["a NOT BETWEEN b - 1 AND b + 1", "(a NOT BETWEEN (b - 1) AND (b + 1))"],
    ["a IN (1, 2, b + 1)", "(a IN [1, 2, (b + 1)])"],
    ["a NOT IN ('x')", "(a NOT IN ['x'])"],
    ["a LIKE 'x%' OR a NOT ILIKE '%y'", "((a LIKE 'x%') OR (a NOT ILIKE '%y'))"],
    ["a LIKE '1!%' ESCAPE '!'", "(a LIKE '1!%' ESCAPE '!')"],
    ["a || 'x' LIKE 'y%'", "((a || 'x') LIKE 'y%')"],
    ["a::int + 1", "(CAST(a AS int) + 1)"],
    ["-a::float", "(-CAST(a AS float))"],
    ["CAST(a AS VARCHAR(20))", "CAST(a AS string)"],
    ["CAST(a AS DOUBLE PRECISION)", "CAST(a AS float)"],
    ["TRY_CAST(a AS BIGINT)", "TRY_CAST(a AS int)"],
    ["a::decimal(10, 2)", "CAST(a AS float)"],
  ])("%s", (source, shown) => {
    expect(p(source)).toBe(shown);
  });
});

describe("parse: CASE and calls", () => {
  it.each([
    ["CASE WHEN a THEN 1 WHEN b THEN 2 ELSE 3 END", "CASE WHEN a THEN 1 WHEN b THEN 2 ELSE 3 END"],
    ["CASE x WHEN 1 THEN 'one' END", "CASE x WHEN 1 THEN 'one' END"],
    ["case when a > 1 then b || 'x' end", "CASE WHEN (a > 1) THEN (b || 'x') END"],
    ["lower(name)", "lower(name)"],
    ["f()", "f()"],
    ["round(avg(price), 2)", "round(avg(price), 2)"],
    ["count(*)", "count(*)"],
    ["COUNT(DISTINCT user_id)", "COUNT(DISTINCT user_id)"],
    ["extract(HOUR FROM ts)", "extract('hour', ts)"],
    ["extract('hour', ts)", "extract('hour', ts)"],
    ["position('b' IN name)", "position('b', name)"],
    ["position('b', name)", "position('b', name)"],
    ["position(x IN (1, 2))", "position((x IN [1, 2]))"],
    ["substring(name FROM 2 FOR 3)", "substring(name, 2, 3)"],
    ["substring(name FROM 2)", "substring(name, 2)"],
    ["substring(name FOR 2)", "substring(name, 1, 2)"],
    ["if(a, 1, 2)", "if(a, 1, 2)"],
    ["coalesce(a, b).c", "coalesce(a, b).c"],
  ])("%s", (source, shown) => {
    expect(p(source)).toBe(shown);
  });

  it("ignores comments anywhere", () => {
    expect(p("a /* one */ + -- two\n b")).toBe("(a + b)");
  });
});

describe("parse: source positions", () => {
  it("gives every node the span of its text", () => {
    const source = "lower(name) = 'x' AND amount > 10";
    const e = expr(source);
    expect(e.kind).toBe("binary");
    if (e.kind !== "binary") return;
    expect(e.span).toEqual({ start: 0, end: source.length });
    expect(e.opSpan).toEqual({ start: 18, end: 21 });
    const left = e.left;
    expect(source.slice(left.span.start, left.span.end)).toBe("lower(name) = 'x'");
    if (left.kind === "binary" && left.left.kind === "call") {
      expect(left.left.nameSpan).toEqual({ start: 0, end: 5 });
      const arg = left.left.args[0];
      expect(arg && source.slice(arg.span.start, arg.span.end)).toBe("name");
    } else {
      throw new Error("unexpected shape");
    }
    const right = e.right;
    expect(source.slice(right.span.start, right.span.end)).toBe("amount > 10");
  });

  it("covers postfix access and casts", () => {
    const source = "  a.b[1]::int ";
    const e = expr(source);
    expect(source.slice(e.span.start, e.span.end)).toBe("a.b[1]::int");
    if (e.kind === "cast") expect(source.slice(e.targetSpan.start, e.targetSpan.end)).toBe("int");
  });

  it("covers CASE, BETWEEN and IN from first to last token", () => {
    for (const source of ["CASE WHEN a THEN 1 END", "x BETWEEN 1 AND 2", "x NOT IN (1, 2)", "CAST(x AS INT)"]) {
      const e = expr(source);
      expect(e.span).toEqual({ start: 0, end: source.length });
    }
  });
});

describe("parse: syntax errors", () => {
  function failure(source: string) {
    const r = parse(source);
    if (r.ok) throw new Error(`${source} parsed`);
    expect(r.errors).toHaveLength(1);
    const [error] = r.errors;
    if (!error) throw new Error("no error");
    return error;
  }

  it.each([
    ["", ["an expression"], 0, "Expected an expression but found end of input"],
    ["f(", ["an expression", ")"], 2, 'Expected an expression or ")" but found end of input'],
    ["f(a", [",", ")"], 3, 'Expected "," or ")" but found end of input'],
    ["(a + b", [")"], 6, 'Expected ")" but found end of input'],
    ["a +", ["an expression"], 3, "Expected an expression but found end of input"],
    ["a b", ["an operator", "end of input"], 2, "Expected an operator or end of input but found name b"],
    ["a AND", ["an expression"], 5, "Expected an expression but found end of input"],
    ["a = AND b", ["an expression"], 4, "Expected an expression but found keyword AND"],
    ["CASE END", ["WHEN", "an expression"], 5, "Expected WHEN or an expression but found keyword END"],
    ["CASE WHEN a THEN 1", ["WHEN", "ELSE", "END"], 18, "Expected WHEN or ELSE or END but found end of input"],
    ["CAST(a INT)", ["AS"], 7, "Expected AS but found name INT"],
    ["a BETWEEN 1", ["AND"], 11, "Expected AND but found end of input"],
    ["a IN 1", ["("], 5, 'Expected "(" but found number 1'],
    ["a IS 5", ["NULL", "TRUE", "FALSE", "UNKNOWN", "DISTINCT FROM"], 5, "but found number 5"],
    ["a.", ["a field name"], 2, "Expected a field name but found end of input"],
    ["a[1", ["]"], 3, 'Expected "]" but found end of input'],
    ["a == b", ["an operator"], 2, 'SQL compares with "=", not "=="'],
    ["1 +* 2", ["an expression"], 3, 'Expected an expression but found "*"'],
  ])("%j", (source, expected, offset, message) => {
    const error = failure(source);
    expect(error.code).toBe("syntax");
    expect(error.expected).toEqual(expected);
    expect(error.position.offset).toBe(offset);
    expect(error.message).toContain(message);
  });

  it("reports line and column on later lines", () => {
    const error = failure("a = 1\nAND\n  b +");
    expect(error.position).toEqual({ offset: 15, line: 3, column: 6, length: 0 });
  });

  it("suggests type names", () => {
    const error = failure("CAST(a AS INTEGR)");
    expect(error.suggestion).toBe("INTEGER");
    expect(error.position).toMatchObject({ offset: 10, length: 6 });
  });

  it("rejects interval units without a fixed length, and unknown units with a suggestion", () => {
    expect(failure("INTERVAL '1' MONTH").message).toContain("no fixed length");
    const e = failure("INTERVAL '1' MINUT");
    expect(e.suggestion).toBe("MINUTE");
    expect(e.position).toMatchObject({ offset: 13, length: 5 });
  });

  it("says what was found for strings and parameters", () => {
    expect(failure("a 'x'").message).toContain("found string 'x'");
    expect(failure("a {{p}}").message).toContain("found parameter {{p}}");
  });
});
