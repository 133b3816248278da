import { expect, type Page, test } from "@playwright/test";
import { Redis } from "ioredis";
import pg from "pg";
import { importPipeline } from "./run-support";
import { adminUrl, createPostgresConnection, query, signUp } from "./support";

// Issue 17's whole path, as a new user drives it: a window pipeline counts a Redis stream's events per minute into
// PostgreSQL; from its sink node the query page opens on the table, an aggregate becomes a line chart, the chart goes
// on a dashboard that refreshes as new windows land; a second pipeline's Parquet files are queried; a report writes
// the chart's query as a CSV; an hour of the stream is backfilled into a shadow table, compared equal with the live
// table, and swapped in.

const STAMP = Date.now();
const TABLE = `e2e_wh_${STAMP}`;
const STREAM = `e2e:warehouse:${STAMP}`;
const FOLDER = `e2e-wh-${STAMP}`;
const MINUTE = 60_000;
/** The first minute of the hour the stream holds, and how many minutes it holds at first. */
const FIRST = Math.floor(STAMP / MINUTE) * MINUTE - 60 * MINUTE;
const MINUTES = 60;

/** The app's Redis server, database 9: Sluice's own database (the app's) is one no connection may reach. */
function redisUrl(): string {
  const env = process.env.E2E_APP_ENV;
  if (!env) throw new Error("e2e: E2E_APP_ENV is not set: run through e2e/playwright.config.ts");
  const url = new URL((JSON.parse(env) as { REDIS_URL: string }).REDIS_URL);
  url.pathname = "/9";
  return url.toString();
}

/** Minute m (0 = FIRST) gets 1 + m % 3 events, at seconds 10, 20 and 30; each entry's id is its event time. */
async function addMinutes(from: number, to: number): Promise<void> {
  const redis = new Redis(redisUrl());
  try {
    for (let m = from; m < to; m++) {
      for (let i = 0; i < 1 + (m % 3); i++) {
        const at = FIRST + m * MINUTE + (i + 1) * 10_000;
        await redis.xadd(STREAM, `${at}-0`, "data", JSON.stringify({ ts: new Date(at).toISOString(), n: 1 }));
      }
    }
  } finally {
    redis.disconnect();
  }
}

async function sql<T extends pg.QueryResultRow>(text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: adminUrl.toString() });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

const PIPELINE = `apiVersion: sluice/v1
kind: Pipeline
metadata:
  name: events-per-minute
spec:
  settings:
    parallelism: 1
    timeField: ts
    maxOutOfOrder: 1s
  nodes:
    - id: events
      type: source.redis-stream
      config:
        connection: events
        stream: "${STREAM}"
        format: json
        fields:
          - { name: ts, type: timestamp, nullable: false }
          - { name: n, type: int }
      ui: { x: 0, y: 0 }
    - id: per_minute
      type: transform.window
      config:
        window: { tumble: 1m }
        aggregates:
          events: count(*)
      ui: { x: 300, y: 0 }
    - id: counts
      type: sink.postgres
      config:
        connection: warehouse
        table: ${TABLE}
        mode: upsert
        key: [window_start]
        createTable: true
      ui: { x: 600, y: 0 }
  edges:
    - { from: events, to: per_minute }
    - { from: per_minute, to: counts }
`;

const FILES_PIPELINE = `apiVersion: sluice/v1
kind: Pipeline
metadata:
  name: orders-to-parquet
spec:
  settings:
    parallelism: 1
  nodes:
    - id: gen
      type: source.generator
      config:
        count: 25
        rate: 0
        fields:
          id: { kind: sequence }
      ui: { x: 0, y: 0 }
    - id: files
      type: sink.file
      config:
        path: ${FOLDER}
        format: parquet
      ui: { x: 300, y: 0 }
  edges:
    - { from: gen, to: files }
`;

test.beforeAll(async () => {
  await addMinutes(0, MINUTES);
});

test.afterAll(async () => {
  const redis = new Redis(redisUrl());
  await redis.del(STREAM);
  redis.disconnect();
  await sql(`DROP TABLE IF EXISTS "${TABLE}"; DROP TABLE IF EXISTS "${TABLE}__prev_g1"`);
});

/** Replaces the editor's text with `text` and runs it; resolves once the run has an outcome. */
async function runSql(page: Page, text: string): Promise<void> {
  const editor = page.getByLabel("SQL");
  await editor.click();
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.press("Delete");
  await editor.pressSequentially(text);
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(page.getByRole("button", { name: "Run", exact: true })).toBeEnabled({ timeout: 30_000 });
}

async function tableRows(): Promise<number> {
  const rows = await sql<{ n: number }>(`select count(*)::int as n from "${TABLE}"`).catch(() => [{ n: 0 }]);
  return rows[0]?.n ?? 0;
}

/** A time as <input type="datetime-local" step="1"> takes it, in the browser's (and this process's) zone. */
function localInput(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

test("per-minute counts are queried, charted on a refreshing dashboard, reported, backfilled and swapped", async ({
  page,
}) => {
  test.setTimeout(360_000);
  await signUp(page, "Wren Warehouse", "e2e-warehouse");
  await createPostgresConnection(page, "warehouse");
  await query(page, "connections.list", undefined);
  const created = await page.request.post("/api/trpc/connections.create", {
    data: { json: { name: "events", type: "redis", config: { url: redisUrl() } } },
  });
  expect(created.ok(), await created.text()).toBe(true);

  // The live pipeline: every minute but the newest (still open) lands as a row.
  const editorUrl = await importPipeline(page, `Events per minute ${STAMP}`, PIPELINE);
  await page.getByRole("button", { name: "Start" }).click();
  await expect.poll(tableRows, { timeout: 90_000 }).toBe(MINUTES - 1);

  // From the sink node to the query page; an aggregate as a line chart, saved.
  await page.getByTestId("node-counts").click();
  await page.getByRole("link", { name: "Query this table" }).click();
  await expect(page).toHaveURL(/\/query\?/);
  await runSql(page, `select window_start as minute, sum(events) as events from "${TABLE}" group by 1 order by 1`);
  await expect(page.getByRole("status").filter({ hasText: / rows? in / })).toContainText(`${MINUTES - 1} rows`);
  await page.getByRole("radiogroup", { name: "Show the result as" }).getByText("Chart", { exact: true }).click();
  await page.getByLabel("Chart type").selectOption("line");
  await expect(page.getByTestId("result-chart-plot").locator("canvas")).toBeVisible();
  await expect(page.getByTestId("result-chart-note")).toContainText(`${MINUTES - 1} points`);
  await page.getByRole("button", { name: "Save…" }).click();
  const save = page.getByRole("dialog", { name: "Save query" });
  const queryName = `Events per minute ${STAMP}`;
  await save.getByLabel("Name").fill(queryName);
  await save.getByRole("button", { name: "Save", exact: true }).click();
  await expect(save).toBeHidden();

  // On a dashboard refreshing every 10 s: two more minutes close as new events arrive, and the chart shows them.
  await page.goto("/dashboards");
  await page.getByRole("button", { name: "New dashboard" }).click();
  const create = page.getByRole("dialog", { name: "New dashboard" });
  await create.getByLabel("Name").fill(`Traffic ${STAMP}`);
  await create.getByRole("button", { name: "Create" }).click();
  await expect(page).toHaveURL(/\/dashboards\/[^/?]+$/);
  await page.getByRole("button", { name: "Add tile" }).click();
  const add = page.getByRole("dialog", { name: "Add a tile" });
  await add.getByLabel("Saved query").selectOption({ label: queryName });
  await add.getByRole("button", { name: "Add tile" }).click();
  const tile = page.getByRole("region", { name: queryName });
  await expect(tile.getByTestId("result-chart-note")).toContainText(`${MINUTES - 1} points`, { timeout: 30_000 });
  await page.getByLabel("Auto-refresh").selectOption({ label: "Every 10 s" });
  await addMinutes(MINUTES, MINUTES + 3);
  await expect(tile.getByTestId("result-chart-note")).toContainText(`${MINUTES + 2} points`, { timeout: 60_000 });

  // A second pipeline's Parquet files, through the Files source.
  await importPipeline(page, `Orders to Parquet ${STAMP}`, FILES_PIPELINE);
  await page.getByRole("button", { name: "Start" }).click();
  await expect(page.getByTestId("run-status")).toHaveText(/completed/i, { timeout: 90_000 });
  await page.goto("/query?source=files");
  await expect(page.getByLabel("Source")).toHaveValue("files");
  await runSql(page, `select count(distinct id) as ids from '${FOLDER}/*.parquet'`);
  await expect(page.getByTestId("result-row").first()).toContainText("25");

  // A report of the saved query that writes a CSV, run once now.
  await page.goto("/reports");
  await page.getByRole("button", { name: "New report" }).click();
  const form = page.getByRole("dialog", { name: "New report" });
  await form.getByLabel("Name", { exact: true }).fill(`Minutes ${STAMP}`);
  await form.getByLabel("Saved query").selectOption({ label: queryName });
  await form.getByRole("button", { name: "Daily at 06:00" }).click();
  await form.getByLabel("Time zone").fill("UTC");
  await form.getByLabel("Time range of the query").selectOption({ label: "The query's own defaults" });
  await form.getByLabel("File path").fill(`${FOLDER}-reports/minutes-{date}.csv`);
  await form.getByRole("button", { name: "Create report" }).click();
  await expect(form).toBeHidden();
  const detail = page.getByRole("region", { name: `Report Minutes ${STAMP}` });
  await detail.getByRole("button", { name: "Run now" }).click();
  const delivery = detail.getByTestId("delivery").first();
  await expect(delivery).toContainText("delivered", { timeout: 30_000 });
  await expect(delivery.getByRole("link", { name: /minutes-\d{4}-\d\d-\d\d\.csv$/ })).toBeVisible();

  // Backfill the hour (up to the minute still open) into a shadow table, compare, swap.
  const live = await tableRows();
  expect(live).toBe(MINUTES + 2);
  await page.goto(editorUrl);
  await page.getByTestId("node-counts").click();
  await page.getByRole("link", { name: "Backfill…" }).click();
  await expect(page).toHaveURL(/\/backfills\/new\?/);
  const source = page.getByRole("group", { name: "Source events" });
  await source.getByLabel("By").selectOption("time");
  await source.getByLabel("From").fill(localInput(FIRST));
  await source.getByLabel(/^To/).fill(localInput(FIRST + (MINUTES + 2) * MINUTE - 1000));
  await page.getByRole("button", { name: "Start backfill" }).click();
  await expect(page).toHaveURL(/\/backfills\/[^/?]+$/);
  await expect(page.getByRole("button", { name: "Compare" })).toBeVisible({ timeout: 120_000 });
  await page.getByRole("button", { name: "Compare" }).click();
  await expect(page.getByTestId("backfill-comparison").getByRole("status")).toContainText(
    "Equal: same rows in both tables.",
    { timeout: 30_000 },
  );
  await page.getByRole("button", { name: "Swap…" }).click();
  const confirm = page.getByRole("dialog", { name: /^Swap / });
  await confirm.getByRole("button", { name: "Swap", exact: true }).click();
  await expect(page.getByRole("button", { name: "Drop previous table…" })).toBeVisible({ timeout: 30_000 });
  // The live name now holds the backfilled rows; the old table is kept beside it.
  expect(await tableRows()).toBe(live);
  const kept = await sql<{ n: number }>(`select count(*)::int as n from "${TABLE}__prev_g1"`);
  expect(kept[0]?.n).toBe(live);
});
