import { expect, type Page, test } from "@playwright/test";
import pg from "pg";
import { adminUrl, createPostgresConnection, signUp } from "./support";

// A scheduled report as a new user makes one: a saved query over a PostgreSQL table, a report that writes it as a
// CSV into the workspace's files every day at 06:00, "Run now", the delivery in the report's history, and the CSV it
// wrote read back through the Files source on the query page.

const STAMP = Date.now();
const TABLE = `e2e_reports_${STAMP}`;

test.beforeAll(async () => {
  const client = new pg.Client({ connectionString: adminUrl.toString() });
  await client.connect();
  await client.query(`CREATE TABLE "${TABLE}" (id int PRIMARY KEY, kind text NOT NULL)`);
  await client.query(`INSERT INTO "${TABLE}" VALUES (1, 'apples'), (2, 'pears'), (3, 'plums')`);
  await client.end();
});

test.afterAll(async () => {
  const client = new pg.Client({ connectionString: adminUrl.toString() });
  await client.connect();
  await client.query(`DROP TABLE IF EXISTS "${TABLE}"`);
  await client.end();
});

async function runSql(page: Page, sql: string): Promise<void> {
  const editor = page.getByLabel("SQL");
  await editor.click();
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.press("Delete");
  await editor.pressSequentially(sql);
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(page.getByRole("button", { name: "Run", exact: true })).toBeEnabled({ timeout: 30_000 });
}

test("a report writes its saved query's result as a CSV that the Files source reads", async ({ page }) => {
  test.setTimeout(120_000);
  await signUp(page, "Reva Report", "e2e-reports");
  await createPostgresConnection(page, "warehouse");

  // The saved query the report runs.
  await page.goto("/query");
  await expect(page.getByLabel("Source")).toHaveValue(/.+/);
  await runSql(page, `select id, kind from "${TABLE}" order by id`);
  await expect(page.getByRole("status").filter({ hasText: / rows? in / })).toContainText("3 rows");
  await page.getByRole("button", { name: "Save…" }).click();
  const save = page.getByRole("dialog", { name: "Save query" });
  await save.getByLabel("Name").fill(`Fruit ${STAMP}`);
  await save.getByRole("button", { name: "Save", exact: true }).click();
  await expect(save).toBeHidden();

  // The report: daily at 06:00 UTC, a CSV named after the day.
  await page.getByRole("link", { name: "Reports" }).first().click();
  await expect(page).toHaveURL(/\/reports$/);
  await page.getByRole("button", { name: "New report" }).click();
  const form = page.getByRole("dialog", { name: "New report" });
  await form.getByLabel("Name", { exact: true }).fill("Daily fruit");
  await form.getByLabel("Saved query").selectOption({ label: `Fruit ${STAMP}` });
  await form.getByRole("button", { name: "Daily at 06:00" }).click();
  await expect(form.getByLabel("Cron pattern")).toHaveValue("0 6 * * *");
  await form.getByLabel("Time zone").fill("UTC");
  await form.getByLabel("Time range of the query").selectOption({ label: "The query's own defaults" });
  await form.getByLabel("File path").fill("reports/fruit-{date}.csv");
  await form.getByRole("button", { name: "Create report" }).click();
  await expect(form).toBeHidden();

  await expect(page).toHaveURL(/\/reports\?report=/);
  const list = page.getByRole("table", { name: "Reports" });
  await expect(list).toContainText("Daily fruit");
  await expect(list).toContainText("daily at 06:00 (UTC)");
  await expect(list).toContainText("never run");

  const detail = page.getByRole("region", { name: "Report Daily fruit" });
  await detail.getByRole("button", { name: "Run now" }).click();
  const delivery = detail.getByTestId("delivery").first();
  await expect(delivery).toContainText("delivered", { timeout: 30_000 });
  await expect(delivery).toContainText("manual");
  const file = delivery.getByRole("link", { name: /^reports\/fruit-\d{4}-\d\d-\d\d\.csv$/ });
  await expect(file).toBeVisible();
  await expect(list).toContainText("delivered");

  // The file it wrote, through the Files source.
  await file.click();
  await expect(page).toHaveURL(/\/query\?source=files/);
  await expect(page.getByLabel("Source")).toHaveValue("files");
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: / rows? in / })).toContainText("3 rows");
  await expect(page.getByTestId("result-row").first()).toContainText("apples");
  await expect(page.getByTestId("result-row").nth(2)).toContainText("plums");
});
