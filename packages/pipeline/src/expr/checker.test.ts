import { describe, expect, it } from "vitest";
import { t } from "../record-schema";
import { checkExpression, compileExpression } from "./compile";
import { errorOf, errorsOf, openSchema, options, schema } from "./test-support";

function typeOf(source: string, mode: "scalar" | "predicate" | "aggregate" = "scalar") {
  const r = checkExpression(source, options(), mode);
  if (r.errors.length > 0) throw new Error(`${source}: ${JSON.stringify(r.errors)}`);
  return { type: r.type, nullable: r.nullable };
}

/** Text of the source at an error's position. */
function at(source: string, error: { position: { offset: number; length: number } }) {
  return source.slice(error.position.offset, error.position.offset + error.position.length);
}

describe("check: names", () => {
  it("reports an unknown field at its position with the closest name", () => {
    const source = "price * 2 + amout";
    const e = errorOf(source);
    expect(e).toMatchObject({ code: "unknown-field", message: 'Unknown field "amout"', suggestion: "amount" });
    expect(e.position).toEqual({ offset: 12, line: 1, column: 13, length: 5 });
  });

  it("suggests the field that differs only in case", () => {
    expect(errorOf("Amount > 1").suggestion).toBe("amount");
  });

  it("gives no suggestion when nothing is close", () => {
    expect(errorOf("zzzzzz = 1").suggestion).toBeUndefined();
  });

  it("types unknown fields as any in an open schema", () => {
    const r = checkExpression("whatever", { schema: openSchema }, "scalar");
    expect(r).toEqual({ type: t.any, nullable: true, errors: [], fields: ["whatever"] });
  });

  it("resolves quoted names and nested object fields", () => {
    expect(typeOf('"order id"')).toEqual({ type: t.int, nullable: true });
    expect(typeOf("customer.id")).toEqual({ type: t.int, nullable: false });
    expect(typeOf("customer.address.city")).toEqual({ type: t.string, nullable: true });
    expect(typeOf("customer['id']")).toEqual({ type: t.int, nullable: false });
  });

  it("reports unknown nested fields with suggestions from that object", () => {
    const source = "customer.adress.city";
    const e = errorOf(source);
    expect(e).toMatchObject({ code: "unknown-field", suggestion: "address" });
    expect(at(source, e)).toBe("adress");
  });

  it("rejects member access on scalars", () => {
    const source = "amount.value";
    const e = errorOf(source);
    expect(e).toMatchObject({ code: "type", message: 'Cannot read field "value" of a int value' });
    expect(at(source, e)).toBe("value");
  });

  it("types array elements and dynamic access as nullable", () => {
    expect(typeOf("tags[1]")).toEqual({ type: t.string, nullable: true });
    expect(typeOf("payload.a.b")).toEqual({ type: t.json, nullable: true });
    expect(typeOf("data['k'][2]")).toEqual({ type: t.any, nullable: true });
  });

  it("needs an int to index an array", () => {
    const source = "tags['x']";
    const e = errorOf(source);
    expect(e.code).toBe("type");
    expect(e.message).toContain("must be an int, got string");
    expect(at(source, e)).toBe("'x'");
  });

  it("reports an unknown function with a suggestion", () => {
    const source = "uper(country)";
    const e = errorOf(source);
    expect(e).toMatchObject({ code: "unknown-function", message: "Unknown function uper()", suggestion: "upper" });
    expect(at(source, e)).toBe("uper");
  });

  it("reports every independent error, not just the first", () => {
    const r = checkExpression("amout + prise", options(), "scalar");
    expect(r.errors.map((e) => e.suggestion)).toEqual(["amount", "price"]);
  });

  it("lists the fields read, in order, once each", () => {
    const r = checkExpression("amount + amount * price > 1 AND customer.id = 2", options(), "predicate");
    expect(r.fields).toEqual(["amount", "price", "customer"]);
  });

  it("still reports fields when there are type errors", () => {
    expect(checkExpression("amount + country", options(), "scalar").fields).toEqual(["amount", "country"]);
  });
});

describe("check: types", () => {
  it("names both types and points at the offending operand", () => {
    const source = "amount > 'x'";
    const e = errorOf(source);
    expect(e).toMatchObject({ code: "type", message: "Cannot compare int with string" });
    expect(e.position).toMatchObject({ offset: 9, length: 3 });
  });

  it("blames the literal whichever side it is on", () => {
    const source = "'x' <= amount";
    expect(at(source, errorOf(source))).toBe("'x'");
  });

  it("blames the right side when both are fields", () => {
    const source = "amount = country";
    expect(at(source, errorOf(source))).toBe("country");
  });

  it("suggests || when + is used on strings", () => {
    const source = "country + 'x'";
    const e = errorOf(source);
    expect(e.message).toBe("Operator + expects numbers, got string; use || to join strings");
    expect(at(source, e)).toBe("country");
  });

  it.each([
    ["NOT amount", "NOT expects a boolean, got int", "amount"],
    ["flag AND amount", "AND expects a boolean, got int", "amount"],
    ["amount IS TRUE", "IS TRUE expects a boolean, got int", "amount"],
    ["-country", "Unary - expects a number, got string", "country"],
    ["amount IN (1, 'two')", "Cannot compare int with string in IN", "'two'"],
    ["amount BETWEEN 1 AND 'z'", "Cannot compare int with string in BETWEEN", "'z'"],
    ["amount LIKE 'x'", "LIKE must be a string, got int", "amount"],
    ["country LIKE 5", "LIKE pattern must be a string, got int", "5"],
    ["CASE WHEN flag THEN 1 ELSE 'x' END", "CASE branches must have the same type: expected int, got string", "'x'"],
    ["CASE WHEN amount THEN 1 END", "WHEN expects a boolean, got int", "amount"],
    ["CASE amount WHEN 'a' THEN 1 END", "Cannot compare int with string in CASE", "'a'"],
    ["CAST(flag AS TIMESTAMP)", "Cannot cast boolean to TIMESTAMP", "TIMESTAMP"],
    ["CAST(tags AS INT)", "Cannot cast array<string> to INT", "INT"],
    ["ts * 2", "Cannot apply * to timestamp and int", "ts"],
    ["ts + ts", "Cannot apply + to timestamp and timestamp", "ts"],
    ["ts = 5", "Cannot compare timestamp with int", "5"],
    ["ts = country", "Cannot compare timestamp with string; use CAST(x AS TIMESTAMP)", "country"],
    ["ts > 'yesterday'", "Cannot compare timestamp with 'yesterday': it is not a valid timestamp", "'yesterday'"],
    ["tags = tags", "Cannot compare array<string> values with =", "tags"],
    ["lower(amount)", "lower() argument text must be a string, got int", "amount"],
    ["round(price, 1.5)", "round() argument digits must be an int, got float", "1.5"],
    ["date_trunc('fortnight', ts)", "Unknown date_trunc unit 'fortnight'", "'fortnight'"],
    ["date_trunc('day', ts, 'Mars/Base')", "Unknown time zone 'Mars/Base'", "'Mars/Base'"],
    ["json_extract(payload, 'a.b')", "JSON path must start with $", "'a.b'"],
    ["format_timestamp(ts, 'yyyy-qq')", "Unknown date-time pattern letter 'q'", "'yyyy-qq'"],
    ["coalesce(name, 1)", "coalesce arguments must have the same type: expected string, got int", "1"],
    ["greatest(tags, tags)", "greatest needs values that can be ordered, got array<string>", "tags"],
    ["TIMESTAMP '2024-02-30'", "'2024-02-30' is not a valid timestamp", "TIMESTAMP '2024-02-30'"],
    ["country || tags", "|| cannot use a array<string> value as text; use to_json()", "tags"],
    ["to_timestamp(flag)", "to_timestamp expects a string or a number of seconds, got boolean", "flag"],
    ["country LIKE 'a' ESCAPE 'ab'", "ESCAPE must be a constant string of one character", "'ab'"],
    ["country LIKE 'ab\\'", "LIKE pattern must not end with the escape character", "'ab\\'"],
  ])("%s", (source, message, offending) => {
    const e = errorOf(source);
    expect(e.code).toBe("type");
    expect(e.message).toContain(message);
    expect(at(source, e)).toBe(offending);
  });

  it("requires a filter to be boolean", () => {
    const e = errorOf("amount + 1", "predicate");
    expect(e).toMatchObject({ code: "type", message: "A filter expects a boolean, got int" });
    expect(e.position).toMatchObject({ offset: 0, length: 10 });
  });

  it("infers result types and nullability", () => {
    expect(typeOf("amount + 1")).toEqual({ type: t.int, nullable: false });
    expect(typeOf("amount + price")).toEqual({ type: t.float, nullable: false });
    expect(typeOf("amount / 2")).toEqual({ type: t.int, nullable: false });
    expect(typeOf("amount + n")).toEqual({ type: t.int, nullable: true });
    expect(typeOf("ts + INTERVAL '1' HOUR")).toEqual({ type: t.timestamp, nullable: false });
    expect(typeOf("ts - ts")).toEqual({ type: t.int, nullable: false });
    expect(typeOf("country || amount")).toEqual({ type: t.string, nullable: false });
    expect(typeOf("n IS NULL")).toEqual({ type: t.boolean, nullable: false });
    expect(typeOf("CASE WHEN flag THEN 1 ELSE 2.5 END")).toEqual({ type: t.float, nullable: false });
    expect(typeOf("CASE WHEN flag THEN 1 END")).toEqual({ type: t.int, nullable: true });
    expect(typeOf("coalesce(n, 0)")).toEqual({ type: t.int, nullable: false });
    expect(typeOf("coalesce(n, f)")).toEqual({ type: t.float, nullable: true });
    expect(typeOf("TRY_CAST(country AS INT)")).toEqual({ type: t.int, nullable: true });
    expect(typeOf("data + 1")).toEqual({ type: t.float, nullable: true });
    expect(typeOf("extract(hour FROM ts)")).toEqual({ type: t.int, nullable: false });
    expect(typeOf("extract('epoch', ts)")).toEqual({ type: t.float, nullable: false });
    expect(typeOf("regexp_match(country, 'x')")).toEqual({ type: t.string, nullable: true });
    expect(typeOf("round(amount)")).toEqual({ type: t.int, nullable: false });
    expect(typeOf("round(price, 2)")).toEqual({ type: t.float, nullable: false });
    expect(typeOf("split(country, ',')")).toEqual({ type: t.array(t.string), nullable: false });
    expect(typeOf("amount > 1", "predicate")).toEqual({ type: t.boolean, nullable: false });
    expect(typeOf("NULL")).toEqual({ type: t.null, nullable: true });
  });

  it("accepts a timestamp compared with a timestamp text, and dynamic values anywhere", () => {
    expect(errorsOf("ts > '2024-01-01 10:00'")).toEqual([]);
    expect(errorsOf("ts BETWEEN '2024-01-01' AND '2024-02-01'")).toEqual([]);
    expect(errorsOf("data > 5 AND data = 'x' AND payload.a LIKE 'x%' AND lower(data) = 'y'")).toEqual([]);
  });
});

describe("check: functions", () => {
  it("reports the wrong number of arguments with the signature", () => {
    const source = "round(price, 2, 3)";
    const e = errorOf(source);
    expect(e.code).toBe("arity");
    expect(e.message).toBe("round() takes 1 to 2 arguments, got 3: round(x: number [, digits: int]) → same type as x");
    expect(e.position).toMatchObject({ offset: 0, length: source.length });
  });

  it.each([
    ["lower()", "lower() takes 1 argument, got 0"],
    ["coalesce()", "coalesce() takes at least 1 argument, got 0"],
    ["now(1)", "now() takes 0 arguments, got 1"],
    ["substr(country)", "substr() takes 2 to 3 arguments, got 1"],
  ])("%s", (source, message) => {
    const e = errorOf(source);
    expect(e.code).toBe("arity");
    expect(e.message).toContain(message);
  });

  it("rejects * and DISTINCT outside count", () => {
    expect(errorOf("lower(*)")).toMatchObject({ code: "type" });
    expect(errorOf("lower(DISTINCT country)")).toMatchObject({ code: "aggregate" });
  });

  it("resolves function names case-insensitively and through aliases", () => {
    expect(typeOf("LOWER(country)").type).toEqual(t.string);
    expect(typeOf("SubString(country, 2)").type).toEqual(t.string);
    expect(typeOf("CURRENT_TIMESTAMP").type).toEqual(t.timestamp);
  });
});

describe("check: aggregates", () => {
  it.each([
    ["sum(amount)", "scalar", "Aggregate function sum() can only be used in window aggregates", "sum"],
    ["count(*) > 1", "predicate", "Aggregate function count() can only be used in window aggregates", "count"],
    ["sum(max(amount))", "aggregate", "Aggregate functions cannot be nested", "max(amount)"],
    ["amount + sum(amount)", "aggregate", 'Field "amount" must be inside an aggregate function', "amount"],
    ["sum(DISTINCT amount)", "aggregate", "DISTINCT is only supported in count(), not sum()", "sum(DISTINCT amount)"],
  ] as const)("%s", (source, mode, message, offending) => {
    const e = errorOf(source, mode);
    expect(e.code).toBe("aggregate");
    expect(e.message).toContain(message);
    expect(at(source, e)).toBe(offending);
  });

  it("checks aggregate arguments", () => {
    expect(errorOf("sum(country)", "aggregate")).toMatchObject({
      code: "type",
      message: "sum() argument value must be a number, got string",
    });
    expect(errorOf("sum(*)", "aggregate")).toMatchObject({ code: "type" });
    expect(errorOf("count(amount, price)", "aggregate")).toMatchObject({ code: "arity" });
    expect(errorOf("max(tags)", "aggregate").message).toContain("Cannot order values of type array<string>");
  });

  it("types aggregates and expressions over them", () => {
    expect(typeOf("count(*)", "aggregate")).toEqual({ type: t.int, nullable: false });
    expect(typeOf("sum(amount)", "aggregate")).toEqual({ type: t.int, nullable: true });
    expect(typeOf("sum(price)", "aggregate")).toEqual({ type: t.float, nullable: true });
    expect(typeOf("round(avg(price), 2)", "aggregate")).toEqual({ type: t.float, nullable: true });
    expect(typeOf("max(ts)", "aggregate")).toEqual({ type: t.timestamp, nullable: true });
    expect(typeOf("count(DISTINCT country) * 2", "aggregate")).toEqual({ type: t.int, nullable: false });
  });
});

describe("check: parameters", () => {
  const parameters = {
    limit: { type: "number", value: 10 },
    ratio: { type: "number", value: 0.5 },
    topic: { type: "string", value: "clicks" },
    open: { type: "number" },
  } as const;

  it("types parameters from their declaration and value", () => {
    const r = (source: string) => checkExpression(source, options({ parameters }), "scalar").type;
    expect(r("{{limit}}")).toEqual(t.int);
    expect(r("{{ratio}}")).toEqual(t.float);
    expect(r("{{topic}}")).toEqual(t.string);
  });

  it("reports unknown parameters with a suggestion", () => {
    const source = "amount > {{limt}}";
    const e = errorOf(source, "scalar", { parameters });
    expect(e).toMatchObject({ code: "parameter", message: "Unknown parameter {{limt}}", suggestion: "limit" });
    expect(at(source, e)).toBe("{{limt}}");
  });

  it("only needs values when compiling", () => {
    expect(checkExpression("substr(country, {{open}})", options({ parameters }), "scalar").errors).toEqual([]);
    const compiled = compileExpression("amount > {{open}}", options({ parameters }));
    expect(compiled.ok).toBe(false);
    if (!compiled.ok)
      expect(compiled.errors[0]).toMatchObject({ code: "parameter", message: "Parameter {{open}} has no value" });
  });

  it("rejects a value that does not match the declared type", () => {
    const bad = { p: { type: "number", value: "ten" } } as const;
    expect(errorOf("{{p}}", "scalar", { parameters: bad })).toMatchObject({ code: "parameter" });
  });

  it("never looks parameters up on the prototype", () => {
    expect(errorOf("{{constructor}}", "scalar", { parameters: {} })).toMatchObject({ code: "parameter" });
    expect(errorOf("{{toString}}")).toMatchObject({ code: "parameter" });
  });
});

describe("check: options and constants", () => {
  it("rejects an unknown default time zone", () => {
    const e = errorOf("amount", "scalar", { timeZone: "Europe/Berln" });
    expect(e).toMatchObject({ code: "parameter", suggestion: "Europe/Berlin" });
  });

  it("reports failures of constant sub-expressions at compile time", () => {
    const source = "amount + 1 / 0";
    const e = errorOf(source);
    expect(e).toMatchObject({ code: "type", message: "Division by zero" });
    expect(at(source, e)).toBe("1 / 0");
    expect(errorOf("CAST('abc' AS INT)")).toMatchObject({ code: "type", message: "Cannot cast 'abc' to INT" });
    expect(errorOf("sqrt(-1)").message).toContain("square root of a negative number");
  });

  it("reports them from checkExpression too, so validation catches what compiling would", () => {
    for (const mode of ["scalar", "predicate", "aggregate"] as const) {
      const source = mode === "aggregate" ? "sum(amount) + 1 / 0" : "amount > 1 / 0";
      expect(checkExpression(source, options(), mode).errors[0], mode).toMatchObject({
        code: "type",
        message: "Division by zero",
      });
    }
    const parameters = { d: { type: "number" } } as const;
    expect(checkExpression("amount / {{d}} > 1", options({ parameters }), "predicate").errors).toEqual([]);
  });

  it("does not need the schema for expressions without fields", () => {
    expect(checkExpression("1 + 2", { schema: { open: false, fields: [] } }, "scalar").type).toEqual(t.int);
  });

  it("keeps a non-string source from throwing", () => {
    const r = checkExpression(42 as unknown as string, { schema }, "scalar");
    expect(r.errors[0]?.code).toBe("syntax");
  });
});
