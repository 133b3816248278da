import { expect, type Page, test } from "@playwright/test";
import pg from "pg";
import { importPipeline, startAndOpenRun } from "./run-support";
import { adminUrl, createPostgresConnection, query, signUp } from "./support";

// A dashboard as a new user builds one: a saved query over a PostgreSQL table (bound to the dashboard's range) and a
// running pipeline's live figures side by side; a narrower range leaves the older rows out of the number; with
// auto-refresh on, rows inserted later show up in the tile without a reload.

const STAMP = Date.now();
const TABLE = `e2e_dashboard_${STAMP}`;
const QUERY_NAME = `Amount in range ${STAMP}`;
const PIPELINE_NAME = `Ticker ${STAMP}`;

const PIPELINE = `apiVersion: sluice/v1
kind: Pipeline
metadata:
  name: ticker
spec:
  settings:
    parallelism: 1
  nodes:
    - id: gen
      type: source.generator
      config:
        rate: 20
        fields:
          id: { kind: sequence }
      ui: { x: 0, y: 0 }
    - id: out
      type: sink.console
      config: {}
      ui: { x: 300, y: 0 }
  edges:
    - { from: gen, to: out }
`;

async function sql(text: string, values: unknown[] = []): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl.toString() });
  await client.connect();
  try {
    await client.query(text, values);
  } finally {
    await client.end();
  }
}

/** A tRPC mutation through the app's own endpoint, with the signed-in user's cookie. */
async function mutate<T>(page: Page, path: string, input: unknown): Promise<T> {
  const response = await page.request.post(`/api/trpc/${path}`, { data: { json: input } });
  expect(response.ok(), `${path}: ${response.status()} ${await response.text()}`).toBe(true);
  return ((await response.json()) as { result: { data: { json: T } } }).result.data.json;
}

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);

test.beforeAll(async () => {
  await sql(`CREATE TABLE "${TABLE}" (ts timestamptz NOT NULL, amount int NOT NULL)`);
  // Three rows in the last hour (60 in all) and two from three hours ago (300 more).
  await sql(`INSERT INTO "${TABLE}" VALUES ($1, 10), ($2, 20), ($3, 30), ($4, 100), ($5, 200)`, [
    minutesAgo(5),
    minutesAgo(10),
    minutesAgo(20),
    minutesAgo(180),
    minutesAgo(185),
  ]);
});

test.afterAll(async () => {
  await sql(`DROP TABLE IF EXISTS "${TABLE}"`);
});

test("a dashboard shows a saved query over its range beside a pipeline's live figures, and refreshes", async ({
  page,
}) => {
  test.setTimeout(180_000);
  await signUp(page, "Dana Dashboard", "e2e-dashboards");
  await createPostgresConnection(page, "warehouse");
  const connections = await query<{ id: string; name: string }[]>(page, "connections.list", undefined);
  const warehouse = connections.find((c) => c.name === "warehouse");
  expect(warehouse).toBeDefined();
  // The query page's own save flow is query.spec.ts's; here the query is saved as that page saves it.
  await mutate(page, "savedQueries.create", {
    name: QUERY_NAME,
    source: { kind: "connection", connectionId: warehouse!.id },
    sql: `select coalesce(sum(amount), 0)::int as total from "${TABLE}" where ts >= {{from}} and ts < {{to}}`,
    chart: { kind: "number", x: "total", y: ["total"] },
  });

  // A pipeline that keeps running, for its live figures.
  await importPipeline(page, PIPELINE_NAME, PIPELINE);
  await startAndOpenRun(page);

  await page.getByRole("link", { name: "Dashboards" }).first().click();
  await expect(page).toHaveURL(/\/dashboards$/);
  await page.getByRole("button", { name: "New dashboard" }).click();
  const create = page.getByRole("dialog", { name: "New dashboard" });
  await create.getByLabel("Name").fill(`Operations ${STAMP}`);
  await create.getByRole("button", { name: "Create" }).click();
  await expect(page).toHaveURL(/\/dashboards\/[^/?]+$/);
  await expect(page.getByRole("heading", { name: `Operations ${STAMP}` })).toBeVisible();

  // The saved query's tile, over the last 6 hours: every row counts.
  await page.getByLabel("Time range").selectOption({ label: "Last 6 hours" });
  await page.getByRole("button", { name: "Add tile" }).click();
  let dialog = page.getByRole("dialog", { name: "Add a tile" });
  await dialog.getByLabel("Saved query").selectOption({ label: QUERY_NAME });
  await dialog.getByRole("button", { name: "Add tile" }).click();
  await expect(dialog).toBeHidden();
  const queryTile = page.getByRole("region", { name: QUERY_NAME });
  await expect(queryTile.getByTestId("result-chart-number")).toContainText("360", { timeout: 30_000 });
  await expect(queryTile.getByRole("link", { name: "Open in Query" })).toHaveAttribute("href", /\/query\?saved=/);
  await expect(queryTile.getByTestId("tile-elapsed")).toHaveText(/\d+\.\d s/);

  // The pipeline's live figures beside it.
  await page.getByRole("button", { name: "Add tile" }).click();
  dialog = page.getByRole("dialog", { name: "Add a tile" });
  await dialog.getByLabel("Show").selectOption({ label: "A pipeline's live figures" });
  await dialog.getByLabel("Pipeline").selectOption({ label: PIPELINE_NAME });
  await dialog.getByRole("button", { name: "Add tile" }).click();
  const pipelineTile = page.getByRole("region", { name: PIPELINE_NAME });
  await expect(pipelineTile.getByTestId("tile-run-status")).toContainText(/running/i, { timeout: 30_000 });
  await expect(pipelineTile.getByTestId("tile-rate-in")).toHaveText(/\d.*\/s/, { timeout: 30_000 });
  await expect(pipelineTile.getByRole("link", { name: "Open the run" })).toHaveAttribute("href", /\/runs\//);

  // Arranged from the keyboard's reach: the figures move left onto the query's tile, which is pushed down below them.
  await page.getByRole("button", { name: "Arrange" }).click();
  await page.getByRole("button", { name: `Move ${PIPELINE_NAME} left` }).click();
  const dashboardId = new URL(page.url()).pathname.split("/").at(-1);
  await expect
    .poll(async () => {
      const board = await query<{ tiles: { kind: string; x: number; y: number }[] }>(page, "dashboards.get", {
        id: dashboardId,
      });
      return board.tiles.map((t) => [t.kind, t.x, t.y]);
    })
    .toEqual([
      ["PIPELINE_FIGURES", 5, 0],
      ["QUERY", 0, 3],
    ]);
  await page.getByRole("button", { name: "Done arranging" }).click();

  // The last hour only: the rows from three hours ago drop out.
  await page.getByLabel("Time range").selectOption({ label: "Last hour" });
  await expect(queryTile.getByTestId("result-chart-number")).toContainText(/^\s*60\b/, { timeout: 30_000 });

  // Saved with the dashboard: a reload keeps range and tiles.
  await page.reload();
  await expect(page.getByLabel("Time range")).toHaveValue("1h");
  await expect(queryTile.getByTestId("result-chart-number")).toContainText(/^\s*60\b/, { timeout: 30_000 });

  // Every 10 s: a row inserted now shows up without a reload.
  await page.getByLabel("Auto-refresh").selectOption({ label: "Every 10 s" });
  await expect(page.getByTestId("dashboard-updated")).toHaveText(/updated \d+s ago/, { timeout: 15_000 });
  await sql(`INSERT INTO "${TABLE}" VALUES ($1, 5)`, [new Date()]);
  await expect(queryTile.getByTestId("result-chart-number")).toContainText(/^\s*65\b/, { timeout: 30_000 });

  await page.goto("/runs");
  await page.getByRole("table", { name: "Runs" }).getByRole("link").first().click();
  await page.getByRole("button", { name: "Stop run" }).click();
});
