import { describe, expect, it } from "vitest";
import { emptyDefinition } from "./definition";
import { type DefinitionUpgrade, upgradeDefinition } from "./definition-upgrades";
import { testCatalog } from "./test-catalog";
import { validate } from "./validate";

// A made-up history: v0 named the node list "steps" and edges "links"; v0.5 had "pipeline" instead of "spec".
const history: DefinitionUpgrade[] = [
  {
    from: "sluice/v0",
    to: "sluice/v0.5",
    upgrade: ({ pipeline, ...rest }) => {
      const { steps, links, ...p } = pipeline as Record<string, unknown>;
      return { ...rest, pipeline: { ...p, nodes: steps, edges: links } };
    },
  },
  { from: "sluice/v0.5", to: "sluice/v1", upgrade: ({ pipeline, ...rest }) => ({ ...rest, spec: pipeline }) },
];

describe("apiVersion upgrades", () => {
  it("walks an old document through every step to the current version", () => {
    const old = {
      apiVersion: "sluice/v0",
      kind: "Pipeline",
      metadata: { name: "old" },
      pipeline: { steps: [{ id: "a", type: "source.numbers" }], links: [] },
    };
    const r = upgradeDefinition(old, history);
    expect(r).toEqual({
      ok: true,
      upgradedFrom: "sluice/v0",
      value: {
        apiVersion: "sluice/v1",
        kind: "Pipeline",
        metadata: { name: "old" },
        spec: { nodes: [{ id: "a", type: "source.numbers" }], edges: [] },
      },
    });
  });

  it("leaves current documents and non-objects alone", () => {
    const current = emptyDefinition("x");
    expect(upgradeDefinition(current, history)).toEqual({ ok: true, value: current });
    expect(upgradeDefinition(42, history)).toEqual({ ok: true, value: 42 });
  });

  it("refuses an unknown apiVersion, naming the ones it reads", () => {
    const r = upgradeDefinition({ apiVersion: "sluice/v9" }, history);
    expect(r).toMatchObject({ ok: false, apiVersion: "sluice/v9" });
    if (!r.ok)
      expect(r.message).toBe(
        'apiVersion "sluice/v9" is not one this Sluice reads (it reads "sluice/v1", "sluice/v0", "sluice/v0.5")',
      );
    const issues = validate({ ...emptyDefinition("x"), apiVersion: "sluice/v9" }, testCatalog).issues;
    expect(issues).toEqual([expect.objectContaining({ code: "unknown-api-version", path: ["apiVersion"] })]);
  });

  it("detects an upgrade chain that loops", () => {
    const loop: DefinitionUpgrade[] = [
      { from: "a", to: "b", upgrade: (d) => d },
      { from: "b", to: "a", upgrade: (d) => d },
    ];
    expect(upgradeDefinition({ apiVersion: "a" }, loop)).toMatchObject({ ok: false });
  });
});
