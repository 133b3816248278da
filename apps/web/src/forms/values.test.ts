import { describe, expect, it } from "vitest";
import { type Control, configForm, type FieldSpec } from "./schema";
import { fits, itemNoun, itemSummary, moveItem, pathKey, switchMember, switchOneKey } from "./values";

const expr = { type: "string", widget: "expression" };
const schema = {
  type: "object",
  properties: {
    key: {
      type: "array",
      items: {
        anyOf: [
          expr,
          {
            type: "object",
            properties: { name: { type: "string", label: "Output field" }, expr },
            required: ["name", "expr"],
            additionalProperties: false,
          },
        ],
      },
    },
    window: {
      type: "object",
      properties: {
        tumble: { type: ["string", "number"] },
        hop: {
          type: "object",
          properties: { size: { type: ["string", "number"] }, every: { type: ["string", "number"] } },
          required: ["size", "every"],
        },
      },
      additionalProperties: false,
    },
    fields: {
      type: "object",
      additionalProperties: {
        oneOf: [
          {
            type: "object",
            properties: { kind: { type: "string", const: "int" }, min: { type: "number" }, max: { type: "number" } },
            required: ["kind"],
          },
          {
            type: "object",
            properties: {
              kind: { type: "string", const: "float" },
              min: { type: "number" },
              decimals: { type: "integer" },
            },
            required: ["kind"],
          },
          {
            type: "object",
            properties: {
              kind: { type: "string", const: "choice" },
              values: { type: "array", items: { type: ["string", "number"] } },
            },
            required: ["kind", "values"],
          },
        ],
      },
    },
    topic: { anyOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] },
  },
  required: ["window"],
};

const form = configForm(schema);
const field = (name: string): FieldSpec => {
  const f = form.fields.find((x) => x.name === name);
  if (!f) throw new Error(name);
  return f;
};
function union(c: Control) {
  if (c.kind !== "union") throw new Error(`expected a union, got ${c.kind}`);
  return c.members;
}
const keyItem = (() => {
  const c = field("key").control;
  if (c.kind !== "array") throw new Error("array");
  return union(c.item);
})();
const generator = (() => {
  const c = field("fields").control;
  if (c.kind !== "record") throw new Error("record");
  return union(c.value);
})();
const windowOptions = (() => {
  const c = field("window").control;
  if (c.kind !== "one-key") throw new Error("one-key");
  return c.options;
})();

describe("pathKey", () => {
  it("reads like the config it points into and holds no whitespace", () => {
    expect(pathKey(["fields", 2, "expr"])).toBe("fields[2].expr");
    expect(pathKey(["set", "total eur"])).toBe("set.total%20eur");
    expect(pathKey(["set", "a.b"])).not.toBe(pathKey(["set", "a", "b"]));
  });
});

describe("switchMember", () => {
  it("moves an expression into the matching field of the object member, and back", () => {
    expect(switchMember(keyItem, "lower(host)", 1)).toEqual({ name: "", expr: "lower(host)" });
    expect(switchMember(keyItem, { name: "domain", expr: "lower(host)" }, 0)).toBe("lower(host)");
  });

  it("sets the tag of a tagged member and keeps the fields both members have", () => {
    expect(switchMember(generator, { kind: "int", min: 1, max: 9 }, 1)).toEqual({ kind: "float", min: 1 });
    expect(switchMember(generator, { kind: "float", min: 2 }, 2)).toEqual({ kind: "choice", values: [] });
  });

  it("turns text into a one-item list and a list into its first item", () => {
    const topic = union(field("topic").control);
    expect(switchMember(topic, "sensors/+", 1)).toEqual(["sensors/+"]);
    expect(switchMember(topic, ["a", "b"], 0)).toBe("a");
    expect(switchMember(topic, "", 1)).toEqual([]);
  });
});

describe("switchOneKey", () => {
  it("carries a tumbling size over to a hopping window's size", () => {
    expect(switchOneKey(windowOptions, { tumble: "1m" }, "hop")).toEqual({ hop: { size: "1m", every: "" } });
    expect(switchOneKey(windowOptions, { hop: { size: "10s", every: "2s" } }, "tumble")).toEqual({ tumble: "10s" });
    expect(switchOneKey(windowOptions, undefined, "tumble")).toEqual({ tumble: "" });
    expect(switchOneKey(windowOptions, { tumble: "1m" }, undefined)).toBeUndefined();
  });
});

describe("fits", () => {
  it("accepts what the form can show and refuses what only JSON can", () => {
    const key = field("key").control;
    expect(fits(key, ["country", { name: "d", expr: "lower(host)" }])).toBe(true);
    expect(fits(key, [{ name: "d", expr: "x", extra: 1 }])).toBe(false);
    expect(fits(key, "country")).toBe(false);
    expect(fits(field("window").control, { tumble: "1m", hop: {} })).toBe(false);
    expect(fits(field("fields").control, { id: { kind: "int" }, x: { kind: "nope" } })).toBe(false);
    expect(fits(field("fields").control, undefined)).toBe(true);
  });
});

describe("item names", () => {
  it("makes a singular noun of a plural label, and says 'item' otherwise", () => {
    expect(itemNoun("Computed fields")).toBe("computed field");
    expect(itemNoun("Aggregates")).toBe("aggregate");
    expect(itemNoun("Group by")).toBe("group by item");
    expect(itemNoun("Address")).toBe("address item");
  });

  it("summarises an item by its name or its text", () => {
    expect(itemSummary("country")).toBe("country");
    expect(itemSummary({ name: "total", expr: "a + b" })).toBe("total");
    expect(itemSummary({ from: "a", as: "b" })).toBe("b");
    expect(itemSummary({})).toBeUndefined();
    expect(itemSummary("x".repeat(40))?.length).toBe(24);
  });

  it("moves an item without touching the original list", () => {
    const list = ["a", "b", "c"];
    expect(moveItem(list, 2, 1)).toEqual(["a", "c", "b"]);
    expect(moveItem(list, 0, -1)).toEqual(list);
    expect(list).toEqual(["a", "b", "c"]);
  });
});
