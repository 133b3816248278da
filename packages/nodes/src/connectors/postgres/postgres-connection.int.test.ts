import { freePort } from "@sluice/scripts/lib/ports.mjs";
import { createTestDatabase, type TestDatabase } from "@sluice/scripts/lib/test-db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { local } from "../../testing/local-destinations";
import { postgresConnection } from "./postgres-connection.def";
import { postgresConnectionRuntime } from "./postgres-connection.run";
import {
  type PgTarget,
  type PrivatePostgres,
  sql,
  startPrivatePostgres,
  targetFromUrl,
} from "./testing/postgres-test-support";

// "Test connection" and discovery against real servers: the shared test PostgreSQL (trust authentication,
// wal_level = replica) and a private one that asks for passwords.

let db: TestDatabase;
let target: PgTarget;
let secured: PrivatePostgres;

beforeAll(async () => {
  db = await createTestDatabase("pg-connection");
  target = targetFromUrl(db.url);
  secured = await startPrivatePostgres("connection");
  await sql(secured.target(), "CREATE ROLE app LOGIN PASSWORD 'right-password'");
});

afterAll(async () => {
  await db?.drop();
  await secured?.stop();
});

const test = (config: object) =>
  postgresConnectionRuntime.test(postgresConnection.config.parse(config), AbortSignal.timeout(15_000), local);

describe("postgres connection: test", () => {
  it("connects and says what the server is and whether it is ready for CDC", async () => {
    const result = await test(target);
    expect(result.ok).toBe(true);
    expect(result.message).toMatch(
      new RegExp(
        `^connected to PostgreSQL \\d+\\.\\d+.* as "postgres" on database "${db.name}"; not ready for CDC \\(wal_level is replica; set wal_level = logical and restart the server\\)$`,
      ),
    );
    const logical = await test(secured.target());
    expect(logical.ok && logical.message).toMatch(/; ready for CDC$/);
  });

  it("says the host cannot be reached when nothing listens on the port", async () => {
    const port = await freePort();
    expect(await test({ ...target, port })).toEqual({
      ok: false,
      problem: "host-unreachable",
      message: `cannot reach 127.0.0.1:${port} (connection refused) — is the server running and the port open?`,
    });
  });

  it("says a password was refused, and which user", async () => {
    expect(await test({ ...secured.target(), user: "app", password: "wrong" })).toEqual({
      ok: false,
      problem: "auth-failed",
      message: 'password authentication failed for user "app" — check the user and password',
    });
    const ok = await test({ ...secured.target(), user: "app", password: "right-password" });
    expect(ok.ok).toBe(true);
  });

  it("says a user or database does not exist", async () => {
    const noUser = await test({ ...target, user: "nobody_here" });
    expect(noUser).toMatchObject({ ok: false, problem: "auth-failed" });
    expect(noUser.message).toMatch(/^the server refused user "nobody_here": .*nobody_here/);
    expect(await test({ ...target, database: "no_such_db" })).toEqual({
      ok: false,
      problem: "not-found",
      message: `database "no_such_db" does not exist on 127.0.0.1:${target.port}`,
    });
  });

  it("says TLS failed when the server has none", async () => {
    const result = await test({ ...target, sslmode: "require" });
    expect(result).toMatchObject({ ok: false, problem: "tls" });
    expect(result.message).toMatch(/does not support SSL.*set sslmode to "disable"/);
  });
});

describe("postgres connection: discover", () => {
  it("lists tables and views with Sluice types, and samples rows", async () => {
    await sql(
      target,
      `CREATE SCHEMA sales;
       CREATE TABLE sales.orders (id bigint PRIMARY KEY, amount numeric(10,2), placed timestamptz NOT NULL,
                                  tags text[], doc jsonb, paid boolean);
       CREATE VIEW open_orders AS SELECT id, amount FROM sales.orders WHERE NOT paid;
       INSERT INTO sales.orders VALUES (1, 12.5, '2024-01-02 03:04:05.678+00', '{a,b}', '{"k": 1}', false),
                                       (2, 3, '2024-01-03 00:00:00+00', NULL, NULL, true);`,
    );
    const found = await postgresConnectionRuntime.discover!(
      postgresConnection.config.parse(target),
      {},
      AbortSignal.timeout(15_000),
      local,
    );
    const orders = found.objects.find((o) => o.name === "sales.orders");
    expect(orders).toMatchObject({ kind: "table" });
    expect(orders?.fields).toEqual([
      { name: "id", type: "int", nullable: false },
      { name: "amount", type: "float", nullable: true },
      { name: "placed", type: "timestamp", nullable: false },
      { name: "tags", type: "json", nullable: true },
      { name: "doc", type: "json", nullable: true },
      { name: "paid", type: "boolean", nullable: true },
    ]);
    expect(found.objects.find((o) => o.name === "open_orders")).toMatchObject({
      kind: "view",
      fields: [
        { name: "id", type: "int" },
        { name: "amount", type: "float" },
      ],
    });
    // Tables of the template's own migrations are listed too; nothing from the system catalogs is.
    expect(found.objects.some((o) => o.name.startsWith("pg_catalog."))).toBe(false);

    const sampled = await postgresConnectionRuntime.discover!(
      postgresConnection.config.parse(target),
      { object: "sales.orders", sample: 5 },
      AbortSignal.timeout(15_000),
      local,
    );
    expect(sampled.objects.map((o) => o.name)).toEqual(["sales.orders"]);
    expect(sampled.sample).toEqual([
      {
        id: 1,
        amount: 12.5,
        placed: Date.UTC(2024, 0, 2, 3, 4, 5, 678),
        tags: ["a", "b"],
        doc: { k: 1 },
        paid: false,
      },
      { id: 2, amount: 3, placed: Date.UTC(2024, 0, 3), tags: null, doc: null, paid: true },
    ]);
    await expect(
      postgresConnectionRuntime.discover!(
        postgresConnection.config.parse(target),
        { object: "nope", sample: 1 },
        AbortSignal.timeout(15_000),
        local,
      ),
    ).rejects.toThrow(/table nope does not exist/);
  });
});
