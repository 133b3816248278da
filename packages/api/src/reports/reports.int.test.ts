import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { TestReceiver } from "@sluice/nodes/connectors/http/test-receiver";
import { createTestDatabase, type TestDatabase } from "@sluice/scripts/lib/test-db";
import { type ApiHarness, createApiHarness, rejects } from "@sluice/test-kit/api-harness";
import type { Job } from "bullmq";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reportQueueFor } from "./report-queue";
import { processReportJob, type ReportRunner, startReportRunner } from "./report-worker";

// Reports end to end against a real PostgreSQL table, real files and a local HTTP receiver as the webhook: "run now"
// writes a CSV with the query's rows and a Parquet file DuckDB reads back; a per-second cron report fires on its
// slots, once each, with two runners; a condition fires once, stays quiet, recovers once; a webhook answering 500 is
// a failed delivery that keeps the status and never the webhook's secret URL.

const TOKEN = "S3CR3T-hook-T0KEN";

let h: ApiHarness;
let target: TestDatabase;
let receiver: TestReceiver;
let filesDir: string;
let cookie: string;
let workspaceId: string;
let pgId: string;
let eventsQueryId: string;
const runners: ReportRunner[] = [];

async function api() {
  return (await h.caller(cookie)).api;
}

async function pgSql(text: string, values: unknown[] = []): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: target.url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}

async function eventually<T>(what: string, check: () => Promise<T>, withinMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const TIME_RANGE = [
  { name: "from", type: "timestamp" as const, default: "now-1d" },
  { name: "to", type: "timestamp" as const, default: "now" },
];

beforeAll(async () => {
  filesDir = await mkdtemp(path.join(tmpdir(), "sluice-reports-"));
  h = await createApiHarness("reports", { filesDir });
  target = await createTestDatabase("reports-target");
  receiver = await TestReceiver.start();
  // 90 events, one a minute back from now: the last hour holds those of minutes 0..59.
  await pgSql("CREATE TABLE events (id int PRIMARY KEY, at timestamptz NOT NULL, kind text NOT NULL)");
  await pgSql(
    "INSERT INTO events SELECT g, now() - g * interval '1 minute' - interval '5 seconds', CASE WHEN g % 2 = 0 THEN 'even' ELSE 'odd, \"quoted\"' END FROM generate_series(0, 89) g",
  );
  await pgSql("CREATE TABLE gauge (v int NOT NULL)");
  ({ cookie } = await h.signUp("Reporter"));
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
  workspaceId = (await h.db.connection.findUniqueOrThrow({ where: { id: pgId } })).workspaceId;
  await me.connections.create({ name: "hook", type: "webhook", config: { url: `${receiver.url}/hook/${TOKEN}` } });
  eventsQueryId = (
    await me.savedQueries.create({
      name: "Events in range",
      source: { kind: "connection", connectionId: pgId },
      sql: "SELECT id, kind FROM events WHERE at >= {{from}} AND at < {{to}} ORDER BY id",
      parameters: TIME_RANGE,
    })
  ).id;
});

afterAll(async () => {
  await Promise.all(runners.map((r) => r.stop()));
  await reportQueueFor(h.deps)
    .obliterate({ force: true })
    .catch(() => {});
  await receiver?.close();
  await h?.close();
  await target?.drop();
  await rm(filesDir, { recursive: true, force: true });
});

describe("report validation", () => {
  it("refuses bad fields with a 400 naming the field", async () => {
    const me = await api();
    const base = { savedQueryId: eventsQueryId, pattern: "0 6 * * *", filePath: "r/x.csv" };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ pattern: "every day" }, /^pattern: "every day" is not a cron pattern/],
      [{ timeZone: "Mars/Olympus" }, /^timeZone: unknown time zone "Mars\/Olympus"/],
      [{ filePath: "../escape.csv" }, /^filePath: '\.\.' is not allowed/],
      [{ filePath: "/tmp/x.csv" }, /^filePath: give a path relative/],
      [{ filePath: "r/x.parquet" }, /^filePath: a CSV report's file ends in \.csv/],
      [{ filePath: "r/{user}.csv" }, /^filePath: unknown token \{user\}/],
      [{ webhookConnection: "warehouse" }, /^webhookConnection: "warehouse" is a postgres connection/],
      [{ webhookConnection: "nowhere" }, /^webhookConnection: no connection called "nowhere"/],
      [{ filePath: null }, /^filePath: a report delivers somewhere/],
      [{ range: "2h" }, /^range: a range is one of 15m, 1h, 1d, 7d/],
      [{ condition: { kind: "rows", op: "~", value: 1 } }, /^condition\.op: an operator is one of/],
      [{ severity: "loud" }, /^severity: /],
      [{ savedQueryId: "nope" }, /^savedQueryId: no such saved query/],
    ];
    for (const [change, message] of cases) {
      const err = await rejects(me.reports.create({ name: "Bad", ...base, ...change } as never));
      expect(err.code, JSON.stringify(change)).toBe("BAD_REQUEST");
      expect(err.message, JSON.stringify(change)).toMatch(message);
    }
    expect(await me.reports.list()).toEqual([]);
  });
});

describe("run now", () => {
  it("writes a CSV with the query's rows for the last hour, posts them, and keeps the delivery", async () => {
    const me = await api();
    const { report } = await me.reports.create({
      name: "Hourly events",
      savedQueryId: eventsQueryId,
      pattern: "0 * * * *",
      timeZone: "Europe/Berlin",
      range: "1h",
      filePath: "reports/{date}/events-{time}.csv",
      webhookConnection: "hook",
    });
    expect(report.nextFireAt).not.toBeNull();
    const before = receiver.accepted.length;
    const delivery = await me.reports.runNow({ id: report.id });
    expect(delivery).toMatchObject({ outcome: "delivered", trigger: "manual", rows: 60, webhookStatus: 200 });
    expect(delivery.error).toBeNull();
    expect(delivery.file).toMatch(/^reports\/\d{4}-\d\d-\d\d\/events-\d{6}\.csv$/);

    const csv = await readFile(path.join(filesDir, workspaceId, delivery.file!), "utf8");
    const lines = csv.trimEnd().split("\r\n");
    expect(lines[0]).toBe("id,kind");
    expect(lines).toHaveLength(61);
    expect(lines[1]).toBe("0,even");
    expect(lines[2]).toBe('1,"odd, ""quoted"""');
    expect(delivery.bytes).toBe(Buffer.byteLength(csv));

    expect(receiver.accepted.length).toBe(before + 1);
    const body = JSON.parse(receiver.accepted.at(-1)!.body) as Record<string, unknown>;
    expect(body).toMatchObject({
      kind: "report",
      report: "Hourly events",
      savedQuery: "Events in range",
      rowCount: 60,
      file: delivery.file,
      columns: [
        { name: "id", type: "int4" },
        { name: "kind", type: "text" },
      ],
    });
    expect(body.rows).toHaveLength(20);
    expect(body.text).toMatch(/^Report "Hourly events" \(Events in range\) for .*: 60 rows, written to reports\//);

    // The history, newest first, a page at a time.
    await me.reports.runNow({ id: report.id });
    const first = await me.reports.deliveries({ reportId: report.id, limit: 1 });
    expect(first.deliveries).toHaveLength(1);
    expect(first.nextCursor).not.toBeNull();
    const second = await me.reports.deliveries({
      reportId: report.id,
      limit: 1,
      cursor: first.nextCursor!,
      // As useInfiniteQuery sends it.
      direction: "forward",
    });
    expect(second.deliveries[0]!.id).toBe(delivery.id);
    expect(second.nextCursor).toBeNull();
    expect((await me.reports.get({ id: report.id })).lastDeliveries.map((d) => d.id)[1]).toBe(delivery.id);
  });

  it("writes Parquet that DuckDB reads back, and the Files source sees it", async () => {
    const me = await api();
    const { report } = await me.reports.create({
      name: "Daily events",
      savedQueryId: eventsQueryId,
      pattern: "0 6 * * *",
      range: "1d",
      format: "PARQUET",
      filePath: "reports/daily-events.parquet",
    });
    const delivery = await me.reports.runNow({ id: report.id });
    expect(delivery).toMatchObject({ outcome: "delivered", rows: 90, file: "reports/daily-events.parquet" });

    const instance = await DuckDBInstance.create(":memory:");
    const reader = await instance.connect();
    const file = path.join(filesDir, workspaceId, "reports/daily-events.parquet");
    const read = await reader.runAndReadAll(
      `SELECT count(*)::INT AS n, min(id)::INT AS lo, max(id)::INT AS hi, count(*) FILTER (WHERE kind = 'even')::INT AS even FROM '${file}'`,
    );
    expect(read.getRowObjectsJson()).toEqual([{ n: 90, lo: 0, hi: 89, even: 45 }]);
    reader.closeSync();
    instance.closeSync();

    const viaFiles = await me.queries.run({
      source: { kind: "files" },
      sql: "SELECT count(*) AS n FROM 'reports/daily-events.parquet'",
      queryId: "report-files-1",
    });
    expect(viaFiles.rows).toEqual([[90]]);
    // No temporary file was left beside it.
    expect(await readdir(path.join(filesDir, workspaceId, "reports"))).not.toContainEqual(
      expect.stringMatching(/\.(part|tmp)$/),
    );
  });

  it("records a failed query as a failed delivery with its reason", async () => {
    const me = await api();
    const { id: brokenId } = await me.savedQueries.create({
      name: "Broken",
      source: { kind: "connection", connectionId: pgId },
      sql: "SELECT * FROM no_such_table",
    });
    const { report } = await me.reports.create({
      name: "Broken report",
      savedQueryId: brokenId,
      pattern: "0 6 * * *",
      filePath: "reports/broken.csv",
    });
    const delivery = await me.reports.runNow({ id: report.id });
    expect(delivery.outcome).toBe("failed");
    expect(delivery.error).toMatch(/^the query "Broken" failed: .*no_such_table/);
    expect(delivery.file).toBeNull();
  });
});

describe("webhook failures", () => {
  it("keep the status and never the webhook's URL", async () => {
    const me = await api();
    const { report } = await me.reports.create({
      name: "To a broken hook",
      savedQueryId: eventsQueryId,
      pattern: "0 6 * * *",
      range: "15m",
      webhookConnection: "hook",
    });
    receiver.behaviour = () => ({ status: 500, body: `{"error":"down","echo":"/hook/${TOKEN}"}` });
    try {
      const delivery = await me.reports.runNow({ id: report.id });
      expect(delivery).toMatchObject({ outcome: "failed", webhookStatus: 500, rows: 15 });
      expect(delivery.error).toMatch(/posting to the webhook connection "hook" failed: the webhook answered 500/);
      expect(delivery.error).not.toContain(TOKEN);
      const stored = await h.db.reportDelivery.findUniqueOrThrow({ where: { id: delivery.id } });
      expect(JSON.stringify(stored)).not.toContain(TOKEN);
    } finally {
      receiver.behaviour = () => undefined;
    }
  });
});

describe("query alerts", () => {
  it("fire once when the condition turns true, stay quiet while it holds, recover once", async () => {
    const me = await api();
    const { id: gaugeId } = await me.savedQueries.create({
      name: "Gauge",
      source: { kind: "connection", connectionId: pgId },
      sql: "SELECT count(*)::int AS backlog FROM gauge",
    });
    const { report } = await me.reports.create({
      name: "Backlog",
      savedQueryId: gaugeId,
      pattern: "0 6 * * *",
      condition: { kind: "value", column: "backlog", op: ">", value: 3 },
      severity: "critical",
      webhookConnection: "hook",
    });
    const entries = async () =>
      (await me.alerts.inbox({ unreadOnly: false, limit: 50 })).entries.filter((e) => e.reportId === report.id);
    const notices = () =>
      receiver.accepted
        .map((r) => JSON.parse(r.body) as Record<string, unknown>)
        .filter((b) => b.kind === "query-alert" && b.reportId === report.id);

    expect((await me.reports.runNow({ id: report.id })).conditionMet).toBe(false);
    expect(await entries()).toHaveLength(0);

    await pgSql("INSERT INTO gauge SELECT g FROM generate_series(1, 5) g");
    expect((await me.reports.runNow({ id: report.id })).conditionMet).toBe(true);
    expect((await me.reports.runNow({ id: report.id })).conditionMet).toBe(true);
    const firing = await entries();
    expect(firing).toHaveLength(1);
    expect(firing[0]).toMatchObject({
      state: "firing",
      severity: "critical",
      alertId: null,
      text: '[critical] Report "Backlog" is firing: backlog of the first row is 5, > 3',
    });
    expect(notices()).toHaveLength(1);
    expect(notices()[0]).toMatchObject({ state: "firing", value: 5, threshold: 3, text: firing[0]!.text });

    await pgSql("DELETE FROM gauge WHERE v > 1");
    expect((await me.reports.runNow({ id: report.id })).conditionMet).toBe(false);
    expect((await me.reports.runNow({ id: report.id })).conditionMet).toBe(false);
    const all = await entries();
    expect(all.map((e) => e.state)).toEqual(["recovered", "firing"]);
    expect(all[0]!.text).toBe('Report "Backlog" recovered: backlog of the first row is 1, no longer > 3');
    expect(notices().map((n) => n.state)).toEqual(["firing", "recovered"]);
    expect((await me.reports.get({ id: report.id })).conditionMet).toBe(false);
  });
});

describe("cron fires", () => {
  it("deliver on every slot, once each, with two runners and a re-delivered job", async () => {
    const me = await api();
    const deps = { ...h.deps, reportQueue: reportQueueFor(h.deps) };
    for (let i = 0; i < 2; i++) {
      const runner = startReportRunner({ ...deps, log: () => {} }, { resyncEveryMs: 60_000 });
      runners.push(runner);
      await runner.ready;
    }
    const { report } = await me.reports.create({
      name: "Every second",
      savedQueryId: eventsQueryId,
      pattern: "* * * * * *",
      range: "15m",
      filePath: "cron/{date}-{time}.csv",
    });
    const delivered = () =>
      h.db.reportDelivery.findMany({ where: { reportId: report.id, outcome: { not: "running" } } });
    await eventually("three scheduled deliveries", async () => (await delivered()).length >= 3, 20_000);
    await me.reports.enable({ id: report.id, enabled: false });
    await new Promise((r) => setTimeout(r, 1500));
    const rows = await h.db.reportDelivery.findMany({ where: { reportId: report.id } });
    expect(rows.every((d) => d.trigger === "schedule" && d.outcome === "delivered")).toBe(true);
    // Each slot wrote the file named after its second: two deliveries of one slot would share a name.
    const files = rows.map((d) => d.file);
    expect(new Set(files).size).toBe(files.length);
    expect(await reportQueueFor(h.deps).getJobScheduler(report.id)).toBeUndefined();

    // The same fire handed over again (as BullMQ re-delivers a stalled job) claims nothing.
    const slot = (await h.db.report.findUniqueOrThrow({ where: { id: report.id } })).lastSlotAt!;
    await me.reports.enable({ id: report.id, enabled: true });
    const job = {
      id: "again",
      data: { v: 1, reportId: report.id },
      opts: { prevMillis: slot.getTime() },
      timestamp: 0,
    };
    const again = await processReportJob(deps, job as unknown as Job);
    expect(again).toEqual({ outcome: "ignored", message: `the fire for ${slot.toISOString()} was already handled` });
    await me.reports.delete({ id: report.id });
    expect(await reportQueueFor(h.deps).getJobScheduler(report.id)).toBeUndefined();
  });
});
