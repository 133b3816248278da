import type { DataRecord, RecordSchema } from "@sluice/pipeline/record-schema";
import { describe, expect, it } from "vitest";
import { configProblems, inferNode } from "../testing/infer-harness";
import { testContext } from "../testing/operator-harness";
import { NEXMARK_SCHEMAS, type NexmarkConfig, nexmarkDef } from "./nexmark.def";
import { MAX_BEHIND_MS, nexmarkParams, nexmarkRuntime, PACED_TICK_MS } from "./nexmark.run";
import { NexmarkGenerator, nexmarkKind } from "./nexmark-events";

const START = Date.UTC(2015, 6, 15);

async function drain(config: unknown, partitions: number, batch = 997) {
  const byIndex = new Map<number, { record: DataRecord; port: string }>();
  for (let p = 0; p < partitions; p++) {
    const reader = await nexmarkRuntime.open(
      testContext<NexmarkConfig>(nexmarkDef, config, { partition: p, partitions }),
      null,
    );
    let k = 0;
    for (;;) {
      const b = await reader.read(batch, new AbortController().signal);
      expect(b.ports).toHaveLength(b.records.length);
      b.records.forEach((record, j) => {
        byIndex.set(p + (k + j) * partitions, { record, port: b.ports![j]! });
      });
      k += b.records.length;
      expect(b.offset).toBe(k);
      if (b.end) break;
    }
  }
  return [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

const generator = (config: unknown = {}) =>
  new NexmarkGenerator(nexmarkParams(nexmarkDef.config.parse({ startTime: START, ...(config as object) }), 0));

function conforms(record: DataRecord, schema: RecordSchema): void {
  expect(Object.keys(record)).toEqual(schema.fields.map((f) => f.name));
  for (const f of schema.fields) {
    const v = record[f.name];
    if (f.type.kind === "string") expect(typeof v).toBe("string");
    else expect(Number.isSafeInteger(v)).toBe(true);
  }
}

describe("source.nexmark", () => {
  it("emits the same events on the same ports whatever the partitioning", async () => {
    const config = { events: 2000, rate: 0, seed: 3, startTime: START };
    const one = await drain(config, 1);
    const four = await drain(config, 4, 61);
    expect(one).toHaveLength(2000);
    expect(four).toEqual(one);
  });

  it("resumes after a committed offset with exactly the events that follow", async () => {
    const config = { events: 300, rate: 0, startTime: START };
    const whole = await nexmarkRuntime.open(testContext(nexmarkDef, config, { partition: 1, partitions: 3 }), null);
    const all = await whole.read(1000, new AbortController().signal);
    const resumed = await nexmarkRuntime.open(testContext(nexmarkDef, config, { partition: 1, partitions: 3 }), 40);
    const rest = await resumed.read(1000, new AbortController().signal);
    expect(rest.records).toEqual(all.records.slice(40));
    expect(rest.ports).toEqual(all.ports!.slice(40));
    expect(rest.end).toBe(true);
  });

  it("has 1 person, 3 auctions and 46 bids in every 50 events, with ids in creation order", async () => {
    const events = await drain({ events: 5000, rate: 0, startTime: START }, 2);
    for (let e = 0; e < 100; e++) {
      const ports = events.slice(e * 50, e * 50 + 50).map((x) => x.port);
      expect(ports.slice(0, 4)).toEqual(["person", "auction", "auction", "auction"]);
      expect(new Set(ports.slice(4))).toEqual(new Set(["bid"]));
    }
    const persons = events.filter((x) => x.port === "person").map((x) => x.record);
    const auctions = events.filter((x) => x.port === "auction").map((x) => x.record);
    expect(persons.map((p) => p.id)).toEqual(Array.from({ length: 100 }, (_, i) => 1000 + i));
    expect(auctions.map((a) => a.id)).toEqual(Array.from({ length: 300 }, (_, i) => 1000 + i));
    for (const { record, port } of events) conforms(record, NEXMARK_SCHEMAS[port as "person" | "auction" | "bid"]);
  });

  it("skews bids and auctions towards hot auctions, bidders and sellers as the reference does", () => {
    const g = generator();
    let bids = 0;
    let hotAuction = 0;
    let hotBidder = 0;
    let auctions = 0;
    let hotSeller = 0;
    let cheap = 0;
    // Checked by counting, not with expect() per event: 100,000 expect calls take seconds.
    const wrong: string[] = [];
    const check = (ok: boolean, what: string, i: number) => {
      if (!ok && wrong.length < 5) wrong.push(`${what} at event ${i}`);
    };
    for (let i = 0; i < 100_000; i++) {
      const r = g.event(i);
      const kind = nexmarkKind(i);
      const lastPerson = 1000 + Math.floor(i / 50);
      if (kind === 2) {
        bids++;
        const auction = r.auction as number;
        const lastAuction = 1000 + Math.floor(i / 50) * 3 + 2;
        check(auction <= lastAuction + 10 && auction >= Math.max(1000, lastAuction - 100), "auction out of range", i);
        check((r.bidder as number) <= lastPerson + 10, "bidder out of range", i);
        if (auction === 1000 + Math.floor((lastAuction - 1000) / 100) * 100) hotAuction++;
        if (r.bidder === 1000 + Math.floor((lastPerson - 1000) / 100) * 100 + 1) hotBidder++;
        const price = r.price as number;
        check(price >= 100 && price <= 100_000_000, "price out of range", i);
        if (price < 100_000) cheap++;
      } else if (kind === 1) {
        auctions++;
        if (r.seller === 1000 + Math.floor((lastPerson - 1000) / 100) * 100) hotSeller++;
        const category = r.category as number;
        check(category >= 10 && category <= 14, "category out of range", i);
        check((r.reserve as number) > (r.initialBid as number), "reserve not above the initial bid", i);
        check((r.expires as number) > (r.dateTime as number), "expires before it starts", i);
      }
    }
    expect(wrong).toEqual([]);
    // P(hot) = 1 - 1/ratio, plus the few random picks that land on the hot one.
    expect(hotAuction / bids).toBeGreaterThan(0.49);
    expect(hotAuction / bids).toBeLessThan(0.53);
    expect(hotBidder / bids).toBeGreaterThan(0.74);
    expect(hotBidder / bids).toBeLessThan(0.77);
    expect(hotSeller / auctions).toBeGreaterThan(0.73);
    expect(hotSeller / auctions).toBeLessThan(0.78);
    // log-uniform over 6 decades: half the prices lie below the geometric middle ($1,000)
    expect(cheap / bids).toBeGreaterThan(0.48);
    expect(cheap / bids).toBeLessThan(0.52);

    const flat = generator({ hotAuctionRatio: 1 });
    let flatHot = 0;
    for (let i = 4; i < 50_000; i += 50) if ((flat.event(i).auction as number) % 100 === 0) flatHot++;
    expect(flatHot).toBeLessThan(100);
  });

  it("pads events to the configured average size", () => {
    for (const avgEventBytes of [126, 500]) {
      const g = generator({ avgEventBytes });
      let extra = 0;
      let bids = 0;
      for (let i = 0; i < 20_000; i++) {
        const r = g.event(i);
        if (nexmarkKind(i) !== 2) continue;
        extra += (r.extra as string).length;
        bids++;
      }
      const expected = Math.round((100 * avgEventBytes) / 126) - 32;
      expect(extra / bids).toBeGreaterThan(expected * 0.97);
      expect(extra / bids).toBeLessThan(expected * 1.03);
    }
  });

  it("advances event time with the rate, or at 10,000 events/s when running flat out", () => {
    const paced = generator({ rate: 1000 });
    expect([0, 1, 49, 1234].map((i) => paced.event(i).dateTime)).toEqual([START, START + 1, START + 49, START + 1234]);
    const flat = generator({ rate: 0 });
    expect([0, 9, 10, 12_345].map((i) => flat.event(i).dateTime)).toEqual([START, START, START + 1, START + 1234]);
  });

  it("moves event times back by at most the out-of-orderness", () => {
    const g = generator({ rate: 0, maxOutOfOrder: "2s" });
    let moved = 0;
    for (let i = 0; i < 5000; i++) {
      const shift = g.timeOf(i) - (g.event(i).dateTime as number);
      expect(shift).toBeGreaterThanOrEqual(0);
      expect(shift).toBeLessThanOrEqual(2000);
      if (shift > 0) moved++;
    }
    expect(moved).toBeGreaterThan(4900);
  });

  it("depends on the seed and nothing else", () => {
    const a = generator({ seed: 1 });
    const b = generator({ seed: 2 });
    const again = generator({ seed: 1 });
    const indexes = [0, 1, 5, 4_000_000_123, 2 ** 40 + 7];
    expect(indexes.map((i) => b.event(i))).not.toEqual(indexes.map((i) => a.event(i)));
    expect(indexes.map((i) => again.event(i))).toEqual(indexes.map((i) => a.event(i)));
    // Not even on what other generators in the process were configured with.
    generator({ avgEventBytes: 10_000 }).event(2);
    expect(indexes.map((i) => generator({ seed: 1 }).event(i))).toEqual(indexes.map((i) => a.event(i)));
    expect((generator({ avgEventBytes: 10_000 }).event(1).extra as string).length).toBeGreaterThan(30_000);
  });

  it("uses the run's start time unless a start time is configured", async () => {
    const reader = await nexmarkRuntime.open(
      testContext(nexmarkDef, { rate: 0, events: 1 }, { runStartedAt: 1_234_000 }),
      null,
    );
    expect((await reader.read(1, new AbortController().signal)).records[0]!.dateTime).toBe(1_234_000);
    expect(nexmarkDef.config.parse({ startTime: "2015-07-15T00:00:00Z" }).startTime).toBe(START);
    expect(configProblems(nexmarkDef, { startTime: "July" })[0]?.path).toEqual(["startTime"]);
  });

  it("paces itself to the configured rate", async () => {
    const reader = await nexmarkRuntime.open(
      testContext(nexmarkDef, { rate: 100 }, { runStartedAt: Date.now() }),
      null,
    );
    const first = await reader.read(1000, new AbortController().signal);
    expect(first.records.length).toBeLessThanOrEqual(2);
    const second = await reader.read(1000, new AbortController().signal);
    expect(second.records).toHaveLength(0);
    expect(second.idleMs).toBeGreaterThan(0);
  });

  it("hands paced events out together at ticks, sleeping in between", async () => {
    const reader = await nexmarkRuntime.open(
      testContext(nexmarkDef, { rate: 2000 }, { runStartedAt: Date.now() }),
      null,
    );
    const signal = new AbortController().signal;
    const until = performance.now() + 60;
    let events = 0;
    let batches = 0;
    while (performance.now() < until) {
      const batch = await reader.read(1000, signal);
      if (batch.records.length > 0) {
        events += batch.records.length;
        batches++;
      } else {
        expect(batch.idleMs).toBeGreaterThan(0);
        expect(batch.idleMs).toBeLessThanOrEqual(PACED_TICK_MS);
        await new Promise((resolve) => setTimeout(resolve, batch.idleMs));
      }
    }
    // About 120 events in 60 ms, in about one batch per tick rather than one per read.
    expect(events).toBeGreaterThan(60);
    expect(events).toBeLessThanOrEqual(2000 * 0.06 + 2 * PACED_TICK_MS * 2);
    expect(batches).toBeLessThanOrEqual(60 / PACED_TICK_MS + 3);
  });

  it("catches up with the run's schedule after a late start, but only so far", async () => {
    const signal = new AbortController().signal;
    const late = await nexmarkRuntime.open(
      testContext(nexmarkDef, { rate: 1000 }, { runStartedAt: Date.now() - 300 }),
      null,
    );
    const first = (await late.read(10_000, signal)).records.length;
    expect(first).toBeGreaterThanOrEqual(300);
    expect(first).toBeLessThan(400);
    const resumed = await nexmarkRuntime.open(
      testContext(nexmarkDef, { rate: 1000 }, { runStartedAt: Date.now() - 3_600_000 }),
      null,
    );
    expect((await resumed.read(1_000_000, signal)).records.length).toBeLessThanOrEqual(MAX_BEHIND_MS + 1);
  });

  it("declares closed schemas with dateTime as event time on three outputs", () => {
    const { outputs, errors } = inferNode(nexmarkDef, {});
    expect(errors).toEqual([]);
    expect(Object.keys(outputs)).toEqual(["person", "auction", "bid"]);
    for (const schema of Object.values(outputs)) expect(schema).toMatchObject({ open: false, eventTime: "dateTime" });
    expect(outputs.bid!.fields.map((f) => f.name)).toEqual([
      "auction",
      "bidder",
      "price",
      "channel",
      "url",
      "dateTime",
      "extra",
    ]);
    expect(nexmarkDef.eventTimeField!(nexmarkDef.config.parse({}))).toBe("dateTime");
    expect(nexmarkDef.outputs.map((p) => p.name)).toEqual(["person", "auction", "bid"]);
  });
});
