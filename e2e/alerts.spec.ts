import { expect, test } from "@playwright/test";
import { importPipeline } from "./run-support";
import { signUp } from "./support";

// An alert rule as a user meets it: imported with the pipeline file, shown in the editor's Settings, and — its run
// getting no data — firing into the header's bell and the Alerts page, where an editor silences it.

const QUIET = `apiVersion: sluice/v1
kind: Pipeline
metadata:
  name: quiet-orders
spec:
  settings:
    delivery: at-least-once
  nodes:
    - id: orders
      type: source.webhook
      config: {}
      ui: { x: 0, y: 0 }
    - id: out
      type: sink.console
      config: {}
      ui: { x: 400, y: 0 }
  edges:
    - { from: orders, to: out }
  alerts:
    - { id: orders-quiet, when: noData, duration: 2s, severity: critical }
`;

test("a noData rule of a run without data fires into the bell and the Alerts page, and can be silenced", async ({
  page,
}) => {
  test.setTimeout(120_000);
  await signUp(page, "Alma Alerts", "alerts");
  const name = `Quiet orders ${Date.now()}`;
  await importPipeline(page, name, QUIET);

  await page.getByRole("button", { name: "Settings", exact: true }).click();
  const dialog = page.getByRole("dialog", { name: "Pipeline settings" });
  const alerts = dialog.getByRole("region", { name: "Alerts" });
  await expect(alerts.getByLabel("Rule id")).toHaveValue("orders-quiet");
  await expect(alerts.getByLabel("Duration")).toHaveValue("2s");
  await dialog.getByRole("button", { name: "Done" }).click();

  await page.getByRole("button", { name: "Start" }).click();
  await expect(page.getByTestId("run-status")).toHaveText("running", { timeout: 30_000 });

  // Evaluated every 10 s: the bell shows the unread firing.
  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav.getByTestId("unread-alerts")).toContainText("1", { timeout: 60_000 });
  await nav.getByRole("link", { name: /Alerts/ }).click();
  await expect(page).toHaveURL(/\/alerts$/);
  await expect(page.getByRole("heading", { level: 1, name: "Alerts" })).toBeVisible();

  const inbox = page.getByRole("table", { name: "Inbox" });
  await expect(inbox).toContainText(`[critical] Alert "orders-quiet" is firing on pipeline "${name}"`);
  const row = page.getByRole("table", { name: "Alerts" }).locator('[data-alert="orders-quiet"]');
  await expect(row).toContainText("Firing");
  await expect(row).toContainText("The pipeline's sinks have not put out records for");

  await page.getByRole("button", { name: "Mark all read" }).click();
  await expect(page.getByText("0 unread")).toBeVisible();
  await expect(nav.getByTestId("unread-alerts")).toHaveCount(0);

  await row.getByRole("button", { name: `Silence rule orders-quiet of ${name} for an hour` }).click();
  await expect(row).toContainText("until");
  await expect(page.getByRole("table", { name: "Silences" })).toContainText("orders-quiet");
});
