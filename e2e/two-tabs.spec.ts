import { expect, type Page, test } from "@playwright/test";
import { createPipeline, palette, setFilterCondition, signUp } from "./support";

// Two tabs of one browser, as someone with the same pipeline open twice: a pipeline built with the keyboard alone
// (palette search, Enter adds and connects), the shortcut overlay, a sticky note, the minimap; nodes copied in one
// tab and pasted into another pipeline in the other, through the system clipboard; and two saves of the same
// version, where the second gets a conflict it can resolve by reloading or by saving a copy, never silently.

async function save(page: Page, version: number): Promise<void> {
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByText(`v${version}`, { exact: true })).toBeVisible();
  await expect(page.getByText("Saved", { exact: true })).toBeVisible();
}

/** The page's clipboard text (e2e compiles without the DOM library: the page's navigator, typed by hand). */
function clipboardText(page: Page): Promise<string> {
  return page.evaluate(() =>
    (
      globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }
    ).navigator.clipboard.readText(),
  );
}

/** The drafts the editor keeps in the page's localStorage, as one text (e2e compiles without the DOM library). */
function storedDrafts(page: Page): Promise<string> {
  return page.evaluate(() =>
    Object.entries((globalThis as unknown as { localStorage: Record<string, string> }).localStorage)
      .filter(([key]) => key.startsWith("sluice:draft:"))
      .map(([, value]) => value)
      .join("\n"),
  );
}

test("two tabs: keyboard building, copy and paste between pipelines, and save conflicts resolved", async ({
  context,
  page: tabA,
}) => {
  test.setTimeout(150_000);
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await signUp(tabA, "Kim Keyboard", "e2e-tabs");
  const pipelineUrl = await createPipeline(tabA, "Keyboard built");

  // Keyboard only: "/" focuses the palette's search, Enter adds the first match; the new node is selected, so the
  // next one goes beside it, connected from it.
  const search = palette(tabA).getByRole("searchbox", { name: "Search nodes" });
  const announced = palette(tabA).getByRole("status");
  await tabA.keyboard.press("/");
  await expect(search).toBeFocused();
  await tabA.keyboard.type("generator");
  await tabA.keyboard.press("Enter");
  await expect(tabA.getByTestId("node-generator1")).toBeVisible();
  await expect(announced).toHaveText("Added Generator as generator1.");
  await tabA.keyboard.press("Escape"); // clears the search
  await expect(search).toHaveValue("");
  await tabA.keyboard.type("filter");
  await tabA.keyboard.press("Enter");
  await expect(announced).toHaveText("Added Filter as filter1, connected from generator1.");
  await expect(tabA.locator(".react-flow__edge")).toHaveCount(1);
  // ↓ moves from the search into the list, ↑ back; Enter on an item adds it too.
  await tabA.keyboard.press("Escape");
  await tabA.keyboard.type("console");
  const consoleItem = palette(tabA).getByRole("button", { name: "Console", exact: true });
  await tabA.keyboard.press("ArrowDown");
  await expect(consoleItem).toBeFocused();
  await expect(consoleItem).toHaveAccessibleDescription("Shows the newest records live in the editor.");
  await tabA.keyboard.press("ArrowUp");
  await expect(search).toBeFocused();
  await tabA.keyboard.press("ArrowDown");
  await tabA.keyboard.press("Enter");
  await expect(announced).toHaveText("Added Console as console1, connected from filter1.");
  await expect(tabA.locator(".react-flow__edge")).toHaveCount(2);
  await expect(tabA.getByTestId("node-console1")).toBeVisible();

  // "?" opens the list of shortcuts; Escape closes it.
  await tabA.keyboard.press("?");
  const help = tabA.getByRole("dialog", { name: "Keyboard shortcuts" });
  await expect(help).toBeVisible();
  await expect(help.getByRole("region", { name: "Canvas" })).toContainText("Add a sticky note");
  await expect(help.getByRole("region", { name: "Palette and inspector" })).toContainText("Search the palette");
  await tabA.keyboard.press("Escape");
  await expect(help).toBeHidden();

  // Shift+N adds a sticky note, open for writing.
  await tabA.keyboard.press("Shift+N");
  const noteText = tabA.getByLabel("Note text");
  await expect(noteText).toBeFocused();
  await tabA.keyboard.type("Built without a mouse");
  // The canvas is not selectable text, but what is typed on it is: a double click selects a word of the note.
  await noteText.dblclick({ position: { x: 12, y: 10 } });
  await expect
    .poll(() =>
      noteText.evaluate((t: { value: string; selectionStart: number | null; selectionEnd: number | null }) =>
        t.value.slice(t.selectionStart ?? 0, t.selectionEnd ?? 0),
      ),
    )
    .toBe("Built");
  await tabA.keyboard.press("Escape");
  await expect(noteText).toBeHidden();
  await expect(tabA.getByText("Built without a mouse")).toBeVisible();

  // Zoom to fit (Shift+1) shows everything; the minimap draws the three nodes and the note.
  const pane = await tabA.locator(".react-flow__pane").boundingBox();
  if (!pane) throw new Error("the canvas must be on screen");
  await tabA.mouse.move(pane.x + pane.width / 2, pane.y + pane.height / 2);
  await tabA.mouse.wheel(0, -3000); // zoom in as far as it goes
  await expect(tabA.getByRole("button", { name: "Zoom In" })).toBeDisabled();
  await expect(tabA.getByTestId("node-generator1")).not.toBeInViewport();
  await tabA.keyboard.press("Shift+1");
  for (const id of ["generator1", "filter1", "console1"]) await expect(tabA.getByTestId(`node-${id}`)).toBeInViewport();
  await expect(tabA.getByRole("img", { name: "Overview of the pipeline" })).toBeVisible();
  await expect(tabA.locator(".react-flow__minimap-node")).toHaveCount(4);

  await setFilterCondition(tabA, "status = 200");
  await save(tabA, 2);

  // Select two nodes (Ctrl+click adds to the selection) and copy them: the clipboard holds definition JSON.
  await tabA.getByTestId("node-filter1").click();
  await tabA.getByTestId("node-console1").click({ modifiers: ["Control"] });
  const inspectorA = tabA.getByRole("complementary", { name: "Inspector" });
  await expect(inspectorA.getByRole("heading", { name: "2 nodes selected" })).toBeVisible();
  await tabA.keyboard.press("Control+C");
  await expect
    .poll(async () => {
      const copied = JSON.parse(await clipboardText(tabA)) as {
        kind: string;
        nodes: { id: string }[];
        edges: { from: string; to: string }[];
      };
      return {
        kind: copied.kind,
        nodes: copied.nodes.map((n) => n.id),
        edges: copied.edges.map((e) => `${e.from}->${e.to}`),
      };
    })
    .toEqual({ kind: "sluice/nodes", nodes: ["filter1", "console1"], edges: ["filter1->console1"] });
  await tabA.keyboard.press("Escape"); // clears the selection
  await expect(inspectorA).toContainText("Select a node on the canvas");

  // Tab B: paste them into another pipeline, config and connection included.
  const tabB = await context.newPage();
  await tabB.goto("/pipelines");
  await createPipeline(tabB, "Paste target");
  await tabB.locator(".react-flow__pane").click();
  await tabB.keyboard.press("Control+V");
  await expect(tabB.getByRole("status").filter({ hasText: "Pasted 2 items." })).toBeVisible();
  await expect(tabB.getByTestId("node-filter1")).toContainText("status = 200");
  await expect(tabB.getByTestId("node-console1")).toBeVisible();
  await expect(tabB.locator(".react-flow__edge")).toHaveCount(1);
  // Pasting again (the pointer has not moved) adds renamed copies beside the first ones, not hidden under them.
  await tabB.keyboard.press("Control+V");
  await expect(tabB.getByTestId("node-filter2")).toContainText("status = 200");
  await expect(tabB.getByTestId("node-console2")).toBeVisible();
  await expect(tabB.locator(".react-flow__edge")).toHaveCount(2);
  const first = await tabB.getByTestId("node-filter1").boundingBox();
  const second = await tabB.getByTestId("node-filter2").boundingBox();
  expect(second && first && Math.hypot(second.x - first.x, second.y - first.y)).toBeGreaterThan(20);
  // The pasted nodes are the selection: Delete removes them, undo brings them back, redo removes them again.
  await tabB.keyboard.press("Delete");
  await expect(tabB.getByTestId("node-filter2")).toHaveCount(0);
  await expect(tabB.getByTestId("node-console2")).toHaveCount(0);
  await expect(tabB.getByTestId("node-filter1")).toBeVisible();
  await tabB.keyboard.press("Control+Z");
  await expect(tabB.getByTestId("node-filter2")).toContainText("status = 200");
  await expect(tabB.locator(".react-flow__edge")).toHaveCount(2);
  await tabB.keyboard.press("Control+Shift+Z");
  await expect(tabB.getByTestId("node-filter2")).toHaveCount(0);
  await expect(tabB.locator(".react-flow__edge")).toHaveCount(1);
  await save(tabB, 2);

  // Both tabs on the same pipeline, both at v2. A saves first; B's save of v2 is refused, not applied.
  await tabB.goto(pipelineUrl);
  await expect(tabB.getByTestId("node-filter1")).toContainText("status = 200");
  await expect(tabB.getByText("v2", { exact: true })).toBeVisible();
  // Both edit. Unsaved edits are kept in the browser (written 300 ms after the last change), under one key per
  // pipeline: A's, then B's. A's save takes back only its own draft, so B's stays for B's reload to bring back.
  await setFilterCondition(tabA, "status = 201");
  await expect.poll(() => storedDrafts(tabA)).toContain("status = 201");
  await setFilterCondition(tabB, "status = 404");
  await expect.poll(() => storedDrafts(tabB)).toContain("status = 404");
  await save(tabA, 3);
  expect(await storedDrafts(tabB)).toContain("status = 404");
  await tabB.getByRole("button", { name: "Save", exact: true }).click();
  const conflict = tabB.getByRole("alertdialog", { name: "Someone saved a newer version" });
  await expect(conflict).toBeVisible();
  await expect(conflict).toContainText("Version 3 was saved after the version 2 you edited");

  // Reload: B shows A's version.
  await conflict.getByRole("button", { name: "Reload" }).click();
  await expect(conflict).toBeHidden();
  await expect(tabB.getByTestId("node-filter1")).toContainText("status = 201");
  await expect(tabB.getByText("v3", { exact: true })).toBeVisible();
  await expect(tabB.getByText("Saved", { exact: true })).toBeVisible();
  expect(await storedDrafts(tabB)).toBe("");

  // Again, and this time B keeps its edits as a new pipeline.
  await setFilterCondition(tabA, "status = 202");
  await save(tabA, 4);
  await setFilterCondition(tabB, "status = 500");
  await tabB.getByRole("button", { name: "Save", exact: true }).click();
  await expect(conflict).toContainText("Version 4 was saved after the version 3 you edited");
  await conflict.getByRole("button", { name: "Save as copy" }).click();
  await expect(tabB.getByRole("heading", { name: "Keyboard built (copy)" })).toBeVisible();
  expect(tabB.url()).not.toBe(pipelineUrl);
  await expect(tabB.getByTestId("node-filter1")).toContainText("status = 500");
  await expect(tabB.getByTestId("node-generator1")).toBeVisible();
  await expect(tabB.getByTestId("node-console1")).toBeVisible();
  await expect(tabB.getByText("Built without a mouse")).toBeVisible();
  await expect(tabB.getByText("v1", { exact: true })).toBeVisible();
  await expect(tabB.getByText("Saved", { exact: true })).toBeVisible();

  // The original kept A's version.
  await tabA.reload();
  await expect(tabA.getByTestId("node-filter1")).toContainText("status = 202");
  await expect(tabA.getByText("v4", { exact: true })).toBeVisible();
});
