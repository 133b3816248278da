import { describe, expect, it } from "vitest";
import { emptyDefinition, PipelineDefinition } from "./definition";
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

  it("round-trips typed parameter declarations unchanged, and older declarations read as they did", () => {
    const text = [
      "apiVersion: sluice/v1",
      "kind: Pipeline",
      "metadata:",
      "  name: typed",
      "spec:",
      "  settings:",
      "    parallelism: 2",
      "    delivery: exactly-once",
      "    batchSize: 1000",
      "  parameters:",
      "    - name: topic",
      "      type: string",
      "      default: clicks",
      "      description: The stream to read",
      "    - name: limit",
      "      type: integer",
      "      min: 1",
      "      max: 10000",
      "      label: Row limit",
      "      default: 100",
      "    - name: region",
      "      type: choice",
      "      choices:",
      "        - eu",
      "        - us",
      "      default: eu",
      "      required: true",
      "    - name: lag",
      "      type: duration",
      "      default: 5s",
      "    - name: keep",
      "      type: expression",
      "      default: status = 200 AND path LIKE '/shop/%'",
      "    - name: warehouse",
      "      type: connection",
      "      connectorType: postgres",
      "      description: Where the report tables live",
      "    - name: code",
      "      type: string",
      '      pattern: "[A-Z]{3}"',
      "      maxLength: 3",
      "  nodes: []",
      "  edges: []",
      "",
    ].join("\n");
    const read = parsePipelineText(text, "yaml");
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    const def = PipelineDefinition.parse(read.value);
    expect(writePipelineText(def, "yaml")).toBe(text);
    const json = writePipelineText(def, "json");
    expect(PipelineDefinition.parse((parsePipelineText(json, "json") as { value: unknown }).value)).toEqual(def);

    const older = parsePipelineText(
      "apiVersion: sluice/v1\nkind: Pipeline\nmetadata: { name: old }\nspec:\n  parameters: [ { name: n, type: number, default: 3 }, { name: t, default: x } ]\n  nodes: []\n",
      "yaml",
    );
    expect(PipelineDefinition.parse((older as { value: unknown }).value).spec.parameters).toEqual([
      { name: "n", type: "number", default: 3 },
      { name: "t", type: "string", default: "x" },
    ]);
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
