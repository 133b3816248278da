import { describe, expect, it } from "vitest";
import { openSchema, run, runtimeErrorOf } from "./test-support";

describe("CAST", () => {
  it.each([
    ["CAST(12 AS STRING)", "12"],
    ["CAST(1.5 AS VARCHAR)", "1.5"],
    ["CAST(TRUE AS TEXT)", "true"],
    ["CAST(TIMESTAMP '2024-01-02 03:04:05' AS STRING)", "2024-01-02T03:04:05.000Z"],
    ["CAST('12' AS INT)", 12],
    ["CAST(' -12 ' AS INTEGER)", -12],
    ["CAST('12.9' AS INT)", 12],
    ["CAST('-12.9' AS BIGINT)", -12],
    ["CAST('1e3' AS INT)", 1000],
    ["CAST(12.9 AS INT)", 12],
    ["CAST(-12.9 AS INT)", -12],
    ["CAST(TRUE AS INT)", 1],
    ["CAST(TIMESTAMP '1970-01-01 00:00:01' AS INT)", 1000],
    ["CAST('2.5' AS FLOAT)", 2.5],
    ["CAST('.5' AS DOUBLE)", 0.5],
    ["CAST(3 AS DECIMAL(10, 2))", 3],
    ["CAST(FALSE AS FLOAT)", 0],
    ["CAST('true' AS BOOLEAN)", true],
    ["CAST('NO' AS BOOLEAN)", false],
    ["CAST(' t ' AS BOOL)", true],
    ["CAST('0' AS BOOLEAN)", false],
    ["CAST(2 AS BOOLEAN)", true],
    ["CAST(0.0 AS BOOLEAN)", false],
    ["CAST('2024-01-02T03:04:05Z' AS TIMESTAMP)", Date.UTC(2024, 0, 2, 3, 4, 5)],
    ["CAST('2024-01-02 03:04:05+02:00' AS TIMESTAMP)", Date.UTC(2024, 0, 2, 1, 4, 5)],
    ["CAST(86400000 AS TIMESTAMP)", 86_400_000],
    ["CAST('{\"a\":1}' AS JSON)", '{"a":1}'],
    ["'42'::int + 1", 43],
    ["amount::string", "7"],
    ["TRY_CAST('x' AS INT)", null],
    ["TRY_CAST('5' AS INT)", 5],
    ["TRY_CAST('maybe' AS BOOLEAN)", null],
  ])("%s = %j", (source, expected) => {
    expect(run(source, { amount: 7 })).toEqual(expected);
  });

  it("reads timestamp text in the pipeline's time zone when it has no offset", () => {
    expect(run("CAST('2024-07-01 12:00' AS TIMESTAMP)", {}, { timeZone: "Europe/Berlin" })).toBe(
      Date.UTC(2024, 6, 1, 10, 0),
    );
  });

  it("fails the record when a value cannot be converted", () => {
    const e = runtimeErrorOf("CAST(s AS INT)", { s: "12abc" });
    expect(e.code).toBe("cast");
    expect(e.message).toContain("Cannot cast '12abc' to INT");
    expect(e.position).toMatchObject({ offset: 0, length: 14 });
    expect(runtimeErrorOf("CAST(s AS FLOAT)", { s: "" }).code).toBe("cast");
    expect(runtimeErrorOf("CAST(s AS BOOLEAN)", { s: "maybe" }).code).toBe("cast");
    expect(runtimeErrorOf("CAST(s AS TIMESTAMP)", { s: "soon" }).code).toBe("cast");
    expect(runtimeErrorOf("CAST(s AS INT)", { s: "0x10" }).code).toBe("cast");
    expect(runtimeErrorOf("CAST(f AS INT)", { f: 1e300 }).message).toContain("out of range");
  });

  it("casts values typed only at run time by what they hold", () => {
    const open = { schema: openSchema };
    expect(run("CAST(x AS STRING)", { x: { a: [1] } }, open)).toBe('{"a":[1]}');
    expect(run("CAST(x AS STRING)", { x: "plain" }, open)).toBe("plain");
    expect(run("CAST(x AS INT)", { x: "17" }, open)).toBe(17);
    expect(run("TRY_CAST(x AS INT)", { x: [1] }, open)).toBe(null);
    expect(runtimeErrorOf("CAST(x AS INT)", { x: [1] }, open).message).toContain("Cannot cast array to INT");
  });
});
