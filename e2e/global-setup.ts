// Starts the app the specs drive (see scripts/lib/e2e-stack.ts). The port comes from the config file,
// which Playwright evaluates before this runs.
import { startE2EStack } from "@sluice/scripts/lib/e2e-stack";

export default async function globalSetup() {
  const port = Number(process.env.E2E_PORT);
  if (!Number.isInteger(port) || port <= 0)
    throw new Error("e2e: E2E_PORT is not set: run through e2e/playwright.config.ts");
  process.env.E2E_BASE_URL = await startE2EStack(port);
}
