import { expect, test } from "@playwright/test";
import { createPipeline, palette, signUp } from "./support";

// A new user adds every node type the palette offers, one at a time, and reads what the editor says about it: in
// the inspector and in the problems panel every message is a sentence about the pipeline, never a schema library's
// wording ("Invalid input: expected record, received undefined").

const RAW_SCHEMA =
  /Invalid input|expected \w+, received|Too small|Too big|Unrecognized key|Invalid (string|option|element|key)|undefined/i;

test("every node type, as dropped from the palette, is described in sentences", async ({ page }) => {
  test.setTimeout(240_000);
  await signUp(page, "Nia Newcomer", "e2e-messages");
  await createPipeline(page, "Every node once");

  const items = palette(page).locator("[data-node-type]");
  const types = await items.evaluateAll((buttons) => buttons.map((b) => b.getAttribute("data-node-type") ?? ""));
  expect(types.length).toBeGreaterThanOrEqual(34);
  expect(types).toContain("source.postgres");

  const announced = palette(page).getByRole("status");
  const inspector = page.getByRole("complementary", { name: "Inspector" });
  const problems = page.getByRole("region", { name: "Problems", exact: true });
  const nodes = page.locator(".react-flow__node");
  for (const type of types) {
    // The palette's click path: the node is added and selected, so the inspector shows it.
    const item = palette(page).locator(`[data-node-type="${type}"]`);
    const title = (await item.getAttribute("aria-label")) ?? "";
    await item.click();
    await expect(nodes).toHaveCount(1);
    await expect(announced).toHaveText(
      new RegExp(`^Added ${title.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} as [\\w-]+\\.$`),
    );
    const id = /as ([\w-]+)\.$/.exec((await announced.textContent()) ?? "")?.[1] ?? "";
    const node = page.getByTestId(`node-${id}`);
    await expect(node).toBeVisible();
    await expect(inspector.locator(".inspector-type")).toContainText(type);
    // Validation has reached the node: a lone node always has a problem of its own (no input, or no way to a sink).
    await expect(problems.locator(".problem-where", { hasText: id }).first()).toBeVisible();

    const shown = [
      ...(await inspector.locator(".field-error, .issue").allTextContents()),
      ...(await problems.locator(".problem-text").allTextContents()),
    ].map((text) => text.trim());
    for (const text of shown) {
      expect(text, `${type}: ${text}`).not.toMatch(RAW_SCHEMA);
      expect(text, `${type}: ${text}`).toMatch(/^[A-Z“"].*[.?]$/s);
    }
    if (type === "source.postgres") {
      // Neither a table nor a query given: the sentence says to give one, not that both were given.
      expect(shown.some((text) => /name the table to read, or write a query under Advanced/i.test(text))).toBe(true);
      expect(shown.filter((text) => /not both/i.test(text))).toEqual([]);
    }

    await page.getByRole("toolbar", { name: "Canvas" }).getByRole("button", { name: "Delete selection" }).click();
    await expect(nodes).toHaveCount(0);
  }
});
