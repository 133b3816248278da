import { describe, expect, it } from "vitest";
import { parseJsonPath, walkJsonPath } from "./json-path";
import { errorOf, openSchema, run, runtimeErrorOf } from "./test-support";

describe("JSON functions", () => {
  const payload = { a: { b: [10, { c: "deep" }] }, "odd key": true, n: null };

  it.each([
    ["json_extract(payload, '$.a.b[0]')", 10],
    ["json_extract(payload, '$.a.b[1].c')", "deep"],
    ["json_extract(payload, '$[\"odd key\"]')", true],
    ["json_extract(payload, '$[''odd key'']')", true],
    ["json_extract(payload, '$.a')", { b: [10, { c: "deep" }] }],
    ["json_extract(payload, '$')", payload],
    ["json_extract(payload, '$.a.b[5]')", null],
    ["json_extract(payload, '$.n')", null],
    ["json_extract(payload, '$.missing.x')", null],
    ["json_extract(payload, '$.a.b.length')", null],
    ["json_extract(payload, '$.constructor')", null],
    ["json_extract('{\"x\": [1, 2]}', '$.x[1]')", 2],
    ["json_extract('not json', '$.x')", null],
    ["json_parse('{\"x\": 1}')", { x: 1 }],
    ["json_parse('[1, \"a\"]')", [1, "a"]],
    ["json_parse('{bad')", null],
    ["to_json(payload)", JSON.stringify(payload)],
    ["to_json(NULL)", "null"],
    ["to_json('a\"b')", '"a\\"b"'],
    ["to_json(split('a,b', ','))", '["a","b"]'],
    ["cardinality(tags)", 2],
    ["array_length(split('a,b,c', ','))", 3],
    ["array_contains(tags, 'y')", true],
    ["array_contains(tags, 'z')", false],
    ['json_parse(\'{"x": {"y": 3}}\').x.y', 3],
  ])("%s", (source, expected) => {
    expect(run(source, { payload, tags: ["x", "y"] })).toEqual(expected);
  });

  it("extracts with a path that comes from data", () => {
    expect(run("json_extract(payload, s)", { payload, s: "$.a.b[1].c" })).toBe("deep");
    expect(runtimeErrorOf("json_extract(payload, s)", { payload, s: "a.b" }).code).toBe("invalid-argument");
  });

  it("rejects malformed constant paths at compile time", () => {
    for (const path of ["a.b", "$.", "$[x]", "$.a[", "$..a", "$.a b"]) {
      expect(errorOf(`json_extract(payload, '${path}')`).code, path).toBe("type");
    }
  });

  it("accepts any value where JSON is expected, including schemaless fields", () => {
    expect(run("json_extract(x, '$.k')", { x: '{"k": 5}' }, { schema: openSchema })).toBe(5);
    expect(run("json_extract(x, '$.k')", { x: { k: 6 } }, { schema: openSchema })).toBe(6);
  });

  it("parses JSON paths into steps", () => {
    expect(parseJsonPath("$.a['b c'][3]")).toEqual({ ok: true, steps: [{ key: "a" }, { key: "b c" }, { index: 3 }] });
    expect(walkJsonPath({ __proto__: { x: 1 } }, [{ key: "x" }])).toBe(null);
  });
});
