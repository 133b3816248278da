import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect as connectNats } from "@nats-io/transport-node";
import { createTestMariaDb } from "@sluice/nodes/connectors/mariadb/mariadb-test-db";
import {
  type PgTarget,
  sql,
  startPrivatePostgres,
  targetFromUrl,
} from "@sluice/nodes/connectors/postgres/testing/postgres-test-support";
import { uniqueName } from "@sluice/nodes/connectors/test-servers";
import { TemplateFile } from "@sluice/pipeline/template-file";
import { createTestDatabase } from "@sluice/scripts/lib/test-db";
import { Redis } from "ioredis";
import mqtt, { type MqttClient } from "mqtt";
import { describe, expect, it, vi } from "vitest";
import { parse, stringify } from "yaml";
import {
  deleteKeys,
  ended,
  expectStopped,
  LOCAL_ALLOW,
  MQTT_URL,
  NATS_URL,
  pipelineRuns,
  postgresConnection,
  REDIS_URL,
  type Row,
  type RunningPipeline,
  range,
  until,
} from "./run-support";

// `sluice run` on each built-in template in templates/, against the real servers on this machine: the template's
// pipeline is written to a pipeline file, its connection slots are bound with `--param slot=<name>` to connections
// of a connections file, and its other parameters name tables, streams and subjects of the test's own. Each test
// seeds input, waits until the target holds what it should, stops the run as Ctrl-C does (the bounded report ends
// by itself) and checks exactly what arrived.

const TEMPLATES = fileURLToPath(new URL("../../../templates/", import.meta.url));
const runs = pipelineRuns("templates");
const { connectionsFile, runToEnd, startRun } = runs;

/** The template's pipeline, as a pipeline file of this test's own. */
async function pipelineOf(name: string): Promise<string> {
  const text = await readFile(path.join(TEMPLATES, `${name}.yaml`), "utf8");
  const template = TemplateFile.parse(parse(text));
  const file = path.join(runs.dir, `${name}.pipeline.yaml`);
  await writeFile(file, stringify(template.spec.pipeline));
  return file;
}

/** A Redis for the templates' data: another database than the fleet's, which Sluice refuses to connect to. */
function dataRedis(): { url: string; client: Redis } {
  const url = new URL(REDIS_URL);
  url.pathname = "/1";
  return { url: url.toString(), client: new Redis(url.toString(), { maxRetriesPerRequest: null }) };
}

/** Epoch ms of a timestamp as a driver returns it (Date) or as a number. */
const ms = (v: unknown) => (v instanceof Date ? v.getTime() : Number(v));

async function tableCount(target: PgTarget, table: string, where = "true"): Promise<number> {
  const [exists] = await sql<{ t: string | null }>(target, `SELECT to_regclass('${table}')::text AS t`);
  if (!exists?.t) return -1;
  return (await sql<{ n: number }>(target, `SELECT count(*)::int AS n FROM ${table} WHERE ${where}`))[0]!.n;
}

describe("cdc-sync-through-event-log", () => {
  it("puts every change on the event log, normalised, and syncs it into MariaDB, deletes as soft deletes", async () => {
    const server = await startPrivatePostgres("cli-template-cdc");
    const maria = await createTestMariaDb();
    const data = dataRedis();
    const stream = uniqueName("t-cli-customers-changes");
    const slot = `sluice_t_${randomBytes(4).toString("hex")}`;
    let run: RunningPipeline | undefined;
    try {
      const shop = server.target();
      await sql(
        shop,
        `CREATE TABLE customers (id int PRIMARY KEY, name text, email text, country text,
                                 updated_at timestamptz NOT NULL DEFAULT now());
         ALTER TABLE customers REPLICA IDENTITY FULL;`,
      );
      const connections = await connectionsFile("cdc", {
        "shop-pg": postgresConnection(shop),
        "log-redis": { type: "redis", url: data.url },
        "crm-maria": { type: "mariadb", ...maria.config },
      });
      run = startRun(await pipelineOf("cdc-sync-through-event-log"), {
        connections,
        params: {
          source_db: "shop-pg",
          event_log: "log-redis",
          target_db: "crm-maria",
          table: "public.customers",
          slot,
          stream,
          target_table: "customers_sync",
        },
      });
      // The slot starts where it is created: change the table once the run has created it.
      await until(run, `the replication slot ${slot}`, async () => {
        return (await sql(shop, "SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", [slot])).length === 1;
      });
      await sql(
        shop,
        `INSERT INTO customers (id, name, email, country)
           SELECT i, '  Customer ' || i || ' ', 'C' || i || '@Example.COM ', CASE WHEN i % 2 = 0 THEN 'de' ELSE 'fr' END
           FROM generate_series(1, 10) i`,
      );
      await sql(
        shop,
        "UPDATE customers SET email = 'New.Mail' || id || '@example.com', updated_at = now() WHERE id IN (2, 5)",
      );
      await sql(shop, "DELETE FROM customers WHERE id = 7");
      const changes = 10 + 2 + 1;

      const synced = async () => {
        const [table] = await maria.query<Row[]>("SHOW TABLES LIKE 'customers_sync'");
        if (!table) return 0;
        const [row] = await maria.query<Row[]>("SELECT count(*) AS n, sum(deleted) AS d FROM customers_sync");
        return Number(row!.n) === 10 && Number(row!.d) === 1 ? changes : 0;
      };
      await until(run, `${changes} changes synced`, async () => {
        return (await data.client.xlen(stream)) >= changes && (await synced()) === changes;
      });
      const snapshot = expectStopped(await run.stop());
      expect(snapshot.nodes.customer_changes?.out).toBe(changes);
      expect(snapshot.nodes.change_events?.out).toBe(changes);

      const events = (await data.client.xrange(stream, "-", "+")).map(([, f]) => JSON.parse(f[1]!) as Row);
      expect(events.map((e) => [e.op, e.id])).toEqual([
        ...range(10).map((i) => ["insert", i + 1]),
        ["update", 2],
        ["update", 5],
        ["delete", 7],
      ]);
      const rows = await maria.query<Row[]>("SELECT * FROM customers_sync ORDER BY id");
      const source = await sql(shop, "SELECT id, updated_at FROM customers");
      expect(rows).toHaveLength(10);
      for (const row of rows) {
        const id = Number(row.id);
        expect(row).toMatchObject({
          name: `Customer ${id}`,
          email: [2, 5].includes(id) ? `new.mail${id}@example.com` : `c${id}@example.com`,
          country: id % 2 === 0 ? "DE" : "FR",
          deleted: id === 7 ? 1 : 0,
        });
        const still = source.find((r) => r.id === id);
        // A soft-deleted row keeps what it last had; the others the source's updated_at.
        if (still) expect(ms(row.updated_at)).toBe(ms(still.updated_at));
      }
    } finally {
      await ended(run);
      await deleteKeys(`*${stream}*`, data.client);
      await data.client.quit();
      await maria.drop();
      await server.stop();
    }
  });
});

describe("webhook-validate-enrich-insert", () => {
  it("upserts the valid orders with their customer, and puts the invalid ones in the rejects table with why", async () => {
    const db = await createTestDatabase("cli-template-webhook");
    const token = `sluice_ing_${randomBytes(24).toString("base64url")}`;
    let run: RunningPipeline | undefined;
    try {
      const target = targetFromUrl(db.url);
      await sql(
        target,
        `CREATE TABLE shop_customers (id int PRIMARY KEY, name text NOT NULL, country text, tier text);
         INSERT INTO shop_customers VALUES (1, 'Ana Silva', 'PT', 'gold'), (2, 'Ben Okafor', 'GB', NULL),
                                           (3, 'Chloé Martin', 'FR', 'silver');`,
      );
      const connections = await connectionsFile("webhook", { "shop-warehouse": postgresConnection(target) });
      run = startRun(await pipelineOf("webhook-validate-enrich-insert"), {
        connections,
        params: { warehouse: "shop-warehouse", customers_table: "shop_customers" },
        env: { SLUICE_INGEST_TOKEN: token },
        ingest: { port: 0 },
      });
      const started = run;
      let url = "";
      await until(started, "the ingest URL", async () => {
        url = /^webhook ingest: POST (\S+)$/m.exec(started.err.join("\n"))?.[1] ?? "";
        return url !== "";
      });
      const post = (lines: Row[]) =>
        fetch(url, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/x-ndjson" },
          body: lines.map((l) => JSON.stringify(l)).join("\n"),
        });
      // Customers 1–3 have rows, 4 does not (kept, without customer fields); every fifth order is broken.
      const orders = range(20).map((i) => ({
        event_id: `evt_${i}`,
        order_id: i % 5 === 1 ? `order-${i}` : `SO-${100 + i}`,
        customer_id: (i % 4) + 1,
        amount: i % 5 === 3 ? -2 : 10 + i * 1.25,
        currency: i % 5 === 4 ? "XXX" : "EUR",
      }));
      expect((await post(orders.slice(0, 10))).status).toBe(202);
      expect((await post(orders.slice(10))).status).toBe(202);
      // The shop posts two orders again after a timeout: the upsert by event id keeps one row each.
      expect((await post([orders[0]!, orders[2]!])).status).toBe(202);
      const valid = orders.filter((_, i) => ![1, 3, 4].includes(i % 5));
      const invalid = orders.filter((o) => !valid.includes(o));

      await until(run, "every order in its table", async () => {
        return (
          (await tableCount(target, "web_orders")) === valid.length &&
          (await tableCount(target, "web_order_rejects")) === invalid.length
        );
      });
      const snapshot = expectStopped(await run.stop(), [
        `webhook ingest: POST ${url}`,
        "  with the header Authorization: Bearer $SLUICE_INGEST_TOKEN",
      ]);
      expect(snapshot.nodes.order_webhook?.out).toBe(22);
      expect(snapshot.nodes.orders?.in).toBe(valid.length + 2);

      const customers: Record<number, [string, string, string]> = {
        1: ["Ana Silva", "PT", "gold"],
        2: ["Ben Okafor", "GB", "standard"],
        3: ["Chloé Martin", "FR", "silver"],
      };
      const rows = await sql(target, "SELECT * FROM web_orders ORDER BY event_id");
      expect(rows.map((r) => r.event_id)).toEqual(valid.map((o) => o.event_id).sort());
      for (const row of rows) {
        const o = orders.find((x) => x.event_id === row.event_id)!;
        const c = customers[o.customer_id];
        expect(row).toMatchObject({
          order_id: o.order_id,
          customer_id: o.customer_id,
          amount: o.amount,
          currency: "EUR",
          amount_cents: Math.round(o.amount * 100),
          customer_name: c?.[0] ?? null,
          customer_country: c?.[1] ?? null,
          customer_tier: c?.[2] ?? "standard",
        });
        expect(typeof ms(row.received_at)).toBe("number");
      }
      const rejects = await sql(target, "SELECT * FROM web_order_rejects ORDER BY event_id");
      expect(rejects.map((r) => r.event_id)).toEqual(invalid.map((o) => o.event_id).sort());
      for (const r of rejects) {
        const i = Number(String(r.event_id).slice(4));
        const errors = JSON.stringify(r._errors);
        expect(errors).toContain(i % 5 === 1 ? "order_id" : i % 5 === 3 ? "amount" : "currency");
      }
    } finally {
      await ended(run);
      await db.drop();
    }
  });
});

describe("clickstream-sessions-and-counts", () => {
  it("writes each visitor session and the views per page and minute to PostgreSQL", async () => {
    const db = await createTestDatabase("cli-template-clicks");
    const data = dataRedis();
    const stream = uniqueName("t-cli-clicks");
    let run: RunningPipeline | undefined;
    try {
      const target = targetFromUrl(db.url);
      // Three visitors over three minutes; visitor 2 pauses for more than the 30s gap, so it has two sessions.
      const t0 = Date.UTC(2024, 4, 1, 10, 0, 0);
      const views: { user_id: number; url: string; referrer: string | null; viewed_at: number }[] = [
        { user_id: 1, url: "/", referrer: "search", viewed_at: t0 + 1_000 },
        { user_id: 2, url: "/", referrer: null, viewed_at: t0 + 2_000 },
        { user_id: 1, url: "/product/1", referrer: null, viewed_at: t0 + 12_000 },
        { user_id: 3, url: "/cart", referrer: "email", viewed_at: t0 + 20_000 },
        { user_id: 1, url: "/cart", referrer: null, viewed_at: t0 + 30_000 },
        { user_id: 2, url: "/product/1", referrer: null, viewed_at: t0 + 31_000 },
        { user_id: 1, url: "/checkout/done", referrer: null, viewed_at: t0 + 55_000 },
        { user_id: 1, url: "/", referrer: null, viewed_at: t0 + 61_000 },
        { user_id: 2, url: "/", referrer: "social", viewed_at: t0 + 100_000 },
        { user_id: 2, url: "/cart", referrer: null, viewed_at: t0 + 125_000 },
      ];
      // A view an hour later moves the watermark past every session and minute above.
      const closer = { user_id: 99, url: "/", referrer: null, viewed_at: t0 + 3600_000 };
      const pipe = data.client.pipeline();
      for (const v of [...views, closer]) pipe.xadd(stream, "*", "data", JSON.stringify(v));
      await pipe.exec();

      const connections = await connectionsFile("clicks", {
        "clicks-redis": { type: "redis", url: data.url },
        reporting: postgresConnection(target),
      });
      run = startRun(await pipelineOf("clickstream-sessions-and-counts"), {
        connections,
        params: { clickstream: "clicks-redis", reports: "reporting", stream, session_gap: "30s" },
      });
      const sessions = [
        { user_id: 1, pages: 5, distinct_pages: 4, entry_page: "/", exit_page: "/", start: 1_000, last: 61_000 },
        // 29 seconds between visitor 2's first two views: one session.
        {
          user_id: 2,
          pages: 2,
          distinct_pages: 2,
          entry_page: "/",
          exit_page: "/product/1",
          start: 2_000,
          last: 31_000,
        },
        {
          user_id: 3,
          pages: 1,
          distinct_pages: 1,
          entry_page: "/cart",
          exit_page: "/cart",
          start: 20_000,
          last: 20_000,
        },
        { user_id: 2, pages: 2, distinct_pages: 2, entry_page: "/", exit_page: "/cart", start: 100_000, last: 125_000 },
      ];
      const counts = new Map<string, { views: number; visitors: Set<number> }>();
      for (const v of views) {
        const key = `${v.url}@${Math.floor(v.viewed_at / 60_000) * 60_000}`;
        const c = counts.get(key) ?? { views: 0, visitors: new Set<number>() };
        c.views++;
        c.visitors.add(v.user_id);
        counts.set(key, c);
      }
      const beforeCloser = `window_start < '${new Date(closer.viewed_at - 60_000).toISOString()}'`;
      await until(run, "every session and minute", async () => {
        return (
          (await tableCount(target, "web_sessions", "user_id <> 99")) === sessions.length &&
          (await tableCount(target, "page_views_per_minute", `final AND ${beforeCloser}`)) === counts.size
        );
      });
      expectStopped(await run.stop());

      const rows = await sql(target, "SELECT * FROM web_sessions WHERE user_id <> 99 ORDER BY window_start");
      expect(
        rows.map((r) => ({
          user_id: r.user_id,
          pages: r.pages,
          distinct_pages: r.distinct_pages,
          entry_page: r.entry_page,
          exit_page: r.exit_page,
          start: ms(r.window_start) - t0,
          last: ms(r.window_end) - t0 - 30_000,
        })),
      ).toEqual(sessions);
      const first = rows[0]!;
      expect(first).toMatchObject({ purchased: true, bounced: false, duration_s: 60, referrer: "search" });
      expect(rows.slice(1).map((r) => [r.purchased, r.bounced, r.duration_s])).toEqual([
        [false, false, 29],
        [false, true, 0],
        [false, false, 25],
      ]);

      const minutes = await sql(target, `SELECT * FROM page_views_per_minute WHERE ${beforeCloser}`);
      expect(
        Object.fromEntries(minutes.map((r) => [`${r.url}@${ms(r.window_start)}`, [r.views, r.visitors, r.final]])),
      ).toEqual(Object.fromEntries([...counts].map(([k, c]) => [k, [c.views, c.visitors.size, true]])));
    } finally {
      await ended(run);
      await deleteKeys(`*${stream}*`, data.client);
      await data.client.quit();
      await db.drop();
    }
  });
});

describe("iot-sensor-alerts", () => {
  it("writes each sensor's window averages to PostgreSQL and publishes the hot windows on NATS", async () => {
    const db = await createTestDatabase("cli-template-iot");
    const site = uniqueName("t-cli-plant");
    const env = `t${randomBytes(5).toString("hex")}`;
    const nc = await connectNats({ servers: NATS_URL });
    const jsm = await jetstreamManager(nc);
    const clients: MqttClient[] = [];
    let run: RunningPipeline | undefined;
    try {
      const target = targetFromUrl(db.url);
      await jsm.streams.add({ name: `${env}_ALERTS`, subjects: [`${env}.alerts.>`] });
      const publisher = await mqtt.connectAsync(MQTT_URL, { protocolVersion: 5 });
      clients.push(publisher);
      const publish = (sensor_id: string, temperature: number | null, ts: number) =>
        publisher.publishAsync(
          `${site}/${sensor_id}/readings`,
          JSON.stringify({ sensor_id, site: "plant-a", temperature, humidity: 40, ts }),
          { qos: 1 },
        );

      const connections = await connectionsFile("iot", {
        "plant-mqtt": { type: "mqtt", url: MQTT_URL },
        "ops-nats": { type: "nats", servers: NATS_URL },
        telemetry: postgresConnection(target),
      });
      run = startRun(await pipelineOf("iot-sensor-alerts"), {
        connections,
        params: {
          sensors: "plant-mqtt",
          alerts: "ops-nats",
          history: "telemetry",
          topic: `${site}/+/readings`,
          alert_subject: `${env}.alerts.temperature`,
        },
      });
      // A broker keeps nothing for a subscription that does not exist yet: publish a cool probe reading, and one a
      // minute later that closes its window, until a probe window shows the run's subscriptions are in place. Each
      // round is later than the last, so no probe reading is ever late.
      const p0 = Date.UTC(2024, 0, 1, 0, 0, 0);
      let round = 0;
      await until(run, "the first probe window", async () => {
        if ((await tableCount(target, "sensor_window_averages")) > 0) return true;
        await publish("probe", 20, p0 + round * 120_000);
        await publish("probe", 20, p0 + round * 120_000 + 75_000);
        round++;
        return false;
      });

      const m0 = p0 + (round + 2) * 120_000;
      const readings: [string, number | null][] = [
        ["s-1", 20],
        ["s-2", 78],
        ["s-3", 96],
        ["s-4", 21],
        ["s-1", 22.5],
        ["s-2", 84],
        ["s-3", 98],
        ["s-4", null], // no temperature: left out
        ["s-1", 21],
        ["s-2", 81],
        ["s-3", 95.5],
        ["s-4", 23],
      ];
      for (const [i, [sensor, t]] of readings.entries()) await publish(sensor, t, m0 + i * 4_000);
      // Readings two minutes later close the window of m0 on every partition.
      for (const i of range(4)) await publish("closer", 20, m0 + 150_000 + i);

      const expected = new Map<string, number[]>();
      for (const [sensor, t] of readings) if (t !== null) expected.set(sensor, [...(expected.get(sensor) ?? []), t]);
      const inWindow = `window_start = '${new Date(m0).toISOString()}'`;
      await until(run, "the four sensors' averages", async () => {
        return (await tableCount(target, "sensor_window_averages", inWindow)) === 4;
      });
      const stored = async () => (await jsm.streams.info(`${env}_ALERTS`)).state.messages;
      await until(run, "two alerts", async () => (await stored()) >= 2);
      expectStopped(await run.stop());

      const rows = await sql(target, `SELECT * FROM sensor_window_averages WHERE ${inWindow} ORDER BY sensor_id`);
      const avg = (xs: number[]) => Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 100) / 100;
      expect(
        rows.map((r) => [r.sensor_id, r.site, r.readings, r.avg_temp, r.min_temp, r.max_temp, ms(r.window_end) - m0]),
      ).toEqual(
        [...expected].map(([sensor, ts]) => [
          sensor,
          "plant-a",
          ts.length,
          avg(ts),
          Math.min(...ts),
          Math.max(...ts),
          60_000,
        ]),
      );

      expect(await stored()).toBe(2);
      const consumer = await jetstream(nc).consumers.get(`${env}_ALERTS`);
      const alerts: Row[] = [];
      const batch = await consumer.fetch({ max_messages: 2, expires: 2000 });
      for await (const m of batch) {
        expect(m.subject).toBe(`${env}.alerts.temperature`);
        alerts.push(m.json<Row>());
      }
      alerts.sort((a, b) => String(a.sensor_id).localeCompare(String(b.sensor_id)));
      expect(alerts.map((a) => [a.sensor_id, a.severity, a.avg_temp])).toEqual([
        ["s-2", "warning", avg(expected.get("s-2")!)],
        ["s-3", "critical", avg(expected.get("s-3")!)],
      ]);
      for (const a of alerts) {
        expect(a.message).toBe(`Sensor ${a.sensor_id} at plant-a averaged ${a.avg_temp} °C`);
        expect(String(a.alert_id).startsWith(`${a.sensor_id}@`)).toBe(true);
      }
    } finally {
      const runId = (await ended(run))?.snapshot?.runId;
      for (const c of clients) await c.endAsync(true).catch(() => {});
      // The run's partitions keep persistent sessions on the broker: a clean start with their client ids ends them.
      if (runId) {
        for (const p of [0, 1]) {
          const c = await mqtt.connectAsync(MQTT_URL, {
            clientId: `sluice-${runId}-readings-${p}`,
            clean: true,
            protocolVersion: 5,
          });
          await c.endAsync();
        }
      }
      await jsm.streams.delete(`${env}_ALERTS`).catch(() => {});
      await nc.close();
      await db.drop();
    }
  });
});

describe("lambda-serving-table", () => {
  it("fills the serving table from the backfill, then keeps it current from the live stream", async () => {
    const db = await createTestDatabase("cli-template-lambda");
    const data = dataRedis();
    const stream = uniqueName("t-cli-balances");
    let run: RunningPipeline | undefined;
    try {
      const target = targetFromUrl(db.url);
      // The history: three balances of each of 12 accounts, the newest one last.
      const t0 = Date.UTC(2024, 6, 1, 8, 0, 0);
      await sql(
        target,
        `CREATE TABLE account_balances (account_id int NOT NULL, balance float8, currency text,
                                        updated_at timestamptz NOT NULL, PRIMARY KEY (account_id, updated_at));
         INSERT INTO account_balances
           SELECT a, a * 100 + v, CASE WHEN a % 2 = 0 THEN 'EUR' ELSE 'USD' END,
                  to_timestamp(${t0 / 1000} + v * 3600 + a)
           FROM generate_series(1, 12) a, generate_series(1, 3) v;`,
      );
      const connections = await connectionsFile("lambda", {
        history: postgresConnection(target),
        "live-redis": { type: "redis", url: data.url },
        serving: postgresConnection(target),
      });
      run = startRun(await pipelineOf("lambda-serving-table"), {
        connections,
        params: { history_db: "history", live_events: "live-redis", serving_db: "serving", live_stream: stream },
      });
      const newest = (a: number) => ({ balance: a * 100 + 3, updated_at: t0 + 3 * 3600_000 + a * 1000 });
      await until(run, "the backfill's newest balances", async () => {
        if ((await tableCount(target, "account_balance_serving")) !== 12) return false;
        const rows = await sql(target, "SELECT account_id, balance FROM account_balance_serving");
        return rows.every((r) => r.balance === newest(Number(r.account_id)).balance);
      });

      // The speed layer: new balances for two known accounts and one new account.
      const live = [
        { account_id: 3, balance: 999.5, currency: "USD", updated_at: t0 + 86_400_000 },
        { account_id: 8, balance: 0, currency: "EUR", updated_at: t0 + 86_400_000 + 1 },
        { account_id: 13, balance: 42, currency: "EUR", updated_at: t0 + 86_400_000 + 2 },
        { account_id: 3, balance: 1001, currency: "USD", updated_at: t0 + 86_400_000 + 3 },
      ];
      for (const e of live) await data.client.xadd(stream, "*", "data", JSON.stringify(e));
      await until(run, "the live balances", async () => {
        return (
          (await tableCount(target, "account_balance_serving", "layer = 'speed'")) === 3 &&
          (await sql(target, "SELECT balance FROM account_balance_serving WHERE account_id = 3"))[0]?.balance === 1001
        );
      });
      const snapshot = expectStopped(await run.stop());
      expect(snapshot.nodes.backfill?.out).toBe(36);
      expect(snapshot.nodes.live_balances?.out).toBe(4);

      const rows = await sql(target, "SELECT * FROM account_balance_serving ORDER BY account_id");
      const expected = range(13).map((i) => {
        const a = i + 1;
        const last = live.filter((e) => e.account_id === a).at(-1);
        if (last) return { ...last, layer: "speed" };
        return { account_id: a, ...newest(a), currency: a % 2 === 0 ? "EUR" : "USD", layer: "batch" };
      });
      expect(rows.map((r) => ({ ...r, updated_at: ms(r.updated_at) }))).toEqual(expected);
    } finally {
      await ended(run);
      await deleteKeys(`*${stream}*`, data.client);
      await data.client.quit();
      await db.drop();
    }
  });
});

describe("periodic-report", () => {
  it("sums the counted orders per country and day into the report table and a CSV file, then ends", async () => {
    const db = await createTestDatabase("cli-template-report");
    const files = path.join(runs.dir, "files");
    const report = `rev-${randomBytes(3).toString("hex")}`;
    vi.stubEnv("SLUICE_FILES_DIR", files);
    vi.stubEnv("REDIS_URL", REDIS_URL);
    vi.stubEnv("SLUICE_CONNECTIONS_ALLOW", LOCAL_ALLOW);
    try {
      // The workers' files directory must exist: the file sink writes only inside it.
      await mkdir(files, { recursive: true });
      const target = targetFromUrl(db.url);
      await sql(
        target,
        `CREATE TABLE orders (id int PRIMARY KEY, customer_id int, country text, status text, total float8,
                              created_at timestamptz NOT NULL)`,
      );
      const day0 = Date.UTC(2024, 2, 4);
      const statuses = ["paid", "shipped", "cancelled", "delivered", "pending"];
      const countries = ["DE", "FR", "NL"];
      const orders = range(60).map((i) => ({
        id: i + 1,
        customer_id: 100 + (i % 7),
        country: countries[i % 3]!,
        status: statuses[i % 5]!,
        total: 10 + i * 0.5,
        created_at: day0 + i * 70 * 60_000, // every 70 minutes: about three days
      }));
      for (const o of orders) {
        await sql(target, "INSERT INTO orders VALUES ($1, $2, $3, $4, $5, to_timestamp($6 / 1000.0))", [
          o.id,
          o.customer_id,
          o.country,
          o.status,
          o.total,
          o.created_at,
        ]);
      }
      const expected = new Map<string, { orders: number; revenue: number; customers: Set<number> }>();
      for (const o of orders) {
        if (!["paid", "shipped", "delivered"].includes(o.status)) continue;
        const key = `${o.country}@${Math.floor(o.created_at / 86_400_000) * 86_400_000}`;
        const e = expected.get(key) ?? { orders: 0, revenue: 0, customers: new Set<number>() };
        e.orders++;
        e.revenue += o.total;
        e.customers.add(o.customer_id);
        expected.set(key, e);
      }
      const figures = (e: { orders: number; revenue: number; customers: Set<number> }) => ({
        orders: e.orders,
        revenue: Math.round(e.revenue * 100) / 100,
        avg_order: Math.round((e.revenue / e.orders) * 100) / 100,
        customers: e.customers.size,
      });

      const connections = await connectionsFile("report", { shop: postgresConnection(target) });
      const r = await runToEnd(await pipelineOf("periodic-report"), [
        "--connections",
        connections,
        ...["shop_db=shop", "reports=shop", `report_name=${report}`].flatMap((p) => ["--param", p]),
      ]);
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      expect(r.snapshot?.status).toBe("completed");
      expect(r.snapshot?.nodes.orders?.out).toBe(60);

      const rows = await sql(target, "SELECT * FROM revenue_report");
      const want = Object.fromEntries([...expected].map(([k, e]) => [k, figures(e)]));
      for (const row of rows) expect(ms(row.period_end) - ms(row.period_start)).toBe(86_400_000);
      expect(
        Object.fromEntries(
          rows.map((r) => [
            `${r.country}@${ms(r.period_start)}`,
            { orders: r.orders, revenue: r.revenue, avg_order: r.avg_order, customers: r.customers },
          ]),
        ),
      ).toEqual(want);

      const folder = path.join(files, "reports", report);
      const csv: Row[] = [];
      for (const name of await readdir(folder)) {
        expect(name).toMatch(new RegExp(`^${report}-.+-p\\d-\\d+\\.csv$`));
        const [header, ...lines] = (await readFile(path.join(folder, name), "utf8")).trim().split("\n");
        const columns = header!.split(",");
        expect(columns).toEqual([
          "period_start",
          "period_end",
          "country",
          "orders",
          "revenue",
          "avg_order",
          "customers",
        ]);
        for (const line of lines) csv.push(Object.fromEntries(line.split(",").map((v, i) => [columns[i], v])));
      }
      expect(
        Object.fromEntries(
          csv.map((row) => [
            `${row.country}@${Date.parse(String(row.period_start))}`,
            {
              orders: Number(row.orders),
              revenue: Number(row.revenue),
              avg_order: Number(row.avg_order),
              customers: Number(row.customers),
            },
          ]),
        ),
      ).toEqual(want);
      for (const row of csv) expect(row.period_start).toMatch(/^2024-03-0\dT00:00:00(\.000)?Z$/);
    } finally {
      vi.unstubAllEnvs();
      await db.drop();
    }
  });
});
