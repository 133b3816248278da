import { expect, type Locator, type Page, test } from "@playwright/test";

// The canvas editor, tried as a new user would: build Generator → Filter → Map → Window → PostgreSQL, plus a
// Console on the map, entirely through the UI (drags, handle connections, generated forms, the connection
// picker); see a validation error and fix it from the problems panel; preview data at three nodes; save with a
// message, reload and find it intact; undo and redo; auto-layout; compare two versions and restore one.

const adminUrl = new URL(
  process.env.SLUICE_TEST_DATABASE_URL || process.env.DATABASE_URL || "postgresql://postgres@127.0.0.1:5432/postgres",
);

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

async function centerX(locator: Locator): Promise<number> {
  const box = await locator.boundingBox();
  if (!box) throw new Error("the node must be on screen");
  return box.x + box.width / 2;
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
  const email = `e2e-six-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;

  await page.goto("/signup");
  await page.getByLabel("Name").fill("Sam Sixnode");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("a long enough password");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/pipelines$/);

  // The sink needs somewhere to write: a connection to the test PostgreSQL, made on the connections page.
  await page.getByRole("link", { name: "Connections" }).first().click();
  await expect(page).toHaveURL(/\/connections$/);
  await page.getByRole("button", { name: "New connection" }).click();
  const newConnection = page.getByRole("dialog", { name: "New connection" });
  await newConnection.getByLabel("Type").selectOption({ label: "PostgreSQL" });
  await newConnection.getByLabel("Name", { exact: true }).fill("warehouse");
  await newConnection.getByLabel("Host", { exact: true }).fill(adminUrl.hostname);
  await newConnection.getByLabel("Port", { exact: true }).fill(adminUrl.port || "5432");
  await newConnection.getByLabel("Database", { exact: true }).fill(adminUrl.pathname.slice(1) || "postgres");
  await newConnection.getByLabel("User", { exact: true }).fill(decodeURIComponent(adminUrl.username) || "postgres");
  await newConnection.getByRole("button", { name: "Create connection" }).click();
  await expect(newConnection).toBeHidden();
  await expect(page.getByRole("table", { name: "Connections" })).toContainText("warehouse");

  await page.getByRole("link", { name: "Pipelines" }).first().click();
  await page.getByRole("button", { name: "New pipeline" }).first().click();
  const dialog = page.getByRole("dialog", { name: "New pipeline" });
  await dialog.getByLabel("Name").fill("Revenue per country");
  await dialog.getByRole("button", { name: "Create pipeline" }).click();
  await expect(page).toHaveURL(/\/pipelines\/[^/]+$/);
  await expect(page.getByRole("heading", { name: "Revenue per country" })).toBeVisible();

  // Six nodes dragged from the palette, in two rows so every handle is free.
  const palette = page.getByRole("complementary", { name: "Node palette" });
  const pane = page.locator(".react-flow__pane");
  const box = await pane.boundingBox();
  if (!box) throw new Error("the canvas must be on screen");
  const drops: [Locator, string, number, number][] = [
    [palette.getByRole("button", { name: "Generator", exact: true }), "generator1", 0.15, 0.25],
    [palette.getByRole("button", { name: "Filter", exact: true }), "filter1", 0.45, 0.25],
    [palette.getByRole("button", { name: "Map", exact: true }), "map1", 0.75, 0.25],
    [palette.getByRole("button", { name: "Window", exact: true }), "window1", 0.15, 0.6],
    [
      palette.getByRole("region", { name: "Sinks" }).getByRole("button", { name: "PostgreSQL", exact: true }),
      "postgres1",
      0.4,
      0.55,
    ],
    [palette.getByRole("button", { name: "Console", exact: true }), "console1", 0.75, 0.6],
  ];
  for (const [button, id, x, y] of drops) {
    await button.dragTo(pane, { targetPosition: { x: box.width * x, y: box.height * y } });
    await expect(page.getByTestId(`node-${id}`)).toBeVisible();
  }
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

  await page.getByTestId("node-window1").click();
  await inspector.getByLabel("Group by").fill('["country"]');
  await inspector.getByLabel(/^window$/i).fill('{ "tumble": "1m" }');
  await inspector.getByLabel("Aggregates").fill('{ "hits": "count(*)", "revenue": "sum(amount)" }');

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
  const computed = inspector.getByLabel("Computed fields");
  await expect(computed).toBeFocused();
  await expect(page.getByTestId("node-map1")).toHaveClass(/selected/);
  await computed.fill('{ "amount_eur": "amount * 0.92" }');
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
  await expect(inspector.getByLabel("Computed fields")).toHaveValue(/amount_eur/);
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

  // Auto-layout puts the chain left to right.
  await page.getByRole("button", { name: "Auto-layout" }).click();
  await expect
    .poll(async () => {
      const xs = await Promise.all(
        ["generator1", "filter1", "map1", "window1", "postgres1"].map((id) => centerX(page.getByTestId(`node-${id}`))),
      );
      return xs.every((x, i) => i === 0 || x > (xs[i - 1] ?? 0));
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
