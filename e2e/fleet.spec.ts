import { expect, test } from "@playwright/test";
import { signUp } from "./support";

// The fleet page as a member first opens it from the header: the e2e stack's worker listed alive, with its host,
// version and figures, and the queues it takes work from.

test("the fleet page shows the stack's worker alive and the queue depths", async ({ page }) => {
  await signUp(page, "Fleet", "fleet");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Fleet" }).click();
  await expect(page).toHaveURL(/\/fleet$/);
  await expect(page.getByRole("heading", { level: 1, name: "Fleet" })).toBeVisible();

  const queues = page.getByRole("table", { name: "Queues" });
  await expect(queues.getByRole("row", { name: /Task partitions pipeline\.task/ })).toBeVisible();
  await expect(queues.getByRole("row", { name: /Run control run\.control/ })).toBeVisible();

  const workers = page.getByRole("table", { name: "Workers" });
  const alive = workers.getByRole("row").filter({ has: page.getByText("Alive", { exact: true }) });
  await expect(alive.first()).toBeVisible();
  // What its heartbeat says of it: a version, Node's version and its process figures.
  await expect(alive.first()).toContainText(/\d+\.\d+\.\d+/);
  await expect(alive.first()).toContainText(/Node v\d+/);
  await expect(alive.first()).toContainText(/\d+\.\d\d cores/);
  await expect(alive.first()).toContainText(/[KMG]iB/);
  await expect(page.getByText(/\d+ alive of \d+/)).toBeVisible();
});
