import { expect, test } from "@playwright/test";
import { importPipeline } from "./run-support";
import { query, signUp } from "./support";

// Issue 16, typed parameters from the editor: a node's config field becomes a parameter with one click — declared
// with the field's type and current value as its default, the field then holding {{name}} — and a run started from
// the editor uses it.

const PIPELINE = `apiVersion: sluice/v1
kind: Pipeline
metadata:
  name: parameterised
spec:
  settings:
    delivery: at-least-once
  nodes:
    - id: gen
      type: source.generator
      config:
        rate: 20
    - id: out
      type: sink.console
      config: {}
  edges:
    - { from: gen, to: out }
`;

test("a config field made a parameter is declared with its type and value, and the run uses it", async ({ page }) => {
  await signUp(page, "Pia Params", "e2e-field-param");
  const name = `Parameterised ${Date.now()}`;
  await importPipeline(page, name, PIPELINE);
  const pipelineId = new URL(page.url()).pathname.split("/").pop()!;

  await page.getByTestId("node-gen").click();
  const inspector = page.getByRole("complementary", { name: "Inspector" });
  await inspector.getByTitle(/^Make Rate \(records\/s\) a parameter/).click();

  // Declared in the settings, with the field's type and its value as the default.
  await page.getByRole("button", { name: "Settings", exact: true }).click();
  const dialog = page.getByRole("dialog", { name: "Pipeline settings" });
  const parameter = dialog.getByTestId("parameter-0");
  await expect(parameter.getByLabel("Name")).toHaveValue("rate");
  await expect(parameter.getByLabel("Type")).toHaveValue(/^(integer|number)$/);
  await expect(parameter.getByLabel("Default")).toHaveValue("20");
  await parameter.getByLabel("Default").fill("7");
  await dialog.getByRole("button", { name: "Done" }).click();
  await expect(page.getByTestId("dirty")).toBeVisible();

  await page.getByRole("button", { name: "Start" }).click();
  await expect(page.getByTestId("run-status")).toHaveText("running", { timeout: 30_000 });
  type Saved = {
    version: {
      definition: { spec: { parameters: { name: string; default: unknown }[]; nodes: { config: unknown }[] } };
    };
  };
  const saved = await query<Saved>(page, "pipelines.get", { id: pipelineId, version: 2 });
  expect(saved.version.definition.spec.parameters).toEqual([expect.objectContaining({ name: "rate", default: 7 })]);
  expect(saved.version.definition.spec.nodes[0]?.config).toEqual({ rate: "{{rate}}" });
  await page.getByRole("button", { name: "Stop" }).click();
  await expect(page.getByTestId("run-status")).toHaveText("stopped", { timeout: 60_000 });
});
