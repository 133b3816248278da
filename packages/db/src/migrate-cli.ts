import path from "node:path";
import { fileURLToPath } from "node:url";
import { createMigration, deployMigrations } from "./migrate";

// `npm run migrate -- deploy` | `npm run migrate -- create <name>`; DATABASE_URL names the database.
const prismaDir = path.resolve(fileURLToPath(new URL("../../../prisma", import.meta.url)));
const databaseUrl = process.env.DATABASE_URL;
const [command, name] = process.argv.slice(2);

if (!databaseUrl) {
  console.error("DATABASE_URL is not set: point it at the PostgreSQL database to migrate");
  process.exit(2);
}
if (command === "create") {
  const dir = await createMigration({ databaseUrl, prismaDir }, name ?? "migration");
  console.log(
    dir ? `created ${path.relative(process.cwd(), dir)}` : "schema.prisma matches the migrations: nothing to create",
  );
  await deployMigrations({ databaseUrl, prismaDir });
} else if (command === "deploy") {
  const applied = await deployMigrations({ databaseUrl, prismaDir });
  console.log(applied.length ? `applied ${applied.join(", ")}` : "database is up to date");
} else {
  console.error("usage: migrate deploy | migrate create <name>");
  process.exit(2);
}
process.exit(0);
