import { expect, test } from "@playwright/test";
import { importPipeline } from "./run-support";
import { signUp } from "./support";

// The overview home as a user meets it: empty until something runs, then a generator's run with its rate climbing
// from nothing, and a webhook source's run that nobody sends to: running, but after a minute without records it
// is marked stalled in red and listed above the healthy one, not left looking green. A laggard links to its node on
// the pipeline's canvas.

const GENERATOR = `apiVersion: sluice/v1
kind: Pipeline
metadata:
  name: overview-flow
spec:
  settings:
    timeField: ts
  nodes:
    - id: gen
      type: source.generator
      config:
        rate: 20
      ui: { x: 0, y: 0 }
    - id: out
      type: sink.console
      config: {}
      ui: { x: 400, y: 0 }
  edges:
    - { from: gen, to: out }
`;

const QUIET = `apiVersion: sluice/v1
kind: Pipeline
metadata:
  name: overview-quiet
spec:
  settings:
    delivery: at-least-once
  nodes:
    - id: orders
      type: source.webhook
      config: {}
      ui: { x: 0, y: 0 }
    - id: out
      type: sink.console
      config: {}
      ui: { x: 400, y: 0 }
  edges:
    - { from: orders, to: out }
`;

const rate = (text: string | null) => Number(/^([\d.]+)/.exec(text ?? "")?.[1] ?? Number.NaN);

test("the overview shows a running run's rate rising, marks a run without records stalled, and links laggards to their node", async ({
  page,
}) => {
  test.setTimeout(180_000);
  await signUp(page, "Olive Overview", "overview");
  // Home for a signed-in user is the overview, first in the header.
  await page.goto("/");
  await expect(page).toHaveURL(/\/overview$/);
  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav.getByRole("link").first()).toHaveText("Overview");
  await expect(page.getByRole("heading", { name: "Nothing is running" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Go to pipelines" })).toHaveAttribute("href", "/pipelines");

  const stamp = Date.now();
  const quietName = `Quiet orders ${stamp}`;
  await importPipeline(page, quietName, QUIET);
  await page.getByRole("button", { name: "Start" }).click();
  await expect(page.getByTestId("run-status")).toHaveText("running", { timeout: 30_000 });
  const quietStartedAt = Date.now();

  const flowName = `Flowing ${stamp}`;
  const flowEditor = await importPipeline(page, flowName, GENERATOR);
  // The overview open in a second tab while the run starts: it watches the rate climb.
  const home = await page.context().newPage();
  await home.goto("/overview");
  await expect(home.getByRole("table", { name: "Going runs" })).toContainText(quietName);
  await page.getByRole("button", { name: "Start" }).click();

  const runs = home.getByRole("table", { name: "Going runs" });
  const flowing = runs.getByRole("row").filter({ has: home.getByRole("link", { name: flowName, exact: true }) });
  const quiet = runs.getByRole("row").filter({ has: home.getByRole("link", { name: quietName, exact: true }) });

  // The generator's rate climbs from nothing to its pace (20/s) as the page refreshes itself.
  const seen: number[] = [];
  await expect
    .poll(
      async () => {
        if ((await flowing.count()) === 0) return 0;
        const now = rate(await flowing.getByTestId("run-in-rate").textContent());
        seen.push(now);
        return now;
      },
      { timeout: 30_000, intervals: [500] },
    )
    .toBeGreaterThanOrEqual(15);
  expect(Math.min(...seen)).toBeLessThan(15);
  await expect(flowing.getByTestId("run-verdict")).toHaveText("Healthy");
  await expect(flowing.getByTestId("run-verdict")).toHaveClass(/status-running/);
  await expect(flowing.getByRole("img", { name: /Records in per second over the last 15 minutes/ })).toBeVisible();
  // Its row leads to its run's page.
  await expect(flowing.getByRole("link", { name: flowName, exact: true })).toHaveAttribute("href", /^\/runs\/[^/]+$/);

  // Meanwhile the webhook's run is running too, and is healthy for its first minute.
  await expect(quiet.getByRole("cell").nth(2)).toContainText("Running");
  // A minute without a record: stalled, in red, saying so, and listed above the healthy run.
  const untilStalled = Math.max(10_000, 85_000 - (Date.now() - quietStartedAt));
  await expect(quiet.getByTestId("run-verdict")).toHaveText("Stalled", { timeout: untilStalled });
  await expect(quiet.getByTestId("run-verdict")).toHaveClass(/status-failed/);
  await expect(quiet.getByTestId("run-reason")).toHaveText(/^no records for 1 min$/);
  await expect(quiet.locator("svg.overview-spark")).toHaveClass(/is-stalled/);
  await expect(runs.getByRole("row").nth(1)).toContainText(quietName);
  await expect(runs.getByRole("row").nth(2)).toContainText(flowName);

  // The generator's nodes have event time: they are among the laggards, and one leads to its node on the canvas.
  const laggards = home.getByRole("table", { name: "Worst laggards" });
  const gen = laggards.getByRole("row").filter({ has: home.getByRole("link", { name: "gen", exact: true }) });
  await expect(gen).toContainText(flowName);
  await gen.getByRole("link", { name: "gen", exact: true }).click();
  await expect(home).toHaveURL(`${flowEditor}?node=gen`);
  await expect(home.getByTestId("node-gen")).toHaveClass(/selected/);
});
