import { stopE2EStack } from "@sluice/scripts/lib/e2e-stack";

export default async function globalTeardown() {
  await stopE2EStack();
}
