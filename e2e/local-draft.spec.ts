import { expect, test } from "@playwright/test";
import { createPipeline, dropNode, setFilterCondition, signUp } from "./support";

// Unsaved work survives a reload: the editor keeps a draft in the browser, restores it on opening (with a notice
// and a way to discard it), and asks before applying a draft made on a version someone has saved over since.

test("unsaved changes survive a reload, can be discarded, and an older draft is only applied when asked", async ({
  page,
  browser,
}) => {
  test.setTimeout(120_000);
  // Leaving with unsaved changes asks first (use-unsaved-guard.ts): say yes, as the user reloading would.
  page.on("dialog", (dialog) => void dialog.accept());
  await signUp(page, "Dana Draft", "e2e-draft");
  const pipelineUrl = await createPipeline(page, "Drafts survive");

  await dropNode(page, "Generator", "generator1", 0.25, 0.35);
  await dropNode(page, "Filter", "filter1", 0.6, 0.35);
  await setFilterCondition(page, "status = 200");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByText("Saved", { exact: true })).toBeVisible();
  await expect(page.getByText("v2", { exact: true })).toBeVisible();

  // Edit without saving (a new node and a stricter condition), then reload: the edits are back, marked unsaved.
  await dropNode(page, "Console", "console1", 0.45, 0.7);
  await setFilterCondition(page, "status = 404");
  await expect(page.getByTestId("dirty")).toBeVisible();
  await page.reload();
  const restored = page.getByRole("status").filter({ hasText: "Restored unsaved changes from" });
  await expect(restored).toBeVisible();
  await expect(page.getByTestId("node-filter1")).toContainText("status = 404");
  await expect(page.getByTestId("node-console1")).toBeVisible();
  await expect(page.getByTestId("dirty")).toBeVisible();
  await expect(page.getByText("v2", { exact: true })).toBeVisible();

  // Discard goes back to the saved version, and the draft is gone for good.
  await restored.getByRole("button", { name: "Discard" }).click();
  await expect(restored).toBeHidden();
  await expect(page.getByTestId("node-filter1")).toContainText("status = 200");
  await expect(page.getByTestId("node-console1")).toHaveCount(0);
  await expect(page.getByText("Saved", { exact: true })).toBeVisible();
  await page.reload();
  await expect(page.getByTestId("node-filter1")).toContainText("status = 200");
  await expect(page.getByText("Saved", { exact: true })).toBeVisible();
  await expect(page.getByRole("status").filter({ hasText: "unsaved changes" })).toHaveCount(0);

  // A draft on v2, then someone else (another browser, same account) saves v3.
  await setFilterCondition(page, "status = 500");
  await expect(page.getByTestId("dirty")).toBeVisible();
  // The draft is written 300 ms after the last edit.
  await expect
    .poll(() =>
      page.evaluate(() =>
        // e2e compiles without the DOM library: the page's localStorage, typed by hand
        Object.entries((globalThis as unknown as { localStorage: Record<string, string> }).localStorage).some(
          ([key, value]) => key.startsWith("sluice:draft:") && value.includes("status = 500"),
        ),
      ),
    )
    .toBe(true);
  const other = await browser.newContext({ storageState: { cookies: await page.context().cookies(), origins: [] } });
  const otherPage = await other.newPage();
  await otherPage.goto(pipelineUrl);
  await expect(otherPage.getByTestId("node-filter1")).toContainText("status = 200");
  await setFilterCondition(otherPage, "status = 201");
  await otherPage.getByRole("button", { name: "Save", exact: true }).click();
  await expect(otherPage.getByText("v3", { exact: true })).toBeVisible();
  await other.close();

  // Reopening shows v3 as saved and offers the older draft instead of applying it.
  await page.reload();
  const offer = page.getByRole("status").filter({ hasText: "made on v2" });
  await expect(offer).toBeVisible();
  await expect(offer).toContainText("v3 has been saved since");
  await expect(page.getByTestId("node-filter1")).toContainText("status = 201");
  await expect(page.getByText("Saved", { exact: true })).toBeVisible();

  // Restored anyway, it is an unsaved change on top of v3 and saves as v4.
  await offer.getByRole("button", { name: "Restore anyway" }).click();
  await expect(page.getByTestId("node-filter1")).toContainText("status = 500");
  await expect(page.getByTestId("dirty")).toBeVisible();
  await expect(page.getByRole("status").filter({ hasText: "Restored unsaved changes from" })).toBeVisible();
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByText("v4", { exact: true })).toBeVisible();
  await expect(page.getByText("Saved", { exact: true })).toBeVisible();
  await expect(page.getByRole("status").filter({ hasText: "unsaved changes" })).toHaveCount(0);

  // Saved: nothing is left to restore.
  await page.reload();
  await expect(page.getByTestId("node-filter1")).toContainText("status = 500");
  await expect(page.getByText("Saved", { exact: true })).toBeVisible();
  await expect(page.getByRole("status").filter({ hasText: "unsaved changes" })).toHaveCount(0);
});
