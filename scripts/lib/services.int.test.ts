import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { deployMigrations } from "@sluice/db/migrate";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "./ports.mjs";
import { connectPostgres, ensureAppDatabase, startEmbeddedPostgres } from "./postgres.mjs";
import { redisPing } from "./redis.mjs";
import { APP_REDIS_USER, APP_ROLE, type Service, startAppPostgres, startAppRedis } from "./services.mjs";

// Sluice's own PostgreSQL and Redis, started the way `npm start` starts them: nobody gets in without the generated
// passwords, and the app's role owns its database and can do nothing else.

const prismaDir = fileURLToPath(new URL("../../prisma", import.meta.url));
const dirs: string[] = [];
const running: Service[] = [];

function stateDir(label: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `sluice-${label}-`));
  // As root the server runs as the postgres user, which must reach its data folder.
  chmodSync(dir, 0o755);
  dirs.push(dir);
  return dir;
}

afterAll(async () => {
  await Promise.all(running.map((s) => s.stop()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const connect = (url: string) => connectPostgres(url);

/** The SQLSTATE (or the message) a statement or a connection fails with; undefined when it succeeds. */
async function refusal(url: string, sql?: string): Promise<string | undefined> {
  let client: pg.Client | undefined;
  try {
    client = await connect(url);
    if (sql) await client.query(sql);
    return undefined;
  } catch (error) {
    const e = error as { code?: string; message: string };
    return e.code ?? e.message;
  } finally {
    await client?.end().catch(() => {});
  }
}

function withUser(url: string, user: string, password?: string, database?: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = password ?? "";
  if (database) u.pathname = `/${database}`;
  return u.toString();
}

function mode(file: string): number {
  return statSync(file).mode & 0o777;
}

describe("the embedded PostgreSQL of npm start", () => {
  let dir: string;
  let app: Service;
  let appPassword: string;

  beforeAll(async () => {
    dir = stateDir("pg");
    app = await startAppPostgres({ stateDir: dir, port: await freePort() });
    running.push(app);
    appPassword = decodeURIComponent(new URL(app.url).password);
  });

  it("keeps both generated passwords in owner-only files and hands the app its own role", () => {
    for (const file of ["postgres-superuser-password", "postgres-app-password"]) {
      expect(mode(path.join(dir, file))).toBe(0o600);
      expect(readFileSync(path.join(dir, file), "utf8").trim()).toMatch(/^[0-9a-f]{48}$/);
    }
    const url = new URL(app.url);
    expect(url.username).toBe(APP_ROLE);
    expect(url.pathname).toBe("/sluice");
    expect(readFileSync(path.join(dir, "postgres-app-password"), "utf8").trim()).toBe(appPassword);
  });

  it("refuses connections without the password, and the superuser with the app's password", async () => {
    expect(await refusal(withUser(app.url, "postgres"))).toBeDefined();
    expect(await refusal(withUser(app.url, "postgres", "wrong"))).toBe("28P01");
    expect(await refusal(withUser(app.url, "postgres", appPassword))).toBe("28P01");
    expect(await refusal(withUser(app.url, "postgres", appPassword, "postgres"))).toBe("28P01");
    expect(await refusal(withUser(app.url, APP_ROLE, "wrong"))).toBe("28P01");
    const hba = readFileSync(path.join(dir, "postgres", "pg_hba.conf"), "utf8");
    expect(hba).not.toMatch(/\btrust\b/);
    expect(hba).toMatch(/scram-sha-256/);
  });

  it("gives the app a role that cannot read files, reach other databases or make roles", async () => {
    // Another database on the same server (made by an administrator), then the next start's check.
    const admin = await connect(app.adminUrl!);
    await admin.query("CREATE DATABASE other_app");
    await admin.end();
    await ensureAppDatabase(app.adminUrl!, { database: "sluice", role: APP_ROLE, password: appPassword });

    const client = await connect(app.url);
    try {
      const role = await client.query(
        "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls FROM pg_roles WHERE rolname = current_user",
      );
      expect(role.rows[0]).toEqual({
        rolsuper: false,
        rolcreatedb: false,
        rolcreaterole: false,
        rolreplication: false,
        rolbypassrls: false,
      });
      const owner = await client.query(
        "SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = current_database()",
      );
      expect(owner.rows[0].owner).toBe(APP_ROLE);
    } finally {
      await client.end();
    }
    expect(await refusal(app.url, "SELECT pg_read_file('/etc/passwd')")).toBe("42501");
    expect(await refusal(app.url, "COPY (SELECT 1) TO PROGRAM 'true'")).toBe("42501");
    expect(await refusal(app.url, "CREATE ROLE intruder LOGIN SUPERUSER")).toBe("42501");
    expect(await refusal(app.url, "CREATE DATABASE intruder")).toBe("42501");
    expect(await refusal(withUser(app.url, APP_ROLE, appPassword, "postgres"))).toBe("42501");
    expect(await refusal(withUser(app.url, APP_ROLE, appPassword, "other_app"))).toBe("42501");
  });

  it("runs the migrations as the app role", async () => {
    await deployMigrations({ databaseUrl: app.url, prismaDir });
    const client = await connect(app.url);
    try {
      const tables = await client.query(
        "SELECT count(*)::int AS n, count(*) FILTER (WHERE tableowner <> $1)::int AS foreign FROM pg_tables WHERE schemaname = 'public'",
        [APP_ROLE],
      );
      expect(tables.rows[0].n).toBeGreaterThan(5);
      expect(tables.rows[0].foreign).toBe(0);
    } finally {
      await client.end();
    }
  });
});

describe("an embedded PostgreSQL from before passwords", () => {
  it("is upgraded in place: password set, trust gone, the app role owns the database and its objects", async () => {
    const dir = stateDir("pg-upgrade");
    const port = await freePort();
    const dataDir = path.join(dir, "postgres");
    // What an earlier version left: superuser without a password, trust for everyone, the app's objects owned by
    // postgres (its migrations ran as the superuser).
    const old = await startEmbeddedPostgres({ dataDir, port, logFile: path.join(dir, "postgres.log") });
    const admin = await connect(old.adminUrl);
    await admin.query("CREATE DATABASE sluice");
    await admin.end();
    const inSluice = await connect(old.adminUrl.replace(/\/postgres$/, "/sluice"));
    await inSluice.query(`
      CREATE TYPE "Role" AS ENUM ('OWNER', 'VIEWER');
      CREATE TABLE "Account" (id serial PRIMARY KEY, email text NOT NULL, role "Role" NOT NULL);
      CREATE SEQUENCE "Ticket";
      CREATE VIEW "Emails" AS SELECT email FROM "Account";
      CREATE FUNCTION "greet"(name text) RETURNS text LANGUAGE sql AS $$ SELECT 'hello ' || name $$;
      INSERT INTO "Account" (email, role) VALUES ('a@example.com', 'OWNER');
    `);
    await inSluice.end();
    const superuser = await connect(old.adminUrl);
    await superuser.query("ALTER ROLE postgres PASSWORD NULL");
    await superuser.end();
    await old.stop();
    writeFileSync(
      path.join(dataDir, "pg_hba.conf"),
      "local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n",
    );
    expect(existsSync(path.join(dir, "postgres-superuser-password"))).toBe(false);

    const app = await startAppPostgres({ stateDir: dir, port });
    running.push(app);
    expect(mode(path.join(dir, "postgres-superuser-password"))).toBe(0o600);
    expect(await refusal(withUser(app.url, "postgres"))).toBeDefined();
    expect(await refusal(withUser(app.url, "postgres", "wrong"))).toBe("28P01");

    const client = await connect(app.url);
    try {
      const owners = await client.query(`
        SELECT c.relname AS name, pg_get_userbyid(c.relowner) AS owner FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'S', 'v')
        UNION ALL SELECT t.typname, pg_get_userbyid(t.typowner) FROM pg_type t WHERE t.typname = 'Role'
        UNION ALL SELECT p.proname, pg_get_userbyid(p.proowner) FROM pg_proc p WHERE p.proname = 'greet'
        ORDER BY 1`);
      expect(owners.rows).toEqual(
        ["Account", "Account_id_seq", "Emails", "Role", "Ticket", "greet"].map((name) => ({ name, owner: APP_ROLE })),
      );
      await client.query(`INSERT INTO "Account" (email, role) VALUES ('b@example.com', 'VIEWER')`);
      await client.query(`ALTER TABLE "Account" ADD COLUMN name text`);
      const emails = await client.query(`SELECT email FROM "Emails" ORDER BY email`);
      expect(emails.rows.map((r) => r.email)).toEqual(["a@example.com", "b@example.com"]);
    } finally {
      await client.end();
    }

    // The next start finds everything in place and changes nothing.
    await app.stop();
    running.splice(running.indexOf(app), 1);
    const again = await startAppPostgres({ stateDir: dir, port });
    running.push(again);
    expect(again.url).toBe(app.url);
    expect(await refusal(again.url, `SELECT count(*) FROM "Account"`)).toBeUndefined();
  });
});

describe("the private redis-server of npm start", () => {
  let dir: string;
  let redis: Service;

  beforeAll(async () => {
    dir = stateDir("redis");
    redis = await startAppRedis({ stateDir: dir, port: await freePort() });
    running.push(redis);
  });

  it("keeps the generated password in an owner-only file and puts it in the app's URL", () => {
    const file = path.join(dir, "redis-password");
    expect(mode(file)).toBe(0o600);
    const url = new URL(redis.url);
    expect(url.username).toBe(APP_REDIS_USER);
    expect(decodeURIComponent(url.password)).toBe(readFileSync(file, "utf8").trim());
    expect(readFileSync(path.join(dir, "redis", "users.acl"), "utf8")).not.toContain(url.password);
  });

  it("refuses every command without the password", async () => {
    const { port } = new URL(redis.url);
    const bare = `redis://127.0.0.1:${port}`;
    expect(await redisPing(bare)).toMatch(/^-NOAUTH/);
    expect(await redisPing(`redis://default:x@127.0.0.1:${port}`)).toMatch(/^-WRONGPASS/);
    expect(await redisPing(`redis://${APP_REDIS_USER}:wrong@127.0.0.1:${port}`)).toMatch(/^-WRONGPASS/);
    expect(await redisPing(redis.url)).toBe("+PONG");
  });

  it("lets the app's user run BullMQ but not administer the server", async () => {
    const client = new Redis(redis.url, { maxRetriesPerRequest: null });
    const workerClient = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue("acl-check", { connection: client, prefix: "t" });
    const worker = new Worker("acl-check", async (job) => job.data.n * 2, { connection: workerClient, prefix: "t" });
    try {
      const job = await queue.add("double", { n: 21 });
      const result = await new Promise((resolve, reject) => {
        worker.on("completed", (done, value) => done.id === job.id && resolve(value));
        worker.on("failed", (_job, error) => reject(error));
      });
      expect(result).toBe(42);
      await expect(client.call("CONFIG", "SET", "dir", "/tmp")).rejects.toThrow(/NOPERM/);
      await expect(client.call("ACL", "LIST")).rejects.toThrow(/NOPERM/);
      await expect(client.call("MODULE", "LIST")).rejects.toThrow(/NOPERM/);
    } finally {
      await worker.close();
      await queue.close();
      client.disconnect();
      workerClient.disconnect();
    }
  });
});
