import { expect, type Page, test } from "@playwright/test";
import { connect, createPipeline, dropNode, query, setFilterCondition, signUp } from "./support";

// The editor's pipeline-level controls, tried as a new user would: Start on a draft with errors explains what to
// fix and saves nothing; the delivery the plan really gives, and the node that lowers it; settings, a parameter
// and a schedule edited in the UI taking effect (one that fires every minute starts a run); a paused run resumed and stopped from the editor; a dropped node
// landing under the pointer; readable node text at 1280×720.

const pipelineIdOf = (page: Page) => new URL(page.url()).pathname.split("/").pop() ?? "";

async function versionCount(page: Page): Promise<number> {
  return (await query<unknown[]>(page, "pipelines.versions", { id: pipelineIdOf(page) })).length;
}

/** Generator → Filter → Console, dropped and connected; the filter's condition is left for the test. */
async function buildSlice(page: Page, options: { connectSink: boolean }) {
  await dropNode(page, "Generator", "generator1", 0.15, 0.3);
  await dropNode(page, "Filter", "filter1", 0.45, 0.45);
  await dropNode(page, "Console", "console1", 0.78, 0.6);
  await page.getByRole("button", { name: "Fit View" }).click();
  await connect(page, "generator1", "filter1");
  await expect(page.locator(".react-flow__edge")).toHaveCount(1);
  if (options.connectSink) {
    await connect(page, "filter1", "console1");
    await expect(page.locator(".react-flow__edge")).toHaveCount(2);
  }
}

test("Start on a draft with errors says what to fix, shows the node, and saves nothing", async ({ page }) => {
  test.setTimeout(150_000);
  await signUp(page, "Stella Start", "e2e-start");
  await createPipeline(page, "Not ready yet");
  await buildSlice(page, { connectSink: false });
  await expect(page.getByTestId("dirty")).toBeVisible();
  expect(await versionCount(page)).toBe(1);

  await page.getByRole("button", { name: "Start" }).click();
  const dialog = page.getByRole("alertdialog", { name: /to start$/ });
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText("Nothing was saved and no run was started.");
  const problems = dialog.getByTestId("start-problems");
  await expect(problems).toContainText("filter1");
  await expect(problems).toContainText("console1");
  // No raw schema text reaches the user.
  await expect(dialog).not.toContainText("Invalid input");

  // Each problem leads to its node: the filter is selected and its condition field focused.
  await dialog.getByRole("button", { name: "Show filter1" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId("node-filter1")).toHaveClass(/selected/);
  const inspector = page.getByRole("complementary", { name: "Inspector" });
  await expect(inspector.getByLabel("Keep records where")).toBeFocused();

  // Nothing was saved or started.
  expect(await versionCount(page)).toBe(1);
  await expect(page.getByText("v1", { exact: true })).toBeVisible();
  await expect(page.getByTestId("dirty")).toBeVisible();
  await expect(page.getByText("Not run yet")).toBeVisible();

  // Fixed, Start saves the draft as version 2 and runs it.
  await setFilterCondition(page, "status = 200");
  await connect(page, "filter1", "console1");
  await expect(page.getByRole("region", { name: "Problems", exact: true })).toContainText("No problems");
  await page.getByRole("button", { name: "Start" }).click();
  await expect(page.getByTestId("run-status")).toHaveText(/queued|running/, { timeout: 30_000 });
  await expect(page.getByText("v2", { exact: true })).toBeVisible();
  await expect(page.getByText("Saved", { exact: true })).toBeVisible();
  expect(await versionCount(page)).toBe(2);
  await page.getByRole("button", { name: "Stop" }).click();
  await expect(page.getByTestId("run-status")).toHaveText("stopped", { timeout: 30_000 });
});

test("settings, a parameter and a schedule made in the editor take effect; delivery names the sink that lowers it", async ({
  page,
}) => {
  test.setTimeout(300_000);
  await signUp(page, "Petra Params", "e2e-settings");
  await createPipeline(page, "Configured in the UI");
  await buildSlice(page, { connectSink: true });

  // The delivery the plan gives: the Console sink cannot do exactly-once, and the overview says so.
  const pane = await page.locator(".react-flow__pane").boundingBox();
  await page.locator(".react-flow__pane").click({ position: { x: (pane?.width ?? 300) - 30, y: 30 } });
  const inspector = page.getByRole("complementary", { name: "Inspector" });
  const delivery = inspector.getByTestId("draft-delivery");
  await expect(delivery.getByTestId("delivery-effective")).toHaveText("at-least-once");
  await expect(delivery).toContainText("requested exactly-once");
  await expect(delivery.getByTestId("delivery-reason-console1")).toContainText("neither idempotent nor transactional");
  await delivery.getByRole("button", { name: "console1" }).click();
  await expect(page.getByTestId("node-console1")).toHaveClass(/selected/);

  // Settings and a parameter, in the settings dialog: part of the draft.
  await page.getByRole("button", { name: "Settings", exact: true }).click();
  const dialog = page.getByRole("dialog", { name: "Pipeline settings" });
  await dialog.getByLabel("Parallelism").fill("2");
  await dialog.getByLabel("Parallelism").blur();
  await dialog.getByRole("button", { name: "Add parameter" }).click();
  const parameter = dialog.getByTestId("parameter-0");
  await parameter.getByLabel("Name").fill("code");
  await parameter.getByLabel("Type").selectOption("number");
  await parameter.getByLabel("Default").fill("404");
  await parameter.getByLabel("Description").fill("The status to keep");

  // A schedule: a server object, live at once. A bad pattern is named next to its field.
  await dialog.getByLabel("Cron pattern").fill("every day");
  await dialog.getByRole("button", { name: "Add schedule" }).click();
  await expect(dialog.locator(".schedule-form .field-error")).toContainText("cron");
  await dialog.getByLabel("Cron pattern").fill("0 3 * * *");
  await dialog.getByLabel("Time zone").fill("UTC");
  await dialog.getByRole("button", { name: "Add schedule" }).click();
  const next = dialog.getByTestId("schedule-next");
  await expect(next).toHaveCount(1);
  await expect(next).not.toHaveText("paused");
  const [schedule] = await query<{ pattern: string; timeZone: string; enabled: boolean; nextFireAt: string }[]>(
    page,
    "schedules.list",
    { pipelineId: pipelineIdOf(page) },
  );
  expect(schedule).toMatchObject({ pattern: "0 3 * * *", timeZone: "UTC", enabled: true });
  expect(new Date(schedule!.nextFireAt).getUTCHours()).toBe(3);
  await dialog.getByRole("button", { name: "Pause" }).click();
  await expect(next).toHaveText("paused");
  await dialog.getByRole("button", { name: "Done" }).click();

  // Settings and parameters are part of the draft: unsaved until saved (here, by Start).
  await expect(page.getByTestId("dirty")).toBeVisible();

  // The parameter in the filter's condition; the run keeps only records with its value.
  await setFilterCondition(page, "status = {{code}}");
  await expect(page.getByRole("region", { name: "Problems", exact: true })).toContainText("No problems");
  await page.getByRole("button", { name: "Start" }).click();
  await expect(page.getByTestId("run-status")).toHaveText("running", { timeout: 30_000 });
  await page.getByTestId("node-console1").click();
  const tail = inspector.locator(".tail-table");
  await expect(tail).toBeVisible({ timeout: 30_000 });
  const header = await tail.locator("thead th").allTextContents();
  const statusColumn = header.indexOf("status");
  expect(statusColumn, `status column in ${header.join(", ")}`).toBeGreaterThanOrEqual(0);
  const statuses = await tail.locator(`tbody tr td:nth-child(${statusColumn + 1})`).allTextContents();
  expect(statuses.length).toBeGreaterThan(0);
  expect(new Set(statuses)).toEqual(new Set(["404"]));

  // The run page: parallelism 2 gives two tasks, and the delivery fact names the same sink.
  const pipelineId = pipelineIdOf(page);
  const saved = await query<{ version: { definition: { spec: { settings: { parallelism: number } } } } }>(
    page,
    "pipelines.get",
    { id: pipelineId, version: 2 },
  );
  expect(saved.version.definition.spec.settings.parallelism).toBe(2);
  const [run] = await query<{ id: string; version: number }[]>(page, "runs.list", { pipelineId, limit: 1 });
  expect(run?.version).toBe(2);
  await page.goto(`/runs/${run!.id}`);
  await expect(page.getByText(/of 2 done/)).toBeVisible({ timeout: 30_000 });
  const runDelivery = page.getByTestId("run-delivery");
  await expect(runDelivery.getByTestId("delivery-effective")).toHaveText("at-least-once", { timeout: 30_000 });
  await expect(runDelivery.getByTestId("delivery-reason-console1")).toBeVisible();
  await page.getByRole("button", { name: "Stop run" }).click();
  await expect(page.getByTestId("run-status")).toContainText(/stopped/i, { timeout: 30_000 });

  // A schedule that fires every minute, with a parameter value of its own, made in the UI: a run it started appears
  // within a minute and a bit.
  await page.goto(`/pipelines/${pipelineId}`);
  await page.getByRole("button", { name: "Settings", exact: true }).click();
  const settings = page.getByRole("dialog", { name: "Pipeline settings" });
  await settings.getByLabel("Cron pattern").fill("* * * * *");
  await settings.getByLabel("Time zone").fill("UTC");
  await settings.getByLabel("Value of code", { exact: true }).fill("200");
  await settings.getByRole("button", { name: "Add schedule" }).click();
  await expect(settings.getByTestId("schedule-parameters")).toHaveText(/code = 200/);
  type Fired = { pattern: string; parameters: unknown; lastOutcome: string | null; lastRunId: string | null };
  const everyMinute = async () =>
    (await query<Fired[]>(page, "schedules.list", { pipelineId })).find((f) => f.pattern === "* * * * *");
  await expect
    .poll(async () => (await everyMinute())?.lastOutcome ?? "not fired yet", { timeout: 75_000, intervals: [2_000] })
    .toBe("STARTED");
  const fired = await everyMinute();
  expect(fired?.parameters).toEqual({ code: 200 });
  const runs = await query<{ id: string }[]>(page, "runs.list", { pipelineId });
  expect(runs.map((r) => r.id)).toContain(fired?.lastRunId);

  // Deleting asks first; then the schedule is gone and its run is stopped.
  await settings.getByRole("button", { name: "Delete schedule * * * * *", exact: true }).click();
  await page
    .getByRole("alertdialog", { name: /^Delete the schedule/ })
    .getByRole("button", { name: "Delete schedule", exact: true })
    .click();
  await expect(settings.getByTestId("schedule-parameters")).toHaveCount(0);
  expect(await everyMinute()).toBeUndefined();
  await page.goto(`/runs/${fired?.lastRunId}`);
  await page.getByRole("button", { name: "Stop run" }).click();
  await expect(page.getByTestId("run-status")).toContainText(/stopped/i, { timeout: 30_000 });
});

test("a paused run can be resumed and stopped from the editor", async ({ page }) => {
  test.setTimeout(150_000);
  await signUp(page, "Paula Pause", "e2e-pause");
  await createPipeline(page, "Pause me");
  await buildSlice(page, { connectSink: true });
  await setFilterCondition(page, "status = 200");
  await page.getByRole("button", { name: "Start" }).click();
  const status = page.getByTestId("run-status");
  await expect(status).toHaveText("running", { timeout: 30_000 });

  await page.getByRole("button", { name: "Pause", exact: true }).click();
  await expect(status).toHaveText("paused", { timeout: 30_000 });
  // Paused is still a run under way: no Start, but Resume and Stop.
  await expect(page.getByRole("button", { name: "Start" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Resume" })).toBeVisible();
  await page.getByRole("button", { name: "Resume" }).click();
  await expect(status).toHaveText("running", { timeout: 30_000 });

  await page.getByRole("button", { name: "Pause", exact: true }).click();
  await expect(status).toHaveText("paused", { timeout: 30_000 });
  await page.getByRole("button", { name: "Stop" }).click();
  await expect(status).toHaveText("stopped", { timeout: 30_000 });
  await expect(page.getByRole("button", { name: "Start" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Resume" })).toHaveCount(0);
});

test.describe("at 1280×720", () => {
  test.use({ viewport: { width: 1280, height: 720 } });

  test("a dropped node lands under the pointer, and a small pipeline opens with readable text", async ({ page }) => {
    test.setTimeout(120_000);
    await signUp(page, "Dora Drop", "e2e-drop");
    await createPipeline(page, "Dropped where wanted");
    const pane = page.locator(".react-flow__pane");
    const box = await pane.boundingBox();
    if (!box) throw new Error("the canvas must be on screen");
    const centreOf = async (id: string) => {
      const b = await page.getByTestId(`node-${id}`).boundingBox();
      if (!b) throw new Error(`${id} must be on screen`);
      return { x: b.x + b.width / 2, y: b.y + b.height / 2, bottom: b.y + b.height };
    };

    await dropNode(page, "Generator", "generator1", 0.3, 0.4, box);
    const first = await centreOf("generator1");
    expect(Math.abs(first.x - (box.x + box.width * 0.3))).toBeLessThan(40);
    expect(Math.abs(first.y - (box.y + box.height * 0.4))).toBeLessThan(60);

    // Dropped onto it, the next node moves to the nearest free place: still on the canvas, not under the panels.
    await dropNode(page, "Console", "console1", 0.3, 0.4, box);
    const second = await centreOf("console1");
    const now = await pane.boundingBox();
    expect(second.bottom).toBeLessThanOrEqual((now?.y ?? 0) + (now?.height ?? 0));
    expect(Math.hypot(second.x - first.x, second.y - first.y)).toBeLessThan(320);

    await dropNode(page, "Filter", "filter1", 0.75, 0.4, box);
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await expect(page.getByText("v2", { exact: true })).toBeVisible();

    // Opened afresh, a small pipeline is shown at 1× at least: node text of 12px or more on screen.
    await page.reload();
    await expect(page.getByTestId("node-generator1")).toBeVisible();
    // React Flow writes the zoom into the viewport's inline transform: "translate(…) scale(z)".
    const transform = (await page.locator(".react-flow__viewport").getAttribute("style")) ?? "";
    const zoom = Number(/scale\(([\d.]+)\)/.exec(transform)?.[1]);
    expect(zoom).toBeGreaterThanOrEqual(1);
    type Styled = { getComputedStyle(el: unknown): { fontSize: string } };
    const idSize = await page
      .getByTestId("node-generator1")
      .locator(".pnode-id")
      .evaluate((el) => Number.parseFloat((globalThis as unknown as Styled).getComputedStyle(el).fontSize));
    expect(idSize * zoom).toBeGreaterThanOrEqual(12);
  });
});
