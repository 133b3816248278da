import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { openSchemaEngine } from "./schema-engine";

// The project's migration runner: `create` diffs the committed migrations against schema.prisma and writes
// the next prisma/migrations/<timestamp>_<name>/migration.sql; `deploy` applies pending ones. It fills
// `_prisma_migrations` exactly as `prisma migrate deploy` does, so both stay interchangeable.

export interface MigrateOptions {
  databaseUrl: string;
  /** Folder holding schema.prisma and migrations/. */
  prismaDir: string;
}

const LOCK_FILE = "migration_lock.toml";
const LOCK_CONTENT = 'provider = "postgresql"\n';
const filters = { externalTables: [], externalEnums: [] };

async function migrationsList(migrationsDir: string) {
  await mkdir(migrationsDir, { recursive: true });
  const lockPath = path.join(migrationsDir, LOCK_FILE);
  if (!existsSync(lockPath)) await writeFile(lockPath, LOCK_CONTENT);
  const dirs = (await readdir(migrationsDir, { withFileTypes: true }))
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  return {
    baseDir: migrationsDir,
    shadowDbInitScript: "",
    lockfile: { path: LOCK_FILE, content: await readFile(lockPath, "utf8") },
    migrationDirectories: await Promise.all(
      dirs.map(async (dir) => ({
        path: dir,
        migrationFile: {
          path: "migration.sql",
          content: {
            tag: "ok" as const,
            value: await readFile(path.join(migrationsDir, dir, "migration.sql"), "utf8"),
          },
        },
      })),
    ),
  };
}

async function engineFor(options: MigrateOptions) {
  const schemaPath = path.join(options.prismaDir, "schema.prisma");
  const schema = await readFile(schemaPath, "utf8");
  const opened = await openSchemaEngine(options.databaseUrl, schemaPath, schema);
  return { ...opened, schemaPath, schema, migrationsDir: path.join(options.prismaDir, "migrations") };
}

/** Applies every pending migration; returns the names applied. */
export async function deployMigrations(options: MigrateOptions): Promise<string[]> {
  const { engine, close, migrationsDir } = await engineFor(options);
  try {
    const result = await engine.applyMigrations({ migrationsList: await migrationsList(migrationsDir), filters });
    return result.appliedMigrationNames;
  } finally {
    await close();
  }
}

/** Writes a new migration for the difference between the committed migrations and the schema, if any. */
export async function createMigration(options: MigrateOptions, name: string): Promise<string | undefined> {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`migration name "${name}" must be lower-case words joined by _`);
  const { engine, close, schemaPath, schema, migrationsDir } = await engineFor(options);
  let diff: Awaited<ReturnType<typeof engine.diff>>;
  try {
    diff = await engine.diff({
      from: { tag: "migrations", ...(await migrationsList(migrationsDir)) },
      to: { tag: "schemaDatamodel", files: [{ path: schemaPath, content: schema }] },
      script: true,
      exitCode: null,
      filters,
    });
  } finally {
    await close();
  }
  const sql = diff.stdout ?? "";
  if (!sql.trim() || sql.includes("This is an empty migration")) return undefined;
  const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
  const dir = path.join(migrationsDir, `${stamp}_${name}`);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, "migration.sql"), sql);
  return dir;
}
