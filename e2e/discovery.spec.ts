import { expect, type Locator, test } from "@playwright/test";
import pg from "pg";
import { adminUrl, connect, createPipeline, createPostgresConnection, dropNode, palette, signUp } from "./support";

// Connection discovery, as a new user meets it: a PostgreSQL connection to the e2e stack's server, browsed from the
// connections page (tables, a table's columns, sample rows); then in the editor a PostgreSQL source picks the
// connection, browses it and uses the table, which fills its table and columns, so a downstream filter knows the
// columns (an unknown one is an error, a discovered one is fine).

const table = `disco_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 7)}`;

async function sql(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl.toString() });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

test.beforeAll(async () => {
  await sql(`CREATE TABLE ${table} (
    id integer PRIMARY KEY,
    country text NOT NULL,
    amount double precision,
    placed_at timestamptz
  );
  INSERT INTO ${table} VALUES
    (1, 'NL', 12.5, '2024-05-01T10:00:00Z'),
    (2, 'DE', 40, '2024-05-01T10:05:00Z'),
    (3, 'FR', NULL, NULL);`);
});

test.afterAll(async () => {
  await sql(`DROP TABLE IF EXISTS ${table}`);
});

/** What a config field shows: its text and the values of its inputs, however the form draws it. */
function shownIn(row: Locator): Promise<string> {
  return row.evaluate((el) => {
    const inputs = Array.from(
      el.querySelectorAll("input, textarea, select"),
      (i) => (i as unknown as { value: string }).value,
    );
    return [el.textContent ?? "", ...inputs].join(" ");
  });
}

test("a user browses a PostgreSQL connection and fills a source from one of its tables", async ({ page }) => {
  test.setTimeout(150_000);
  await signUp(page, "Dana Discovery", "e2e-disco");
  await createPostgresConnection(page, "shop");

  // Browse from the connections page: the table is listed, its columns and sample rows are shown.
  const browse = page.getByRole("button", { name: "Browse shop" });
  await browse.click();
  const browser = page.getByRole("dialog", { name: "Browse “shop”" });
  await expect(browser).toBeVisible();
  const listing = browser.getByRole("table", { name: "What shop holds" });
  await expect(listing.getByRole("button", { name: table })).toBeVisible({ timeout: 20_000 });
  await browser.getByLabel("Filter").fill("no_such_table_here");
  await expect(listing).toBeHidden();
  await browser.getByLabel("Filter").fill(table.slice(0, 12));
  await listing.getByRole("button", { name: table }).click();
  const fields = browser.getByRole("table", { name: `Fields of ${table}` });
  await expect(fields).toBeVisible({ timeout: 20_000 });
  await expect(fields.getByRole("row", { name: /country\s*string\s*no/ })).toBeVisible();
  await expect(fields.getByRole("row", { name: /amount\s*float\s*yes/ })).toBeVisible();
  await expect(fields.getByRole("row", { name: /placed_at\s*timestamp/ })).toBeVisible();
  const sample = browser.getByRole("table", { name: `Sample records of ${table}` });
  await expect(sample.getByRole("row")).toHaveCount(4); // the header and three rows
  await expect(sample).toContainText("NL");
  await expect(sample).toContainText("DE");
  // The connections page only browses: nothing to use the table for.
  await expect(browser.getByRole("button", { name: /^Use this/ })).toHaveCount(0);
  // Looking up a name that is not there says so.
  await browser.getByLabel("Filter").fill("no_such_table_here");
  await browser.getByRole("button", { name: "Look up “no_such_table_here”" }).click();
  await expect(browser.getByRole("alert")).toContainText("does not exist");
  await page.keyboard.press("Escape");
  await expect(browser).toBeHidden();
  await expect(browse).toBeFocused();

  // In the editor: PostgreSQL source → Filter → Console.
  await createPipeline(page, "Orders by country");
  const postgresSource = palette(page)
    .getByRole("region", { name: "Sources" })
    .getByRole("button", { name: "PostgreSQL", exact: true });
  await dropNode(page, postgresSource, "postgres1", 0.15, 0.3);
  await dropNode(page, "Filter", "filter1", 0.45, 0.3);
  await dropNode(page, "Console", "console1", 0.75, 0.3);
  await page.getByRole("button", { name: "Fit View" }).click();
  await connect(page, "postgres1", "filter1");
  await connect(page, "filter1", "console1");
  await expect(page.locator(".react-flow__edge")).toHaveCount(2);

  const inspector = page.getByRole("complementary", { name: "Inspector" });
  await page.getByTestId("node-postgres1").click();
  // Nothing to browse until the node names a connection.
  await expect(inspector.getByRole("button", { name: /^Browse / })).toHaveCount(0);
  await inspector.getByLabel("Connection", { exact: true }).selectOption("shop");
  await inspector.getByLabel("Cursor column", { exact: true }).fill("id");
  const browseFromNode = inspector.getByRole("button", { name: "Browse shop…" });
  await browseFromNode.click();
  const nodeBrowser = page.getByRole("dialog", { name: "Browse “shop”" });
  await nodeBrowser.getByRole("table", { name: "What shop holds" }).getByRole("button", { name: table }).click();
  await nodeBrowser.getByRole("button", { name: "Use this table" }).click();
  await expect(nodeBrowser).toBeHidden();
  await expect(browseFromNode).toBeFocused();

  // The form shows the table and its columns with their types.
  await expect(inspector.getByLabel("Table", { exact: true })).toHaveValue(table);
  const columns = inspector.locator('[data-config-field="columns"]');
  await expect.poll(() => shownIn(columns)).toMatch(/country[\s\S]*amount[\s\S]*placed_at/);
  await expect.poll(() => shownIn(columns)).toContain("timestamp");

  // Using the table was one step: undo takes table and columns back together, redo brings them again.
  await page.getByRole("button", { name: "Undo" }).click();
  await expect(inspector.getByLabel("Table", { exact: true })).toHaveValue("");
  await expect.poll(() => shownIn(columns).catch(() => "")).not.toContain("placed_at");
  await page.getByRole("button", { name: "Redo" }).click();
  await expect(inspector.getByLabel("Table", { exact: true })).toHaveValue(table);
  await expect.poll(() => shownIn(columns)).toContain("placed_at");

  // The filter downstream knows the columns now: an unknown one is an error, a discovered one is fine.
  const problems = page.getByRole("region", { name: "Problems" });
  await page.getByTestId("node-filter1").click();
  const condition = inspector.getByLabel("Keep records where");
  await condition.fill("colour = 'NL'");
  await expect(problems).toContainText('Unknown field "colour"');
  await condition.fill("country = 'NL' AND amount > 10");
  await expect(problems).toContainText("No problems");
});
