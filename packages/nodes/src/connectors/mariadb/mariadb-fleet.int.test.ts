import { FleetHarness, waitFor } from "@sluice/test-kit/fleet-harness";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TcpProxy } from "../../../test/tcp-proxy";
import { catalog } from "../../catalog";
import { runtimes } from "../../runtimes";
import { createTestMariaDb, type TestMariaDb } from "./mariadb-test-db";

// MariaDB → MariaDB through the real engine (an in-process fleet worker on the real Redis): exact contents, the
// server going away and coming back mid-run, a refused password, a row the source refuses.

let db: TestMariaDb;
let harness: FleetHarness | undefined;
let proxy: TcpProxy | undefined;

beforeAll(async () => {
  db = await createTestMariaDb();
});
afterAll(async () => {
  await db?.drop();
});
afterEach(async () => {
  await harness?.close();
  harness = undefined;
  await proxy?.close();
  proxy = undefined;
});

function pipeline(source: Record<string, unknown>, sink: Record<string, unknown>, parallelism = 2) {
  return {
    apiVersion: "sluice/v1",
    kind: "Pipeline",
    metadata: { name: "mariadb-copy" },
    spec: {
      settings: { parallelism, batchSize: 500, delivery: "exactly-once" },
      nodes: [
        { id: "src", type: "source.mariadb", config: { connection: "db", ...source } },
        { id: "out", type: "sink.mariadb", config: { connection: "db", ...sink } },
      ],
      edges: [{ from: "src", to: "out" }],
    },
  };
}

async function seed(table: string, from: number, n: number) {
  const rows = Array.from({ length: n }, (_, i) => {
    const id = from + i;
    return [id, `name-${id}`, Math.round(id * 0.37 * 100) / 100, new Date(Date.UTC(2024, 0, 1) + id * 1000)];
  });
  await db.query(`INSERT INTO ${table} (id, name, amount, created_at) VALUES ?`, [rows]);
}

const sourceColumns = [
  { name: "id", type: "int" },
  { name: "name", type: "string" },
  { name: "amount", type: "float" },
  { name: "created_at", type: "timestamp" },
] as const;

describe("MariaDB through the engine", () => {
  it("copies a table exactly, split over two partitions", async () => {
    await db.query(
      "CREATE TABLE copy_src (id INT PRIMARY KEY, name VARCHAR(40), amount DOUBLE, created_at DATETIME(3))",
    );
    await seed("copy_src", 1, 5000);
    harness = new FleetHarness();
    await harness.startInProcess("w1", catalog, runtimes);
    await harness.startRun(
      "copy",
      pipeline(
        { table: "copy_src", cursor: "id", partitionColumn: "id", columns: sourceColumns },
        { table: "copy_dst", createTable: true, key: ["id"] },
      ),
      {},
      { db: { type: "mariadb", config: { ...db.config } } },
    );
    const done = await harness.waitForStatus("copy", "completed");
    expect(done.delivery).toBe("exactly-once");
    expect(done.nodes.src).toEqual({ in: 0, out: 5000, errors: 0 });
    expect(done.nodes.out).toEqual({ in: 5000, out: 0, errors: 0 });
    expect(done.progress).toEqual({ done: 5000, total: 5000 });
    const diff = await db.query(
      `SELECT COUNT(*) AS n FROM copy_src s LEFT JOIN copy_dst d
         ON d.id = s.id AND d.name = s.name AND d.amount = s.amount AND d.created_at = s.created_at
       WHERE d.id IS NULL`,
    );
    expect(diff).toEqual([{ n: 0 }]);
    expect(await db.query("SELECT COUNT(*) AS n FROM copy_dst")).toEqual([{ n: 5000 }]);
  });

  it("loses and repeats nothing while the server goes away and comes back mid-run", async () => {
    await db.query(
      "CREATE TABLE live_src (id INT PRIMARY KEY, name VARCHAR(40), amount DOUBLE, created_at DATETIME(3))",
    );
    // No key on the target: a record written twice would show as a second row.
    await db.query("CREATE TABLE live_dst (id INT, name VARCHAR(40), amount DOUBLE, created_at DATETIME(3))");
    await seed("live_src", 1, 2000);
    proxy = await TcpProxy.start(db.config.port, db.config.host);
    harness = new FleetHarness();
    await harness.startInProcess("w1", catalog, runtimes);
    await harness.startRun(
      "live",
      pipeline(
        { table: "live_src", cursor: "id", mode: "polling", pollInterval: "100ms", columns: sourceColumns },
        { table: "live_dst" },
        1,
      ),
      {},
      { db: { type: "mariadb", config: { ...db.config, host: "127.0.0.1", port: proxy.port } } },
    );
    const count = async () => (await db.query<{ n: number }[]>("SELECT COUNT(*) AS n FROM live_dst"))[0]?.n ?? 0;
    await waitFor(async () => (await count()) >= 2000, 30_000);
    await proxy.cut();
    // Rows keep arriving while the pipeline cannot reach the server.
    await seed("live_src", 2001, 1500);
    await new Promise((r) => setTimeout(r, 2500));
    expect(await count()).toBe(2000);
    await proxy.resume();
    await seed("live_src", 3501, 500);
    await waitFor(
      async () => (await count()) >= 4000,
      45_000,
      () => `target has ${0} rows`,
    );
    await harness.stopRun("live");
    await harness.waitForStatus("live", "stopped");
    expect(await count()).toBe(4000);
    expect(await db.query("SELECT COUNT(DISTINCT id) AS n, MIN(id) AS lo, MAX(id) AS hi FROM live_dst")).toEqual([
      { n: 4000, lo: 1, hi: 4000 },
    ]);
  });

  it("fails the run with the server's reason when the password is refused", async () => {
    await db.query("CREATE TABLE auth_src (id INT PRIMARY KEY)");
    harness = new FleetHarness();
    await harness.startInProcess("w1", catalog, runtimes);
    await harness.startRun(
      "auth",
      pipeline({ table: "auth_src", cursor: "id", columns: ["id"] }, { table: "auth_dst", createTable: true }, 1),
      {},
      { db: { type: "mariadb", config: { ...db.config, password: "certainly-wrong" } } },
    );
    const failed = await harness.waitForStatus("auth", "failed");
    expect(failed.error).toMatch(
      /node (src|out) connection: the server at 127\.0\.0\.1:3306 refused the user name or password/,
    );
    expect(failed.error).not.toContain("certainly-wrong");
  });

  it("goes on past a row whose value does not fit its declared type", async () => {
    await db.query("CREATE TABLE bad_src (id INT PRIMARY KEY, qty VARCHAR(10))");
    await db.query("INSERT INTO bad_src VALUES ?", [
      Array.from({ length: 300 }, (_, i) => [i + 1, i === 149 ? "many" : String(i)]),
    ]);
    harness = new FleetHarness();
    await harness.startInProcess("w1", catalog, runtimes);
    await harness.startRun(
      "bad",
      pipeline(
        { table: "bad_src", cursor: "id", columns: ["id", { name: "qty", type: "int" }] },
        { table: "bad_dst", createTable: true, key: ["id"] },
        1,
      ),
      {},
      { db: { type: "mariadb", config: { ...db.config } } },
    );
    const done = await harness.waitForStatus("bad", "completed");
    expect(done.nodes.src?.out).toBe(299);
    expect(await db.query("SELECT COUNT(*) AS n, SUM(id = 150) AS bad FROM bad_dst")).toEqual([{ n: 299, bad: 0 }]);
  });
});
