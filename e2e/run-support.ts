import { fileURLToPath } from "node:url";
import { expect, type Page } from "@playwright/test";
import { startWorker } from "@sluice/scripts/lib/app.mjs";
import type { Child } from "@sluice/scripts/lib/proc.mjs";

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

/** Starts one more worker for the e2e stack's app, as an operator adding a machine would; end it with `signal`. */
export function startExtraWorker(): Child {
  const env = process.env.E2E_APP_ENV;
  if (!env) throw new Error("e2e: E2E_APP_ENV is not set: run through e2e/playwright.config.ts");
  const root = fileURLToPath(new URL("..", import.meta.url));
  return startWorker({ root, env: JSON.parse(env) as Record<string, string>, output: "capture" });
}
