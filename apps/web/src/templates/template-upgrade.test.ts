import { describe, expect, it } from "vitest";
import {
  type DefinitionChanges,
  localEditItems,
  missingValues,
  parameterChangeText,
  parameterResultText,
  parameterValueText,
  upgradeValues,
  upgradeVerb,
  versionOptionLabel,
} from "./template-upgrade";

const NO_CHANGES: DefinitionChanges = {
  nodes: { added: [], removed: [], changed: [] },
  edges: { added: [], removed: [] },
  settings: [],
  parameters: [],
  alerts: [],
  metadata: [],
};

describe("upgradeVerb", () => {
  it("rolls back to an older version and upgrades otherwise", () => {
    expect(upgradeVerb(3, 2)).toBe("Roll back");
    expect(upgradeVerb(2, 3)).toBe("Upgrade");
    expect(upgradeVerb(2, 2)).toBe("Upgrade");
  });
});

describe("versionOptionLabel", () => {
  it("marks the latest, the current and the older versions", () => {
    expect(versionOptionLabel(4, 2, 4)).toBe("v4 (latest)");
    expect(versionOptionLabel(3, 2, 4)).toBe("v3");
    expect(versionOptionLabel(2, 2, 4)).toBe("v2 (current)");
    expect(versionOptionLabel(1, 2, 4)).toBe("v1 (roll back)");
    expect(versionOptionLabel(2, 2, 2)).toBe("v2 (latest, current)");
  });
});

describe("parameterValueText", () => {
  it("quotes strings so they read apart from numbers and booleans", () => {
    expect(parameterValueText("orders")).toBe('"orders"');
    expect(parameterValueText("")).toBe('""');
    expect(parameterValueText(5)).toBe("5");
    expect(parameterValueText(false)).toBe("false");
    expect(parameterValueText(undefined)).toBe("—");
  });
});

describe("parameterChangeText and parameterResultText", () => {
  it("says a kept value is kept", () => {
    const p = { name: "topic", change: "kept", value: "orders", needsValue: false } as const;
    expect(parameterChangeText(p)).toBe("value kept");
    expect(parameterResultText(p)).toBe('"orders"');
  });

  it("says an added parameter takes its default, or needs a value", () => {
    const withDefault = { name: "batch", change: "added", value: 100, needsValue: false } as const;
    expect(parameterChangeText(withDefault)).toBe("new");
    expect(parameterResultText(withDefault)).toBe("100 (new default)");
    const required = { name: "region", change: "added", needsValue: true } as const;
    expect(parameterChangeText(required)).toBe("new, needs a value");
    expect(parameterResultText(required)).toBe("none yet");
  });

  it("says a changed declaration kept or reset the value", () => {
    const kept = { name: "limit", change: "changed", value: 5, needsValue: false } as const;
    expect(parameterChangeText(kept)).toBe("declaration changed, value kept");
    expect(parameterResultText(kept)).toBe("5");
    const reset = {
      name: "mode",
      change: "changed",
      value: "fast",
      dropped: '"slow" is not one of the choices',
      needsValue: false,
    } as const;
    expect(parameterChangeText(reset)).toBe("declaration changed, value reset");
    expect(parameterResultText(reset)).toBe('"fast" (new default)');
    const needs = { name: "mode", change: "changed", dropped: "not a number", needsValue: true } as const;
    expect(parameterChangeText(needs)).toBe("declaration changed, needs a value");
  });

  it("says a removed parameter's value is no longer used", () => {
    const p = { name: "old", change: "removed", needsValue: false } as const;
    expect(parameterChangeText(p)).toBe("removed: its value is no longer used");
    expect(parameterResultText(p)).toBe("—");
  });
});

describe("localEditItems", () => {
  it("names nothing when nothing changed", () => {
    expect(localEditItems(NO_CHANGES)).toEqual([]);
  });

  it("names nodes with their changed keys, edges and the other sections", () => {
    expect(
      localEditItems({
        nodes: { added: ["extra"], removed: ["gone"], changed: [{ id: "filter", keys: ["config.expr", "name"] }] },
        edges: { added: ["a->b"], removed: [] },
        settings: ["parallelism"],
        parameters: [],
        alerts: ["lag"],
        metadata: [],
      }),
    ).toEqual([
      "added node extra",
      "removed node gone",
      "node filter (config.expr, name)",
      "added edge a->b",
      "settings (parallelism)",
      "alerts (lag)",
    ]);
  });
});

describe("upgradeValues and missingValues", () => {
  const declared = [
    { name: "topic", type: "string" },
    { name: "limit", type: "integer" },
    { name: "dry", type: "boolean" },
  ] as const;

  it("types what was typed as the target declares it and leaves blanks out", () => {
    expect(upgradeValues(declared, { topic: "orders", limit: "10", dry: "true", gone: "x" })).toEqual({
      topic: "orders",
      limit: 10,
      dry: true,
    });
    expect(upgradeValues(declared, { topic: "", limit: "" })).toEqual({});
  });

  it("lists the parameters that need a value and have none", () => {
    const parameters = [
      { name: "topic", change: "added", needsValue: true },
      { name: "limit", change: "kept", value: 1, needsValue: false },
      { name: "region", change: "changed", needsValue: true },
    ] as const;
    expect(missingValues(parameters, { topic: "orders" })).toEqual(["region"]);
    expect(missingValues(parameters, { topic: "orders", region: "eu" })).toEqual([]);
  });
});
