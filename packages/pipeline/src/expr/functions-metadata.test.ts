import { describe, expect, it } from "vitest";
import { checkExpression, FUNCTIONS } from "./compile";
import { lookupFunction } from "./functions/registry";
import { options } from "./test-support";

describe("FUNCTIONS", () => {
  it("lists every required function once, with a signature and a one-line doc", () => {
    const names = FUNCTIONS.flatMap((f) => [f.name, ...f.aliases]);
    expect(new Set(names).size).toBe(names.length);
    const required = [
      "lower upper trim ltrim rtrim substr substring concat length replace regexp_match regexp_replace split",
      "starts_with ends_with position lpad rpad abs round floor ceil pow power sqrt exp ln log10 mod greatest least",
      "sign now current_timestamp date_trunc extract to_timestamp format_timestamp json_extract json_parse to_json",
      "md5 sha256 hash coalesce nullif if ifnull count sum avg min max first last",
    ]
      .join(" ")
      .split(" ");
    for (const name of required) expect(names, name).toContain(name);
    for (const f of FUNCTIONS) {
      expect(f.signature.startsWith(`${f.name}(`), f.name).toBe(true);
      expect(f.signature).toContain("→");
      expect(f.doc.length, f.name).toBeGreaterThan(10);
      expect(f.doc.includes("\n"), f.name).toBe(false);
    }
  });

  it("has no non-deterministic functions (replays must give the same results)", () => {
    expect(FUNCTIONS.map((f) => f.name)).not.toContain("random");
  });

  it("marks exactly the aggregates, which only type-check in aggregate mode", () => {
    const aggregates = FUNCTIONS.filter((f) => f.aggregate).map((f) => f.name);
    expect(aggregates.sort()).toEqual(["avg", "count", "first", "last", "max", "min", "sum"]);
    for (const f of FUNCTIONS.filter((x) => x.aggregate)) {
      expect(f.category).toBe("aggregate");
      expect(checkExpression(`${f.name}(amount)`, options(), "scalar").errors[0]?.code).toBe("aggregate");
      expect(checkExpression(`${f.name}(amount)`, options(), "aggregate").errors).toEqual([]);
    }
  });

  it("is the table the checker uses", () => {
    for (const f of FUNCTIONS) {
      for (const name of [f.name, ...f.aliases]) expect(lookupFunction(name.toUpperCase())?.name).toBe(f.name);
    }
    expect(lookupFunction("constructor")).toBeUndefined();
    expect(lookupFunction("__proto__")).toBeUndefined();
  });

  it("generates readable signatures from the declarations", () => {
    const sig = (name: string) => FUNCTIONS.find((f) => f.name === name)?.signature;
    expect(sig("substr")).toBe("substr(text: string, start: int [, length: int]) → string");
    expect(sig("date_trunc")).toBe("date_trunc(unit: string, ts: timestamp [, zone: string]) → timestamp");
    expect(sig("regexp_replace")).toBe(
      "regexp_replace(text: string, pattern: string, replacement: string [, flags: string]) → string",
    );
    expect(sig("coalesce")).toBe("coalesce(values: any...) → the arguments' type");
    expect(sig("now")).toBe("now() → timestamp");
  });
});
