import { expect, type Page, test } from "@playwright/test";
import pg from "pg";
import { importPipeline, startExtraWorker } from "./run-support";
import { adminUrl, createPostgresConnection, signUp } from "./support";

// Monitoring as a new user meets it, from one sitting: a run's counts and rates rise on the canvas and its chart
// moves; it is paused and resumed; a poisoned record waits in the dead-letter workbench under its reason, is fixed
// with an expression and replayed into the running job; stopped, the run's totals equal the rows in the sink table.
// Beside it a second pipeline's source goes quiet and its "no data for 1 minute" alert fires, then recovers when
// data flows again; the canvas scrubber shows a past moment; a worker that is killed is marked dead on the fleet page.

const STAMP = Date.now();
const TABLE = `e2e_orders_${STAMP}`;

// Order 7 comes with the price "n/a", which `amount` cannot read: it becomes a dead letter.
const ORDERS = `apiVersion: sluice/v1
kind: Pipeline
metadata:
  name: orders-to-warehouse
spec:
  nodes:
    - id: gen
      type: source.generator
      config:
        rate: 25
        fields:
          id: { kind: sequence }
          qty: { kind: int, min: 1, max: 9 }
      ui: { x: 0, y: 0 }
    - id: price
      type: transform.map
      config:
        set:
          price: "CASE WHEN id = 7 THEN 'n/a' ELSE '9.5' END"
      ui: { x: 250, y: 0 }
    - id: amount
      type: transform.map
      config:
        set:
          amount: CAST(price AS double) * qty
      ui: { x: 500, y: 0 }
    - id: warehouse
      type: sink.postgres
      config:
        connection: warehouse
        table: ${TABLE}
        createTable: true
      ui: { x: 750, y: 0 }
  edges:
    - { from: gen, to: price }
    - { from: price, to: amount }
    - { from: amount, to: warehouse }
`;

// Fed by hand through its ingest URL; the rule fires after a minute without records reaching the sink.
const FEED = `apiVersion: sluice/v1
kind: Pipeline
metadata:
  name: quiet-feed
spec:
  settings:
    delivery: at-least-once
  nodes:
    - id: feed
      type: source.webhook
      config: {}
      ui: { x: 0, y: 0 }
    - id: out
      type: sink.console
      config: {}
      ui: { x: 400, y: 0 }
  edges:
    - { from: feed, to: out }
  alerts:
    - { id: feed-quiet, when: noData, duration: 1m, severity: warning }
`;

/** "1.2k/s" → 1200, "25/s" → 25; NaN while not shown. */
async function rate(page: Page, testId: string): Promise<number> {
  const shown = page.getByTestId(testId);
  if ((await shown.count()) === 0) return Number.NaN;
  const m = /^([\d.]+)([kMB]?)\/s$/.exec(((await shown.textContent()) ?? "").trim());
  if (!m) return Number.NaN;
  return Number(m[1]) * { "": 1, k: 1e3, M: 1e6, B: 1e9 }[m[2] as "" | "k" | "M" | "B"];
}

const count = (text: string | null) => Number((text ?? "").replace(/,/g, ""));
const points = (text: string | null) => Number(/points: (\d+)/.exec(text ?? "")?.[1] ?? Number.NaN);

async function rowsInWarehouse(where = ""): Promise<number> {
  const client = new pg.Client({ connectionString: adminUrl.toString() });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM "${TABLE}" ${where}`);
    return Number(rows[0]?.n);
  } finally {
    await client.end();
  }
}

test.afterAll(async () => {
  const client = new pg.Client({ connectionString: adminUrl.toString() });
  await client.connect();
  await client.query(`DROP TABLE IF EXISTS "${TABLE}"`);
  await client.end();
});

test("a new user monitors two pipelines: live canvas, charts, workbench, alerts, scrubber and fleet", async ({
  page,
}) => {
  test.setTimeout(480_000);
  await page.setViewportSize({ width: 1280, height: 800 });
  await signUp(page, "Mona Monitor", "monitor");

  // The quiet feed first: its minute without data runs while the orders pipeline is worked on.
  const feedName = `Quiet feed ${STAMP}`;
  await importPipeline(page, feedName, FEED);
  await page.getByTestId("node-feed").click();
  const inspector = page.getByRole("complementary", { name: "Inspector" });
  const ingestUrl = (await inspector.getByTestId("ingest-url").textContent()) ?? "";
  await inspector.getByRole("button", { name: "Create token" }).click();
  const token = (await inspector.getByTestId("ingest-token").textContent()) ?? "";
  expect(token).toMatch(/^slu_/);
  await page.getByRole("button", { name: "Start" }).click();
  await expect(page.getByTestId("run-status")).toHaveText("running", { timeout: 30_000 });
  const feed = async (from: number) => {
    const lines = [0, 1, 2].map((i) => JSON.stringify({ n: from + i })).join("\n");
    const res = await page.request.post(ingestUrl, {
      headers: { authorization: `Bearer ${token}`, "content-type": "application/x-ndjson" },
      data: `${lines}\n`,
    });
    expect(res.status()).toBe(202);
  };
  await feed(0);
  await expect(page.getByTestId("count-out-in")).toHaveText("3", { timeout: 30_000 });

  // The orders pipeline: counts and rates rise on the canvas.
  await createPostgresConnection(page, "warehouse");
  const ordersEditor = await importPipeline(page, `Orders ${STAMP}`, ORDERS);
  await page.getByRole("button", { name: "Start" }).click();
  await expect(page.getByTestId("run-status")).toHaveText("running", { timeout: 30_000 });
  await expect.poll(() => rate(page, "rate-gen-out"), { timeout: 60_000 }).toBeGreaterThan(0);
  await expect.poll(() => rate(page, "rate-warehouse-in"), { timeout: 30_000 }).toBeGreaterThan(0);
  const early = count(await page.getByTestId("count-warehouse-in").textContent());
  await expect
    .poll(async () => count(await page.getByTestId("count-warehouse-in").textContent()))
    .toBeGreaterThan(early);

  // Its run page: the chart moves.
  await page.goto("/runs");
  await page.getByRole("table", { name: "Runs" }).getByRole("link").first().click();
  await expect(page).toHaveURL(/\/runs\/[^/]+$/);
  const charts = page.getByRole("region", { name: "Charts" });
  const chartPoints = charts.getByTestId("chart-points").first();
  await expect.poll(async () => points(await chartPoints.textContent()), { timeout: 90_000 }).toBeGreaterThan(0);
  const firstPoints = points(await chartPoints.textContent());
  await expect
    .poll(async () => points(await chartPoints.textContent()), { timeout: 60_000 })
    .toBeGreaterThan(firstPoints);

  // Pause and resume.
  const status = page.getByTestId("run-status");
  await expect(status).toHaveText("Running");
  await page.getByRole("button", { name: "Pause" }).click();
  await expect(status).toHaveText("Paused", { timeout: 30_000 });
  await page.getByRole("button", { name: "Resume" }).click();
  await expect(status).toHaveText("Running", { timeout: 30_000 });

  // The poisoned order waits in the workbench under its reason; fixed with an expression, it is replayed into the
  // running job and reaches the table.
  const deadLetters = page.getByRole("region", { name: "Dead letters" });
  const group = deadLetters.getByTestId("dead-letter-group");
  await expect(group).toHaveCount(1, { timeout: 30_000 });
  await expect(group.locator("td").first()).toHaveText("amount");
  await expect(group.locator("td").nth(1)).toContainText("Cannot cast");
  await expect(group.getByTestId("dead-letter-group-count")).toHaveText("1");
  await group.getByRole("button", { name: "Show" }).click();
  await deadLetters.getByRole("button", { name: "Fix group (1)…" }).click();
  const fix = page.getByRole("dialog", { name: "Fix with an expression" });
  await fix.getByLabel("Assignments").fill("price = '9.5'");
  await fix.getByRole("button", { name: "Preview" }).click();
  await expect(fix.getByTestId("fix-preview")).toContainText('"price": "9.5"');
  await fix.getByRole("button", { name: "Apply and replay" }).click();
  await expect(page.getByTestId("dead-letter-count")).toHaveText("0", { timeout: 30_000 });
  await expect.poll(() => rowsInWarehouse("WHERE id = 7"), { timeout: 30_000 }).toBe(1);

  // While it runs, the scrubber on the canvas shows a past moment's figures (15 s after the start).
  const runUrl = page.url();
  await page.goto(ordersEditor);
  const scrubber = page.getByTestId("time-scrubber");
  await expect(scrubber).toBeVisible({ timeout: 30_000 });
  await scrubber.focus();
  await page.keyboard.press("Home");
  for (let i = 0; i < 15; i++) await page.keyboard.press("ArrowRight");
  await expect(page.getByTestId("overlay-at")).toHaveText(/^at \d\d:\d\d:\d\d$/);
  await expect(page).toHaveURL(/[?&]at=\d+/);
  await expect(page.getByTestId("rate-gen-out")).toBeVisible({ timeout: 30_000 });
  await page.getByRole("button", { name: "Live", exact: true }).click();
  await expect(page.getByTestId("overlay-at")).toHaveCount(0);

  // Stopped, the sink's total is the table's row count.
  await page.goto(runUrl);
  await page.getByRole("button", { name: "Stop run" }).click();
  await expect(status).toHaveText("Stopped", { timeout: 60_000 });
  const sinkIn = count(await page.getByTestId("counters-warehouse").locator("td").first().textContent());
  expect(sinkIn).toBeGreaterThan(0);
  expect(await rowsInWarehouse()).toBe(sinkIn);

  // The feed has been quiet for over a minute by now, or soon: its alert fires, then recovers when data flows.
  await page.goto("/alerts");
  const alert = page.getByRole("table", { name: "Alerts" }).locator('[data-alert="feed-quiet"]');
  await expect(alert).toContainText("Firing", { timeout: 120_000 });
  await expect(page.getByRole("table", { name: "Inbox" })).toContainText(
    `Alert "feed-quiet" is firing on pipeline "${feedName}"`,
  );
  await feed(3);
  await expect(alert).toContainText("Recovered", { timeout: 60_000 });

  // A worker that dies is marked dead on the fleet page.
  const extra = startExtraWorker();
  try {
    await page.goto("/fleet");
    const row = page
      .getByRole("table", { name: "Workers" })
      .getByRole("row")
      .filter({ hasText: `pid ${extra.pid}` });
    await expect(row).toContainText("Alive", { timeout: 60_000 });
    extra.signal("SIGKILL");
    await expect(row).toContainText("Dead", { timeout: 30_000 });
  } finally {
    await extra.stop({ graceMs: 1000 });
  }
});
