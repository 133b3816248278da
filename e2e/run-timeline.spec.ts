import { expect, test } from "@playwright/test";
import { importPipeline, startAndOpenRun } from "./run-support";
import { signUp } from "./support";

// The run page's Timeline and Logs as a user meets them: pausing and resuming show up in the timeline in order,
// and the workers' lines about the run are listed, filterable by level.

const PIPELINE = `apiVersion: sluice/v1
kind: Pipeline
metadata:
  name: run-timeline
spec:
  nodes:
    - id: gen
      type: source.generator
      config:
        rate: 20
      ui: { x: 0, y: 0 }
    - id: out
      type: sink.console
      config: {}
      ui: { x: 300, y: 0 }
  edges:
    - { from: gen, to: out }
`;

test("a run's timeline records pause and resume, and its log lists the workers' lines", async ({ page }) => {
  test.setTimeout(120_000);
  await signUp(page, "Tim Line");
  await importPipeline(page, `Run timeline ${Date.now()}`, PIPELINE);
  await startAndOpenRun(page);

  const timeline = page.getByRole("region", { name: "Timeline" });
  await expect(timeline.getByText("The run started.")).toBeVisible({ timeout: 30_000 });
  await page.getByRole("button", { name: "Pause", exact: true }).click();
  await expect(page.getByRole("button", { name: "Resume", exact: true })).toBeVisible({ timeout: 15_000 });
  await page.getByRole("button", { name: "Resume", exact: true }).click();
  await expect
    .poll(async () => timeline.locator("li").evaluateAll((items) => items.map((i) => i.getAttribute("data-kind"))), {
      timeout: 15_000,
    })
    .toEqual(["started", "paused", "resumed"]);

  const logs = page.getByRole("region", { name: "Logs" });
  // Live tail while the run goes: the partition's lease is among the first lines.
  await expect(logs.getByText("task leased").first()).toBeVisible({ timeout: 15_000 });
  await logs.getByRole("checkbox", { name: "Live tail" }).uncheck();
  await expect(logs.getByText("task leased").first()).toBeVisible();
  await logs.getByRole("combobox", { name: "Level" }).selectOption("error");
  await expect(logs.getByText("No lines match.")).toBeVisible();
  await page.screenshot({ path: "test-results/screenshots/run-timeline.png", fullPage: true });

  await page.getByRole("button", { name: "Stop run" }).click();
  await expect(timeline.getByText("The run stopped.")).toBeVisible({ timeout: 30_000 });
});
