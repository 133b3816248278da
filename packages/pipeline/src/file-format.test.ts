import { describe, expect, it } from "vitest";
import { emptyDefinition } from "./definition";
import { formatFromName, parsePipelineText, writePipelineText } from "./file-format";

describe("pipeline files", () => {
  it("round-trips a definition through YAML and JSON without loss", () => {
    const def = emptyDefinition("round-trip");
    def.spec.nodes.push({
      id: "a",
      type: "source.generator",
      config: { rate: 5, fields: { x: { kind: "int" } }, note: "ü — 'quotes' \"too\"" },
      ui: { x: 1.5, y: -2 },
    });
    def.spec.edges.push({ from: "a", to: "b", fromPort: "out" });
    for (const format of ["yaml", "json"] as const) {
      const text = writePipelineText(def, format);
      expect(parsePipelineText(text, format)).toEqual({ ok: true, value: def });
    }
  });

  it("reports where a file stops making sense", () => {
    const yaml = parsePipelineText("apiVersion: sluice/v1\nspec:\n  nodes: [\n", "yaml");
    expect(yaml.ok).toBe(false);
    if (!yaml.ok) expect(yaml.error.line).toBeGreaterThanOrEqual(3);
    const json = parsePipelineText('{"a": 1,,}', "json");
    expect(json.ok).toBe(false);
    if (!json.ok) expect(json.error).toMatchObject({ line: 1, column: 9 });
  });

  it("refuses duplicate keys and alias bombs", () => {
    expect(parsePipelineText("a: 1\na: 2\n", "yaml").ok).toBe(false);
    const bomb = [
      "a: &a [x, x, x, x, x, x, x, x, x]",
      ...Array.from(
        { length: 9 },
        (_, i) => `${"bcdefghij"[i]}: &${"bcdefghij"[i]} [${Array(9).fill(`*${"abcdefghij"[i]}`).join(", ")}]`,
      ),
    ].join("\n");
    expect(parsePipelineText(bomb, "yaml").ok).toBe(false);
  });

  it("tells formats apart by file name", () => {
    expect(formatFromName("x.JSON")).toBe("json");
    expect(formatFromName("x.yaml")).toBe("yaml");
    expect(formatFromName("x.yml")).toBe("yaml");
  });
});
