import { describe, expect, it } from "vitest";
import { bindParameters, findPlaceholders, ParameterError, parameterNames, parseInstant } from "./query-parameters";

const TS = [
  { name: "from", type: "timestamp" as const },
  { name: "to", type: "timestamp" as const },
];

describe("findPlaceholders", () => {
  it("finds placeholders in code, with their offsets, repeats included", () => {
    const sql = "select * from t where a >= {{from}} and b < {{ to }} or c = {{from}}";
    expect(findPlaceholders(sql, "postgresql").map((p) => [p.name, sql.slice(p.start, p.end)])).toEqual([
      ["from", "{{from}}"],
      ["to", "{{ to }}"],
      ["from", "{{from}}"],
    ]);
    expect(parameterNames(sql, "postgresql")).toEqual(["from", "to"]);
  });

  it("skips string literals, quoted identifiers and comments in PostgreSQL", () => {
    const sql = [
      "select '{{a}}', 'it''s {{b}}', E'\\' {{c}}', \"{{d}}\", $$ {{e}} $$, $tag$ {{f}} $tag$",
      "-- {{g}}",
      "/* outer /* {{h}} */ {{i}} */ {{real}}",
    ].join("\n");
    expect(parameterNames(sql, "postgresql")).toEqual(["real"]);
    expect(parameterNames(sql, "duckdb")).toEqual(["real"]);
  });

  it("skips MySQL's backslash-escaped strings, backquoted names and # comments", () => {
    const sql = "select 'a\\' {{a}}', \"{{b}}\", `{{c}}` # {{d}}\n, {{real}} -- {{e}}\n/* {{f}} */";
    expect(parameterNames(sql, "mysql")).toEqual(["real"]);
    // In PostgreSQL a backslash in a plain string is a character: the string ends at the second quote.
    expect(parameterNames("select 'a\\' , {{x}}", "postgresql")).toEqual(["x"]);
  });

  it("does not take $1 or an identifier with $ for a dollar quote", () => {
    expect(parameterNames("select $1, a$b$ , {{x}}, c$", "postgresql")).toEqual(["x"]);
  });

  it("refuses a placeholder whose name is not a parameter name", () => {
    expect(() => findPlaceholders("select {{From}}", "postgresql")).toThrow(/"\{\{From\}\}" is not a parameter/);
    expect(() => findPlaceholders("select {{1x}}", "postgresql")).toThrow(ParameterError);
  });
});

describe("bindParameters", () => {
  const now = new Date("2026-03-01T12:00:00Z");

  it("numbers PostgreSQL placeholders, reusing a repeated name's number and typing instants", () => {
    const bound = bindParameters(
      "select * from t where ts >= {{from}} and ts < {{to}} and {{from}} is not null",
      "postgresql",
      TS,
      { from: "2026-01-01T00:00:00Z", to: "now" },
      now,
    );
    expect(bound.sql).toBe(
      "select * from t where ts >=  $1::timestamptz  and ts <  $2::timestamptz  and  $1::timestamptz  is not null",
    );
    expect(bound.params).toEqual([new Date("2026-01-01T00:00:00Z"), now]);
  });

  it("gives MySQL one ? per placeholder, repeats included, and DuckDB bare $n", () => {
    const decls = [{ name: "n", type: "number" as const }];
    expect(bindParameters("select {{n}} + {{n}}", "mysql", decls, { n: 2 })).toEqual({
      sql: "select  ?  +  ? ",
      params: [2, 2],
    });
    expect(bindParameters("select {{n}} + {{n}}", "duckdb", decls, { n: "2.5" })).toEqual({
      sql: "select  $1  +  $1 ",
      params: [2.5],
    });
  });

  it("takes defaults, relative ones included, when a value is absent or null", () => {
    const bound = bindParameters(
      "select {{from}}, {{who}}",
      "postgresql",
      [
        { name: "from", type: "timestamp", default: "now-1h" },
        { name: "who", type: "text", default: "ada" },
      ],
      { who: null },
      now,
    );
    expect(bound.params).toEqual([new Date("2026-03-01T11:00:00Z"), "ada"]);
  });

  it("keeps a hostile text value as a bind value, out of the SQL", () => {
    const bound = bindParameters(
      "select * from t where name = {{name}}",
      "postgresql",
      [{ name: "name", type: "text" }],
      { name: "'; drop table x; --" },
    );
    expect(bound.sql).not.toContain("drop");
    expect(bound.params).toEqual(["'; drop table x; --"]);
  });

  it("leaves SQL without placeholders alone", () => {
    expect(bindParameters("select '{{x}}'", "postgresql", [])).toEqual({ sql: "select '{{x}}'", params: [] });
  });

  it("names an undeclared placeholder, a missing value and a badly typed one", () => {
    const unknown = () => bindParameters("select {{region}}", "postgresql", TS, {});
    expect(unknown).toThrow(/\{\{region\}\} is not a declared parameter/);
    expect(() => bindParameters("select {{from}}", "postgresql", TS, {})).toThrow(
      /parameter "from" has no value and no default/,
    );
    expect(() => bindParameters("select {{from}}", "postgresql", TS, { from: "yesterday" })).toThrow(
      /parameter "from": "yesterday" is not a time/,
    );
    expect(() => bindParameters("select {{n}}", "mysql", [{ name: "n", type: "number" }], { n: "12abc" })).toThrow(
      /parameter "n": "12abc" is not a number/,
    );
    try {
      unknown();
    } catch (err) {
      expect((err as ParameterError).parameter).toBe("region");
    }
  });
});

describe("parseInstant", () => {
  const now = new Date("2026-03-01T12:00:00Z");
  it("reads ISO instants with a zone and relative times", () => {
    expect(parseInstant("2026-01-01T10:00:00+02:00")?.toISOString()).toBe("2026-01-01T08:00:00.000Z");
    expect(parseInstant("now-15m", now)?.toISOString()).toBe("2026-03-01T11:45:00.000Z");
    expect(parseInstant("now-7d", now)?.toISOString()).toBe("2026-02-22T12:00:00.000Z");
    expect(parseInstant("now", now)).toEqual(now);
  });
  it("refuses a time without a zone, which each engine would read in its own", () => {
    expect(parseInstant("2026-01-01T10:00:00")).toBeUndefined();
    expect(parseInstant("2026-13-01T10:00:00Z")).toBeUndefined();
  });
});
