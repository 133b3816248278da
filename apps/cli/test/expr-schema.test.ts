import { field, t } from "@sluice/pipeline/record-schema";
import { describe, expect, it } from "vitest";
import { conformRecord, inferRecordSchema, parseSchemaOption } from "../src/commands/expr-schema";
import { caretExcerpt } from "../src/source-excerpt";

describe("inferRecordSchema", () => {
  it("types fields from JSON values", () => {
    expect(inferRecordSchema({ s: "x", i: 3, f: 2.5, big: 2 ** 60, b: true, n: null, a: [1], o: { k: 1 } })).toEqual({
      open: false,
      fields: [
        field("s", t.string),
        field("i", t.int),
        field("f", t.float),
        field("big", t.float),
        field("b", t.boolean),
        field("n", t.any, true),
        field("a", t.json),
        field("o", t.json),
      ],
    });
  });
});

describe("parseSchemaOption", () => {
  it("reads type names as CAST spells them, nullability, arrays and nested objects", () => {
    const r = parseSchemaOption('{"a":"INTEGER","b":"varchar?","c":"array<double precision>","d":{"e":"timestamp"}}');
    expect(r).toEqual({
      ok: true,
      schema: {
        open: false,
        fields: [
          field("a", t.int),
          field("b", t.string, true),
          field("c", t.array(t.float)),
          field("d", t.object([field("e", t.timestamp)])),
        ],
      },
    });
  });

  it("rejects what is not a schema, without running anything but a type name", () => {
    expect(parseSchemaOption("[]").ok).toBe(false);
    expect(parseSchemaOption('{"a": 1}').ok).toBe(false);
    expect(parseSchemaOption('{"a": "int) OR (1"}')).toMatchObject({ ok: false });
  });
});

describe("conformRecord", () => {
  const schema = {
    open: false,
    fields: [field("ts", t.timestamp), field("n", t.int, true), field("tags", t.array(t.string))],
  };

  it("converts ISO timestamps and keeps conforming values", () => {
    expect(conformRecord({ ts: "2024-01-02T03:04:05Z", tags: ["a"], extra: 1 }, schema)).toEqual({
      ok: true,
      record: { ts: Date.UTC(2024, 0, 2, 3, 4, 5), tags: ["a"], extra: 1 },
    });
  });

  it("names the field that does not fit", () => {
    expect(conformRecord({ ts: 1, tags: [1] }, schema)).toMatchObject({ ok: false, message: /tags\[1\]/ });
    expect(conformRecord({ ts: 1, n: 1.5, tags: [] }, schema)).toMatchObject({ ok: false, message: /field n/ });
    expect(conformRecord({ tags: [] }, schema)).toMatchObject({ ok: false, message: /ts is missing/ });
  });
});

describe("caretExcerpt", () => {
  it("underlines the span on its own line, keeping tabs", () => {
    expect(caretExcerpt("a +\n\tfoo(1)", { offset: 5, line: 2, column: 2, length: 3 }, "")).toBe("\tfoo(1)\n\t^^^");
  });

  it("puts one caret at the end of the input for an empty span", () => {
    expect(caretExcerpt("a >", { offset: 3, line: 1, column: 4, length: 0 }, "")).toBe("a >\n   ^");
  });
});
