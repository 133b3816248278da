// Databases and Redis prefixes for tests that talk to real services. Every test file gets its own
// database, cloned from a template that already has every migration applied (a clone takes tens of
// milliseconds; migrating from scratch takes seconds), and its own Redis key prefix.

import { createHash, randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { deployMigrations } from "@sluice/db/migrate";
import pg from "pg";
import { quoteIdent } from "./postgres.mjs";
import { withDatabase } from "./urls.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));
const migrationsDir = path.join(root, "prisma", "migrations");

/**
 * The template's name carries its migrations' hash, so checkouts with different migrations testing against one
 * server at the same time (a work tree and a fresh clone) each clone their own instead of rebuilding one another's.
 */
const TEMPLATE_PREFIX = "sluice_test_template";
/** Held exclusively while the template is rebuilt, shared while it is cloned. */
const TEMPLATE_LOCK = 7_357_310_001;
/** Test databases a crashed run left behind are dropped after this long. */
const LEFTOVER_AGE_MS = 12 * 60 * 60 * 1000;

/** The PostgreSQL server tests create databases on (any database on it; we only connect to administer). */
export function testAdminUrl(): string {
  return (
    process.env.SLUICE_TEST_DATABASE_URL || process.env.DATABASE_URL || "postgresql://postgres@127.0.0.1:5432/postgres"
  );
}

/** The Redis tests use; isolate keys with `uniquePrefix`. */
export function testRedisUrl(): string {
  return process.env.SLUICE_TEST_REDIS_URL || "redis://127.0.0.1:6379";
}

/** A Redis key prefix no other test file uses, e.g. `t:engine-commit:9f2c4a1b`. */
export function uniquePrefix(label: string): string {
  return `t:${label}:${randomBytes(4).toString("hex")}`;
}

async function adminClient(url = testAdminUrl()): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on("error", () => {}); // the server closing an idle admin connection must not crash the run
  try {
    await client.connect();
  } catch (error) {
    const u = new URL(url);
    const where = `${u.hostname}:${u.port || 5432}`;
    throw new Error(
      `cannot connect to the test PostgreSQL at ${where} (${(error as Error).message}): run the tests with \`npm test\`, ` +
        "or set SLUICE_TEST_DATABASE_URL to a PostgreSQL server where this user may create databases",
    );
  }
  return client;
}

/** sha256 over every migration's folder name and SQL: the template is rebuilt when this changes. */
export async function migrationsHash(): Promise<string> {
  const hash = createHash("sha256");
  const dirs = (await readdir(migrationsDir, { withFileTypes: true }))
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  for (const dir of dirs) {
    hash.update(`${dir}\n`);
    hash.update(await readFile(path.join(migrationsDir, dir, "migration.sql")).catch(() => Buffer.alloc(0)));
  }
  return hash.digest("hex");
}

function deployMigrationsTo(databaseUrl: string): Promise<string[]> {
  return deployMigrations({ databaseUrl, prismaDir: path.join(root, "prisma") });
}

/** The template database for the migrations as they are in this checkout, and the comment marking it complete. */
async function templateOf(): Promise<{ name: string; marker: string }> {
  const hash = await migrationsHash();
  return { name: `${TEMPLATE_PREFIX}_${hash.slice(0, 16)}`, marker: `sluice migrations sha256:${hash}` };
}

/**
 * Drops templates of other migrations built more than LEFTOVER_AGE_MS ago (their comment ends with the build time),
 * and the one unhashed template of older checkouts.
 */
async function dropOldTemplates(client: pg.Client, current: string): Promise<void> {
  const { rows } = await client.query<{ datname: string; comment: string | null }>(
    "SELECT datname, shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname LIKE $1",
    [`${TEMPLATE_PREFIX}%`],
  );
  for (const { datname, comment } of rows) {
    if (datname === current) continue;
    const builtAt = Number(/ built:(\d+)$/.exec(comment ?? "")?.[1] ?? 0);
    if (Date.now() - builtAt < LEFTOVER_AGE_MS) continue;
    const db = quoteIdent(datname);
    await client.query(`ALTER DATABASE ${db} IS_TEMPLATE false`).catch(() => {});
    await client.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => {});
  }
}

/** Drops test databases (sluice_t_…, sluice_e2e_…) older than LEFTOVER_AGE_MS: leftovers of killed runs. */
async function dropLeftovers(client: pg.Client): Promise<void> {
  const { rows } = await client.query<{ datname: string }>(
    "SELECT datname FROM pg_database WHERE datname LIKE 'sluice\\_t\\_%' OR datname LIKE 'sluice\\_e2e\\_%'",
  );
  for (const { datname } of rows) {
    const stamp = /_([0-9a-z]{8,9})[0-9a-f]{6}$/.exec(datname)?.[1];
    const createdAt = stamp ? Number.parseInt(stamp, 36) : Number.NaN;
    if (Number.isFinite(createdAt) && Date.now() - createdAt > LEFTOVER_AGE_MS) {
      await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`).catch(() => {});
    }
  }
}

/**
 * Makes sure the template of this checkout's migrations exists with every migration applied, building it only when
 * it is missing or half-built (the comment is set last). Serialised across parallel runs with an advisory lock.
 */
export async function ensureTemplateDatabase(
  adminUrl = testAdminUrl(),
): Promise<{ name: string; rebuilt: boolean; ms: number }> {
  const started = Date.now();
  const { name, marker } = await templateOf();
  const client = await adminClient(adminUrl);
  try {
    await client.query("SELECT pg_advisory_lock($1)", [TEMPLATE_LOCK]);
    const existing = await client.query<{ comment: string | null }>(
      "SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1",
      [name],
    );
    await dropLeftovers(client);
    await dropOldTemplates(client, name);
    if (existing.rows[0]?.comment?.startsWith(marker)) return { name, rebuilt: false, ms: Date.now() - started };

    const template = quoteIdent(name);
    if (existing.rowCount) {
      await client.query(`ALTER DATABASE ${template} IS_TEMPLATE false`);
      await client.query(`DROP DATABASE ${template} WITH (FORCE)`);
    }
    await client.query(`CREATE DATABASE ${template} TEMPLATE template0 ENCODING 'UTF8'`);
    await deployMigrationsTo(withDatabase(adminUrl, name));
    // Set last: a template whose migrations failed half-way has no marker and is rebuilt next time.
    await client.query(`COMMENT ON DATABASE ${template} IS '${marker} built:${Date.now()}'`);
    await client.query(`ALTER DATABASE ${template} IS_TEMPLATE true`);
    return { name, rebuilt: true, ms: Date.now() - started };
  } finally {
    await client.query("SELECT pg_advisory_unlock_all()").catch(() => {});
    await client.end().catch(() => {});
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

function databaseName(prefix: string, label: string): string {
  const slug = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, 30);
  // The time part lets a later run recognise leftovers of a killed run (see dropLeftovers).
  const unique = `${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;
  return slug ? `${prefix}_${slug}_${unique}` : `${prefix}_${unique}`;
}

/**
 * A new database `sluice_t_<label>_<random>` with every migration applied, cloned from the template.
 * Call `drop()` when done (afterAll).
 */
export async function createTestDatabase(label: string, options: { namePrefix?: string } = {}): Promise<TestDatabase> {
  const adminUrl = testAdminUrl();
  const name = databaseName(options.namePrefix ?? "sluice_t", label);
  const template = (await templateOf()).name;
  const client = await adminClient(adminUrl);
  try {
    for (let attempt = 1; ; attempt++) {
      await client.query("SELECT pg_advisory_lock_shared($1)", [TEMPLATE_LOCK]);
      try {
        await client.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)}`);
        break;
      } catch (error) {
        const code = (error as { code?: string }).code;
        await client.query("SELECT pg_advisory_unlock_shared($1)", [TEMPLATE_LOCK]);
        // 3D000: no template yet (vitest run without its global setup); 55006: someone is connected
        // to the template for a moment.
        if (code === "3D000" && attempt === 1) await ensureTemplateDatabase(adminUrl);
        else if (code === "55006" && attempt < 10) await new Promise((r) => setTimeout(r, 200 * attempt));
        else throw error;
      }
    }
    await client.query("SELECT pg_advisory_unlock_shared($1)", [TEMPLATE_LOCK]);
  } finally {
    await client.end().catch(() => {});
  }
  return {
    name,
    url: withDatabase(adminUrl, name),
    async drop() {
      const admin = await adminClient(adminUrl);
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
      } finally {
        await admin.end().catch(() => {});
      }
    },
  };
}
