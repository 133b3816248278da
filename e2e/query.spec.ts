import { readFile } from "node:fs/promises";
import { expect, type Page, test } from "@playwright/test";
import pg from "pg";
import { importPipeline } from "./run-support";
import { adminUrl, createPostgresConnection, signUp } from "./support";

// Asking questions of what a pipeline wrote, as a new user would: a bounded pipeline writes orders into PostgreSQL
// and as Parquet files; from each sink node on the canvas the query page opens on what it wrote, runs the query it
// was given, then an aggregate the user types; a write is refused, the connection being read-only.

const STAMP = Date.now();
const TABLE = `e2e_query_${STAMP}`;
const FOLDER = `e2e-query-${STAMP}`;
const EVENTS = `e2e_query_events_${STAMP}`;

const PIPELINE = `apiVersion: sluice/v1
kind: Pipeline
metadata:
  name: orders-for-questions
spec:
  settings:
    parallelism: 1
  nodes:
    - id: gen
      type: source.generator
      config:
        count: 40
        rate: 0
        fields:
          id: { kind: sequence }
          qty: { kind: int, min: 1, max: 9 }
      ui: { x: 0, y: 100 }
    - id: pg
      type: sink.postgres
      config:
        connection: warehouse
        table: ${TABLE}
        createTable: true
      ui: { x: 300, y: 0 }
    - id: files
      type: sink.file
      config:
        path: ${FOLDER}
        format: parquet
      ui: { x: 300, y: 200 }
  edges:
    - { from: gen, to: pg }
    - { from: gen, to: files }
`;

test.afterAll(async () => {
  const client = new pg.Client({ connectionString: adminUrl.toString() });
  await client.connect();
  await client.query(`DROP TABLE IF EXISTS "${TABLE}"`);
  await client.query(`DROP TABLE IF EXISTS "${EVENTS}"`);
  await client.end();
});

/** Replaces the editor's text with `sql` and runs it; resolves once the run has an outcome. */
async function runSql(page: Page, sql: string): Promise<void> {
  const editor = page.getByLabel("SQL");
  await editor.click();
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.press("Delete");
  await editor.pressSequentially(sql);
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(page.getByRole("button", { name: "Run", exact: true })).toBeEnabled({ timeout: 30_000 });
}

test("a sink's output is queried from the canvas: its table read-only, its Parquet files through DuckDB", async ({
  page,
}) => {
  test.setTimeout(180_000);
  await signUp(page, "Quinn Query", "e2e-query");
  await createPostgresConnection(page, "warehouse");
  const editorUrl = await importPipeline(page, `Orders ${STAMP}`, PIPELINE);
  await page.getByRole("button", { name: "Start" }).click();
  await expect(page.getByTestId("run-status")).toHaveText(/completed/i, { timeout: 90_000 });

  // The PostgreSQL sink: "Query this table" opens the query page on it, with a first query that runs.
  await page.getByTestId("node-pg").click();
  await page.getByRole("link", { name: "Query this table" }).click();
  await expect(page).toHaveURL(/\/query\?/);
  await expect(page.getByLabel("Source")).toHaveValue(/.+/);
  await expect(page.getByTestId("sql-editor")).toContainText(`select * from "${TABLE}" limit 100`);
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: / rows? in / })).toContainText("40 rows");
  await expect(page.getByTestId("result-row").first()).toBeVisible();

  await runSql(page, `select count(*) as n, sum(qty) >= 40 as plausible from "${TABLE}"`);
  await expect(page.getByRole("status").filter({ hasText: / rows? in / })).toContainText("1 row");
  const row = page.getByTestId("result-row").first();
  await expect(row).toContainText("40");
  await expect(row).toContainText("true");

  // Read-only by construction: a write is refused by the server and nothing changes.
  await runSql(page, `insert into "${TABLE}" (id, qty) values (1000, 1)`);
  await expect(page.getByRole("alert").filter({ hasText: "warehouse" })).toContainText(/read-only transaction/i);
  await runSql(page, `select count(*) as n from "${TABLE}"`);
  await expect(page.getByTestId("result-row").first()).toContainText("40");

  // The result as a chart: one number as a single number, a grouped count as bars.
  const view = page.getByRole("radiogroup", { name: "Show the result as" });
  await view.getByText("Chart", { exact: true }).click();
  await expect(page.getByTestId("result-chart-number")).toContainText("40");
  await runSql(page, `select qty, count(*) as n from "${TABLE}" group by qty order by qty`);
  await page.getByLabel("Chart type").selectOption("bar");
  await expect(page.getByTestId("result-chart-plot").locator("canvas")).toBeVisible();
  await expect(page.getByTestId("result-chart-note")).toContainText(/^\d points$/);

  // Saved with its chart, it opens again from its link as it was left.
  await page.getByRole("button", { name: "Save…" }).click();
  const save = page.getByRole("dialog", { name: "Save query" });
  await save.getByLabel("Name").fill(`Orders by quantity ${STAMP}`);
  await save.getByRole("button", { name: "Save", exact: true }).click();
  await expect(save).toBeHidden();
  await expect(page).toHaveURL(/[?&]saved=/);
  await page.reload();
  await expect(page.getByLabel("Saved queries")).toHaveValue(/.+/);
  await expect(page.getByTestId("sql-editor")).toContainText("group by qty");
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(page.getByLabel("Chart type")).toHaveValue("bar");
  await expect(page.getByTestId("result-chart-plot").locator("canvas")).toBeVisible();
  await view.getByText("Table", { exact: true }).click();

  // The File sink: "Query these files" reads its Parquet files in the workspace's own folder.
  await page.goto(editorUrl);
  await page.getByTestId("node-files").click();
  await page.getByRole("link", { name: "Query these files" }).click();
  await expect(page).toHaveURL(/\/query\?source=files/);
  await expect(page.getByLabel("Source")).toHaveValue("files");
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: / rows? in / })).toContainText("40 rows");
  await runSql(page, `select count(distinct id) as ids from '${FOLDER}/*.parquet'`);
  await expect(page.getByTestId("result-row").first()).toContainText("40");
});

test("a {{from}}/{{to}} query follows the range picker, and its result downloads as Parquet", async ({ page }) => {
  test.setTimeout(120_000);
  // Events 5 minutes, 30 minutes, 3 hours and 2 days old.
  const client = new pg.Client({ connectionString: adminUrl.toString() });
  await client.connect();
  await client.query(`CREATE TABLE "${EVENTS}" (id int PRIMARY KEY, at timestamptz NOT NULL)`);
  await client.query(
    `INSERT INTO "${EVENTS}" VALUES (1, now() - interval '5 minutes'), (2, now() - interval '30 minutes'),
       (3, now() - interval '3 hours'), (4, now() - interval '2 days')`,
  );
  await client.end();
  await signUp(page, "Rhea Range", "e2e-query-range");
  await createPostgresConnection(page, "warehouse");
  await page.goto("/query");
  await expect(page.getByLabel("Source")).toHaveValue(/.+/);

  await runSql(page, `select id, at from "${EVENTS}" where at >= {{from}} and at < {{to}} order by id`);
  const status = page.getByRole("status").filter({ hasText: / rows? in / });
  const range = page.getByLabel("Time range");
  // A query with {{from}} and {{to}} starts on the last hour.
  await expect(range).toHaveValue("now-1h");
  await expect(status).toContainText("2 rows");
  await expect(page).toHaveURL(/p\.from=now-1h/);

  const run = page.getByRole("button", { name: "Run", exact: true });
  await range.selectOption({ label: "Last 15 minutes" });
  await run.click();
  await expect(status).toContainText("1 row");
  await range.selectOption({ label: "Last 7 days" });
  await run.click();
  await expect(status).toContainText("4 rows");
  await range.selectOption({ label: "Last 6 hours" });
  await run.click();
  await expect(status).toContainText("3 rows");

  // The download runs it again on the server with the same range.
  await page.locator(".query-download > summary").click();
  const downloading = page.waitForEvent("download");
  await page.getByRole("menuitem", { name: "Parquet" }).click();
  const file = await downloading;
  expect(file.suggestedFilename()).toMatch(/^query-.*\.parquet$/);
  const saved = test.info().outputPath("range.parquet");
  await file.saveAs(saved);
  // A Parquet file opens and ends with its magic; its rows and types are read back by DuckDB in
  // packages/api/src/queries/query-parameters.int.test.ts.
  const bytes = await readFile(saved);
  expect(bytes.subarray(0, 4).toString()).toBe("PAR1");
  expect(bytes.subarray(-4).toString()).toBe("PAR1");
});
