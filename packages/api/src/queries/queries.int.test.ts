import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { createTestMariaDb, type TestMariaDb } from "@sluice/nodes/connectors/mariadb/mariadb-test-db";
import { createTestDatabase, type TestDatabase } from "@sluice/scripts/lib/test-db";
import { type ApiHarness, createApiHarness, rejects } from "@sluice/test-kit/api-harness";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The query page's procedures end to end, against the local PostgreSQL and MariaDB and real files: a query
// connection refuses writes, a query past its timeout is cancelled on the server, `queries.cancel` stops the
// caller's query in flight, and files queries read only the workspace's own folder.

let h: ApiHarness;
let target: TestDatabase;
let maria: TestMariaDb;
let filesDir: string;
let cookie: string;
let workspaceId: string;
let pgId: string;
let mariaId: string;

async function api(as = cookie) {
  return (await h.caller(as)).api;
}

async function pgSql<R = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: target.url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as R[];
  } finally {
    await client.end();
  }
}

async function pgRunning(marker: string): Promise<number> {
  const rows = await pgSql<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1 AND pid <> pg_backend_pid()",
    [`%${marker}%`],
  );
  return rows[0]!.n;
}

beforeAll(async () => {
  filesDir = await mkdtemp(path.join(tmpdir(), "sluice-queries-"));
  h = await createApiHarness("queries", { filesDir });
  target = await createTestDatabase("queries-target");
  maria = await createTestMariaDb();
  await pgSql("CREATE TABLE orders (id int PRIMARY KEY, amount numeric(10,2), placed timestamptz)");
  await pgSql(
    "INSERT INTO orders SELECT g, g * 1.25, '2024-01-01T00:00:00Z'::timestamptz + g * interval '1 minute' FROM generate_series(1, 20) g",
  );
  await maria.query("CREATE TABLE orders (id INT PRIMARY KEY)");
  await maria.query("INSERT INTO orders SELECT seq FROM seq_1_to_20");
  ({ cookie } = await h.signUp("Querier"));
  const me = await api();
  const u = new URL(target.url);
  pgId = (
    await me.connections.create({
      name: "warehouse",
      type: "postgres",
      config: {
        host: u.hostname,
        port: Number(u.port || 5432),
        database: target.name,
        user: decodeURIComponent(u.username || "postgres"),
        ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
      },
    })
  ).id;
  mariaId = (
    await me.connections.create({
      name: "shop",
      type: "mariadb",
      config: maria.config as unknown as Record<string, unknown>,
    })
  ).id;
  workspaceId = (await h.db.connection.findUniqueOrThrow({ where: { id: pgId } })).workspaceId;
  // Files: the workspace's own, and another workspace's next to it.
  await mkdir(path.join(filesDir, workspaceId, "counts"), { recursive: true });
  await mkdir(path.join(filesDir, "other-workspace"), { recursive: true });
  const instance = await DuckDBInstance.create(":memory:");
  const writer = await instance.connect();
  await writer.run(
    `COPY (SELECT range AS minute, range % 3 AS shop, 10 AS n FROM range(600)) TO '${path.join(filesDir, workspaceId, "counts/part-0.parquet")}' (FORMAT parquet)`,
  );
  await writer.run(
    `COPY (SELECT 'theirs' AS secret) TO '${path.join(filesDir, "other-workspace", "x.parquet")}' (FORMAT parquet)`,
  );
  writer.closeSync();
  instance.closeSync();
});

afterAll(async () => {
  await h?.close();
  await target?.drop();
  await maria?.drop();
  await rm(filesDir, { recursive: true, force: true });
});

describe("queries", () => {
  it("lists the query-capable connections and the files", async () => {
    expect(await (await api()).queries.sources()).toEqual([
      { kind: "connection", connectionId: mariaId, name: "shop", type: "mariadb", dialect: "mysql" },
      { kind: "connection", connectionId: pgId, name: "warehouse", type: "postgres", dialect: "postgresql" },
      { kind: "files", name: "Files", dialect: "duckdb" },
    ]);
  });

  it("runs a PostgreSQL query and returns typed, JSON-safe rows", async () => {
    const result = await (await api()).queries.run({
      source: { kind: "connection", connectionId: pgId },
      sql: "SELECT id, amount, placed FROM orders ORDER BY id",
      limit: 3,
      queryId: "pg-select-1",
    });
    expect(result.columns).toEqual([
      { name: "id", type: "int4", kind: "number" },
      { name: "amount", type: "numeric", kind: "number" },
      { name: "placed", type: "timestamptz", kind: "time" },
    ]);
    expect(result.rows).toEqual([
      [1, "1.25", "2024-01-01T00:01:00Z"],
      [2, "2.50", "2024-01-01T00:02:00Z"],
      [3, "3.75", "2024-01-01T00:03:00Z"],
    ]);
    expect(result.truncated).toBe(true);
    expect(result.elapsedMs).toBeGreaterThanOrEqual(result.engineMs);
  });

  it("refuses writes on a query connection, naming the connection, and changes nothing", async () => {
    const me = await api();
    const insert = await rejects(
      me.queries.run({
        source: { kind: "connection", connectionId: pgId },
        sql: "INSERT INTO orders VALUES (100, 1, now())",
        queryId: "pg-insert-1",
      }),
    );
    expect(insert.code).toBe("BAD_REQUEST");
    expect(insert.message).toBe('connection "warehouse": cannot execute INSERT in a read-only transaction');
    const sneaky = await rejects(
      me.queries.run({
        source: { kind: "connection", connectionId: pgId },
        sql: "SELECT 1; DELETE FROM orders",
        queryId: "pg-delete-1",
      }),
    );
    expect(sneaky.code).toBe("BAD_REQUEST");
    expect(await pgSql("SELECT count(*)::int AS n FROM orders")).toEqual([{ n: 20 }]);
    const mariaInsert = await rejects(
      me.queries.run({
        source: { kind: "connection", connectionId: mariaId },
        sql: "CREATE TABLE sneaky (id INT)",
        queryId: "maria-create-1",
      }),
    );
    expect(mariaInsert.code).toBe("BAD_REQUEST");
    expect(mariaInsert.message).toMatch(/^connection "shop": Cannot execute statement in a READ ONLY transaction/);
    expect(await maria.query("SHOW TABLES LIKE 'sneaky'")).toEqual([]);
  });

  it("cancels a query past its timeout on the server", async () => {
    const started = Date.now();
    const err = await rejects(
      (await api()).queries.run({
        source: { kind: "connection", connectionId: pgId },
        sql: "SELECT pg_sleep(10) AS api_timeout_marker",
        timeoutMs: 500,
        queryId: "pg-timeout-1",
      }),
    );
    expect(err.code).toBe("TIMEOUT");
    expect(err.message).toBe(
      'connection "warehouse": the query ran longer than its timeout of 500 ms and was cancelled on the server',
    );
    expect(Date.now() - started).toBeLessThan(3000);
    await expect.poll(() => pgRunning("api_timeout_marker"), { timeout: 2000 }).toBe(0);
  });

  it("cancels the caller's own query in flight, and no one else's", async () => {
    const me = await api();
    const pending = rejects(
      me.queries.run({
        source: { kind: "connection", connectionId: pgId },
        sql: "SELECT pg_sleep(20) AS api_cancel_marker",
        queryId: "pg-cancel-1",
      }),
    );
    await expect.poll(() => pgRunning("api_cancel_marker"), { timeout: 5000 }).toBe(1);
    // Another editor of the workspace with the same query id cancels nothing of this caller's.
    const other = await h.signUp("Colleague");
    const colleague = await h.db.user.findFirstOrThrow({ where: { email: other.email } });
    await h.db.membership.create({ data: { userId: colleague.id, workspaceId, role: "EDITOR" } });
    const theirs = (await h.caller(other.cookie, workspaceId)).api;
    expect(await theirs.queries.cancel({ queryId: "pg-cancel-1" })).toEqual({ cancelled: false });
    expect(await pgRunning("api_cancel_marker")).toBe(1);
    expect(await me.queries.cancel({ queryId: "pg-cancel-1" })).toEqual({ cancelled: true });
    const err = await pending;
    expect(err.code).toBe("CLIENT_CLOSED_REQUEST");
    expect(err.message).toBe('connection "warehouse": the query was cancelled');
    await expect.poll(() => pgRunning("api_cancel_marker"), { timeout: 2000 }).toBe(0);
  });

  it("honours a cancel that reached another process, or came before the query", async () => {
    // No process here runs "pg-early-cancel": the cancel is left in Redis for the one that will.
    const me = await api();
    expect(await me.queries.cancel({ queryId: "pg-early-cancel" })).toEqual({ cancelled: false });
    const err = await rejects(
      me.queries.run({
        source: { kind: "connection", connectionId: pgId },
        sql: "SELECT pg_sleep(20) AS api_early_cancel_marker",
        queryId: "pg-early-cancel",
      }),
    );
    expect(err.code).toBe("CLIENT_CLOSED_REQUEST");
    await expect.poll(() => pgRunning("api_early_cancel_marker"), { timeout: 2000 }).toBe(0);
  });

  it("queries the workspace's files and refuses another workspace's", async () => {
    const me = await api();
    const result = await me.queries.run({
      source: { kind: "files" },
      sql: "SELECT shop, sum(n) AS total FROM 'counts/*.parquet' GROUP BY shop ORDER BY shop",
      queryId: "files-query-1",
    });
    expect(result.rows).toEqual([
      [0, 2000],
      [1, 2000],
      [2, 2000],
    ]);
    const theirs = await rejects(
      me.queries.run({
        source: { kind: "files" },
        sql: "SELECT * FROM '../other-workspace/x.parquet'",
        queryId: "files-query-2",
      }),
    );
    expect(theirs.code).toBe("BAD_REQUEST");
    expect(theirs.message).toBe(
      'files: "../other-workspace/x.parquet" is outside this workspace\'s files: use a path inside them, e.g. "orders/*.parquet"',
    );
    const absolute = await rejects(
      me.queries.run({
        source: { kind: "files" },
        sql: `SELECT * FROM '${path.join(filesDir, "other-workspace", "x.parquet")}'`,
        queryId: "files-query-3",
      }),
    );
    expect(absolute.code).toBe("BAD_REQUEST");
    expect(absolute.message).not.toContain("theirs");
    const write = await rejects(
      me.queries.run({ source: { kind: "files" }, sql: "COPY (SELECT 1) TO 'x.csv'", queryId: "files-query-4" }),
    );
    expect(write.code).toBe("BAD_REQUEST");
  });

  it("lists tables with columns for a connection and data files for the files", async () => {
    const me = await api();
    const pgSchema = await me.queries.schema({ source: { kind: "connection", connectionId: pgId } });
    // The target is a database of its own (with Sluice's tables in it); the one this test made:
    expect(pgSchema.tables.filter((t) => t.name === "orders")).toEqual([
      {
        name: "orders",
        kind: "table",
        columns: [
          { name: "id", type: "int" },
          { name: "amount", type: "float" },
          { name: "placed", type: "timestamp" },
        ],
      },
    ]);
    const files = await me.queries.schema({ source: { kind: "files" } });
    expect(files.tables).toEqual([
      {
        name: "counts/part-0.parquet",
        kind: "file",
        columns: [
          { name: "minute", type: "BIGINT" },
          { name: "shop", type: "BIGINT" },
          { name: "n", type: "INTEGER" },
        ],
      },
    ]);
  });

  it("keeps the query's text out of the audit log", async () => {
    const entries = await h.db.auditEntry.findMany({ where: { workspaceId, action: "queries.run" } });
    expect(entries.length).toBeGreaterThan(0);
    const stored = JSON.stringify(
      entries.map(({ action, targetType, targetId, details }) => ({ action, targetType, targetId, details })),
    );
    expect(stored).not.toMatch(/SELECT|pg_sleep|orders/i);
  });
});
