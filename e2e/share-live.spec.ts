import { expect, type Locator, test } from "@playwright/test";
import { importPipeline, startAndOpenRun } from "./run-support";
import { signUp } from "./support";

// A running pipeline watched by someone without an account: its owner makes an expiring live-view link on the run
// page; whoever opens it sees the graph with each node's figures and the totals rising, and nothing else of the
// workspace; revoked, the open view says it has ended.

const PIPELINE = `apiVersion: sluice/v1
kind: Pipeline
metadata:
  name: ticker
spec:
  settings:
    parallelism: 1
  nodes:
    - id: gen
      type: source.generator
      config:
        rate: 20
        fields:
          id: { kind: sequence }
      ui: { x: 0, y: 0 }
    - id: out
      type: sink.console
      config: {}
      ui: { x: 300, y: 0 }
  edges:
    - { from: gen, to: out }
`;

/** The "In" count of a node's row in a counters table. */
async function countIn(row: Locator): Promise<number> {
  return Number(((await row.locator("td").first().textContent()) ?? "").replace(/,/g, ""));
}

test("a run's live view opens by link without an account, shows its figures, and ends when revoked", async ({
  browser,
}) => {
  test.setTimeout(180_000);
  const owner = await (await browser.newContext()).newPage();
  const viewer = await (await browser.newContext()).newPage();
  await signUp(owner, "Lia Live", "e2e-share-live");
  const name = `Ticker ${Date.now()}`;
  await importPipeline(owner, name, PIPELINE);
  await startAndOpenRun(owner);

  await owner.getByRole("button", { name: "Share live view…" }).click();
  const dialog = owner.getByRole("dialog", { name: "Share live view" });
  await dialog.getByRole("button", { name: "Create link" }).click();
  const link = ((await dialog.getByTestId("share-link-url").textContent()) ?? "").trim();
  expect(link).toMatch(/\/share\/[A-Za-z0-9_-]{43}$/);

  await viewer.goto(link);
  await expect(viewer.getByRole("heading", { name, exact: true })).toBeVisible();
  await expect(viewer.getByTestId("read-only-canvas")).toBeVisible();
  await expect(viewer.getByTestId("run-status")).toContainText(/running/i, { timeout: 30_000 });
  await expect(viewer.getByText("Lia Live")).toHaveCount(0);
  const row = viewer.getByTestId("counters-out");
  await expect.poll(() => countIn(row), { timeout: 30_000 }).toBeGreaterThan(0);
  const before = await countIn(row);
  await expect.poll(() => countIn(row), { timeout: 30_000 }).toBeGreaterThan(before);
  await expect(viewer.getByRole("link", { name: "Pipelines" })).toHaveCount(0);

  await dialog.getByRole("button", { name: "Revoke" }).click();
  await expect(viewer.getByText("This live view has ended: the link was revoked or expired.")).toBeVisible({
    timeout: 30_000,
  });
  await viewer.reload();
  await expect(viewer.getByText(/This link does not open/).first()).toBeVisible();
  await owner.getByRole("dialog", { name: "Share live view" }).getByRole("button", { name: "Close" }).click();
  await owner.getByRole("button", { name: "Stop run" }).click();
});
