import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { catalog } from "@sluice/nodes/catalog";
import { connectionRefs } from "@sluice/pipeline/connection-definition";
import { formatIssue } from "@sluice/pipeline/issues";
import { TemplateFile, withSampleSources } from "@sluice/pipeline/template-file";
import { validate } from "@sluice/pipeline/validate";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

// The built-in templates in templates/: each one a template file whose pipeline validates against this build's node
// catalog, alone and with its sample's stand-ins, and names its connections only through connection slots — a
// template is shared, so it may never name someone's connection.

const TEMPLATES = fileURLToPath(new URL("../../../templates/", import.meta.url));
const files = readdirSync(TEMPLATES)
  .filter((f) => f.endsWith(".yaml"))
  .sort();

function read(file: string): TemplateFile {
  return TemplateFile.parse(parse(readFileSync(path.join(TEMPLATES, file), "utf8")));
}

/** The validation errors of a pipeline, one line each, so a failure says what is wrong where. */
function errorsOf(pipeline: unknown): string[] {
  return validate(pipeline, catalog)
    .issues.filter((i) => i.severity === "error")
    .map(formatIssue);
}

it("holds exactly the six built-in templates, each file named after its template", () => {
  expect(files).toEqual([
    "cdc-sync-through-event-log.yaml",
    "clickstream-sessions-and-counts.yaml",
    "iot-sensor-alerts.yaml",
    "lambda-serving-table.yaml",
    "periodic-report.yaml",
    "webhook-validate-enrich-insert.yaml",
  ]);
  for (const file of files) expect(read(file).metadata.name).toBe(path.basename(file, ".yaml"));
});

describe.each(files)("%s", (file) => {
  const { pipeline } = read(file).spec;

  it("validates against the node catalog with no errors or warnings", () => {
    expect(errorsOf(pipeline)).toEqual([]);
    expect(validate(pipeline, catalog).issues.map(formatIssue), "warnings (an unused parameter, …)").toEqual([]);
  });

  it("names every connection through a connection slot of the field's connector type", () => {
    const slots = new Map(
      pipeline.spec.parameters.flatMap((p) => (p.type === "connection" ? [[p.name, p.connectorType]] : [])),
    );
    expect(slots.size, "a template with connections has slots").toBeGreaterThan(0);
    let refs = 0;
    for (const node of pipeline.spec.nodes) {
      const def = catalog.get(node.type);
      expect(def, `node type ${node.type}`).toBeDefined();
      for (const ref of connectionRefs(def!, node.config)) {
        refs++;
        const slot = /^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/.exec(ref.name)?.[1];
        expect(slot, `node ${node.id}: ${ref.path.join(".")} is "${ref.name}", not a slot`).toBeDefined();
        expect(slots.get(slot!), `node ${node.id}: slot ${slot}`).toBe(ref.type);
      }
    }
    expect(refs).toBeGreaterThan(0);
  });

  it("describes every parameter and places every node", () => {
    for (const p of pipeline.spec.parameters) {
      expect(p.label, `parameter ${p.name}`).toBeTruthy();
      expect(p.description, `parameter ${p.name}`).toBeTruthy();
      if (p.type !== "connection") expect(p.default, `parameter ${p.name}`).toBeDefined();
    }
    for (const node of pipeline.spec.nodes) {
      expect(node.ui?.label, `node ${node.id}`).toBeTruthy();
      expect(typeof node.ui?.x, `node ${node.id}`).toBe("number");
      expect(typeof node.ui?.y, `node ${node.id}`).toBe("number");
    }
  });
});

// Only the templates that have a sample: a test per sample, none skipped.
describe.each(files.filter((f) => read(f).spec.sample !== undefined))("%s on sample data", (file) => {
  const { pipeline, sample } = read(file).spec;
  it("validates with its sample's stand-ins, which replace only sources", () => {
    const sampled = withSampleSources(pipeline, sample!);
    expect(errorsOf(sampled)).toEqual([]);
    for (const id of Object.keys(sample!.nodes)) {
      expect(sampled.spec.nodes.find((n) => n.id === id)?.type).toBe("source.generator");
    }
  });
});

it("gives a sample to every template whose sources can be generated", () => {
  // CDC change records (their before and after rows) are the one source the generator cannot stand in for.
  const withoutSample = files.filter((f) => read(f).spec.sample === undefined);
  expect(withoutSample).toEqual(["cdc-sync-through-event-log.yaml"]);
});
