import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect as connectNats } from "@nats-io/transport-node";
import { TestReceiver } from "@sluice/nodes/connectors/http/test-receiver";
import { createTestMariaDb } from "@sluice/nodes/connectors/mariadb/mariadb-test-db";
import {
  type PgTarget,
  sql,
  startPrivatePostgres,
  targetFromUrl,
} from "@sluice/nodes/connectors/postgres/testing/postgres-test-support";
import { uniqueName } from "@sluice/nodes/connectors/test-servers";
import { createTestDatabase } from "@sluice/scripts/lib/test-db";
import amqp from "amqplib";
import { parquetReadObjects } from "hyparquet";
import { Redis } from "ioredis";
import mqtt, { type MqttClient } from "mqtt";
import { describe, expect, it, vi } from "vitest";
import { runCommand } from "../src/commands/run";
import {
  AMQP_URL,
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

// `sluice run` on the connector examples in examples/, each against its real server: the test creates what the
// example expects to find (tables, streams, queues, an exchange, files) under names of its own — through the
// example's parameters or a database of its own named in the connections file —, seeds input, runs the example
// with `--connections FILE` and one worker in this process, and checks what arrived at the real target. The bounded
// example (files) ends by itself; the others run until the output is there and are then stopped as Ctrl-C does
// (drained and committed, exit 130) — the brokers' sources never end, and waiting on the targets is what makes the
// checks independent of how fast the machine is.

const EXAMPLES = fileURLToPath(new URL("../../../examples/", import.meta.url));
const runs = pipelineRuns("connectors");
const { prefix, connectionsFile, runToEnd, startRun } = runs;

function example(name: string): string {
  return path.join(EXAMPLES, name);
}

describe("mariadb-hourly-revenue.yaml", () => {
  it("upserts each closed hour's paid revenue per country into the warehouse", async () => {
    const db = await createTestMariaDb();
    let run: RunningPipeline | undefined;
    try {
      await db.query(
        `CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, customer_id INT, country VARCHAR(2),
                              status VARCHAR(16) NOT NULL, total DECIMAL(10,2), created_at DATETIME(3) NOT NULL)`,
      );
      // An order every 5 minutes from 10:00 to 13:55: hours 10, 11 and 12 close once the 13:xx orders are read.
      const statuses = ["paid", "shipped", "draft", "delivered", "cancelled", "paid"];
      const countries = ["DE", "FR", "NL"];
      const start = Date.UTC(2024, 2, 4, 10, 0, 0);
      const orders = range(48).map((i) => ({
        customer_id: 100 + (i % 7),
        country: countries[i % 3]!,
        status: statuses[i % 6]!,
        total: 20 + i,
        created_at: start + i * 5 * 60_000,
      }));
      for (const o of orders) {
        await db.query("INSERT INTO orders (customer_id, country, status, total, created_at) VALUES (?, ?, ?, ?, ?)", [
          o.customer_id,
          o.country,
          o.status,
          o.total,
          new Date(o.created_at),
        ]);
      }
      const expected = new Map<string, { orders: number; revenue: number; customers: Set<number> }>();
      for (const o of orders) {
        const hour = Math.floor(o.created_at / 3600_000) * 3600_000;
        if (!["paid", "shipped", "delivered"].includes(o.status) || hour >= start + 3 * 3600_000) continue;
        const key = `${o.country}@${hour}`;
        const e = expected.get(key) ?? { orders: 0, revenue: 0, customers: new Set<number>() };
        e.orders++;
        e.revenue += o.total;
        e.customers.add(o.customer_id);
        expected.set(key, e);
      }

      const mariadb = { type: "mariadb", ...db.config };
      const connections = await connectionsFile("mariadb", { "shop-db": mariadb, warehouse: mariadb });
      run = startRun(example("mariadb-hourly-revenue.yaml"), { connections });
      const closedHours = async () => {
        const [table] = await db.query<Row[]>("SHOW TABLES LIKE 'hourly_revenue'");
        if (!table) return 0;
        const [row] = await db.query<Row[]>("SELECT count(*) AS n FROM hourly_revenue WHERE window_start < ?", [
          new Date(start + 3 * 3600_000),
        ]);
        return Number(row!.n);
      };
      await until(run, `${expected.size} hourly rows`, async () => (await closedHours()) >= expected.size);
      const snapshot = expectStopped(await run.stop());
      expect(snapshot.nodes.shop_orders?.out, "drafts stay in the database").toBe(40);

      const rows = await db.query<Row[]>(
        "SELECT country, window_start, orders, revenue, customers FROM hourly_revenue WHERE window_start < ?",
        [new Date(start + 3 * 3600_000)],
      );
      const actual = Object.fromEntries(
        rows.map((r) => [
          `${r.country}@${new Date(r.window_start as Date).getTime()}`,
          { orders: Number(r.orders), revenue: Number(r.revenue), customers: Number(r.customers) },
        ]),
      );
      expect(actual).toEqual(
        Object.fromEntries(
          [...expected].map(([k, e]) => [k, { orders: e.orders, revenue: e.revenue, customers: e.customers.size }]),
        ),
      );
    } finally {
      await ended(run);
      await db.drop();
    }
  });
});

describe("postgres-order-enrichment.yaml", () => {
  it("upserts the placed orders, with their customer and euro totals, into the warehouse", async () => {
    const db = await createTestDatabase("cli-example-orders");
    let run: RunningPipeline | undefined;
    try {
      const target = targetFromUrl(db.url);
      await sql(
        target,
        `CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, country text, segment text);
         CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id int, status text NOT NULL,
                              total numeric(10,2) NOT NULL, currency text NOT NULL,
                              created_at timestamptz NOT NULL DEFAULT now());
         INSERT INTO customers VALUES (1, 'Ana Silva', 'PT', 'retail'), (2, 'Ben Okafor', 'GB', 'business'),
                                      (3, 'Chloé Martin', 'FR', NULL);`,
      );
      // 30 orders: customers 1-3 and 4 (no row: a guest checkout); every third one still pending.
      const statuses = ["paid", "shipped", "pending"];
      const currencies = ["EUR", "USD", "GBP"];
      const orders = range(30).map((i) => ({
        customer_id: (i % 4) + 1,
        status: statuses[i % 3]!,
        total: 10 + i * 2, // whole euros: a converted total has at most two decimals, no half cent to round
        currency: currencies[Math.floor(i / 3) % 3]!,
      }));
      for (const o of orders) {
        await sql(
          target,
          "INSERT INTO orders (customer_id, status, total, currency, created_at) VALUES ($1, $2, $3, $4, now())",
          [o.customer_id, o.status, o.total, o.currency],
        );
      }
      const placed = orders.filter((o) => o.status !== "pending").length;

      const connections = await connectionsFile("orders", {
        "shop-db": postgresConnection(target),
        warehouse: postgresConnection(target),
      });
      run = startRun(example("postgres-order-enrichment.yaml"), { connections });
      const enriched = async () => {
        const [exists] = await sql<{ t: string | null }>(target, "SELECT to_regclass('orders_enriched')::text AS t");
        if (!exists?.t) return 0;
        const [row] = await sql<{ n: number }>(target, "SELECT count(*)::int AS n FROM orders_enriched");
        return row!.n;
      };
      await until(run, `${placed} rows in orders_enriched`, async () => (await enriched()) >= placed);
      const snapshot = expectStopped(await run.stop());
      expect(snapshot.nodes.new_orders?.out).toBe(30);
      expect(snapshot.nodes.orders_enriched?.in).toBe(placed);

      const rows = await sql(target, "SELECT * FROM orders_enriched ORDER BY id");
      expect(rows).toHaveLength(placed);
      const customers: Record<number, [string, string, string] | undefined> = {
        1: ["Ana Silva", "PT", "retail"],
        2: ["Ben Okafor", "GB", "business"],
        3: ["Chloé Martin", "FR", "guest"],
      };
      const rate: Record<string, number> = { EUR: 1, USD: 0.92, GBP: 1.17 };
      for (const row of rows) {
        const order = orders[Number(row.id) - 1]!;
        expect(row.status).not.toBe("pending");
        expect(row).toMatchObject({ customer_id: order.customer_id, status: order.status, currency: order.currency });
        const customer = customers[order.customer_id];
        expect(row.customer_name).toBe(customer?.[0] ?? null);
        expect(row.customer_country).toBe(customer?.[1] ?? null);
        expect(row.customer_segment, "a missing segment or customer reads guest").toBe(customer?.[2] ?? "guest");
        expect(row.total_eur).toBe(Math.round(order.total * rate[order.currency]! * 100) / 100);
      }
    } finally {
      await ended(run);
      await db.drop();
    }
  });
});

describe("postgres-cdc-replica.yaml", () => {
  it("keeps the reporting replica identical through inserts, updates and deletes, one audit row per change", async () => {
    const server = await startPrivatePostgres("cli-example-cdc");
    let run: RunningPipeline | undefined;
    try {
      await sql(server.target(), "CREATE DATABASE core");
      await sql(server.target(), "CREATE DATABASE reporting");
      const core = server.target("core");
      const reporting = server.target("reporting");
      await sql(
        core,
        `CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL, currency text NOT NULL,
                                balance numeric(12,2) NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
         ALTER TABLE accounts REPLICA IDENTITY FULL;`,
      );
      const connections = await connectionsFile("cdc", {
        "core-banking": postgresConnection(core),
        reporting: postgresConnection(reporting),
      });
      run = startRun(example("postgres-cdc-replica.yaml"), { connections });
      // The slot starts where it is created: change the table once the run has created it.
      await until(run, "the replication slot sluice_accounts", async () => {
        const slots = await sql(core, "SELECT 1 FROM pg_replication_slots WHERE slot_name = 'sluice_accounts'");
        return slots.length === 1;
      });
      await sql(
        core,
        `INSERT INTO accounts (id, owner, currency, balance)
           SELECT i, 'owner ' || i, CASE WHEN i % 2 = 0 THEN 'EUR' ELSE 'CHF' END, i * 100 FROM generate_series(1, 20) i`,
      );
      await sql(core, "UPDATE accounts SET balance = balance + 12.5, updated_at = now() WHERE id IN (2, 4, 6)");
      await sql(core, "UPDATE accounts SET balance = balance - 50, updated_at = now() WHERE id = 2");
      await sql(core, "DELETE FROM accounts WHERE id IN (7, 8, 9)");
      const changes = 20 + 3 + 1 + 3;

      const columns = "id, owner, currency, balance::float8 AS balance, updated_at";
      const countIn = async (target: PgTarget, table: string) => {
        const [exists] = await sql<{ t: string | null }>(target, `SELECT to_regclass('${table}')::text AS t`);
        if (!exists?.t) return -1;
        return (await sql<{ n: number }>(target, `SELECT count(*)::int AS n FROM ${table}`))[0]!.n;
      };
      await until(run, `${changes} audit rows and 17 replica rows`, async () => {
        return (
          (await countIn(reporting, "account_changes")) >= changes && (await countIn(reporting, "accounts")) === 17
        );
      });
      const snapshot = expectStopped(await run.stop());
      expect(snapshot.nodes.account_changes_cdc?.out).toBe(changes);

      const source = await sql(core, `SELECT ${columns} FROM accounts ORDER BY id`);
      const replica = await sql(reporting, `SELECT ${columns} FROM accounts ORDER BY id`);
      expect(replica).toEqual(source);
      expect(source.map((r) => r.id)).not.toContain(8);

      const audit = await sql(reporting, "SELECT * FROM account_changes ORDER BY lsn::pg_lsn, seq");
      expect(audit).toHaveLength(changes);
      expect(audit.map((r) => r.op)).toEqual([
        ...Array<string>(20).fill("insert"),
        ...Array<string>(4).fill("update"),
        ...Array<string>(3).fill("delete"),
      ]);
      const updates = audit.filter((r) => r.op === "update");
      expect(updates.map((r) => [r.account_id, r.old_balance, r.new_balance])).toEqual([
        [2, 200, 212.5],
        [4, 400, 412.5],
        [6, 600, 612.5],
        [2, 212.5, 162.5],
      ]);
      const deletes = audit.filter((r) => r.op === "delete");
      expect(deletes.map((r) => [r.account_id, r.old_balance, r.new_balance])).toEqual([
        [7, 700, null],
        [8, 800, null],
        [9, 900, null],
      ]);
      for (const row of audit) expect(typeof row.changed_at).toBe("number");
    } finally {
      await ended(run);
      await server.stop();
    }
  });
});

describe("redis-orders-fulfilment.yaml", () => {
  it("appends the paid orders with items to the express or standard stream of the shop", async () => {
    const shop = uniqueName("t-cli-shop");
    // Another database than the fleet's (db 0 of REDIS_URL): Sluice refuses connections to its own Redis database.
    const dataUrl = new URL(REDIS_URL);
    dataUrl.pathname = "/1";
    const data = new Redis(dataUrl.toString(), { maxRetriesPerRequest: null });
    let run: RunningPipeline | undefined;
    try {
      const shipping = ["standard", "express", "next_day", "economy"];
      const start = Date.UTC(2024, 10, 29, 9, 0, 0);
      const orders = range(40).map((i) => ({
        order_id: `SO-${1000 + i}`,
        customer_id: 500 + (i % 9),
        items: i % 10 === 0 ? 0 : (i % 12) + 1,
        total: 19.9 + i,
        shipping: shipping[i % 4],
        paid: i % 5 !== 3,
        placed_at: new Date(start + i * 1000).toISOString(),
      }));
      const pipe = data.pipeline();
      for (const o of orders) pipe.xadd(`${shop}:orders:placed`, "*", "data", JSON.stringify(o));
      await pipe.exec();
      const shippable = orders.filter((o) => o.paid && o.items > 0);
      const express = shippable.filter((o) => o.shipping === "express" || o.shipping === "next_day");
      const standard = shippable.filter((o) => !express.includes(o));

      const connections = await connectionsFile("redis", {
        "storefront-redis": { type: "redis", url: dataUrl.toString() },
      });
      run = startRun(example("redis-orders-fulfilment.yaml"), { connections, params: { shop } });
      const lengths = async () =>
        (await data.xlen(`${shop}:fulfil:express`)) + (await data.xlen(`${shop}:fulfil:standard`));
      await until(run, `${shippable.length} pick-list entries`, async () => (await lengths()) >= shippable.length);
      const snapshot = expectStopped(await run.stop());
      expect(snapshot.nodes.placed_orders?.out).toBe(40);

      const entries = async (key: string) =>
        (await data.xrange(key, "-", "+")).map(([, fields]) => JSON.parse(fields[1]!) as Row);
      const expressOut = await entries(`${shop}:fulfil:express`);
      const standardOut = await entries(`${shop}:fulfil:standard`);
      expect(expressOut.map((r) => r.order_id)).toEqual(express.map((o) => o.order_id));
      expect(standardOut.map((r) => r.order_id)).toEqual(standard.map((o) => o.order_id));
      for (const row of [...expressOut, ...standardOut]) {
        const order = orders.find((o) => o.order_id === row.order_id)!;
        expect(row).not.toHaveProperty("paid");
        expect(row.pick_by).toBe(Date.parse(order.placed_at) + 2 * 3600_000);
        expect(row.big_order).toBe(order.items >= 10);
      }
      // The consumer group follows what the run committed: nothing left to read.
      const groups = (await data.xinfo("GROUPS", `${shop}:orders:placed`)) as unknown[][];
      const group = groups.map((g) => Object.fromEntries(chunk(g))).find((g) => g.name === "sluice-fulfilment");
      expect(group?.["last-delivered-id"]).toBe(
        (await data.xrevrange(`${shop}:orders:placed`, "+", "-", "COUNT", 1))[0]![0],
      );
    } finally {
      await ended(run);
      await deleteKeys(`*${shop}*`, data);
      await data.quit();
    }
  });
});

function chunk(list: unknown[]): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (let i = 0; i + 1 < list.length; i += 2) out.push([String(list[i]), list[i + 1]]);
  return out;
}

describe("nats-payment-screening.yaml", () => {
  it("publishes each risky payment once, with its score, to the environment's fraud review subject", async () => {
    const env = `t${randomBytes(5).toString("hex")}`;
    const nc = await connectNats({ servers: NATS_URL });
    const jsm = await jetstreamManager(nc);
    let run: RunningPipeline | undefined;
    try {
      await jsm.streams.add({ name: `${env}_PAYMENTS`, subjects: [`${env}.payments.>`] });
      await jsm.streams.add({ name: `${env}_FRAUD`, subjects: [`${env}.fraud.>`] });
      const start = Date.UTC(2024, 5, 1, 12, 0, 0);
      const payments = range(30).map((i) => ({
        payment_id: `pay_${i}`,
        account_id: 7000 + i,
        amount: i % 4 === 0 ? 1500 + i : 20 + i,
        currency: "EUR",
        card_country: i % 3 === 0 ? "BR" : "DE",
        ip_country: "DE",
        account_age_days: i % 5 === 0 ? 2 : 400,
        captured_at: start + i * 1000,
      }));
      const score = (p: (typeof payments)[number]) =>
        (p.card_country !== p.ip_country ? 40 : 0) + (p.amount >= 1000 ? 35 : 0) + (p.account_age_days < 7 ? 25 : 0);
      const js = jetstream(nc);
      const region = (i: number) => (i % 2 === 0 ? "eu" : "us");
      for (const [i, p] of payments.entries()) {
        await js.publish(`${env}.payments.${region(i)}.captured`, JSON.stringify(p));
      }
      // The payment service publishes two payments again (its acknowledgement timed out): the copies are dropped.
      for (const i of [0, 12]) {
        await js.publish(`${env}.payments.${region(i)}.captured`, JSON.stringify(payments[i]));
      }
      const risky = payments.filter((p) => score(p) >= 50);
      expect(risky.length).toBe(5);

      const connections = await connectionsFile("nats", { "payments-nats": { type: "nats", servers: NATS_URL } });
      run = startRun(example("nats-payment-screening.yaml"), { connections, params: { env } });
      const stored = async () => (await jsm.streams.info(`${env}_FRAUD`)).state.messages;
      await until(run, `${risky.length} payments for review`, async () => (await stored()) >= risky.length);
      const snapshot = expectStopped(await run.stop());
      expect(snapshot.nodes.captured?.out).toBe(32);
      expect(snapshot.nodes.first_capture?.out).toBe(30);

      expect(await stored()).toBe(risky.length);
      const consumer = await js.consumers.get(`${env}_FRAUD`, { deliver_policy: DeliverPolicy.All });
      const reviewed: Row[] = [];
      while (reviewed.length < risky.length) {
        const batch = await consumer.fetch({ max_messages: risky.length - reviewed.length, expires: 2000 });
        for await (const m of batch) {
          expect(m.subject).toBe(`${env}.fraud.review`);
          reviewed.push(m.json<Row>());
        }
      }
      expect(reviewed.map((r) => r.payment_id).sort()).toEqual(risky.map((p) => p.payment_id).sort());
      for (const row of reviewed) {
        const p = payments.find((x) => x.payment_id === row.payment_id)!;
        expect(row).toMatchObject({
          score: score(p),
          foreign_card: p.card_country !== p.ip_country,
          large_amount: p.amount >= 1000,
          new_account: p.account_age_days < 7,
          captured_at: p.captured_at,
        });
      }
    } finally {
      await ended(run);
      await jsm.streams.delete(`${env}_PAYMENTS`).catch(() => {});
      await jsm.streams.delete(`${env}_FRAUD`).catch(() => {});
      await nc.close();
    }
  });
});

describe("mqtt-machine-alerts.yaml", () => {
  it("sends overheating alerts to the displays' topic and the on-call API, sensor faults to maintenance", async () => {
    const site = uniqueName("t-cli-site");
    const clients: MqttClient[] = [];
    const receiver = await TestReceiver.start();
    let run: RunningPipeline | undefined;
    try {
      const subscriber = await mqtt.connectAsync(MQTT_URL, { protocolVersion: 5 });
      clients.push(subscriber);
      const got = new Map<string, Row[]>();
      subscriber.on("message", (topic, payload) => {
        got.set(topic, [...(got.get(topic) ?? []), JSON.parse(payload.toString()) as Row]);
      });
      await subscriber.subscribeAsync([`${site}/alerts/overheat`, `${site}/maintenance/sensor-fault`], { qos: 1 });
      const publisher = await mqtt.connectAsync(MQTT_URL, { protocolVersion: 5 });
      clients.push(publisher);
      const reading = (machine: string, temperature: number | null) =>
        JSON.stringify({ machine, line: "L2", temperature, vibration: 1.2, ts: Date.now() });
      const publish = (machine: string, temperature: number | null) =>
        publisher.publishAsync(`${site}/L2/${machine}/telemetry`, reading(machine, temperature), { qos: 1 });

      const connections = await connectionsFile("mqtt", {
        "plant-mqtt": { type: "mqtt", url: MQTT_URL },
        "oncall-api": {
          type: "http",
          baseUrl: receiver.url,
          authHeader: "X-Api-Key",
          authValue: "oncall-test-key",
        },
      });
      run = startRun(example("mqtt-machine-alerts.yaml"), { connections, params: { site } });
      const alerts = () => got.get(`${site}/alerts/overheat`) ?? [];
      // A broker keeps nothing for a subscription that does not exist yet: publish hot readings until the first
      // alert shows the run's subscriptions are in place; from then on every reading reaches the run.
      let probes = 0;
      await until(run, "the first alert", async () => {
        if (alerts().length > 0) return true;
        await publish(`probe-${probes++}`, 99);
        return false;
      });

      const readings: [string, number | null][] = [
        ["m-01", 61.5],
        ["m-02", 86],
        ["m-03", 104.2],
        ["m-04", 20],
        ["m-05", 300],
        ["m-06", null],
        ["m-07", 84.9],
        ["m-08", 95],
        ["m-09", -80],
        ["m-10", 70],
      ];
      for (const [machine, temperature] of readings) await publish(machine, temperature);
      const hot = readings.filter(([, t]) => t !== null && t >= 85 && t <= 250).map(([m]) => m);
      const faults = readings.filter(([, t]) => t === null || t < -40 || t > 250).map(([m]) => m);
      const probe = (r: Row) => String(r.machine).startsWith("probe-");
      const posted = () => receiver.records().filter((r) => !probe(r));
      const arrived = (rows: Row[]) => new Set(rows.map((r) => String(r.machine)));
      await until(run, "every alert and fault", async () => {
        const displayed = arrived(alerts());
        const paged = arrived(posted());
        const maintenance = arrived(got.get(`${site}/maintenance/sensor-fault`) ?? []);
        return hot.every((m) => displayed.has(m) && paged.has(m)) && faults.every((m) => maintenance.has(m));
      });
      expectStopped(await run.stop());

      const normal = readings.filter(([m]) => !hot.includes(m) && !faults.includes(m)).map(([m]) => m);
      const displayed = alerts().filter((r) => !probe(r));
      expect([...arrived(displayed)].sort()).toEqual(hot);
      expect([...arrived(posted())].sort()).toEqual(hot);
      expect([...arrived(got.get(`${site}/maintenance/sensor-fault`) ?? [])].sort()).toEqual(faults);
      for (const m of normal) expect(arrived(alerts()).has(m)).toBe(false);
      for (const alert of [...displayed, ...posted()]) {
        const temperature = readings.find(([m]) => m === alert.machine)![1]!;
        expect(alert).toMatchObject({
          severity: temperature >= 100 ? "critical" : "warning",
          message: `Machine ${alert.machine} on line L2 at ${temperature} °C`,
          _topic: `${site}/L2/${alert.machine}/telemetry`,
        });
        expect(alert).not.toHaveProperty("_redelivered");
      }
      for (const request of receiver.accepted) {
        expect(request.method).toBe("POST");
        expect(request.url).toBe("/v1/alerts");
        expect(request.headers["x-api-key"]).toBe("oncall-test-key");
        expect(request.headers["idempotency-key"]).toMatch(/\.[0-9a-f]{16}$/);
      }
    } finally {
      const runId = (await ended(run))?.snapshot?.runId;
      await receiver.close();
      for (const c of clients) await c.endAsync(true).catch(() => {});
      // The run's partitions keep persistent sessions on the broker: a clean start with their client ids ends them.
      if (runId) {
        for (const p of [0, 1]) {
          const c = await mqtt.connectAsync(MQTT_URL, {
            clientId: `sluice-${runId}-telemetry-${p}`,
            clean: true,
            protocolVersion: 5,
          });
          await c.endAsync();
        }
      }
    }
  });
});

describe("rabbitmq-shipping-notifications.yaml", () => {
  it("publishes one notification per shipment to the exchange, routed to the customer's channel", async () => {
    const model = await amqp.connect(AMQP_URL.replace("amqp://", "amqp://guest:guest@"));
    const ch = await model.createChannel();
    const shipmentsQueue = uniqueName("t-cli-shipments");
    const exchange = uniqueName("t-cli-notifications");
    const channels = ["email", "sms", "push"] as const;
    const senders = Object.fromEntries(channels.map((c) => [c, uniqueName(`t-cli-notify-${c}`)]));
    let run: RunningPipeline | undefined;
    try {
      await ch.assertQueue(shipmentsQueue, { durable: false });
      await ch.assertExchange(exchange, "topic", { durable: false });
      for (const c of channels) {
        await ch.assertQueue(senders[c]!, { durable: false });
        await ch.bindQueue(senders[c]!, exchange, `notify.${c}`);
      }
      const preferred = ["email", "SMS", "push", null];
      const shipments = range(24).map((i) => ({
        shipment_id: `SH-${i}`,
        order_id: `SO-${2000 + i}`,
        customer_name: i % 6 === 5 ? null : `Customer ${i}`,
        channel: preferred[i % 4],
        address: `${i} Harbour Street`,
        carrier: i % 2 === 0 ? "DHL" : "UPS",
        tracking_no: `TRK${100000 + i}`,
        shipped_at: new Date(Date.UTC(2024, 5, 3, 8, i)).toISOString(),
      }));
      const send = (s: (typeof shipments)[number]) =>
        ch.sendToQueue(shipmentsQueue, Buffer.from(JSON.stringify(s)), { messageId: s.shipment_id });
      for (const s of shipments) send(s);
      // The warehouse system sends two shipments again: one notification each all the same.
      send(shipments[3]!);
      send(shipments[17]!);

      const connections = await connectionsFile("rabbitmq", {
        "shop-rabbit": { type: "rabbitmq", url: AMQP_URL, username: "guest", password: "guest" },
      });
      run = startRun(example("rabbitmq-shipping-notifications.yaml"), {
        connections,
        params: { shipments_queue: shipmentsQueue, notifications_exchange: exchange },
      });
      const waiting = async () => {
        let n = 0;
        for (const c of channels) n += (await ch.checkQueue(senders[c]!)).messageCount;
        return n;
      };
      await until(run, "24 notifications", async () => (await waiting()) >= shipments.length);
      const snapshot = expectStopped(await run.stop());
      expect(snapshot.nodes.shipments?.out).toBe(26);
      expect(snapshot.nodes.once_per_shipment?.out).toBe(24);
      expect(await waiting()).toBe(24);
      expect((await ch.checkQueue(shipmentsQueue)).messageCount, "every shipment acknowledged").toBe(0);

      for (const c of channels) {
        const received: Row[] = [];
        for (;;) {
          const m = await ch.get(senders[c]!, { noAck: true });
          if (!m) break;
          expect(m.fields.routingKey).toBe(`notify.${c}`);
          expect(m.fields.exchange).toBe(exchange);
          received.push(JSON.parse(m.content.toString()) as Row);
        }
        const expected = shipments.filter((s) => (s.channel?.toLowerCase() ?? "email") === c);
        expect(received.map((r) => r.shipment_id).sort()).toEqual(expected.map((s) => s.shipment_id).sort());
        for (const row of received) {
          const s = shipments.find((x) => x.shipment_id === row.shipment_id)!;
          expect(row.channel).toBe(c);
          expect(row.text).toBe(
            `Hi ${s.customer_name ?? "there"}, your order ${s.order_id} is on its way with ${s.carrier}. Tracking number: ${s.tracking_no}`,
          );
          expect(Object.keys(row).filter((k) => k.startsWith("_"))).toEqual([]);
        }
      }
    } finally {
      await ended(run);
      await ch.deleteQueue(shipmentsQueue).catch(() => {});
      for (const q of Object.values(senders)) await ch.deleteQueue(q).catch(() => {});
      await ch.deleteExchange(exchange).catch(() => {});
      await model.close();
    }
  });
});

describe("files-sales-to-parquet.yaml", () => {
  it("writes the day's valid sales lines as Parquet and the rejected ones as JSON Lines, then ends", async () => {
    const files = path.join(runs.dir, "files");
    // `sluice run` (main) reads both from the environment: the workers' files directory and the Redis to run on.
    vi.stubEnv("SLUICE_FILES_DIR", files);
    vi.stubEnv("REDIS_URL", REDIS_URL);
    try {
      const day = "2024-06-03";
      const upload = async (folder: string, name: string, lines: string[]) => {
        await mkdir(path.join(files, folder), { recursive: true });
        await writeFile(
          path.join(files, folder, name),
          `receipt_id,store_id,sku,quantity,unit_price,sold_at\n${lines.join("\n")}\n`,
        );
      };
      await upload(`uploads/sales/${day}`, "berlin.csv", [
        "R-1,BER,MUG-0001,2,8.50,2024-06-03T09:15:00Z",
        "R-2,BER,TEE-0042,1,19.00,2024-06-03T10:02:00Z",
        "R-3,BER,mug-1,1,8.50,2024-06-03T10:30:00Z", // SKU not in the catalogue's format
        "R-4,BER,CAP-0007,3,14.00,2024-06-03T11:45:00Z",
      ]);
      await upload(`uploads/sales/${day}`, "paris.csv", [
        "R-10,PAR,BAG-0002,1,35.00,2024-06-03T09:05:00Z",
        "R-11,PAR,HAT-0003,0,12.00,2024-06-03T09:40:00Z", // quantity 0
        'R-12,PAR,"SOC-0003",4,4.50,2024-06-03T12:00:00Z',
        "R-13,PAR,MUG-0001,1,,2024-06-03T13:10:00Z", // no price
      ]);
      // Another day's upload stays where it is.
      await upload("uploads/sales/2024-06-02", "berlin.csv", ["R-0,BER,MUG-0001,1,8.50,2024-06-02T18:00:00Z"]);

      const r = await runToEnd(example("files-sales-to-parquet.yaml"), ["--param", `day=${day}`]);
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      expect(r.snapshot?.status).toBe("completed");
      expect(r.snapshot?.nodes.sales_csv?.out).toBe(8);

      const lake = path.join(files, "lake/sales", day);
      const parts = await readdir(lake);
      expect(parts.length).toBeGreaterThan(0);
      for (const name of parts) expect(name).toMatch(/^sales-.+-p\d-\d+\.parquet$/);
      const sold: Row[] = [];
      for (const name of parts) {
        const bytes = await readFile(path.join(lake, name));
        sold.push(
          ...(await parquetReadObjects({
            file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
          })),
        );
      }
      const revenue = Object.fromEntries(sold.map((row) => [row.receipt_id, row.revenue]));
      expect(revenue).toEqual({ "R-1": 17, "R-2": 19, "R-4": 42, "R-10": 35, "R-12": 18 });
      for (const row of sold) {
        expect(row.sale_date).toBe(day);
        expect(row.source_file).toMatch(new RegExp(`^uploads/sales/${day}/(berlin|paris)\\.csv$`));
        expect(row.sold_at).toBeInstanceOf(Date);
      }

      const rejectedDir = path.join(files, "rejected/sales", day);
      const rejected: Row[] = [];
      for (const name of await readdir(rejectedDir)) {
        expect(name).toMatch(/^rejected-.+\.jsonl$/);
        const text = await readFile(path.join(rejectedDir, name), "utf8");
        rejected.push(
          ...text
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l) as Row),
        );
      }
      expect(rejected.map((row) => row.receipt_id).sort()).toEqual(["R-11", "R-13", "R-3"]);
      for (const row of rejected) {
        expect((row._errors as unknown[]).length).toBeGreaterThan(0);
        expect(row.sold_at).toMatch(/^2024-06-03T\d\d:\d\d:00(\.000)?Z$/);
      }
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe("webhook-invoices-to-crm.yaml", () => {
  it("refuses a short SLUICE_INGEST_TOKEN and a port already taken, saying which", async () => {
    const connections = await connectionsFile("webhook-refused", {
      "crm-api": { type: "http", baseUrl: "http://127.0.0.1:9" },
    });
    const attempt = async (env: Record<string, string>, port: number) => {
      const err: string[] = [];
      const code = await runCommand(
        {
          file: example("webhook-invoices-to-crm.yaml"),
          workers: 1,
          params: [],
          json: true,
          redisUrl: REDIS_URL,
          prefix,
          connections,
          env: { SLUICE_CONNECTIONS_ALLOW: LOCAL_ALLOW, ...process.env, ...env },
          ingest: { port },
        },
        { out: () => {}, err: (t) => err.push(t) },
        new EventEmitter(),
      );
      return { code, err: err.join("\n") };
    };
    const short = await attempt({ SLUICE_INGEST_TOKEN: "secret123" }, 0);
    expect(short).toEqual({
      code: 2,
      err: "sluice run: SLUICE_INGEST_TOKEN must be at least 24 characters without spaces",
    });
    const taken = await TestReceiver.start();
    try {
      const port = Number(new URL(taken.url).port);
      const busy = await attempt({}, port);
      expect(busy).toEqual({
        code: 2,
        err: `sluice run: cannot serve webhook ingest on 127.0.0.1:${port}: the port is taken (choose one with --ingest-port)`,
      });
    } finally {
      await taken.close();
    }
  });

  it("serves the pipeline's ingest URL, and sends the paid invoices posted to it to the CRM as activities", async () => {
    const receiver = await TestReceiver.start();
    const token = `sluice_ing_${randomBytes(24).toString("base64url")}`;
    const pipelineId = "file-webhook-invoices-to-crm";
    let run: RunningPipeline | undefined;
    try {
      const connections = await connectionsFile("webhook", {
        "crm-api": { type: "http", baseUrl: receiver.url, authHeader: "Authorization", authValue: "Bearer crm-key" },
      });
      run = startRun(example("webhook-invoices-to-crm.yaml"), {
        connections,
        env: { SLUICE_INGEST_TOKEN: token },
        ingest: { port: 0 },
      });
      const started = run;
      let url = "";
      await until(started, "the ingest URL", async () => {
        url = /^webhook ingest: POST (\S+)$/m.exec(started.err.join("\n"))?.[1] ?? "";
        return url !== "";
      });
      expect(url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/api/ingest/${pipelineId}$`));
      expect(started.err.join("\n"), "the token from the environment is not printed").not.toContain(token);

      const post = (body: string, auth = `Bearer ${token}`) =>
        fetch(url, { method: "POST", headers: { authorization: auth, "content-type": "application/x-ndjson" }, body });
      const event = (i: number, type: string, email: string | null) =>
        JSON.stringify({
          event_id: `evt_${i}`,
          type,
          invoice_id: `in_${i}`,
          customer_email: email,
          amount_cents: 1000 + i * 7,
          currency: "EUR",
          paid_at: `2026-11-24T10:${String(i % 60).padStart(2, "0")}:00Z`,
        });
      // A wrong token and an unreadable body are refused whole; nothing of them reaches the run.
      expect((await post(event(0, "invoice.paid", "x@example.com"), "Bearer nope")).status).toBe(401);
      const bad = await post(`${event(0, "invoice.paid", "x@example.com")}\n{"event_id": `);
      expect(bad.status).toBe(400);
      expect(await bad.text()).toContain("line 2");

      const events = range(40).map((i) =>
        i % 4 === 1
          ? event(i, "invoice.created", `c${i}@example.com`)
          : event(i, "invoice.paid", i % 4 === 2 ? null : `C${i}@Example.com`),
      );
      for (let i = 0; i < events.length; i += 10) {
        const answer = await post(events.slice(i, i + 10).join("\n"));
        expect(answer.status).toBe(202);
        expect(await answer.json()).toEqual({ accepted: 10 });
      }
      const paid = range(40).filter((i) => i % 4 === 0 || i % 4 === 3);
      await until(run, "every paid invoice at the CRM", async () => receiver.records().length >= paid.length);
      expectStopped(await run.stop(), [
        `webhook ingest: POST ${url}`,
        "  with the header Authorization: Bearer $SLUICE_INGEST_TOKEN",
      ]);

      const activities = receiver.records().sort((a, b) => String(a.external_id).localeCompare(String(b.external_id)));
      expect(activities.map((a) => a.external_id)).toEqual(paid.map((i) => `evt_${i}`).sort());
      for (const a of activities) {
        const i = Number(String(a.external_id).slice(4));
        expect(a).toMatchObject({
          activity_type: "payment",
          contact_email: `c${i}@example.com`,
          amount: (1000 + i * 7) / 100,
          currency: "EUR",
          invoice_url: `https://billing.example.com/invoices/in_${i}`,
        });
      }
      for (const request of receiver.accepted) {
        expect(request.url).toBe("/v2/activities/import");
        expect(request.headers.authorization).toBe("Bearer crm-key");
      }
      // The run is over: the endpoint went with it.
      await expect(post(event(99, "invoice.paid", "late@example.com"))).rejects.toThrow();
    } finally {
      await ended(run);
      await receiver.close();
    }
  });
});
