import { spawnSync } from "node:child_process";
import { defineConfig } from "@playwright/test";

// Playwright evaluates this file in the runner and again in every worker process, before globalSetup.
// The runner picks the port once (E2E_PORT, or a free ephemeral one); workers inherit it through the
// environment, and global-setup.ts starts the app on it.
function freePort(): number {
  const probe = spawnSync(
    process.execPath,
    [
      "-e",
      "const s = require('node:net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); })",
    ],
    { encoding: "utf8" },
  );
  const port = Number(probe.stdout.trim());
  if (!port) throw new Error(`e2e: could not find a free port: ${probe.stderr}`);
  return port;
}

process.env.E2E_PORT ||= String(freePort());
const baseURL = `http://127.0.0.1:${process.env.E2E_PORT}`;
process.env.E2E_BASE_URL = baseURL;

// Debian's Chromium (apt-get install chromium): Playwright's own browser download cannot work here.
const launchOptions = {
  executablePath: "/usr/bin/chromium",
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
};

export default defineConfig({
  testDir: ".",
  testMatch: "*.spec.ts",
  outputDir: "test-results",
  globalSetup: "./global-setup.ts",
  globalTeardown: "./global-teardown.ts",
  workers: 1, // 2 cores: the app, the worker and the browser already share them
  fullyParallel: false,
  retries: 0,
  forbidOnly: Boolean(process.env.CI),
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [["list"]],
  use: {
    baseURL,
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
    launchOptions,
  },
  // A common laptop screen: room for palette, canvas and inspector side by side.
  projects: [
    { name: "chromium", use: { browserName: "chromium", launchOptions, viewport: { width: 1440, height: 900 } } },
  ],
});
