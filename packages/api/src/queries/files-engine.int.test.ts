import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { QueryError, type QueryRequest } from "@sluice/nodes/connection-runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeFiles, runFilesQuery, workspaceFilesRoot } from "./files-engine";

// Queries over a workspace's files through the embedded DuckDB, against real files written by an unrestricted
// DuckDB: the answers are right, and nothing outside the workspace's folder can be read or written.

let filesDir: string;
let root: string;
let otherRoot: string;

beforeAll(async () => {
  filesDir = await mkdtemp(path.join(tmpdir(), "sluice-files-engine-"));
  await mkdir(path.join(filesDir, "ws_one", "orders"), { recursive: true });
  await mkdir(path.join(filesDir, "ws_two"), { recursive: true });
  root = await workspaceFilesRoot(filesDir, "ws_one");
  otherRoot = await workspaceFilesRoot(filesDir, "ws_two");
  const instance = await DuckDBInstance.create(":memory:");
  const writer = await instance.connect();
  const at = (p: string) => `'${p.replace(/'/g, "''")}'`;
  await writer.run(
    `COPY (SELECT range AS id, range % 7 AS shop, range * 1.5::DOUBLE AS amount,
                  TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_minutes(range) AS placed_at
             FROM range(10000)) TO ${at(path.join(root, "orders/2024.parquet"))} (FORMAT parquet)`,
  );
  await writer.run(
    `COPY (SELECT range AS id, 'shop ' || range AS name FROM range(7)) TO ${at(path.join(root, "shops.csv"))} (HEADER)`,
  );
  await writer.run(
    `COPY (SELECT range AS id, range % 2 = 0 AS even FROM range(100)) TO ${at(path.join(root, "events.jsonl"))} (FORMAT json)`,
  );
  await writer.run(
    `COPY (SELECT 'secret' AS s FROM range(3)) TO ${at(path.join(otherRoot, "private.parquet"))} (FORMAT parquet)`,
  );
  writer.closeSync();
  instance.closeSync();
  await symlink(path.join(otherRoot, "private.parquet"), path.join(root, "planted.parquet"));
});

afterAll(async () => {
  await rm(filesDir, { recursive: true, force: true });
});

function run(sql: string, options: Partial<QueryRequest> = {}, signal = AbortSignal.timeout(30_000)) {
  return runFilesQuery(root, { sql, limit: 1000, timeoutMs: 10_000, ...options }, signal);
}

async function refusal(sql: string): Promise<QueryError> {
  const err = await run(sql).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(QueryError);
  return err as QueryError;
}

describe("files engine", () => {
  it("aggregates a Parquet file by a path relative to the workspace's folder", async () => {
    const result = await run(
      "SELECT shop, count(*) AS n, sum(amount) AS total, max(placed_at) AS last FROM 'orders/2024.parquet' GROUP BY shop ORDER BY shop",
    );
    expect(result.columns).toEqual([
      { name: "shop", type: "BIGINT", kind: "number" },
      { name: "n", type: "BIGINT", kind: "number" },
      { name: "total", type: "DOUBLE", kind: "number" },
      { name: "last", type: "TIMESTAMP WITH TIME ZONE", kind: "time" },
    ]);
    expect(result.rows).toHaveLength(7);
    // Shop 0 holds ids 0, 7, …, 9996: 1429 of them.
    expect(result.rows[0]).toEqual([0, 1429, 1.5 * 7 * ((1428 * 1429) / 2), "2024-01-07T22:36:00Z"]);
    const totals = await run("SELECT count(*), sum(id) FROM read_parquet(['orders/*.parquet'])");
    expect(totals.rows).toEqual([[10000, (9999 * 10000) / 2]]);
  });

  it("joins a CSV and reads JSON Lines", async () => {
    const joined = await run(
      "SELECT s.name, count(*) AS n FROM 'orders/2024.parquet' o JOIN read_csv('shops.csv') s ON s.id = o.shop GROUP BY 1 ORDER BY 1 LIMIT 2",
    );
    expect(joined.rows).toEqual([
      ["shop 0", 1429],
      ["shop 1", 1429],
    ]);
    const events = await run("SELECT count(*) FILTER (WHERE even) AS even, count(*) AS n FROM 'events.jsonl'");
    expect(events.rows).toEqual([[50, 100]]);
  });

  it("finds relative paths wherever the query names them, and keeps big numbers in it exact", async () => {
    expect((await run("SELECT (SELECT max(id) FROM 'orders/2024.parquet') AS m")).rows).toEqual([[9999]]);
    expect((await run("SELECT 1 AS x UNION ALL SELECT count(*) FROM read_csv('shops.csv')")).rows).toEqual([[1], [7]]);
    expect((await run("DESCRIBE 'shops.csv'")).rows.map((r) => r[0])).toEqual(["id", "name"]);
    expect((await run("SUMMARIZE SELECT id FROM 'events.jsonl'")).rows).toHaveLength(1);
    expect((await run("FROM 'orders/2024.parquet' SELECT count(*)")).rows).toEqual([[10000]]);
    const exact = await run(
      "SELECT 18446744073709551615::UBIGINT AS big, 0.30000000000000004::DOUBLE AS d, count(*) AS n FROM 'shops.csv'",
    );
    expect(exact.rows).toEqual([["18446744073709551615", 0.30000000000000004, 7]]);
    const instants = await run(
      "SELECT TIMESTAMPTZ '2024-05-06 07:08:09.1234+02' AS a, TIMESTAMPTZ '1969-12-31 23:59:59.5+00' AS b, count(*) FROM 'shops.csv'",
    );
    expect(instants.rows).toEqual([["2024-05-06T05:08:09.1234Z", "1969-12-31T23:59:59.5Z", 7]]);
  });

  it("stops at the row limit", async () => {
    const result = await run("SELECT id FROM 'orders/2024.parquet' ORDER BY id", { limit: 10 });
    expect(result.rows).toEqual(Array.from({ length: 10 }, (_, i) => [i]));
    expect(result.truncated).toBe(true);
    const capped = await run("SELECT repeat('x', 1000) FROM range(1000)", { maxBytes: 10_000 });
    expect(capped.truncated).toBe(true);
    expect(capped.rows.length).toBeLessThan(15);
  });

  it("refuses every statement that is not a SELECT, and writes nothing", async () => {
    const before = await readdir(root);
    for (const [sql, word] of [
      ["COPY (SELECT 1) TO 'out.csv'", "COPY"],
      ["CREATE TABLE t AS SELECT 1", "CREATE"],
      ["ATTACH 'x.db'", "ATTACH"],
      ["INSTALL httpfs", "INSTALL"],
      ["LOAD httpfs", "LOAD"],
      ["SET enable_external_access = true", "SET"],
      ["EXPORT DATABASE 'dump'", "EXPORT"],
    ] as const) {
      const err = await refusal(sql);
      expect(err.reason).toBe("refused");
      expect(err.message).toBe(
        `${word} statements are refused: queries on files only read (SELECT, WITH, FROM, DESCRIBE, SUMMARIZE)`,
      );
    }
    expect(await readdir(root)).toEqual(before);
  });

  it("refuses more than one statement, and gives syntax errors with their place", async () => {
    expect((await refusal("SELECT 1; COPY (SELECT 1) TO 'out.csv'")).message).toBe(
      "a query is one statement; this one holds 2",
    );
    const syntax = await refusal("SELECT id,\n  FROM 'orders/2024.parquet' WHERE");
    expect(syntax.message).toMatch(/^Parser Error: syntax error at end of input/);
  });

  it("refuses paths outside the workspace's folder, however they are written", async () => {
    expect((await refusal("SELECT * FROM '../ws_two/private.parquet'")).message).toBe(
      `"../ws_two/private.parquet" is outside this workspace's files: use a path inside them, e.g. "orders/*.parquet"`,
    );
    expect(
      (await refusal("SELECT * FROM read_parquet(['orders/2024.parquet', '../ws_two/private.parquet'])")).message,
    ).toMatch(/^"\.\.\/ws_two\/private\.parquet" is outside/);
    const absolute = await refusal(`SELECT * FROM '${path.join(otherRoot, "private.parquet")}'`);
    expect(absolute.message).toMatch(/is outside this workspace's files \(or a link leading out of them\)/);
    expect(absolute.message).not.toContain(root);
    const planted = await refusal("SELECT * FROM 'planted.parquet'");
    expect(planted.message).toBe(
      `"planted.parquet" is outside this workspace's files (or a link leading out of them): queries read only the workspace's own files`,
    );
    expect((await refusal("SELECT * FROM read_text('/etc/passwd')")).message).toMatch(/^"\/etc\/passwd" is outside/);
    expect((await refusal("SELECT * FROM read_csv('/etc/passwd')")).reason).toBe("refused");
  });

  it("interrupts a query past its timeout", async () => {
    const started = Date.now();
    const err = await run("SELECT sum(a.range * b.range) FROM range(200000) a, range(200000) b", {
      timeoutMs: 500,
    }).then(
      () => undefined,
      (e: unknown) => e as QueryError,
    );
    expect(err).toBeInstanceOf(QueryError);
    expect(err?.reason).toBe("timeout");
    expect(err?.message).toBe("the query ran longer than its timeout of 500 ms and was interrupted");
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it("interrupts a query when the caller cancels it", async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 300);
    const err = await run(
      "SELECT sum(a.range * b.range) FROM range(200000) a, range(200000) b",
      {},
      controller.signal,
    ).then(
      () => undefined,
      (e: unknown) => e as QueryError,
    );
    expect(err?.reason).toBe("cancelled");
    expect(err?.message).toBe("the query was cancelled");
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("runs four queries at once and lets more wait their turn, in line until cancelled or out of time", async () => {
    const slow = "SELECT sum(a.range * b.range) FROM range(200000) a, range(200000) b";
    const hold = new AbortController();
    // Four long queries take every place until they are cancelled.
    const holders = Array.from({ length: 4 }, () =>
      run(slow, { timeoutMs: 20_000 }, hold.signal).catch((e: unknown) => e as QueryError),
    );
    await new Promise((r) => setTimeout(r, 300));
    // A fifth waits: it gives up after its own timeout, saying it waited...
    const late = await run("SELECT 1 AS one", { timeoutMs: 400 }).catch((e: unknown) => e as QueryError);
    expect(late).toBeInstanceOf(QueryError);
    expect((late as QueryError).reason).toBe("timeout");
    expect((late as QueryError).message).toMatch(/waited its whole timeout of 400 ms/);
    // ...or when cancelled in line; and eight quick ones queued behind the holders all answer once they end.
    const cancelInLine = new AbortController();
    const cancelled = run("SELECT 1 AS one", {}, cancelInLine.signal).catch((e: unknown) => e as QueryError);
    const queued = Array.from({ length: 8 }, (_, i) => run(`SELECT ${i} AS n`));
    cancelInLine.abort();
    expect(((await cancelled) as QueryError).reason).toBe("cancelled");
    hold.abort();
    for (const h of await Promise.all(holders)) expect((h as QueryError).reason).toBe("cancelled");
    const answers = await Promise.all(queued);
    expect(answers.map((a) => a.rows[0]?.[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it("lists the data files with their columns, not following links", async () => {
    const tables = await describeFiles(root, AbortSignal.timeout(10_000));
    expect(tables.map((t) => t.name).sort()).toEqual(["events.jsonl", "orders/2024.parquet", "shops.csv"]);
    expect(tables.find((t) => t.name === "orders/2024.parquet")?.columns).toEqual([
      { name: "id", type: "BIGINT" },
      { name: "shop", type: "BIGINT" },
      { name: "amount", type: "DOUBLE" },
      { name: "placed_at", type: "TIMESTAMP WITH TIME ZONE" },
    ]);
    expect(existsSync(path.join(root, "out.csv"))).toBe(false);
  });

  it("treats a workspace without a folder as one without files, and makes none", async () => {
    const none = await workspaceFilesRoot(filesDir, "ws_new");
    expect(await describeFiles(none, AbortSignal.timeout(5000))).toEqual([]);
    expect(
      (await runFilesQuery(none, { sql: "SELECT 1", limit: 10, timeoutMs: 5000 }, AbortSignal.timeout(5000))).rows,
    ).toEqual([[1]]);
    const missing = await runFilesQuery(
      none,
      { sql: "SELECT * FROM 'x.parquet'", limit: 10, timeoutMs: 5000 },
      AbortSignal.timeout(5000),
    ).then(
      () => undefined,
      (e: unknown) => e as QueryError,
    );
    expect(missing?.reason).toBe("refused");
    expect(existsSync(none)).toBe(false);
  });
});
