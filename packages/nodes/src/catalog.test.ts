import { configJsonSchema } from "@sluice/pipeline/config-schema";
import { PortName } from "@sluice/pipeline/definition";
import { expressionPaths } from "@sluice/pipeline/parameters";
import { openSchema } from "@sluice/pipeline/record-schema";
import { describe, expect, it } from "vitest";
import { catalog } from "./catalog";
import { runtimes } from "./runtimes";
import { inferNode } from "./testing/infer-harness";

const defs = catalog.list();

describe("catalog", () => {
  it.each(defs.map((d) => [d.type, d] as const))("%s has a runtime of its kind", (type, def) => {
    expect(runtimes.get(type)?.kind).toBe(def.kind);
  });

  it.each(defs.flatMap((d) => d.examples.map((ex) => [d.type, ex.title, d, ex.config] as const)))(
    "%s example %j is a valid config without errors on a schemaless input",
    (_type, _title, def, config) => {
      const inputs = Object.fromEntries(def.inputs.map((p) => [p.name, openSchema]));
      expect(inferNode(def, config, inputs).errors).toEqual([]);
    },
  );

  it.each(defs.map((d) => [d.type, d] as const))("%s declares what the palette and docs need", (_type, def) => {
    expect(def.examples.length).toBeGreaterThan(0);
    expect(def.summary).toMatch(/^[A-Z].*\.$/);
    expect(def.icon).toMatch(/^[a-z][a-z-]*$/);
    for (const port of [...def.inputs, ...def.outputs]) expect(PortName.safeParse(port.name).success).toBe(true);
    expect(configJsonSchema(def).type).toBe("object");
  });

  it("marks every SQL field as an expression, so parameters are bound in it, never spliced", () => {
    const paths = Object.fromEntries(defs.map((d) => [d.type, expressionPaths(d).map((p) => p.join("."))]));
    expect(paths["transform.map"]).toEqual(["set.*"]);
    expect(paths["transform.route"]).toEqual(["routes.*.where"]);
    expect(paths["transform.filter"]).toEqual(["where"]);
  });
});
