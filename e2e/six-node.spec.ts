import { expect, type Locator, test } from "@playwright/test";
import { connect, createPipeline, createPostgresConnection, dropNode, palette, signUp } from "./support";

// The canvas editor, tried as a new user would: build Generator → Filter → Map → Window → PostgreSQL, plus a
// Console on the map, entirely through the UI (drags, handle connections, generated forms, the connection
// picker); see a validation error and fix it from the problems panel; preview data at three nodes; save with a
// message, reload and find it intact; undo and redo; auto-layout; compare two versions and restore one.

/** The horizontal centre of a node on screen, or null while it is not drawn (only nodes in view are). */
async function centerX(locator: Locator): Promise<number | null> {
  const box = await locator.boundingBox();
  return box && box.x + box.width / 2;
}

/** The text of every cell in one column of a preview table, found by the column's header name. */
async function columnValues(table: Locator, column: string): Promise<string[]> {
  const headers = await table.locator("thead th .preview-col-name, thead th.preview-index").allTextContents();
  const index = headers.indexOf(column);
  expect(index, `column ${column} in ${headers.join(", ")}`).toBeGreaterThan(0);
  return table.locator(`tbody tr td:nth-child(${index + 1})`).allTextContents();
}

test("a new user builds, previews, saves, reloads, undoes, lays out and compares a six-node pipeline", async ({
  page,
}) => {
  test.setTimeout(180_000);
  await signUp(page, "Sam Sixnode", "e2e-six");

  // The sink needs somewhere to write: a connection to the test PostgreSQL, made on the connections page.
  await createPostgresConnection(page, "warehouse");

  await createPipeline(page, "Revenue per country");

  // Six nodes dragged from the palette, in two rows so every handle is free.
  const drops: [string | Locator, string, number, number][] = [
    ["Generator", "generator1", 0.15, 0.25],
    ["Filter", "filter1", 0.45, 0.25],
    ["Map", "map1", 0.75, 0.25],
    ["Window", "window1", 0.15, 0.6],
    [
      palette(page).getByRole("region", { name: "Sinks" }).getByRole("button", { name: "PostgreSQL", exact: true }),
      "postgres1",
      0.4,
      0.55,
    ],
    ["Console", "console1", 0.75, 0.6],
  ];
  // One frame for all six: the canvas shrinks once the problems panel opens, and fractions of the first frame keep
  // the two rows apart.
  const frame = await page.locator(".react-flow__pane").boundingBox();
  if (!frame) throw new Error("the canvas must be on screen");
  for (const [item, id, x, y] of drops) await dropNode(page, item, id, x, y, frame);
  await expect(page.locator(".react-flow__node")).toHaveCount(6);

  await page.getByRole("button", { name: "Fit View" }).click();
  const chain: [string, string][] = [
    ["generator1", "filter1"],
    ["filter1", "map1"],
    ["map1", "window1"],
    ["window1", "postgres1"],
    ["map1", "console1"],
  ];
  for (const [i, [from, to]] of chain.entries()) {
    await connect(page, from, to);
    await expect(page.locator(".react-flow__edge")).toHaveCount(i + 1);
  }

  // Forms generated from each node's config schema.
  const inspector = page.getByRole("complementary", { name: "Inspector" });
  await page.getByTestId("node-filter1").click();
  await inspector.getByLabel("Keep records where").fill("status = 200");
  await expect(page.getByTestId("node-filter1")).toContainText("status = 200");

  // Nested settings have their own controls: a list of keys, a choice of window, a map of aggregates.
  await page.getByTestId("node-window1").click();
  await inspector.getByRole("button", { name: "Add group by item" }).click();
  await expect(inspector.getByLabel("Group by item 1", { exact: true })).toBeFocused();
  await inspector.getByLabel("Group by item 1", { exact: true }).fill("country");
  await inspector.getByLabel("Window type").selectOption({ label: "Tumbling" });
  await inspector.getByLabel("Tumbling", { exact: true }).fill("1m");
  const aggregates = inspector.getByRole("group", { name: "Aggregates" });
  await aggregates.getByRole("button", { name: "Add aggregate" }).click();
  await expect(aggregates.getByLabel("Aggregate 1 name")).toBeFocused();
  await page.keyboard.type("hits");
  await aggregates.getByLabel("Aggregate 1 value").fill("count(*)");
  await aggregates.getByRole("button", { name: "Add aggregate" }).click();
  await aggregates.getByLabel("Aggregate 2 name").fill("revenue");
  await aggregates.getByLabel("Aggregate 2 value").fill("sum(amount)");

  await page.getByTestId("node-postgres1").click();
  await inspector.getByLabel("Connection", { exact: true }).selectOption("warehouse");
  await inspector.getByLabel("Table", { exact: true }).fill("revenue_per_country");
  await inspector.getByLabel("Create table").check();

  // The map has no computed field yet: the problems panel says so, and clicking the problem takes us to the field.
  const problems = page.getByRole("region", { name: "Problems" });
  await expect(problems).toContainText("1 error");
  const mapProblem = problems.getByRole("button", { name: /map1/ });
  await expect(mapProblem).toBeVisible();
  await page.getByTestId("node-console1").click();
  await mapProblem.click();
  const addComputed = inspector.getByRole("button", { name: "Add computed field" });
  await expect(addComputed).toBeFocused();
  await expect(page.getByTestId("node-map1")).toHaveClass(/selected/);
  await page.keyboard.press("Enter");
  await expect(inspector.getByLabel("Computed field 1 name")).toBeFocused();
  await page.keyboard.type("amount_eur");
  await inspector.getByLabel("Computed field 1 value").fill("amount * 0.92");
  await expect(problems).toContainText("No problems");

  // Preview: the draft runs on a sample; the selected node's records, with their schema.
  await page.getByRole("button", { name: "Preview" }).click();
  const preview = page.getByRole("region", { name: "Data preview" });
  await expect(preview.getByRole("status")).toContainText("Sample of up to", { timeout: 30_000 });

  // The panel takes room from the canvas: fit the pipeline into what is left before clicking nodes.
  await page.getByRole("button", { name: "Fit View" }).click();
  await page.getByTestId("node-generator1").click();
  await expect(preview.getByText("generator1", { exact: true })).toBeVisible();
  const generated = preview.getByRole("table", { name: "Output records (out)" });
  await expect(generated.locator("tbody tr").first()).toBeVisible();
  expect(await columnValues(generated, "status")).not.toHaveLength(0);
  await expect(preview.getByRole("list", { name: "Output schema (out)" })).toContainText("country");

  await page.getByTestId("node-filter1").click();
  await expect(preview.getByText("filter1", { exact: true })).toBeVisible();
  const filtered = preview.getByRole("table", { name: "Output records (out)" });
  await expect(filtered.locator("tbody tr").first()).toBeVisible();
  const statuses = await columnValues(filtered, "status");
  expect(statuses.length).toBeGreaterThan(0);
  expect(new Set(statuses)).toEqual(new Set(["200"]));
  const filterIn = Number(await preview.getByTestId("preview-count-in").textContent());
  const filterOut = Number(await preview.getByTestId("preview-count-out").textContent());
  expect(filterOut).toBeLessThan(filterIn);
  await expect(preview.getByRole("table", { name: "Input records (in)" })).toContainText("404");

  await page.getByTestId("node-map1").click();
  await expect(preview.getByText("map1", { exact: true })).toBeVisible();
  const mapped = preview.getByRole("table", { name: "Output records (out)" });
  await expect(mapped.locator("thead")).toContainText("amount_eur");
  const amounts = await columnValues(mapped, "amount");
  const euros = await columnValues(mapped, "amount_eur");
  expect(euros.length).toBe(amounts.length);
  expect(Number(euros[0])).toBeCloseTo(Number(amounts[0]) * 0.92, 6);
  await preview.getByRole("button", { name: "Close preview" }).click();
  await expect(preview).toBeHidden();

  // Save with a message, reload, and everything is still there.
  await page.getByRole("button", { name: "Save with a message" }).click();
  const saveDialog = page.getByRole("dialog", { name: "Save a version" });
  await saveDialog.getByLabel("What changed?").fill("Six nodes: revenue per country");
  await saveDialog.getByRole("button", { name: "Save version" }).click();
  await expect(page.getByText("Saved", { exact: true })).toBeVisible();
  await expect(page.getByText("v2", { exact: true })).toBeVisible();

  await page.reload();
  await expect(page.getByRole("heading", { name: "Revenue per country" })).toBeVisible();
  await expect(page.locator(".react-flow__node")).toHaveCount(6);
  await expect(page.locator(".react-flow__edge")).toHaveCount(5);
  await expect(page.getByTestId("node-filter1")).toContainText("status = 200");
  await page.getByTestId("node-map1").click();
  await expect(inspector.getByLabel("Computed field 1 name")).toHaveValue("amount_eur");
  await expect(inspector.getByLabel("Computed field 1 value")).toHaveValue("amount * 0.92");
  await page.getByTestId("node-postgres1").click();
  await expect(inspector.getByLabel("Connection", { exact: true })).toHaveValue("warehouse");
  await expect(problems).toContainText("No problems");

  // Undo and redo, with the toolbar buttons and with the keyboard.
  await page.getByTestId("node-console1").click();
  await page.getByRole("button", { name: "Delete selection" }).click();
  await expect(page.locator(".react-flow__node")).toHaveCount(5);
  await expect(page.locator(".react-flow__edge")).toHaveCount(4);
  await page.getByRole("button", { name: "Undo" }).click();
  await expect(page.getByTestId("node-console1")).toBeVisible();
  await expect(page.locator(".react-flow__edge")).toHaveCount(5);
  await page.getByRole("button", { name: "Redo" }).click();
  await expect(page.getByTestId("node-console1")).toHaveCount(0);
  await page.keyboard.press("Control+z");
  await expect(page.getByTestId("node-console1")).toBeVisible();
  await page.keyboard.press("Control+Shift+z");
  await expect(page.getByTestId("node-console1")).toHaveCount(0);
  await expect(page.locator(".react-flow__edge")).toHaveCount(4);

  // Auto-layout puts the chain left to right (and the view glides to fit it: poll until every node is drawn).
  await page.getByRole("button", { name: "Auto-layout" }).click();
  await expect
    .poll(async () => {
      const xs = await Promise.all(
        ["generator1", "filter1", "map1", "window1", "postgres1"].map((id) => centerX(page.getByTestId(`node-${id}`))),
      );
      return xs.every((x, i) => x !== null && (i === 0 || x > (xs[i - 1] ?? Number.POSITIVE_INFINITY)));
    })
    .toBe(true);

  // A second version: console gone, filter stricter.
  await page.getByTestId("node-filter1").click();
  await inspector.getByLabel("Keep records where").fill("status = 200 AND amount > 10");
  await page.getByRole("button", { name: "Save with a message" }).click();
  await saveDialog.getByLabel("What changed?").fill("Stricter filter, no console");
  await saveDialog.getByRole("button", { name: "Save version" }).click();
  await expect(page.getByText("v3", { exact: true })).toBeVisible();

  // Compare v2 with v3, then restore v2 into the draft.
  await page.getByRole("button", { name: "Versions" }).click();
  const versions = page.getByRole("dialog", { name: "Versions" });
  const table = versions.getByRole("table", { name: "Versions" });
  await expect(table).toContainText("Six nodes: revenue per country");
  await expect(table).toContainText("Stricter filter, no console");
  const compare = versions.getByRole("region", { name: "Compare versions" });
  await compare.getByLabel("Compare version").selectOption("2");
  await compare.getByLabel("with version").selectOption("3");
  const differences = compare.getByRole("list", { name: "Differences" });
  await expect(differences).toContainText("Removed node console1");
  await expect(differences).toContainText("Removed edge map1 → console1");
  await expect(differences).toContainText("Changed node filter1");
  await expect(differences).toContainText('"status = 200 AND amount > 10"');
  await expect(differences).not.toContainText("Added node");

  await versions.getByRole("button", { name: "Restore version 2" }).click();
  await expect(versions).toBeHidden();
  await expect(page.getByTestId("node-console1")).toBeVisible();
  await expect(page.locator(".react-flow__edge")).toHaveCount(5);
  await expect(page.getByTestId("node-filter1")).toContainText("status = 200");
  await expect(page.getByTestId("node-filter1")).not.toContainText("amount > 10");
  await expect(page.getByTestId("dirty")).toBeVisible();
});
