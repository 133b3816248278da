import { expect, type Page, test } from "@playwright/test";

// The first end-to-end slice, driven the way a new user would: sign up, create a pipeline, build
// Generator → Filter → Console on the canvas, configure the filter, save, start, watch the counts rise, stop.
// Runs against the real stack (web + one worker + Postgres + Redis) that e2e/playwright.config.ts provides.

/** Drags from a node's output handle to another node's input handle, with real mouse moves. */
async function connect(page: Page, from: string, to: string): Promise<void> {
  const source = page.getByTestId(`node-${from}`).locator(".react-flow__handle.source").first();
  const target = page.getByTestId(`node-${to}`).locator(".react-flow__handle.target").first();
  const a = await source.boundingBox();
  const b = await target.boundingBox();
  if (!a || !b) throw new Error(`handles of ${from} and ${to} must be on screen`);
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 8 });
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 8 });
  await page.mouse.up();
}

async function count(page: Page, nodeId: string, which: "in" | "out" | "errors"): Promise<number> {
  const text = await page.getByTestId(`count-${nodeId}-${which}`).textContent();
  return Number(text);
}

test("a new user builds, saves, runs and stops a pipeline", async ({ page }) => {
  test.setTimeout(120_000);
  const email = `e2e-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;

  // Protected pages send strangers to the sign-in page.
  await page.goto("/pipelines");
  await expect(page).toHaveURL(/\/signin$/);

  await page.goto("/signup");
  await page.getByLabel("Name").fill("Erin Example");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("a long enough password");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/pipelines$/);
  await expect(page.getByTestId("user-name")).toHaveText("Erin Example");

  await page.getByRole("button", { name: "New pipeline" }).first().click();
  const dialog = page.getByRole("dialog", { name: "New pipeline" });
  await dialog.getByLabel("Name").fill("Successful requests");
  await dialog.getByRole("button", { name: "Create pipeline" }).click();
  await expect(page).toHaveURL(/\/pipelines\/[^/]+$/);
  await expect(page.getByRole("heading", { name: "Successful requests" })).toBeVisible();

  // Drag one node of each kind from the palette onto the canvas (HTML5 drag and drop, as with a mouse).
  const palette = page.getByRole("complementary", { name: "Node palette" });
  const pane = page.locator(".react-flow__pane");
  const box = await pane.boundingBox();
  if (!box) throw new Error("the canvas must be on screen");
  const drops: [string, string, number][] = [
    ["Generator", "generator1", 0],
    ["Filter", "filter1", 1],
    ["Console", "console1", 2],
  ];
  for (const [title, id, slot] of drops) {
    // Left to right and a little lower each time, so no node overlaps another and every handle is free.
    await palette.getByRole("button", { name: title }).dragTo(pane, {
      targetPosition: { x: box.width * (0.17 + slot * 0.33), y: box.height * (0.3 + slot * 0.15) },
    });
    await expect(page.getByTestId(`node-${id}`)).toBeVisible();
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
