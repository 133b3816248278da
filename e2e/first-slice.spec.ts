import { expect, type Page, test } from "@playwright/test";
import { connect, createPipeline, dropNode, signUp } from "./support";

// The first end-to-end slice, driven the way a new user would: sign up, create a pipeline, build
// Generator → Filter → Console on the canvas, configure the filter, save, start, watch the counts rise, stop.
// Runs against the real stack (web + one worker + Postgres + Redis) that e2e/playwright.config.ts provides.

async function count(page: Page, nodeId: string, which: "in" | "out" | "errors"): Promise<number> {
  const text = await page.getByTestId(`count-${nodeId}-${which}`).textContent();
  return Number(text);
}

test("a new user builds, saves, runs and stops a pipeline", async ({ page }) => {
  test.setTimeout(120_000);
  // Protected pages send strangers to the sign-in page.
  await page.goto("/pipelines");
  await expect(page).toHaveURL(/\/signin$/);

  await signUp(page, "Erin Example");
  await expect(page.getByTestId("user-name")).toHaveText("Erin Example");

  await createPipeline(page, "Successful requests");

  // Drag one node of each kind from the palette onto the canvas (HTML5 drag and drop, as with a mouse).
  const drops: [string, string, number][] = [
    ["Generator", "generator1", 0],
    ["Filter", "filter1", 1],
    ["Console", "console1", 2],
  ];
  for (const [title, id, slot] of drops) {
    // Left to right and a little lower each time, so no node overlaps another and every handle is free.
    await dropNode(page, title, id, 0.17 + slot * 0.33, 0.3 + slot * 0.15);
  }

  // Connect them by dragging between handles.
  await page.getByRole("button", { name: "Fit View" }).click();
  await connect(page, "generator1", "filter1");
  await expect(page.locator(".react-flow__edge")).toHaveCount(1);
  await connect(page, "filter1", "console1");
  await expect(page.locator(".react-flow__edge")).toHaveCount(2);

  // A second identical connection is refused, with the reason shown.
  await connect(page, "filter1", "console1");
  await expect(page.getByRole("status").filter({ hasText: "already connected" })).toBeVisible();
  await expect(page.locator(".react-flow__edge")).toHaveCount(2);
  await page.getByRole("button", { name: "Dismiss message" }).click();

  // Configure the filter through the form generated from its config schema.
  await page.getByTestId("node-filter1").click();
  const where = page.getByLabel("Keep records where");
  await expect(where).toBeVisible();
  await where.fill("status = 200");
  await expect(page.getByTestId("node-filter1")).toContainText("status = 200");
  const problems = page.getByRole("region", { name: "Problems" });
  await expect(problems).toContainText("No problems");

  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByText("Saved", { exact: true })).toBeVisible();
  await expect(page.getByText("v2", { exact: true })).toBeVisible();

  await page.getByRole("button", { name: "Start" }).click();
  await expect(page.getByTestId("run-status")).toHaveText("running", { timeout: 30_000 });

  // Counts rise once a second over the live stream.
  await expect.poll(() => count(page, "generator1", "out"), { timeout: 30_000 }).toBeGreaterThan(0);
  const early = await count(page, "generator1", "out");
  await expect.poll(() => count(page, "generator1", "out"), { timeout: 30_000 }).toBeGreaterThan(early);
  await expect.poll(() => count(page, "console1", "in"), { timeout: 30_000 }).toBeGreaterThan(0);
  await page.screenshot({ path: "test-results/screenshots/editor.png" });

  await page.getByRole("button", { name: "Stop" }).click();
  await expect(page.getByTestId("run-status")).toHaveText("stopped", { timeout: 30_000 });
  await expect(page.getByRole("button", { name: "Start" })).toBeVisible();

  // The final counts stay on the nodes, and the filter really filtered.
  const produced = await count(page, "generator1", "out");
  const kept = await count(page, "console1", "in");
  expect(produced).toBeGreaterThan(early);
  expect(kept).toBeGreaterThan(0);
  expect(kept).toBeLessThan(produced);
  expect(await count(page, "filter1", "in")).toBeLessThanOrEqual(produced);

  // …and are still there after a reload, from the run's stored figures.
  await page.reload();
  await expect(page.getByTestId("run-status")).toHaveText("stopped");
  await expect.poll(() => count(page, "generator1", "out"), { timeout: 15_000 }).toBe(produced);
  await expect.poll(() => count(page, "console1", "in"), { timeout: 15_000 }).toBe(kept);
});
