import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { expect, test } from "@playwright/test";
import { startWeb, waitUntilHealthy } from "@sluice/scripts/lib/app.mjs";
import type { Child } from "@sluice/scripts/lib/proc.mjs";
import { importPipeline, startAndOpenRun } from "./run-support";
import { signUp } from "./support";

// A run page's live charts outlive a restart of the web server: the page says it is reconnecting, opens the stream
// again by itself and goes on drawing. The stack's own web server is shared by every spec, so this one starts a
// second web process of the same app (same database, Redis and worker) on a port of its own, and restarts that.

const PIPELINE = `apiVersion: sluice/v1
kind: Pipeline
metadata:
  name: live-reconnect
spec:
  nodes:
    - id: gen
      type: source.generator
      config: { rate: 20 }
      ui: { x: 0, y: 0 }
    - id: out
      type: sink.console
      config: {}
      ui: { x: 300, y: 0 }
  edges:
    - { from: gen, to: out }
`;

const root = fileURLToPath(new URL("..", import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

function points(text: string | null): number {
  return Number(/points: (\d+)/.exec(text ?? "")?.[1] ?? Number.NaN);
}

test("a run's live charts reconnect by themselves after the web server restarts", async ({ browser }) => {
  test.setTimeout(240_000);
  const appEnv = process.env.E2E_APP_ENV;
  if (!appEnv) throw new Error("e2e: E2E_APP_ENV is not set: run through e2e/playwright.config.ts");
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env = { ...(JSON.parse(appEnv) as Record<string, string>), PORT: String(port) };
  const start = async () => {
    const web = startWeb({ root, port, env, output: "capture" });
    await waitUntilHealthy({ baseUrl, children: [web], timeoutMs: 60_000 });
    return web;
  };
  let web: Child | undefined = await start();
  const context = await browser.newContext({ baseURL: baseUrl });
  try {
    const page = await context.newPage();
    await page.setViewportSize({ width: 1280, height: 800 });
    await signUp(page, "Rhea Reconnect", "e2e-reconnect");
    await importPipeline(page, `Live reconnect ${Date.now()}`, PIPELINE);
    await startAndOpenRun(page);
    const charts = page.getByRole("region", { name: "Charts" });
    const throughput = charts.getByTestId("chart-points").first();
    await expect.poll(async () => points(await throughput.textContent()), { timeout: 90_000 }).toBeGreaterThan(0);
    await expect(page.getByTestId("live-reconnecting")).toHaveCount(0);

    // The web server goes away: the page says so and keeps what it drew.
    await web.stop({ graceMs: 5000 });
    web = undefined;
    await expect(page.getByTestId("live-reconnecting")).toBeVisible({ timeout: 20_000 });
    const before = points(await throughput.textContent());

    // It comes back on the same address: the page reconnects without a reload, and the line goes on.
    web = await start();
    await expect(page.getByTestId("live-reconnecting")).toHaveCount(0, { timeout: 60_000 });
    await expect
      .poll(async () => points(await throughput.textContent()), { timeout: 30_000 })
      .toBeGreaterThan(before + 3);
  } finally {
    await context.close();
    await web?.stop({ graceMs: 5000 });
  }
});
