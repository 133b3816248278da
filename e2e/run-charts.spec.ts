import { expect, test } from "@playwright/test";
import { importPipeline, startAndOpenRun } from "./run-support";
import { signUp } from "./support";

// Charts and the time scrubber as a user meets them: a run's page draws its history (rolled up every 10 s, so
// points show after ~20 s), the pipeline's dashboard draws the same across its runs, and in the editor the
// scrubber shows a past moment's figures on the canvas, marked with its time and kept in the URL.

const PIPELINE = `apiVersion: sluice/v1
kind: Pipeline
metadata:
  name: run-charts
spec:
  nodes:
    - id: gen
      type: source.generator
      config:
        rate: 20
        fields:
          id: { kind: sequence }
          n: { kind: int, min: 1, max: 10 }
      ui: { x: 0, y: 0 }
    - id: keep
      type: transform.filter
      config:
        where: n > 3
      ui: { x: 300, y: 0 }
    - id: out
      type: sink.console
      config: {}
      ui: { x: 600, y: 0 }
  edges:
    - { from: gen, to: keep }
    - { from: keep, to: out }
`;

function points(text: string | null): number {
  return Number(/points: (\d+)/.exec(text ?? "")?.[1] ?? Number.NaN);
}

test("a run's charts draw its history, and the canvas scrubber shows a past moment", async ({ page }) => {
  test.setTimeout(240_000);
  await page.setViewportSize({ width: 1280, height: 800 });
  await signUp(page, "Chaz Charts");
  const editorUrl = await importPipeline(page, `Run charts ${Date.now()}`, PIPELINE);
  await startAndOpenRun(page);

  const charts = page.getByRole("region", { name: "Charts" });
  await expect(charts).toBeVisible();
  // The first chart is the picked node's throughput; history shows after the first complete buckets roll up.
  const throughput = charts.getByTestId("chart-points").first();
  await expect.poll(async () => points(await throughput.textContent()), { timeout: 90_000 }).toBeGreaterThan(0);
  await expect(charts.locator(".time-chart-plot canvas").first()).toBeVisible();
  await expect(charts.getByRole("combobox", { name: "Node" })).toHaveValue("gen");
  await page.screenshot({ path: "test-results/screenshots/run-charts.png", fullPage: true });

  // A reload reads the history again: nothing was kept only in the tab (the 1 h range draws history alone).
  await page.reload();
  await page.getByRole("region", { name: "Charts" }).getByRole("button", { name: "1 h", exact: true }).click();
  await expect
    .poll(async () => points(await page.getByTestId("chart-points").first().textContent()), { timeout: 30_000 })
    .toBeGreaterThan(0);

  // The pipeline's dashboard draws the same figures across its runs.
  const pipelineId = /\/pipelines\/([^/?]+)/.exec(editorUrl)?.[1];
  await page.goto(`/pipelines/${pipelineId}/dashboard`);
  await expect(page.getByTestId("dashboard-runs")).toHaveText("1 run in this range");
  await expect
    .poll(async () => points(await page.getByTestId("chart-points").first().textContent()), { timeout: 30_000 })
    .toBeGreaterThan(0);

  // In the editor, scrub to 15 s after the start: that bucket's rates show, marked with their time.
  await page.goto(editorUrl);
  const scrubber = page.getByTestId("time-scrubber");
  await expect(scrubber).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId("overlay-at")).toHaveCount(0);
  await scrubber.focus();
  await page.keyboard.press("Home");
  for (let i = 0; i < 15; i++) await page.keyboard.press("ArrowRight");
  const badge = page.getByTestId("overlay-at");
  await expect(badge).toHaveText(/^at \d\d:\d\d:\d\d$/);
  await expect(page).toHaveURL(/[?&]at=\d+/);
  await expect(page.getByTestId("rate-gen-out")).toBeVisible({ timeout: 30_000 });
  const moment = await badge.textContent();
  await page.screenshot({ path: "test-results/screenshots/time-scrubber.png" });

  // The link opens at the same moment.
  await page.reload();
  await expect(page.getByTestId("overlay-at")).toHaveText(moment ?? "", { timeout: 30_000 });

  // "Live" goes back to live figures and drops the moment from the URL.
  await page.getByRole("button", { name: "Live", exact: true }).click();
  await expect(page.getByTestId("overlay-at")).toHaveCount(0);
  await expect(page).not.toHaveURL(/[?&]at=/);
});
