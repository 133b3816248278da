// `node --import tsx packages/api/src/seed-cli.ts`: seeds what every installation starts with, the built-in
// templates (templates/*.yaml), new or changed ones only. `npm start` runs it after migrating, and the e2e stack
// before its app starts; DATABASE_URL names the database.
import { fileURLToPath } from "node:url";
import { createDb } from "@sluice/db/client";
import { catalog } from "@sluice/nodes/catalog";
import { seedBuiltInTemplates } from "./templates/built-in-templates";

const TEMPLATES = fileURLToPath(new URL("../../../templates/", import.meta.url));

const url = process.env.DATABASE_URL;
if (!url) {
  console.error("DATABASE_URL is not set: point it at the PostgreSQL database to seed");
  process.exit(2);
}
const db = createDb(url, { poolSize: 1 });
try {
  const report = await seedBuiltInTemplates(db, catalog, TEMPLATES);
  const parts = [
    report.created.length > 0 ? `${report.created.length} new` : "",
    report.updated.length > 0 ? `${report.updated.length} updated (${report.updated.join(", ")})` : "",
    report.unchanged.length > 0 ? `${report.unchanged.length} unchanged` : "",
  ].filter(Boolean);
  console.log(`built-in templates: ${parts.join(", ") || "none"}`);
} catch (err) {
  console.error(`seeding the built-in templates failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await db.$disconnect();
}
