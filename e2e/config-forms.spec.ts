import { expect, test } from "@playwright/test";
import { connect, createPipeline, dropNode, signUp } from "./support";

// Nested settings get real controls, used from the keyboard (item buttons are pressed with Enter): a list
// reordered and shortened with its item buttons, a union member switched without losing what was typed, a map whose
// duplicate names are flagged and not stored, the same map edited as JSON and back, and a problem deep inside a map
// focusing that exact input.

test("nested settings are edited with lists, choices and maps, and their problems focus the exact input", async ({
  page,
}) => {
  test.setTimeout(150_000);
  await signUp(page, "Nora Nested", "e2e-nested");
  await createPipeline(page, "Nested settings");
  await dropNode(page, "Generator", "generator1", 0.25, 0.35);
  await dropNode(page, "Window", "window1", 0.6, 0.35);
  await page.getByRole("button", { name: "Fit View" }).click();
  await connect(page, "generator1", "window1");
  await expect(page.locator(".react-flow__edge")).toHaveCount(1);

  const inspector = page.getByRole("complementary", { name: "Inspector" });
  await page.getByTestId("node-window1").click();

  // A list: two keys, the second moved up with its button, then removed; focus stays with the buttons.
  const groupBy = inspector.getByRole("group", { name: "Group by" });
  await groupBy.getByRole("button", { name: "Add group by item" }).press("Enter");
  await page.keyboard.type("country");
  await groupBy.getByRole("button", { name: "Add group by item" }).press("Enter");
  await expect(groupBy.getByLabel("Group by item 2", { exact: true })).toBeFocused();
  await page.keyboard.type("status");
  await groupBy.getByRole("button", { name: "Move group by item 2 (status) up" }).press("Enter");
  await expect(groupBy.getByLabel("Group by item 1", { exact: true })).toHaveValue("status");
  await expect(groupBy.getByLabel("Group by item 2", { exact: true })).toHaveValue("country");
  await expect(groupBy.getByRole("button", { name: "Move group by item 1 (status) down" })).toBeFocused();

  // A union member switched: the expression moves into the named key's expression.
  await groupBy
    .getByRole("radiogroup", { name: "Group by item 2 type" })
    .getByLabel("Output field + Expression")
    .check();
  const named = groupBy.getByRole("listitem").nth(1);
  await expect(named.getByRole("combobox", { name: "Expression", exact: true })).toHaveValue("country");
  await named.getByLabel("Output field", { exact: true }).fill("where");
  await groupBy.getByRole("button", { name: "Remove group by item 1 (status)" }).press("Enter");
  await expect(groupBy.getByRole("listitem")).toHaveCount(1);
  await expect(groupBy.getByRole("button", { name: "Remove group by item 1 (where)" })).toBeFocused();

  // A one-key choice: a tumbling size carries over to a hopping window's size.
  await inspector.getByLabel("Window type").selectOption({ label: "Tumbling" });
  await inspector.getByLabel("Tumbling", { exact: true }).fill("1m");
  await inspector.getByLabel("Window type").selectOption({ label: "Hopping" });
  await expect(inspector.getByLabel("Size", { exact: true })).toHaveValue("1m");
  await inspector.getByLabel("Every", { exact: true }).fill("10s");

  // A map: a duplicate name is flagged, and the row is not stored until its name is fixed (a name typed letter by
  // letter is stored as it goes while it is valid: "h", "hi", …).
  const aggregates = inspector.getByRole("group", { name: "Aggregates" });
  await aggregates.getByRole("button", { name: "Add aggregate" }).press("Enter");
  await page.keyboard.type("hits");
  await aggregates.getByLabel("Aggregate 1 value").fill("count(*)");
  await aggregates.getByRole("button", { name: "Add aggregate" }).press("Enter");
  await aggregates.getByLabel("Aggregate 2 name").fill("hits");
  await aggregates.getByLabel("Aggregate 2 value").fill("sum(amount)");
  await expect(aggregates.getByText("Another aggregate is also called “hits”").first()).toBeVisible();
  await aggregates.getByRole("button", { name: "Edit Aggregates as JSON" }).click();
  const asJson = aggregates.getByRole("textbox");
  await expect(asJson).toHaveValue(/"hits": "count\(\*\)"/);
  await expect(asJson).not.toHaveValue(/sum\(amount\)/);

  // Edited as JSON, and back: the rows follow.
  await asJson.fill('{ "hits": "count(*)", "revenue": "sum(amount)" }');
  await aggregates.getByRole("button", { name: "Edit Aggregates as JSON" }).click();
  await expect(aggregates.getByLabel("Aggregate 2 name")).toHaveValue("revenue");
  await expect(aggregates.getByText(/also called/)).toHaveCount(0);

  // A problem inside the map: listed next to its input, and clicking it in the problems panel focuses that input.
  await aggregates.getByLabel("Aggregate 2 value").fill("sum(nope)");
  const problems = page.getByRole("region", { name: "Problems", exact: true });
  const problem = problems.getByRole("button", { name: /window1.*nope/ });
  await expect(problem).toBeVisible();
  await expect(aggregates.locator(".field-error").filter({ hasText: "nope" })).toBeVisible();
  await page.getByTestId("node-generator1").click();
  await problem.click();
  await expect(inspector.getByLabel("Aggregate 2 value")).toBeFocused();
  await page.keyboard.press("Control+a");
  await page.keyboard.type("sum(amount)");
  await expect(problem).toHaveCount(0);
  await expect(aggregates.locator(".field-error")).toHaveCount(0);
});
