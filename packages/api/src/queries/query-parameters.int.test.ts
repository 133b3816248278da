import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { createTestMariaDb, type TestMariaDb } from "@sluice/nodes/connectors/mariadb/mariadb-test-db";
import { createTestDatabase, type TestDatabase } from "@sluice/scripts/lib/test-db";
import { type ApiHarness, createApiHarness, rejects } from "@sluice/test-kit/api-harness";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSavedQuery } from "../saved-queries/saved-query-service";
import { exportQueryFile } from "./query-export";
import { writeResultFile } from "./result-files";

// Parameters end to end on the three engines (PostgreSQL, MariaDB, DuckDB over files): a {{from}}/{{to}} range picks
// the right rows with instants bound as times, a hostile text value is bound as data, saved queries run by id with
// their defaults and a time range, and a Parquet download read back by DuckDB has the same rows and types.

let h: ApiHarness;
let target: TestDatabase;
let maria: TestMariaDb;
let filesDir: string;
let cookie: string;
let workspaceId: string;
let userId: string;
let pgId: string;
let mariaId: string;

async function api(as = cookie, ws?: string) {
  return (await h.caller(as, ws)).api;
}

async function pgSql<R = Record<string, unknown>>(text: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: target.url });
  await client.connect();
  try {
    return (await client.query(text)).rows as R[];
  } finally {
    await client.end();
  }
}

const RANGE = [
  { name: "from", type: "timestamp" as const },
  { name: "to", type: "timestamp" as const },
];
// Events at 00:01 … 00:20 UTC; 00:05 ≤ at < 00:08 holds ids 5, 6, 7. The bounds are written with a +02:00 offset, so
// an engine that compared them as text or dropped the zone would pick other rows.
const FROM = "2024-01-01T02:05:00+02:00";
const TO = "2024-01-01T02:08:00+02:00";

let seq = 0;
const queryId = () => `param-test-${++seq}`;

beforeAll(async () => {
  filesDir = await mkdtemp(path.join(tmpdir(), "sluice-params-"));
  h = await createApiHarness("query-params", { filesDir });
  target = await createTestDatabase("query-params-target");
  maria = await createTestMariaDb();
  await pgSql("CREATE TABLE events (id int PRIMARY KEY, name text, ts timestamptz, local_at timestamp)");
  await pgSql(
    "INSERT INTO events SELECT g, 'e' || g, '2024-01-01T00:00:00Z'::timestamptz + g * interval '1 minute', '2024-01-01T00:00:00'::timestamp + g * interval '1 minute' FROM generate_series(1, 20) g",
  );
  await maria.query(
    "CREATE TABLE events (id INT PRIMARY KEY, name VARCHAR(20), ts TIMESTAMP(6) NULL, local_at DATETIME(6))",
  );
  await maria.query(
    "INSERT INTO events SELECT seq, CONCAT('e', seq), TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq MINUTE, TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq MINUTE FROM seq_1_to_20",
  );
  ({ cookie } = await h.signUp("Parameteriser"));
  const me = await api();
  const who = (await me.auth.me())!;
  userId = who.user.id;
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
  await mkdir(path.join(filesDir, workspaceId, "events"), { recursive: true });
  const instance = await DuckDBInstance.create(":memory:");
  const writer = await instance.connect();
  await writer.run(
    `COPY (SELECT range AS id, 'e' || range AS name, TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_minutes(range) AS ts,
                  TIMESTAMP '2024-01-01 00:00:00' + to_minutes(range) AS local_at
             FROM range(1, 21)) TO '${path.join(filesDir, workspaceId, "events/part-0.parquet")}' (FORMAT parquet)`,
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

const ENGINES = [
  { engine: "PostgreSQL", source: () => ({ kind: "connection" as const, connectionId: pgId }), table: "events" },
  { engine: "MariaDB", source: () => ({ kind: "connection" as const, connectionId: mariaId }), table: "events" },
  { engine: "DuckDB", source: () => ({ kind: "files" as const }), table: "'events/*.parquet'" },
];

describe.each(ENGINES)("parameters on $engine", ({ source, table }) => {
  it("pick the rows of a {{from}}/{{to}} range, instants compared as times", async () => {
    for (const column of ["ts", "local_at"]) {
      const result = await (await api()).queries.run({
        source: source(),
        sql: `SELECT id FROM ${table} WHERE ${column} >= {{from}} AND ${column} < {{to}} ORDER BY id`,
        parameters: { from: FROM, to: TO },
        declarations: RANGE,
        queryId: queryId(),
      });
      expect(result.rows, column).toEqual([[5], [6], [7]]);
    }
  });

  it("bind a hostile text value as data, a repeated name and a number", async () => {
    const hostile = "'; drop table events; --";
    const result = await (await api()).queries.run({
      source: source(),
      sql: `SELECT count(*) AS n, {{name}} AS echoed FROM ${table} WHERE name = {{name}} OR id <= {{max}}`,
      parameters: { name: hostile, max: 2 },
      declarations: [
        { name: "name", type: "text" },
        { name: "max", type: "number" },
      ],
      queryId: queryId(),
    });
    expect(result.rows).toEqual([[2, hostile]]);
    const still = await (await api()).queries.run({
      source: source(),
      sql: `SELECT count(*) AS n FROM ${table}`,
      queryId: queryId(),
    });
    expect(still.rows).toEqual([[20]]);
  });

  it("leave a placeholder inside a string literal alone", async () => {
    const result = await (await api()).queries.run({
      source: source(),
      sql: "SELECT '{{from}}' AS text",
      queryId: queryId(),
    });
    expect(result.rows).toEqual([["{{from}}"]]);
  });
});

describe("parameters", () => {
  it("refuse a placeholder without a declaration or a value, naming it", async () => {
    const me = await api();
    const unknown = await rejects(
      me.queries.run({ source: { kind: "files" }, sql: "SELECT {{region}} AS r", queryId: queryId() }),
    );
    expect(unknown.code).toBe("BAD_REQUEST");
    expect(unknown.message).toBe(
      "parameters: {{region}} is not a declared parameter: declare it with a type, or remove it",
    );
    const missing = await rejects(
      me.queries.run({ source: { kind: "files" }, sql: "SELECT {{from}} AS f", queryId: queryId() }),
    );
    expect(missing.message).toBe('parameters: parameter "from" has no value and no default');
    const badTime = await rejects(
      me.queries.run({
        source: { kind: "files" },
        sql: "SELECT {{from}} AS f",
        parameters: { from: "2024-01-01 00:00" },
        queryId: queryId(),
      }),
    );
    expect(badTime.message).toMatch(/^parameters: parameter "from": "2024-01-01 00:00" is not a time/);
  });

  it("are checked when a saved query declares them", async () => {
    const refused = await rejects(
      (await api()).savedQueries.create({
        name: "Bad default",
        source: { kind: "files" },
        sql: "select {{from}}",
        parameters: [{ name: "from", type: "timestamp", label: "From", default: "yesterday" }],
      }),
    );
    expect(refused.code).toBe("BAD_REQUEST");
    expect(refused.message).toMatch(/the default is an ISO instant/);
  });
});

describe("saved queries with parameters", () => {
  it("store declarations, and run by id with defaults, a time range and values; viewers may run them", async () => {
    const me = await api();
    const saved = await me.savedQueries.create({
      name: "Events in range",
      source: { kind: "connection", connectionId: pgId },
      sql: "SELECT id FROM events WHERE ts >= {{from}} AND ts < {{to}} AND id >= {{min_id}} ORDER BY id",
      chart: { kind: "bar", x: "id", y: ["id"] },
      parameters: [
        { name: "from", type: "timestamp", label: "From", default: "2024-01-01T00:00:00Z" },
        { name: "to", type: "timestamp", label: "To", default: "now" },
        { name: "min_id", type: "number", label: "Smallest id", default: 18 },
      ],
    });
    const opened = await me.savedQueries.get({ id: saved.id });
    expect(opened.parameters).toEqual([
      { name: "from", type: "timestamp", label: "From", default: "2024-01-01T00:00:00Z" },
      { name: "to", type: "timestamp", label: "To", default: "now" },
      { name: "min_id", type: "number", label: "Smallest id", default: 18 },
    ]);

    const byDefault = await me.savedQueries.run({ id: saved.id, queryId: queryId() });
    expect(byDefault.rows).toEqual([[18], [19], [20]]);
    expect(byDefault.savedQuery).toEqual({
      id: saved.id,
      name: "Events in range",
      chart: { kind: "bar", x: "id", y: ["id"] },
    });

    const { cookie: viewerCookie } = await h.signUp("Watcher");
    const viewerId = (await (await api(viewerCookie)).auth.me())!.user.id;
    await h.db.membership.create({ data: { userId: viewerId, workspaceId, role: "VIEWER" } });
    const viewer = await api(viewerCookie, workspaceId);
    const ranged = await viewer.savedQueries.run({
      id: saved.id,
      timeRange: { from: "2024-01-01T00:05:00Z", to: "2024-01-01T00:08:00Z" },
      values: { min_id: 0 },
      queryId: queryId(),
    });
    expect(ranged.rows).toEqual([[5], [6], [7]]);
    // Values win over the time range.
    const overridden = await viewer.savedQueries.run({
      id: saved.id,
      timeRange: { from: "2024-01-01T00:05:00Z", to: "2024-01-01T00:08:00Z" },
      values: { min_id: 0, to: "2024-01-01T00:06:00Z" },
      queryId: queryId(),
    });
    expect(overridden.rows).toEqual([[5]]);
    // A viewer still cannot run ad-hoc SQL.
    expect(
      (await rejects(viewer.queries.run({ source: { kind: "files" }, sql: "select 1", queryId: queryId() }))).code,
    ).toBe("FORBIDDEN");

    // The service function, as the reports worker calls it.
    const direct = await runSavedQuery(
      h.deps,
      { workspaceId, userId },
      { id: saved.id, timeRange: { from: "2024-01-01T00:19:00Z", to: "2024-01-01T01:00:00Z" }, queryId: queryId() },
    );
    expect(direct.rows).toEqual([[19], [20]]);
    await me.savedQueries.delete({ id: saved.id });
  });

  it("say so when their connection was deleted", async () => {
    const me = await api();
    const u = new URL(target.url);
    const doomed = await me.connections.create({
      name: "doomed",
      type: "postgres",
      config: { host: u.hostname, port: Number(u.port || 5432), database: target.name, user: "postgres" },
    });
    const saved = await me.savedQueries.create({
      name: "Orphaned run",
      source: { kind: "connection", connectionId: doomed.id },
      sql: "select 1",
    });
    await me.connections.delete({ id: doomed.id });
    const err = await rejects(me.savedQueries.run({ id: saved.id, queryId: queryId() }));
    expect(err.code).toBe("PRECONDITION_FAILED");
    expect(err.message).toMatch(/^saved query "Orphaned run": its connection was deleted/);
    await me.savedQueries.delete({ id: saved.id });
  });
});

describe("downloads", () => {
  async function readParquet(bytes: Buffer): Promise<{ types: string[]; rows: unknown[][] }> {
    const dir = await mkdtemp(path.join(tmpdir(), "sluice-parquet-read-"));
    const file = path.join(dir, "x.parquet");
    await writeFile(file, bytes);
    const instance = await DuckDBInstance.create(":memory:");
    const connection = await instance.connect();
    try {
      const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM '${file}'`);
      const read = await connection.runAndReadAll(
        `SELECT id, name, strftime(ts AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ') AS ts, amount, ok, doc, local_at::VARCHAR FROM '${file}' ORDER BY id`,
      );
      return {
        types: described.getRowObjectsJson().map((r) => `${r.column_name}:${r.column_type}`),
        rows: read.getRowsJson(),
      };
    } finally {
      connection.closeSync();
      instance.closeSync();
      await rm(dir, { recursive: true, force: true });
    }
  }

  it("a Parquet download of a PostgreSQL query reads back with the same rows and types", async () => {
    const file = await exportQueryFile(
      h.deps,
      { workspaceId, userId },
      {
        source: { kind: "connection", connectionId: pgId },
        sql: `SELECT id, name, ts, id * 1.5 AS amount, id % 2 = 0 AS ok, json_build_object('k', id) AS doc, local_at
                FROM events WHERE ts >= {{from}} ORDER BY id`,
        declarations: RANGE,
        values: { from: "2024-01-01T00:18:00Z" },
        limit: 1_000_000,
        timeoutMs: 30_000,
      },
      "parquet",
      "Events, late ones",
    );
    expect(file.filename).toMatch(/^events-late-ones-\d{4}-\d\d-\d\dT\d{6}\.parquet$/);
    expect(file.contentType).toBe("application/vnd.apache.parquet");
    expect(file.rows).toBe(3);
    const back = await readParquet(file.body);
    expect(back.types).toEqual([
      "id:BIGINT",
      "name:VARCHAR",
      "ts:TIMESTAMP WITH TIME ZONE",
      "amount:DOUBLE",
      "ok:BOOLEAN",
      "doc:VARCHAR",
      "local_at:TIMESTAMP",
    ]);
    expect(back.rows).toEqual([
      ["18", "e18", "2024-01-01T00:18:00Z", 27, true, '{"k":18}', "2024-01-01 00:18:00"],
      ["19", "e19", "2024-01-01T00:19:00Z", 28.5, false, '{"k":19}', "2024-01-01 00:19:00"],
      ["20", "e20", "2024-01-01T00:20:00Z", 30, true, '{"k":20}', "2024-01-01 00:20:00"],
    ]);
  });

  it("a CSV download has a header row and ISO times, and a result file appears whole", async () => {
    const file = await exportQueryFile(
      h.deps,
      { workspaceId, userId },
      {
        source: { kind: "files" },
        sql: "SELECT id, name, ts FROM 'events/*.parquet' WHERE id <= 2 ORDER BY id",
        declarations: [],
        values: {},
        limit: 1_000_000,
        timeoutMs: 30_000,
      },
      "csv",
      "events",
    );
    expect(file.body.toString("utf8")).toBe("id,name,ts\r\n1,e1,2024-01-01T00:01:00Z\r\n2,e2,2024-01-01T00:02:00Z\r\n");
    const dir = await mkdtemp(path.join(tmpdir(), "sluice-result-file-"));
    const written = await writeResultFile(
      { columns: [{ name: "n", type: "int8", kind: "number" }], rows: [[1], [2]] },
      "parquet",
      path.join(dir, "out.parquet"),
    );
    expect(written.bytes).toBeGreaterThan(0);
    expect(await readdir(dir)).toEqual(["out.parquet"]);
    await rm(dir, { recursive: true, force: true });
  });
});
