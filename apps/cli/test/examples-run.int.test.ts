import { randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { catalog } from "@sluice/nodes/catalog";
import type { GeneratorConfig } from "@sluice/nodes/sources/generator.def";
import type { NexmarkConfig } from "@sluice/nodes/sources/nexmark.def";
import { nexmarkParams } from "@sluice/nodes/sources/nexmark.run";
import { BID, NexmarkGenerator, nexmarkKind } from "@sluice/nodes/sources/nexmark-events";
import type { RouteConfig } from "@sluice/nodes/transforms/route.def";
import type { WindowConfig } from "@sluice/nodes/transforms/window.def";
import { connectionRefs } from "@sluice/pipeline/connection-definition";
import { createKeys } from "@sluice/pipeline/control/keys";
import type { RunSnapshot } from "@sluice/pipeline/control/protocol";
import { readTail } from "@sluice/pipeline/control/run-reader";
import { parseDuration } from "@sluice/pipeline/duration";
import { compilePredicate } from "@sluice/pipeline/expr/compile";
import { formatFromName, parsePipelineText } from "@sluice/pipeline/file-format";
import { type ValidationResult, validate } from "@sluice/pipeline/validate";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Output } from "../src/io";
import { main } from "../src/main";

// `sluice run` on every bounded example in examples/ (all its sources have a count), against the real Redis: each
// run completes and delivers something to every sink, and the three examples of the engine issue (q5, sessions,
// sensor averages) — and the others where it is cheap — produce results that are checked record by record.

const EXAMPLES = fileURLToPath(new URL("../../../examples/", import.meta.url));
const REDIS_URL = process.env.SLUICE_TEST_REDIS_URL || "redis://127.0.0.1:6379";
const prefix = `t-cli-examples-${randomBytes(4).toString("hex")}`;
const keys = createKeys(prefix);
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });

type Row = Record<string, unknown>;

interface Example {
  name: string;
  file: string;
  checked: ValidationResult;
}

interface Ran {
  snapshot: RunSnapshot;
  /** Every record a console sink kept (its `keep` must cover what it received; the test checks that). */
  tail(nodeId: string): Promise<Row[]>;
}

async function loadExample(name: string): Promise<Example> {
  const file = path.join(EXAMPLES, name);
  const parsed = parsePipelineText(await readFile(file, "utf8"), formatFromName(file));
  if (!parsed.ok) throw new Error(`${name}: ${parsed.error.message}`);
  const checked = validate(parsed.value, catalog);
  if (!checked.definition) throw new Error(`${name} does not validate`);
  return { name, file, checked };
}

/** A source with a finite count, as the file says: a generator's `count`, Nexmark's `events`. */
function finiteSource(type: string, config: Row): boolean {
  if (type === "source.generator") return typeof config.count === "number";
  if (type === "source.nexmark") return typeof config.events === "number";
  return false;
}

/** Bounded (every source finite) and self-contained (no node names a connection, which needs a server). */
function runsHere(example: Example): boolean {
  return example.checked.definition!.spec.nodes.every((n) => {
    const def = catalog.get(n.type);
    if (!def) return false;
    if (connectionRefs(def, n.config).length > 0) return false;
    return def.kind !== "source" || finiteSource(n.type, n.config);
  });
}

const examples = await Promise.all(
  (await readdir(EXAMPLES))
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .sort()
    .map(loadExample),
);
const bounded = examples.filter(runsHere);
const byName = new Map(examples.map((e) => [e.name, e]));

function example(name: string): Example {
  const found = byName.get(name);
  if (!found) throw new Error(`no example ${name}`);
  return found;
}

function nodesOfKind(e: Example, kind: string): { id: string; type: string; config: Row }[] {
  return e.checked.definition!.spec.nodes.filter((n) => catalog.get(n.type)?.kind === kind);
}

/** The node's config as the node parsed it (defaults applied, durations in ms). */
function configOf<T>(e: Example, nodeId: string): T {
  return e.checked.configs[nodeId] as T;
}

const runs = new Map<string, Promise<Ran>>();

/** Runs an example once per test file, as a user would: `sluice run -f FILE --json`, one worker in process. */
function ran(name: string): Promise<Ran> {
  let result = runs.get(name);
  if (!result) {
    result = runOnce(example(name));
    runs.set(name, result);
  }
  return result;
}

async function runOnce(e: Example): Promise<Ran> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Output = { out: (t) => out.push(t), err: (t) => err.push(t) };
  const code = await main(["run", "-f", e.file, "--workers", "1", "--prefix", prefix, "--json"], io);
  if (code !== 0) throw new Error(`sluice run ${e.name} exited ${code}: ${[...err, ...out].join("\n")}`);
  const snapshot = JSON.parse(out.join("\n")) as RunSnapshot;
  return {
    snapshot,
    async tail(nodeId) {
      const received = snapshot.nodes[nodeId]?.in ?? 0;
      const entries = await readTail(redis, keys, snapshot.runId, nodeId, received + 1);
      expect(entries.length, `the tail of ${nodeId} keeps every record it received`).toBe(received);
      return entries.map((entry) => entry.record as Row);
    },
  };
}

const num = (row: Row, field: string) => row[field] as number;

beforeAll(() => {
  vi.stubEnv("REDIS_URL", REDIS_URL);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  let cursor = "0";
  do {
    const [next, found] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    cursor = next;
    if (found.length > 0) await redis.del(...found);
  } while (cursor !== "0");
  await redis.quit();
});

describe("sluice run on the examples", () => {
  it("finds the bounded examples, the engine issue's three among them", () => {
    expect(bounded.map((e) => e.name)).toEqual(
      expect.arrayContaining(["nexmark-q5-hot-items.yaml", "clickstream-sessions.yaml", "sensor-averages.yaml"]),
    );
  });

  it.each(bounded.map((e) => e.name))("%s completes, with output at every sink", async (name) => {
    const e = example(name);
    const { snapshot } = await ran(name);
    expect(snapshot.status).toBe("completed");
    expect(snapshot.error).toBeNull();
    for (const source of nodesOfKind(e, "source")) {
      const count = source.config.count ?? source.config.events;
      expect(snapshot.nodes[source.id]?.out, `source ${source.id} emits its count`).toBe(count);
    }
    for (const sink of nodesOfKind(e, "sink")) {
      expect(snapshot.nodes[sink.id]?.in ?? 0, `sink ${sink.id} receives records`).toBeGreaterThan(0);
    }
    const errors = Object.entries(snapshot.nodes).filter(([, c]) => c.errors > 0);
    expect(errors, "nodes that dead-lettered records").toEqual([]);
  });
});

describe("nexmark-q5-hot-items.yaml", () => {
  const name = "nexmark-q5-hot-items.yaml";

  it("emits exactly one hot auction per window, and it is the one with the most bids", async () => {
    const e = example(name);
    const { snapshot, tail } = await ran(name);
    const rows = await tail("hot_items");

    // The same query as a plain loop over the same events: bids per auction per hopping window.
    const source = configOf<NexmarkConfig>(e, "auctions");
    const { window } = configOf<WindowConfig>(e, "bids_per_auction");
    if (window.kind !== "hop") throw new Error("q5 counts bids in hopping windows");
    const generator = new NexmarkGenerator(nexmarkParams(source, 0));
    const counts = new Map<number, Map<number, number>>(); // window start → auction → bids
    for (let i = 0; i < source.events!; i++) {
      if (nexmarkKind(i) !== BID) continue;
      const bid = generator.event(i);
      const time = num(bid, "dateTime");
      for (
        let start = Math.floor(time / window.every) * window.every;
        start > time - window.size;
        start -= window.every
      ) {
        const perAuction = counts.get(start) ?? new Map<number, number>();
        perAuction.set(num(bid, "auction"), (perAuction.get(num(bid, "auction")) ?? 0) + 1);
        counts.set(start, perAuction);
      }
    }

    expect(rows.length).toBe(counts.size);
    expect(snapshot.nodes.hottest?.out).toBe(counts.size);
    expect(new Set(rows.map((r) => num(r, "window_start"))), "one row per window").toEqual(new Set(counts.keys()));
    for (const row of rows) {
      const perAuction = counts.get(num(row, "window_start"))!;
      expect(row.rank).toBe(1);
      expect(num(row, "window_end") - num(row, "window_start")).toBe(window.size);
      expect(num(row, "bids"), `bids of auction ${row.auction}`).toBe(perAuction.get(num(row, "auction")));
      expect(num(row, "bids"), "the most bids of the window").toBe(Math.max(...perAuction.values()));
    }
  });
});

describe("clickstream-sessions.yaml", () => {
  const name = "clickstream-sessions.yaml";

  it("puts every page view in exactly one session, sessions separated by the gap", async () => {
    const e = example(name);
    const { snapshot, tail } = await ran(name);
    const rows = await tail("session_tail");
    const { window } = configOf<WindowConfig>(e, "sessions");
    if (window.kind !== "session") throw new Error("sessions uses session windows");

    expect(rows.length).toBe(snapshot.nodes.sessions?.out);
    expect(
      rows.reduce((n, r) => n + num(r, "pages"), 0),
      "page views over all sessions",
    ).toBe(snapshot.nodes.sessions?.in);
    const byUser = new Map<number, Row[]>();
    for (const row of rows) {
      expect(num(row, "pages")).toBeGreaterThanOrEqual(1);
      expect(num(row, "distinct_pages")).toBeLessThanOrEqual(num(row, "pages"));
      expect(num(row, "duration_s")).toBeGreaterThanOrEqual(0);
      expect(num(row, "last_view_at")).toBeGreaterThanOrEqual(num(row, "first_view_at"));
      expect(row.bounced).toBe(num(row, "pages") === 1);
      // A session spans its first view to its last view plus the gap.
      expect(num(row, "window_start")).toBe(num(row, "first_view_at"));
      expect(num(row, "window_end")).toBe(num(row, "last_view_at") + window.gap);
      const sessions = byUser.get(num(row, "user_id")) ?? [];
      sessions.push(row);
      byUser.set(num(row, "user_id"), sessions);
    }
    let split = 0;
    for (const sessions of byUser.values()) {
      sessions.sort((a, b) => num(a, "first_view_at") - num(b, "first_view_at"));
      for (let i = 1; i < sessions.length; i++) {
        split++;
        const pause = num(sessions[i]!, "first_view_at") - num(sessions[i - 1]!, "last_view_at");
        expect(pause, `user ${sessions[i]!.user_id} paused at least the gap between sessions`).toBeGreaterThanOrEqual(
          window.gap,
        );
      }
    }
    expect(split, "some users came back after a pause and started a second session").toBeGreaterThan(0);
  });
});

describe("sensor-averages.yaml", () => {
  const name = "sensor-averages.yaml";

  it("averages within min and max, minutes routed by their condition, every reading counted once", async () => {
    const e = example(name);
    const { snapshot, tail } = await ran(name);
    const alerts = await tail("alerts");
    const normal = await tail("minute_table");
    const late = await tail("late_readings");
    const { window } = configOf<WindowConfig>(e, "per_minute");
    if (window.kind !== "tumble") throw new Error("sensor averages use tumbling windows");

    const route = configOf<RouteConfig>(e, "hot_or_not").routes[0]!;
    const hot = compilePredicate(route.where, { schema: e.checked.schemas.per_minute!.out! });
    if (!hot.ok) throw new Error(hot.errors[0]?.message);
    for (const row of alerts) expect(hot.value.test(row), `alert ${JSON.stringify(row)}`).toBe(true);
    for (const row of normal) expect(hot.value.test(row), `normal ${JSON.stringify(row)}`).toBe(false);

    // A minute that took late readings is emitted again, updated; its last row has the most readings.
    const final = new Map<string, number>();
    for (const row of [...alerts, ...normal]) {
      expect(num(row, "min_temp")).toBeLessThanOrEqual(num(row, "avg_temp"));
      expect(num(row, "avg_temp")).toBeLessThanOrEqual(num(row, "max_temp"));
      expect(num(row, "readings")).toBeGreaterThanOrEqual(1);
      expect(num(row, "window_start") % window.size).toBe(0);
      expect(num(row, "window_end") - num(row, "window_start")).toBe(window.size);
      const key = `${row.sensor_id}@${row.window_start}`;
      final.set(key, Math.max(final.get(key) ?? 0, num(row, "readings")));
    }
    // A reading goes late only when the watermark had passed its minute's end + allowed lateness before it came.
    // The watermark trails the newest reading before it by maxOutOfOrder at least; reading i is the generator's
    // i-th record, emitted in its partition's order at start + i × interval: that bounds when it came.
    expect(late.length, "readings too late for their minute").toBeGreaterThan(0);
    const source = configOf<GeneratorConfig>(e, "readings");
    const start = typeof source.startTime === "string" ? Date.parse(source.startTime) : source.startTime!;
    const interval = source.rate > 0 ? 1000 / source.rate : 1;
    const waited = parseDuration(e.checked.definition!.spec.settings.maxOutOfOrder ?? 0)!;
    const { allowedLateness } = configOf<WindowConfig>(e, "per_minute");
    for (const reading of late) {
      const minuteEnd = Math.floor(num(reading, "read_at") / window.size) * window.size + window.size;
      const cameAt = start + Math.floor(num(reading, "reading_id") * interval);
      expect(cameAt - minuteEnd, `late reading ${reading.reading_id}`).toBeGreaterThan(waited + allowedLateness);
    }
    const counted = [...final.values()].reduce((a, b) => a + b, 0);
    expect(counted + late.length, "each valid reading is in one minute or late").toBe(
      snapshot.nodes.valid_readings?.out,
    );
  });
});

describe("the other bounded examples", () => {
  it("nexmark-q7-highest-bid.yaml: one highest bid per 10-second window", async () => {
    const { snapshot } = await ran("nexmark-q7-highest-bid.yaml");
    // 300,000 events at 10,000 a second of event time, from a 10-second boundary: three windows.
    expect(snapshot.nodes.highest_bid?.out).toBe(3);
    expect(snapshot.nodes.results?.in).toBe(3);
  });

  it("nexmark-q8-new-sellers.yaml: both sides of each pair in the pair's window", async () => {
    const { tail } = await ran("nexmark-q8-new-sellers.yaml");
    const rows = await tail("new_seller_tail");
    for (const row of rows) {
      for (const field of ["registered_at", "opened_at"]) {
        expect(num(row, field)).toBeGreaterThanOrEqual(num(row, "window_start"));
        expect(num(row, field)).toBeLessThan(num(row, "window_start") + 10_000);
      }
    }
  });

  it("app-events-dedupe.yaml: the retried copies, and only they, are duplicates", async () => {
    const { snapshot } = await ran("app-events-dedupe.yaml");
    expect(snapshot.nodes.events?.in).toBe(snapshot.nodes.live_events?.out);
    expect(snapshot.nodes.redeliveries?.in).toBe(snapshot.nodes.retried_events?.out);
  });

  it("orders-payments-join.yaml: every order once, paid with its own payment or unpaid", async () => {
    const { snapshot, tail } = await ran("orders-payments-join.yaml");
    const rows = await tail("order_status");
    expect(new Set(rows.map((r) => r.order_id)).size).toBe(snapshot.nodes.orders?.out);
    const paid = rows.filter((r) => r.paid === true);
    expect(paid.length, "orders with a captured payment").toBe(snapshot.nodes.captured_only?.out);
    for (const row of paid) {
      expect(row.payment_amount).toBe(row.amount);
      expect(num(row, "seconds_to_pay")).toBeGreaterThanOrEqual(0);
      expect(num(row, "seconds_to_pay")).toBeLessThanOrEqual(60);
    }
  });

  it("order-webhooks.yaml: each order is valid or quarantined, never both", async () => {
    const { snapshot } = await ran("order-webhooks.yaml");
    const quarantined = snapshot.nodes.quarantine?.in ?? 0;
    expect(quarantined).toBeGreaterThan(0);
    expect(quarantined + (snapshot.nodes.order_lines?.in ?? 0)).toBe(snapshot.nodes.webhooks?.out);
    expect(snapshot.nodes.warehouse?.in).toBeGreaterThan(snapshot.nodes.order_lines?.in ?? 0);
  });
});
