import { expect, type Page } from "@playwright/test";

// Pipelines the run specs need, brought in as a user would: a YAML file through the pipelines page's Import dialog.

/** Imports a pipeline file under a name of its own and waits for its editor; returns the editor's URL. */
export async function importPipeline(page: Page, name: string, yaml: string): Promise<string> {
  await page.goto("/pipelines");
  await page.getByRole("button", { name: "Import…" }).click();
  const dialog = page.getByRole("dialog", { name: "Import a pipeline" });
  await dialog.getByLabel("Pipeline file").setInputFiles({
    name: "pipeline.yaml",
    mimeType: "application/yaml",
    buffer: Buffer.from(yaml),
  });
  await dialog.getByLabel("Name").fill(name);
  await dialog.getByRole("button", { name: "Import pipeline" }).click();
  await expect(page.getByRole("heading", { name, exact: true })).toBeVisible();
  return page.url();
}

/** Starts the open pipeline from the editor, then opens the run's page from the runs list (newest first). */
export async function startAndOpenRun(page: Page): Promise<string> {
  await page.getByRole("button", { name: "Start" }).click();
  await expect(page.getByTestId("run-status")).not.toHaveText("", { timeout: 30_000 });
  await page.goto("/runs");
  await page.getByRole("table", { name: "Runs" }).getByRole("link").first().click();
  await expect(page).toHaveURL(/\/runs\/[^/]+$/);
  return page.url();
}
