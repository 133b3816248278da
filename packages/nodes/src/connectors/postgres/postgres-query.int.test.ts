import { createTestDatabase, type TestDatabase } from "@sluice/scripts/lib/test-db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QueryError, type QueryRequest } from "../../connection-runtime";
import { local } from "../../testing/local-destinations";
import { postgresConnection } from "./postgres-connection.def";
import { postgresConnectionRuntime } from "./postgres-connection.run";
import { type PgTarget, sql, targetFromUrl } from "./testing/postgres-test-support";

// The query page's queries against the real test PostgreSQL: values come back JSON-safe, writes are refused by the
// server, and a statement past its timeout (or cancelled) is gone from the server, not just abandoned.

let db: TestDatabase;
let target: PgTarget;

beforeAll(async () => {
  db = await createTestDatabase("pg-query");
  target = targetFromUrl(db.url);
  await sql(target, "CREATE TABLE orders (id int PRIMARY KEY, note text)");
  await sql(target, "INSERT INTO orders SELECT g, 'order ' || g FROM generate_series(1, 50) g");
});

afterAll(async () => {
  await db?.drop();
});

const config = () => postgresConnection.config.parse({ ...target, applicationName: `sluice-q-${db.name}` });

function run(sqlText: string, options: Partial<QueryRequest> = {}, signal = AbortSignal.timeout(20_000)) {
  const query = postgresConnectionRuntime.query!;
  return query(config(), { sql: sqlText, limit: 100, timeoutMs: 10_000, ...options }, signal, local);
}

async function failure(promise: Promise<unknown>): Promise<QueryError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(QueryError);
  return err as QueryError;
}

/** The statements of this test's sessions the server is running now. */
async function running(like: string): Promise<string[]> {
  const rows = await sql<{ query: string }>(
    target,
    "SELECT query FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND pid <> pg_backend_pid() AND query LIKE $2",
    [db.name, like],
  );
  return rows.map((r) => r.query);
}

describe("postgres query", () => {
  it("returns typed columns and JSON-safe values", async () => {
    const result = await run(
      `SELECT 42::int AS i, 12.50::numeric(10,2) AS n, 'hi'::text AS t,
              '2024-05-06 07:08:09.123+02'::timestamptz AS ts, '{"a":[1,2]}'::jsonb AS j, true AS b,
              9007199254740993::bigint AS big, 7::bigint AS small, NULL::int AS nothing`,
    );
    expect(result.columns).toEqual([
      { name: "i", type: "int4", kind: "number" },
      { name: "n", type: "numeric", kind: "number" },
      { name: "t", type: "text", kind: "string" },
      { name: "ts", type: "timestamptz", kind: "time" },
      { name: "j", type: "jsonb", kind: "json" },
      { name: "b", type: "bool", kind: "boolean" },
      { name: "big", type: "int8", kind: "number" },
      { name: "small", type: "int8", kind: "number" },
      { name: "nothing", type: "int4", kind: "number" },
    ]);
    expect(result.rows).toEqual([
      [42, "12.50", "hi", "2024-05-06T05:08:09.123Z", { a: [1, 2] }, true, "9007199254740993", 7, null],
    ]);
    expect(result.truncated).toBe(false);
  });

  it("refuses writes and DDL in its read-only transaction, and changes nothing", async () => {
    const insert = await failure(run("INSERT INTO orders VALUES (999, 'x')"));
    expect(insert.reason).toBe("refused");
    expect(insert.message).toBe("cannot execute INSERT in a read-only transaction");
    const create = await failure(run("CREATE TABLE sneaky (id int)"));
    expect(create.message).toBe("cannot execute CREATE TABLE in a read-only transaction");
    const update = await failure(run("UPDATE orders SET note = 'x'"));
    expect(update.message).toBe("cannot execute UPDATE in a read-only transaction");
    expect(
      await sql(target, "SELECT count(*)::int AS n, count(*) FILTER (WHERE note = 'x')::int AS x FROM orders"),
    ).toEqual([{ n: 50, x: 0 }]);
    expect(await sql(target, "SELECT to_regclass('sneaky') AS t")).toEqual([{ t: null }]);
  });

  it("refuses more than one statement, so a COMMIT cannot end the read-only transaction", async () => {
    for (const text of ["SELECT 1; DELETE FROM orders", "COMMIT; DELETE FROM orders"]) {
      const err = await failure(run(text));
      expect(err.reason).toBe("refused");
      expect(err.message).toMatch(/more than one \(cannot insert multiple commands into a prepared statement\)/);
    }
    expect(await sql(target, "SELECT count(*)::int AS n FROM orders")).toEqual([{ n: 50 }]);
  });

  it("refuses COPY and DO, which reach beyond the database (server files, programs)", async () => {
    for (const [text, word] of [
      ["COPY orders TO '/tmp/sluice-query-copy.txt'", "COPY"],
      ["/* a /* nested */ comment */ copy orders to program 'true'", "COPY"],
      ["DO $$ BEGIN PERFORM 1; END $$", "DO"],
    ] as const) {
      const err = await failure(run(text));
      expect(err.reason).toBe("refused");
      expect(err.message).toBe(`${word} statements are refused: the query page only reads (SELECT, WITH, …)`);
    }
  });

  it("gives a syntax error with the server's message and where it is", async () => {
    const err = await failure(run("SELECT id,\n  FROM orders"));
    expect(err.reason).toBe("refused");
    expect(err.message).toBe('syntax error at or near "FROM" (at line 2, column 3)');
  });

  it("stops at the row limit and says the result is truncated", async () => {
    const result = await run("SELECT id FROM orders ORDER BY id", { limit: 10 });
    expect(result.rows).toEqual(Array.from({ length: 10 }, (_, i) => [i + 1]));
    expect(result.truncated).toBe(true);
    const exact = await run("SELECT id FROM orders", { limit: 50 });
    expect(exact.rows).toHaveLength(50);
    expect(exact.truncated).toBe(false);
    // A huge result (6 million rows) is never read whole: the first page is all the server sends.
    const started = Date.now();
    const huge = await run("SELECT a.id FROM orders a, orders b, orders c, orders d", { limit: 5 });
    expect(huge.rows).toHaveLength(5);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(huge.truncated).toBe(true);
  });

  it("cuts a result at the byte cap", async () => {
    const result = await run("SELECT repeat('x', 1000) FROM generate_series(1, 1000)", {
      limit: 1000,
      maxBytes: 10_000,
    });
    expect(result.truncated).toBe(true);
    expect(result.rows.length).toBeGreaterThan(5);
    expect(result.rows.length).toBeLessThan(15);
  });

  it("cancels a statement past its timeout on the server", async () => {
    const started = Date.now();
    const err = await failure(run("SELECT pg_sleep(10) AS slept_for_timeout", { timeoutMs: 500 }));
    expect(err.reason).toBe("timeout");
    expect(err.message).toBe("the query ran longer than its timeout of 500 ms and was cancelled on the server");
    expect(Date.now() - started).toBeLessThan(3000);
    await expect.poll(() => running("%slept_for_timeout%"), { timeout: 2000 }).toEqual([]);
  });

  it("cancels a statement on the server when the caller aborts", async () => {
    const controller = new AbortController();
    const pending = failure(run("SELECT pg_sleep(10) AS slept_for_cancel", {}, controller.signal));
    await expect.poll(() => running("%slept_for_cancel%"), { timeout: 5000 }).toHaveLength(1);
    controller.abort();
    const err = await pending;
    expect(err.reason).toBe("cancelled");
    expect(err.message).toBe("the query was cancelled");
    await expect.poll(() => running("%slept_for_cancel%"), { timeout: 2000 }).toEqual([]);
  });
});
