import { describe, expect, it } from "vitest";
import { emptyDefinition, PipelineDefinition } from "./definition";
import { parsePipelineText, writePipelineText } from "./file-format";
import { canonicalFileValue, splitFileVersion, withServerUi } from "./pipeline-file";

function sample(): PipelineDefinition {
  const def = emptyDefinition("orders");
  def.metadata.labels = { zone: "eu", team: "data" };
  def.spec.nodes.push(
    { config: { rate: 5, fields: { z: 1, a: 2 } }, type: "source.generator", id: "gen", ui: { y: 2, x: 1 } },
    { id: "out", type: "sink.console", config: {} },
  );
  def.spec.edges.push({ to: "out", from: "gen" });
  return def;
}

describe("pipeline files as code", () => {
  it("writes keys in one order whatever order they came in, defaults included, with the base version", () => {
    const text = writePipelineText(canonicalFileValue(sample(), 3), "yaml");
    expect(text).toBe(`apiVersion: sluice/v1
kind: Pipeline
metadata:
  name: orders
  labels:
    team: data
    zone: eu
  version: 3
spec:
  settings:
    parallelism: 4
    delivery: exactly-once
    batchSize: 1000
  parameters: []
  nodes:
    - id: gen
      type: source.generator
      config:
        fields:
          a: 2
          z: 1
        rate: 5
      ui:
        x: 1
        y: 2
    - id: out
      type: sink.console
      config: {}
  edges:
    - from: gen
      to: out
`);
    const reversed = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(reversed)
        : typeof v === "object" && v !== null
          ? Object.fromEntries(
              Object.entries(v)
                .reverse()
                .map(([k, x]) => [k, reversed(x)]),
            )
          : v;
    const shuffled = reversed(sample()) as PipelineDefinition;
    expect(Object.keys(shuffled)[0]).toBe("spec");
    expect(writePipelineText(canonicalFileValue(shuffled, 3), "yaml")).toBe(text);
  });

  it("reads back what it wrote: export → read → export gives the same bytes", () => {
    for (const format of ["yaml", "json"] as const) {
      const first = writePipelineText(canonicalFileValue(sample(), 7), format);
      const parsed = parsePipelineText(first, format);
      if (!parsed.ok) throw new Error(parsed.error.message);
      const split = splitFileVersion(parsed.value);
      if (!split.ok) throw new Error(split.message);
      expect(split.baseVersion).toBe(7);
      const definition = PipelineDefinition.parse(split.value);
      expect(writePipelineText(canonicalFileValue(definition, split.baseVersion), format)).toBe(first);
    }
  });

  it("takes metadata.version out of the definition and refuses one that is not a version", () => {
    expect(splitFileVersion({ metadata: { name: "a" } })).toEqual({
      ok: true,
      value: { metadata: { name: "a" } },
      baseVersion: undefined,
    });
    expect(splitFileVersion({ metadata: { name: "a", version: 2 } })).toEqual({
      ok: true,
      value: { metadata: { name: "a" } },
      baseVersion: 2,
    });
    const wrong = splitFileVersion({ metadata: { name: "a", version: "2" } });
    expect(wrong.ok).toBe(false);
    if (!wrong.ok) expect(wrong.message).toMatch(/^metadata\.version: /);
  });

  it("keeps the server's layout where the file has none", () => {
    const server = sample();
    server.ui = { viewport: { zoom: 1.5 } };
    const file = sample();
    delete file.spec.nodes[0]!.ui;
    file.spec.nodes[1]!.ui = { x: 9, y: 9 };
    const saved = withServerUi(file, server);
    expect(saved.spec.nodes.map((n) => n.ui)).toEqual([
      { y: 2, x: 1 },
      { x: 9, y: 9 },
    ]);
    expect(saved.ui).toEqual({ viewport: { zoom: 1.5 } });
  });
});
