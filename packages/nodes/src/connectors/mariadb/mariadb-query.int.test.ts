import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QueryError, type QueryRequest } from "../../connection-runtime";
import { local } from "../../testing/local-destinations";
import { mariadbConnectionRuntime } from "./mariadb-connection.run";
import { createTestMariaDb, type TestMariaDb } from "./mariadb-test-db";

// The query page's queries against the real local MariaDB: values come back JSON-safe, writes (DDL included, whose
// implicit commit would otherwise end the read-only transaction) are refused, and a statement past its timeout or
// cancelled is gone from the server's process list.

let db: TestMariaDb;

beforeAll(async () => {
  db = await createTestMariaDb();
  await db.query("CREATE TABLE orders (id INT PRIMARY KEY, note TEXT)");
  await db.query("INSERT INTO orders SELECT seq, CONCAT('order ', seq) FROM seq_1_to_50");
});

afterAll(async () => {
  await db?.drop();
});

function run(sql: string, options: Partial<QueryRequest> = {}, signal = AbortSignal.timeout(20_000)) {
  const query = mariadbConnectionRuntime.query!;
  return query(db.config, { sql, limit: 100, timeoutMs: 10_000, ...options }, signal, local);
}

async function failure(promise: Promise<unknown>): Promise<QueryError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(QueryError);
  return err as QueryError;
}

/** Statements the server is running now whose text contains `marker`. */
async function running(marker: string): Promise<string[]> {
  const rows = await db.query<{ info: string }[]>(
    "SELECT INFO AS info FROM information_schema.PROCESSLIST WHERE COMMAND = 'Query' AND INFO LIKE ? AND ID <> CONNECTION_ID()",
    [`%${marker}%`],
  );
  return rows.map((r) => r.info);
}

async function orderCount(): Promise<number> {
  const rows = await db.query<{ n: number }[]>("SELECT COUNT(*) AS n FROM orders");
  return Number(rows[0]!.n);
}

describe("mariadb query", () => {
  it("returns typed columns and JSON-safe values", async () => {
    const result = await run(
      `SELECT 42 AS i, CAST(12.5 AS DECIMAL(10,2)) AS n, CAST('hi' AS CHAR) AS t,
              TIMESTAMP('2024-05-06 07:08:09.123') AS ts, JSON_OBJECT('a', JSON_ARRAY(1, 2)) AS j,
              TRUE AS b, 9007199254740993 AS big, NULL AS nothing`,
    );
    expect(result.columns.map((c) => [c.name, c.kind])).toEqual([
      ["i", "number"],
      ["n", "number"],
      ["t", "string"],
      ["ts", "time"],
      ["j", "json"],
      ["b", "number"],
      ["big", "number"],
      ["nothing", "other"],
    ]);
    expect(result.columns.find((c) => c.name === "n")?.type).toBe("DECIMAL");
    expect(result.rows).toEqual([
      [42, "12.50", "hi", "2024-05-06T07:08:09.123", { a: [1, 2] }, 1, "9007199254740993", null],
    ]);
  });

  it("reads table columns by their declared types", async () => {
    await db.query(
      "CREATE TABLE typed (b BOOLEAN, ts TIMESTAMP(3) NULL, dt DATETIME, j JSON, big BIGINT, bin VARBINARY(4))",
    );
    await db.query(
      "INSERT INTO typed VALUES (1, '2024-05-06 07:08:09.500', '2024-01-02 03:04:05', '{\"k\": true}', 5, 0x0102)",
    );
    const result = await run("SELECT * FROM typed");
    expect(result.columns).toEqual([
      { name: "b", type: "TINYINT(1)", kind: "boolean" },
      { name: "ts", type: "TIMESTAMP", kind: "time" },
      { name: "dt", type: "DATETIME", kind: "time" },
      { name: "j", type: "JSON", kind: "json" },
      { name: "big", type: "BIGINT", kind: "number" },
      { name: "bin", type: "VARBINARY", kind: "other" },
    ]);
    expect(result.rows).toEqual([[true, "2024-05-06T07:08:09.500Z", "2024-01-02T03:04:05", { k: true }, 5, "AQI="]]);
  });

  it("refuses writes and DDL, and changes nothing", async () => {
    for (const sql of [
      "INSERT INTO orders VALUES (999, 'x')",
      "UPDATE orders SET note = 'x'",
      "CREATE TABLE sneaky (id INT)",
      "DROP TABLE orders",
    ]) {
      const err = await failure(run(sql));
      expect(err.reason).toBe("refused");
      expect(err.message).toBe(
        "Cannot execute statement in a READ ONLY transaction: the query page only reads (the statement would write)",
      );
    }
    expect(await orderCount()).toBe(50);
    expect(await db.query("SHOW TABLES LIKE 'sneaky'")).toEqual([]);
  });

  it("refuses INTO OUTFILE and DUMPFILE, which write files on the server, however they are hidden", async () => {
    for (const [sql, what] of [
      ["SELECT id FROM orders INTO OUTFILE '/tmp/sluice-query-out.txt'", "OUTFILE"],
      ["SELECT id FROM orders /*!INTO dumpfile '/tmp/sluice-query-dump.txt' */", "DUMPFILE"],
    ] as const) {
      const err = await failure(run(sql));
      expect(err.message).toBe(
        `INTO ${what} is refused: it writes a file on the database server, and the query page only reads`,
      );
    }
    // Words in strings and comments are no statement.
    const quoted = await run("SELECT 'INTO OUTFILE' AS s /* INTO DUMPFILE */ -- INTO OUTFILE\n");
    expect(quoted.rows).toEqual([["INTO OUTFILE"]]);
  });

  it("refuses more than one statement", async () => {
    for (const sql of ["SELECT 1; DELETE FROM orders", "COMMIT; DELETE FROM orders"]) {
      const err = await failure(run(sql));
      expect(err.reason).toBe("refused");
      expect(err.message).toMatch(
        /^You have an error in your SQL syntax.*near 'DELETE FROM orders'.*\(a query is one statement\)$/s,
      );
    }
    expect(await orderCount()).toBe(50);
  });

  it("gives a syntax error with the server's message and where it is", async () => {
    const err = await failure(run("SELECT id,\n  FROM orders"));
    expect(err.reason).toBe("refused");
    expect(err.message).toMatch(/^You have an error in your SQL syntax; .* near 'FROM orders' at line 2$/);
  });

  it("stops at the row limit and says the result is truncated", async () => {
    const result = await run("SELECT id FROM orders ORDER BY id", { limit: 10 });
    expect(result.rows).toEqual(Array.from({ length: 10 }, (_, i) => [i + 1]));
    expect(result.truncated).toBe(true);
    const exact = await run("SELECT id FROM orders", { limit: 50 });
    expect(exact.rows).toHaveLength(50);
    expect(exact.truncated).toBe(false);
    const started = Date.now();
    const huge = await run("SELECT a.id AS huge_marker FROM orders a, orders b, orders c, orders d", { limit: 5 });
    expect(huge.rows).toHaveLength(5);
    expect(huge.truncated).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
    await expect.poll(() => running("huge_marker"), { timeout: 2000 }).toEqual([]);
  });

  it("stops a statement past its timeout on the server", async () => {
    const started = Date.now();
    const err = await failure(run("SELECT SLEEP(10) AS slept_for_timeout", { timeoutMs: 500 }));
    expect(err.reason).toBe("timeout");
    expect(err.message).toBe("the query ran longer than its timeout of 500 ms and was stopped on the server");
    expect(Date.now() - started).toBeLessThan(3000);
    await expect.poll(() => running("slept_for_timeout"), { timeout: 2000 }).toEqual([]);
  });

  it("stops a statement on the server when the caller aborts", async () => {
    const controller = new AbortController();
    const pending = failure(run("SELECT SLEEP(10) AS slept_for_cancel", {}, controller.signal));
    await expect.poll(() => running("slept_for_cancel"), { timeout: 5000 }).toHaveLength(1);
    controller.abort();
    const err = await pending;
    expect(err.reason).toBe("cancelled");
    await expect.poll(() => running("slept_for_cancel"), { timeout: 2000 }).toEqual([]);
  });
});
