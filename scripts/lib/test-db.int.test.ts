import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase, uniquePrefix } from "./test-db";

const migrations = readdirSync(fileURLToPath(new URL("../../prisma/migrations", import.meta.url)), {
  withFileTypes: true,
})
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

const created: TestDatabase[] = [];
afterAll(async () => {
  await Promise.all(created.map((db) => db.drop()));
});

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function database(label: string) {
  const db = await createTestDatabase(label);
  created.push(db);
  return db;
}

describe("createTestDatabase", () => {
  it("gives a database with every migration applied and no rows", async () => {
    const db = await database("test-db migrated");
    expect(db.name).toMatch(/^sluice_t_test_db_migrated_[0-9a-z]+$/);
    await withClient(db.url, async (client) => {
      const applied = await client.query<{ migration_name: string }>(
        "SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL ORDER BY migration_name",
      );
      expect(applied.rows.map((r) => r.migration_name)).toEqual(migrations);
      const users = await client.query<{ n: string }>('SELECT count(*) AS n FROM "User"');
      expect(users.rows[0]?.n).toBe("0");
    });
  });

  it("keeps databases apart: a row written in one is not seen in another", async () => {
    const [a, b] = await Promise.all([database("isolation-a"), database("isolation-b")]);
    await withClient(a.url, (client) =>
      client.query(
        `INSERT INTO "User" (id, email, name, "passwordHash", "updatedAt") VALUES ('u1', 'a@example.com', 'A', 'x', now())`,
      ),
    );
    const inA = await withClient(a.url, (client) => client.query('SELECT email FROM "User"'));
    const inB = await withClient(b.url, (client) => client.query('SELECT email FROM "User"'));
    expect(inA.rows).toEqual([{ email: "a@example.com" }]);
    expect(inB.rows).toEqual([]);
  });

  it("drop() removes the database even while a client is connected", async () => {
    const db = await createTestDatabase("dropped");
    const client = new pg.Client({ connectionString: db.url });
    client.on("error", () => {}); // DROP … WITH (FORCE) ends this session
    await client.connect();
    await db.drop();
    const admin = new URL(db.url);
    admin.pathname = "/postgres";
    const left = await withClient(admin.toString(), (c) =>
      c.query("SELECT 1 FROM pg_database WHERE datname = $1", [db.name]),
    );
    expect(left.rowCount).toBe(0);
    await client.end().catch(() => {});
  });
});

describe("uniquePrefix", () => {
  it("gives each caller its own Redis key prefix", () => {
    const prefixes = new Set(Array.from({ length: 50 }, () => uniquePrefix("engine")));
    expect(prefixes.size).toBe(50);
    expect([...prefixes][0]).toMatch(/^t:engine:[0-9a-f]{8}$/);
  });
});
