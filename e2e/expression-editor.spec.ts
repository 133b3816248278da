import { expect, test } from "@playwright/test";
import { connect, createPipeline, dropNode, signUp } from "./support";

// The inspector's expression editor, used from the keyboard: Generator → Filter, then the filter's condition is
// written with autocomplete (upstream fields and functions), shows highlighting, and underlines errors where they
// are, both the parser's (while typing) and the checker's (from validation), until they are fixed.

test("the filter's condition is written with autocomplete, highlighting and errors at their position", async ({
  page,
}) => {
  test.setTimeout(120_000);
  await signUp(page, "Erin Expression", "e2e-expr");
  await createPipeline(page, "Expressions");
  await dropNode(page, "Generator", "generator1", 0.2, 0.3);
  await dropNode(page, "Filter", "filter1", 0.6, 0.3);
  await page.getByRole("button", { name: "Fit View" }).click();
  await connect(page, "generator1", "filter1");
  await expect(page.locator(".react-flow__edge")).toHaveCount(1);

  const inspector = page.getByRole("complementary", { name: "Inspector" });
  await page.getByTestId("node-filter1").click();
  const condition = inspector.getByRole("combobox", { name: "Keep records where" });
  await expect(condition).toBeVisible();
  const suggestions = inspector.getByRole("listbox", { name: "Suggestions" });
  await expect(condition).toHaveAttribute("aria-expanded", "false");

  // Typing a name offers the generator's fields first, then functions, each with its type or signature.
  await condition.click();
  await condition.pressSequentially("co");
  await expect(suggestions).toBeVisible();
  await expect(condition).toHaveAttribute("aria-expanded", "true");
  const options = suggestions.getByRole("option");
  await expect(options.first()).toContainText("country");
  await expect(options.first()).toContainText("string");
  await expect(options.first()).toHaveAttribute("aria-selected", "true");
  const coalesce = suggestions.getByRole("option", { name: /^coalesce/ });
  await expect(coalesce).toBeVisible();
  await expect(coalesce).toContainText("coalesce(values: any...)");

  // ↓ moves the active option (announced through aria-activedescendant), ↑ comes back, Enter accepts.
  await condition.press("ArrowDown");
  await expect(options.nth(1)).toHaveAttribute("aria-selected", "true");
  await expect(condition).toHaveAttribute("aria-activedescendant", (await options.nth(1).getAttribute("id")) ?? "");
  await condition.press("ArrowUp");
  await condition.press("Enter");
  await expect(suggestions).toBeHidden();
  await expect(condition).toHaveValue("country");

  // A function: Tab accepts it with its opening parenthesis; then a field inside it.
  await condition.pressSequentially(" = 'DE' OR up");
  await expect(suggestions.getByRole("option", { name: /^upper/ })).toBeVisible();
  await condition.press("Tab");
  await expect(condition).toHaveValue("country = 'DE' OR upper(");
  await expect(condition).toBeFocused();
  await condition.pressSequentially("coun");
  await condition.press("Enter");
  await condition.pressSequentially(") = 'FR'");
  await expect(condition).toHaveValue("country = 'DE' OR upper(country) = 'FR'");
  await expect(page.getByTestId("node-filter1")).toContainText("upper(country)");

  // Highlighting: the overlay behind the text has a span per kind of token.
  const overlay = inspector.locator(".expr-overlay");
  await expect(overlay).toHaveText("country = 'DE' OR upper(country) = 'FR'");
  await expect(overlay.locator(".expr-tok-keyword")).toHaveText("OR");
  await expect(overlay.locator(".expr-tok-function")).toHaveText("upper");
  await expect(overlay.locator(".expr-tok-string")).toHaveText(["'DE'", "'FR'"]);
  await expect(overlay.locator(".expr-squiggle")).toHaveCount(0);

  // Ctrl+Space opens the list on demand; Escape closes only the list, the inspector stays.
  await condition.press("Control+Space");
  await expect(suggestions).toBeVisible();
  await condition.press("Escape");
  await expect(suggestions).toBeHidden();
  await expect(condition).toBeFocused();
  await expect(inspector.getByRole("heading", { name: "Filter" })).toBeVisible();

  // A syntax error is underlined where it is as soon as it is typed, and described once under the field.
  await condition.fill("status = = 200");
  await expect(overlay.locator(".expr-squiggle")).toHaveText("=");
  await expect(overlay.locator(".expr-squiggle")).toHaveCount(1);
  const syntaxMessage = 'Expected an expression but found "=" (line 1, column 10).';
  await expect(condition).toHaveAttribute("aria-invalid", "true");
  await expect(condition).toHaveAccessibleDescription(new RegExp(syntaxMessage.replace(/[().]/g, "\\$&")));
  await expect(inspector.getByText(syntaxMessage, { exact: true })).toHaveCount(1);

  // An unknown function is the checker's error, from validation: underlined too, with its suggestion.
  await condition.fill("lenght(country) = 2");
  await expect(overlay.locator(".expr-squiggle")).toHaveText("lenght");
  await expect(inspector.getByText(/Unknown function lenght\(\).*Did you mean “length”\?/)).toHaveCount(1);

  // Fixed: no underline, no error.
  await condition.fill("length(country) = 2");
  await expect(overlay.locator(".expr-squiggle")).toHaveCount(0);
  await expect(condition).not.toHaveAttribute("aria-invalid", "true");
  await expect(inspector.getByText(/Unknown function/)).toHaveCount(0);
  await expect(page.getByTestId("node-filter1")).toContainText("length(country) = 2");
});
