import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileExpression } from "./compile";
import { regexHazard } from "./regex";
import { errorOf, errorsOf, openSchema, options, run, runtimeErrorOf } from "./test-support";

const open = { schema: openSchema };

describe("no way out to the host", () => {
  it.each([
    "process",
    "require",
    "globalThis",
    "window",
    "Function",
    "eval",
    "constructor",
    "__proto__",
    "toString",
    "prototype",
  ])("%s is only ever a record field", (name) => {
    expect(errorOf(name).code).toBe("unknown-field");
    expect(run(name, {}, open)).toBe(null);
    expect(run(`"${name}"`, { [name]: "data" }, open)).toBe("data");
  });

  it.each([
    "eval('1')",
    "Function('return 1')",
    "require('fs')",
    "constructor('x')",
    "process.exit(1)",
    "globalThis.x()",
  ])("%s cannot call anything but the function library", (source) => {
    const errors = errorsOf(source, open);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => e.code === "unknown-function" || e.code === "syntax")).toBe(true);
  });

  it("reads only own properties, whatever the key", () => {
    const record = { data: { a: 1 }, tags: ["x"], s: "text" };
    for (const source of [
      "data.constructor",
      "data.__proto__",
      "data['constructor']['constructor']",
      "data.toString",
      "data.hasOwnProperty",
      "json_extract(data, '$.constructor.name')",
      "x.length",
      "x.constructor",
    ]) {
      expect(run(source, { ...record, x: "abc" }, open), source).toBe(null);
    }
  });

  it("treats fields named like prototype members as plain data", () => {
    const record = JSON.parse('{"__proto__": {"admin": true}, "constructor": 6, "data": {"__proto__": 7}}') as Record<
      string,
      unknown
    >;
    expect(run('"__proto__".admin', record, open)).toBe(true);
    expect(run("constructor + 1", record, open)).toBe(7);
    expect(run("data.__proto__", record, open)).toBe(7);
    expect(run("data['__proto__']", record, open)).toBe(7);
  });

  it("ignores a polluted Object.prototype", () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto.pollutedField = "evil";
    try {
      expect(run("pollutedField", {}, open)).toBe(null);
      expect(run("data.pollutedField", { data: {} }, open)).toBe(null);
      expect(run("pollutedField = 'evil'", {}, open)).toBe(null);
      const filter = compileExpression("pollutedField IS NULL", options(open));
      expect(filter.ok && filter.value.evaluate({})).toBe(true);
    } finally {
      delete proto.pollutedField;
    }
  });

  it("never modifies the record", () => {
    const record = Object.freeze({
      amount: 5,
      tags: Object.freeze(["b", "a"]),
      payload: Object.freeze({ a: Object.freeze([1]) }),
      country: "de",
    });
    for (const source of [
      "upper(country)",
      "reverse(country)",
      "tags[1]",
      "json_extract(payload, '$.a[0]')",
      "to_json(payload)",
      "array_contains(tags, 'a')",
    ]) {
      expect(() => run(source, record), source).not.toThrow();
    }
    expect(record.tags).toEqual(["b", "a"]);
  });

  it("contains no code generation in its sources", () => {
    const dir = __dirname;
    const files = [
      ...readdirSync(dir).map((f) => join(dir, f)),
      ...readdirSync(join(dir, "functions")).map((f) => join(dir, "functions", f)),
    ].filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"));
    expect(files.length).toBeGreaterThan(20);
    for (const file of files) {
      const text = readFileSync(file, "utf8");
      expect(/\beval\s*\(|new\s+Function\b|\bFunction\s*\(|import\s*\(/.test(text), file).toBe(false);
    }
  });
});

describe("size limits", () => {
  it("rejects expressions over 64 KiB, counted in UTF-8 bytes", () => {
    const long = `'${"x".repeat(70_000)}'`;
    expect(errorOf(long)).toMatchObject({ code: "limit", message: "Expression is longer than 64 KiB" });
    const wide = `'${"é".repeat(33_000)}'`; // 66,002 bytes in 33,002 characters
    expect(errorOf(wide).code).toBe("limit");
    expect(errorsOf(`'${"x".repeat(60_000)}'`)).toEqual([]);
  });

  it("rejects nesting deeper than 256, in every form, without overflowing the stack", () => {
    const deep = [
      `${"(".repeat(300)}1${")".repeat(300)}`,
      `${"NOT ".repeat(300)}TRUE`,
      `${"- ".repeat(300)}1`,
      `1${" + 1".repeat(300)}`,
      `${"abs(".repeat(300)}1${")".repeat(300)}`,
      `${"CASE WHEN TRUE THEN ".repeat(300)}1${" END".repeat(300)}`,
      `${"(".repeat(50_000)}`,
    ];
    for (const source of deep) {
      const value = errorOf(source);
      expect(value.code, source.slice(0, 30)).toBe("limit");
      expect(value.message).toContain("nested more than 256 levels");
    }
    expect(errorsOf(`${"(".repeat(200)}1${")".repeat(200)}`)).toEqual([]);
    expect(errorsOf(`1${" + 1".repeat(200)}`)).toEqual([]);
  });

  it("rejects more than 10,000 syntax nodes", () => {
    const source = `coalesce(${"1, ".repeat(10_000)}1)`;
    expect(errorOf(source)).toMatchObject({ code: "limit", message: "Expression has more than 10000 parts" });
  });

  it("rejects IN lists over 10,000 items, and accepts 10,000", () => {
    const big = `amount IN (${Array.from({ length: 10_001 }, (_, i) => i).join(",")})`;
    const e = errorOf(big);
    expect(e).toMatchObject({ code: "limit", message: "IN list has more than 10000 items" });
    expect(e.position.offset).toBe(0);
    const ok = `amount IN (${Array.from({ length: 9_990 }, (_, i) => i).join(",")})`;
    expect(run(ok, { amount: 9_000 })).toBe(true);
  });

  it("rejects string parameter values over 1 MiB", () => {
    const parameters = { big: { type: "string", value: "x".repeat(1024 * 1024 + 1) } } as const;
    expect(errorOf("{{big}}", "scalar", { parameters })).toMatchObject({ code: "limit" });
  });

  it("caps the strings functions can build", () => {
    expect(errorOf("repeat('x', 2000000)").code).toBe("limit");
    expect(errorOf("lpad('x', 100000000)").code).toBe("limit");
    expect(runtimeErrorOf("repeat(s, n)", { s: "ab", n: 1_000_000 }).code).toBe("limit");
    expect(runtimeErrorOf("rpad(s, n)", { s: "ab", n: 5_000_000 }).code).toBe("limit");
    expect(runtimeErrorOf("regexp_replace(s, '', s)", { s: "y".repeat(2000) }).code).toBe("limit");
    expect(runtimeErrorOf("replace(s, 'y', s)", { s: "y".repeat(2000) }).code).toBe("limit");
    expect(runtimeErrorOf("s || s", { s: "z".repeat(600_000) }).code).toBe("limit");
    expect(run("repeat(s, n)", { s: "ab", n: 3 })).toBe("ababab");
  });
});

describe("regular expressions", () => {
  it.each(["(a+)+$", "(a*)*b", "(a|a)*", "(a|ab)*c", "(\\w+\\s?)*$", "(.*a){20}", "((ab)+)+", "(a)\\1", "(?:x+y*)+"])(
    "rejects %s",
    (pattern) => {
      expect(regexHazard(pattern)).toBeDefined();
      const e = errorOf(`regexp_like(country, '${pattern}')`);
      expect(e.code).toBe("limit");
      expect(e.position.offset).toBe(21);
    },
  );

  it.each(["(a|b)*c", "^\\d{3}-\\d{4}$", "[a-z]+@[a-z]+\\.com", "(?:ab)+", "(x|y|z)+", "^(\\d+)-(\\d+)$", "a{2,5}"])(
    "accepts %s",
    (pattern) => {
      expect(regexHazard(pattern)).toBeUndefined();
      expect(errorsOf(`regexp_like(country, '${pattern}')`)).toEqual([]);
    },
  );

  it("screens, length-limits and caches patterns that come from data", () => {
    expect(runtimeErrorOf("regexp_like(country, s)", { country: "aaa", s: "(a+)+$" }).code).toBe("limit");
    expect(runtimeErrorOf("regexp_like(country, s)", { country: "a", s: "a".repeat(300) }).code).toBe("limit");
    expect(errorsOf(`regexp_like(country, '${"a".repeat(1001)}')`)[0]?.code).toBe("limit");
    expect(run("regexp_like(country, s)", { country: "abc", s: "b" })).toBe(true);
  });

  it("matches LIKE patterns without backtracking blow-up", () => {
    const text = "a".repeat(20_000);
    // A backtracking matcher would not finish this in the lifetime of the test run; a linear one answers at once.
    expect(run(`s LIKE '${"%a".repeat(20)}%b'`, { s: text })).toBe(false);
    expect(runtimeErrorOf("s LIKE country", { s: "x", country: "%".repeat(300) }).code).toBe("limit");
  });
});
