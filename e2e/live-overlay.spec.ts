import { expect, type Page, test } from "@playwright/test";
import { importPipeline } from "./run-support";
import { signUp } from "./support";

// The live overlay as a user meets it: a running pipeline's canvas shows records a second on each node beside the
// totals, and on each edge a throughput label; the aggregate's input edge is a shuffle (keyed), the filter's is inside
// a fused stage. When the run is stopped the final totals stay and the rates go.

const KEYED = `apiVersion: sluice/v1
kind: Pipeline
metadata:
  name: live-overlay
spec:
  settings:
    parallelism: 2
    delivery: at-least-once
  nodes:
    - id: gen
      type: source.generator
      config:
        rate: 40
        fields:
          id: { kind: sequence }
          sensor_id: { kind: int, min: 1, max: 20 }
      ui: { x: 0, y: 0 }
    - id: keep
      type: transform.filter
      config:
        where: sensor_id > 5
      ui: { x: 300, y: 0 }
    - id: per_sensor
      type: transform.window
      config:
        key: [sensor_id]
        window: { tumble: 5s }
        aggregates:
          readings: count(*)
      ui: { x: 600, y: 0 }
    - id: out
      type: sink.console
      config: {}
      ui: { x: 900, y: 0 }
  edges:
    - { from: gen, to: keep }
    - { from: keep, to: per_sensor }
    - { from: per_sensor, to: out }
`;

/** "1.2k/s" → 1200, "40/s" → 40. */
function perSecond(text: string | null): number {
  const m = /^([\d.]+)([kMB]?)\/s$/.exec((text ?? "").trim());
  if (!m) return Number.NaN;
  const scale = { "": 1, k: 1e3, M: 1e6, B: 1e9 }[m[2] as "" | "k" | "M" | "B"];
  return Number(m[1]) * scale;
}

/** A node's rate (`rate-<node>-<in|out>`), or an edge label's (`edge-rate-<edge>`); NaN while not shown. */
async function rate(page: Page, testId: string): Promise<number> {
  const shown = page.getByTestId(testId);
  if ((await shown.count()) === 0) return Number.NaN;
  const edgeRate = shown.locator(".edge-live-rate");
  return perSecond(await ((await edgeRate.count()) > 0 ? edgeRate : shown).textContent());
}

async function total(page: Page, nodeId: string, which: "in" | "out"): Promise<number> {
  return Number(await page.getByTestId(`count-${nodeId}-${which}`).textContent());
}

test("a running pipeline's canvas shows rates on its nodes and throughput on its edges", async ({ page }) => {
  test.setTimeout(180_000);
  await page.setViewportSize({ width: 1280, height: 720 });
  await signUp(page, "Lena Liveoverlay");
  await importPipeline(page, `Live overlay ${Date.now()}`, KEYED);

  // Nothing live before a run.
  await expect(page.getByTestId("rate-gen-out")).toHaveCount(0);
  await expect(page.locator(".edge-live")).toHaveCount(0);

  await page.getByRole("button", { name: "Start" }).click();
  await expect(page.getByTestId("run-status")).toHaveText("running", { timeout: 30_000 });

  // Rates appear beside the totals once the workers report their first seconds.
  await expect.poll(() => rate(page, "rate-gen-out"), { timeout: 60_000 }).toBeGreaterThan(0);
  await expect.poll(() => rate(page, "rate-keep-in"), { timeout: 30_000 }).toBeGreaterThan(0);
  await expect.poll(() => rate(page, "rate-per_sensor-in"), { timeout: 30_000 }).toBeGreaterThan(0);
  await expect(page.getByTestId("rate-gen-out")).toHaveAttribute("title", /out a second$/);

  // The keyed aggregate keeps state per key, and says how many keys.
  await expect(page.getByTestId("live-per_sensor")).toContainText("keys", { timeout: 30_000 });

  // Edge labels: the fused edge shows the generator's out/s, the shuffle edge its own rate; both thicken the stroke.
  const fused = page.getByTestId("edge-rate-gen.out->keep.in");
  const shuffle = page.getByTestId("edge-rate-keep.out->per_sensor.in");
  await expect(fused).toHaveText(/\/s/);
  await expect(shuffle).toHaveText(/\/s/);
  await expect.poll(() => rate(page, "edge-rate-keep.out->per_sensor.in"), { timeout: 30_000 }).toBeGreaterThan(0);
  await expect(shuffle).toHaveAttribute("title", /records\/s over the shuffle from keep/);
  const style = await page.locator(".react-flow__edge-path[class*='edge-flow-']").first().getAttribute("style");
  const width = Number(/stroke-width:\s*([\d.]+)/.exec(style ?? "")?.[1]);
  expect(width).toBeGreaterThan(1.5);

  // The totals keep rising while the rates show.
  const early = await total(page, "keep", "in");
  await expect.poll(() => total(page, "keep", "in"), { timeout: 30_000 }).toBeGreaterThan(early);
  await page.screenshot({ path: "test-results/screenshots/live-overlay.png" });

  await page.getByRole("button", { name: "Stop" }).click();
  await expect(page.getByTestId("run-status")).toHaveText("stopped", { timeout: 60_000 });
  // The final totals stay; the rates and edge labels go.
  await expect(page.getByTestId("rate-gen-out")).toHaveCount(0);
  await expect(page.locator(".edge-live")).toHaveCount(0);
  expect(await total(page, "gen", "out")).toBeGreaterThan(0);
  expect(await total(page, "keep", "in")).toBeGreaterThan(early);
});
