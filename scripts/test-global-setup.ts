// vitest globalSetup for the integration project: prepares the template database every test file
// clones with createTestDatabase() (scripts/lib/test-db.ts). `npm test` exports SLUICE_TEST_DATABASE_URL;
// run directly, vitest falls back to DATABASE_URL, then to the local PostgreSQL on 5432.

import { ensureTemplateDatabase, testAdminUrl } from "./lib/test-db";

export default async function setup() {
  const adminUrl = testAdminUrl();
  const { name, rebuilt, ms } = await ensureTemplateDatabase(adminUrl);
  if (rebuilt) {
    const { hostname, port } = new URL(adminUrl);
    console.log(`[test-db] built ${name} on ${hostname}:${port || 5432} in ${ms} ms`);
  }
}
