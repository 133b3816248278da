import { describe, expect, it } from "vitest";
import { columnWriter, OID, parseArrayLiteral, parseTimestampText, sluiceType, valueParser } from "./pg-types";

describe("reading PostgreSQL text as Sluice values", () => {
  it("reads timestamps as epoch ms in UTC, with offsets, dates and ±infinity", () => {
    expect(parseTimestampText("2024-03-01 12:34:56.789123+00")).toBe(Date.UTC(2024, 2, 1, 12, 34, 56, 789));
    expect(parseTimestampText("2024-03-01 12:34:56+02")).toBe(Date.UTC(2024, 2, 1, 10, 34, 56));
    expect(parseTimestampText("2024-03-01 12:34:56.5-05:30")).toBe(Date.UTC(2024, 2, 1, 18, 4, 56, 500));
    expect(parseTimestampText("2024-03-01 12:34:56")).toBe(Date.UTC(2024, 2, 1, 12, 34, 56));
    expect(parseTimestampText("2024-02-29")).toBe(Date.UTC(2024, 1, 29));
    expect(new Date(parseTimestampText("0044-03-15")!).getUTCFullYear()).toBe(44);
    expect(parseTimestampText("infinity")).toBe(8.64e15);
    expect(parseTimestampText("-infinity")).toBe(-8.64e15);
    expect(parseTimestampText("yesterday")).toBeUndefined();
  });

  it("converts by type: numbers, bigints beyond 2^53 as text, booleans, JSON, arrays, the rest as text", () => {
    expect(valueParser(OID.int4)("42")).toBe(42);
    expect(valueParser(OID.int8)("9007199254740993")).toBe("9007199254740993");
    expect(valueParser(OID.int8)("-12")).toBe(-12);
    expect(valueParser(OID.numeric)("12.50")).toBe(12.5);
    expect(valueParser(OID.bool)("t")).toBe(true);
    expect(valueParser(OID.jsonb)('{"a":[1,"x"]}')).toEqual({ a: [1, "x"] });
    expect(valueParser(OID.uuid)("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")).toBe("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    expect(valueParser(1007)("{1,2,NULL}")).toEqual([1, 2, null]);
    expect(valueParser(1009)('{"a b","c\\"d",plain,"NULL"}')).toEqual(["a b", 'c"d', "plain", "NULL"]);
    expect(valueParser(1007)("{{1,2},{3,4}}")).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(parseArrayLiteral("[0:1]={5,6}", Number)).toEqual([5, 6]);
    expect(valueParser(1185)('{"2024-01-01 00:00:00+00"}')).toEqual([Date.UTC(2024, 0, 1)]);
  });

  it("types columns for schemas", () => {
    expect(sluiceType(OID.int8)).toEqual({ kind: "int" });
    expect(sluiceType(OID.timestamptz)).toEqual({ kind: "timestamp" });
    expect(sluiceType(1016)).toEqual({ kind: "array", items: { kind: "int" } });
    expect(sluiceType(99999)).toEqual({ kind: "string" });
  });
});

describe("writing Sluice values for a column type", () => {
  const col = (category: string, extra: Record<string, unknown> = {}) =>
    columnWriter({ name: "c", type: "t", category, json: false, ...extra });

  it("writes epoch ms into timestamp columns as ISO text and refuses what is not a time", () => {
    expect(col("D")(Date.UTC(2024, 0, 2, 3, 4, 5, 6))).toBe("2024-01-02T03:04:05.006Z");
    expect(col("D")("2024-01-02")).toBe("2024-01-02");
    expect(() => col("D")(Number.NaN)).toThrow(/not a timestamp/);
    expect(() => col("D")({ a: 1 })).toThrow(/expected a timestamp/);
  });

  it("writes JSON for json columns (strings too), literals for arrays, NULL for null and undefined", () => {
    expect(col("U", { json: true })("x")).toBe('"x"');
    expect(col("U", { json: true })({ a: 1 })).toBe('{"a":1}');
    expect(col("A", { elementCategory: "S" })(["a", 'b"c', null, "x\\y"])).toBe('{"a","b\\"c",NULL,"x\\\\y"}');
    expect(col("A", { elementCategory: "N" })([[1, 2], [3]])).toBe('{{"1","2"},{"3"}}');
    expect(col("B")(true)).toBe("t");
    expect(col("S")(null)).toBeNull();
    expect(col("S")(undefined)).toBeNull();
    expect(col("S")({ a: 1 })).toBe('{"a":1}');
    expect(col("N")(12.5)).toBe("12.5");
  });
});
