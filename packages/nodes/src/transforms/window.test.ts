import { expressionPaths } from "@sluice/pipeline/parameters";
import { field, type RecordSchema, t } from "@sluice/pipeline/record-schema";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { takeOver } from "../stateful/failover-harness";
import { LateRecordError } from "../stateful/late-record";
import { configProblems, inferNode } from "../testing/infer-harness";
import { OperatorRun, testContext } from "../testing/operator-harness";
import { type WindowConfig, windowDef } from "./window.def";
import { windowRuntime } from "./window.run";

const clicks: RecordSchema = {
  fields: [field("user_id", t.int), field("host", t.string), field("amount", t.float, true), field("ts", t.timestamp)],
  open: false,
  eventTime: "ts",
};

const S = 1000;
const M = 60 * S;

const context = (config: unknown, schema: RecordSchema = clicks) =>
  testContext<WindowConfig>(windowDef, config, { inputs: { in: schema } });
const run = (config: unknown, schema: RecordSchema = clicks) => {
  const ctx = context(config, schema);
  return { ctx, run: new OperatorRun(windowRuntime.create(ctx)) };
};

const click = (user_id: number, ts: number, amount: number | null = 1, host = "a.example") =>
  Object.freeze({ user_id, host, amount, ts });

const perMinute = {
  key: ["user_id"],
  window: { tumble: "1m" },
  aggregates: { hits: "count(*)", total: "sum(amount)" },
};

afterEach(() => {
  vi.useRealTimers();
});

describe("transform.window — tumbling windows on event time", () => {
  it("fires each window when the watermark reaches its end, in order of end then key", () => {
    const { run: r } = run(perMinute);
    r.push([click(2, 10 * S), click(1, 70 * S), click(1, 5 * S, 2), click(2, 59_999), click(1, 30 * S)]);
    r.watermark(59_999);
    expect(r.take()).toEqual([]);
    r.watermark(M);
    const first = r.take();
    expect(first).toEqual([
      { user_id: 1, window_start: 0, window_end: M, window_time: M - 1, hits: 2, total: 3 },
      { user_id: 2, window_start: 0, window_end: M, window_time: M - 1, hits: 2, total: 2 },
    ]);
    expect(Object.keys(first[0]!)).toEqual(["user_id", "window_start", "window_end", "window_time", "hits", "total"]);
    r.watermark(2 * M);
    expect(r.take()).toEqual([
      { user_id: 1, window_start: M, window_end: 2 * M, window_time: 2 * M - 1, hits: 1, total: 1 },
    ]);
  });

  it("keeps no state for windows it has fired (allowed lateness 0)", () => {
    const { ctx, run: r } = run(perMinute);
    r.push([click(1, 1), click(2, M + 1)]).watermark(M);
    expect([...ctx.stores.get("panes")!.keys()]).toEqual([`${2 * M}/[2]`]);
    r.watermark(2 * M);
    expect(ctx.stores.get("panes")!.size).toBe(0);
  });

  it("sends a record whose window is closed to the dead-letter queue by throwing, and counts it nowhere", () => {
    const { run: r } = run(perMinute);
    r.push([click(1, 10 * S)]).watermark(M + 5 * S);
    r.take();
    expect(() => r.push([click(1, 59 * S)])).toThrow(LateRecordError);
    expect(() => r.push([click(1, 59 * S)])).toThrow(
      /late record: event time 1970-01-01T00:00:59.000Z is behind the watermark 1970-01-01T00:01:05.000Z/,
    );
    // Behind the watermark but in a window that is still open: not late.
    r.push([click(1, M + 1 * S)]).watermark(2 * M);
    expect(r.take()).toEqual([expect.objectContaining({ window_start: M, hits: 1 })]);
  });

  it("routes late records to the late output when late = output", () => {
    const { run: r } = run({ ...perMinute, late: "output" });
    const late = click(1, 5 * S);
    r.push([click(1, 10 * S)]).watermark(M);
    r.take();
    r.push([late]);
    expect(r.take("late")).toEqual([late]);
    expect(r.take("late")[0]).toBeUndefined();
    r.watermark(10 * M);
    expect(r.take()).toEqual([]);
  });

  it("with allowed lateness, emits an updated result for each late-but-allowed record, then closes for good", () => {
    const { ctx, run: r } = run({ ...perMinute, allowedLateness: "30s", late: "output" });
    r.push([click(1, 10 * S)]).watermark(M);
    expect(r.take()).toEqual([expect.objectContaining({ window_start: 0, hits: 1, total: 1 })]);
    r.push([click(1, 20 * S, 5)]);
    expect(r.take()).toEqual([expect.objectContaining({ window_start: 0, hits: 2, total: 6 })]);
    r.watermark(M + 29 * S).push([click(1, 40 * S, 1)]);
    expect(r.take()).toEqual([expect.objectContaining({ window_start: 0, hits: 3, total: 7 })]);
    r.watermark(M + 30 * S);
    expect(r.take()).toEqual([]);
    expect(ctx.stores.get("panes")!.size).toBe(0);
    r.push([click(1, 50 * S)]);
    expect(r.take("late")).toHaveLength(1);
    expect(r.take()).toEqual([]);
  });

  it("a late-but-allowed record for a window that had no state still gets a result", () => {
    const { run: r } = run({ ...perMinute, allowedLateness: "1m" });
    r.push([click(1, 90 * S)]).watermark(2 * M);
    r.take();
    r.push([click(7, 61 * S)]);
    expect(r.take()).toEqual([
      { user_id: 7, window_start: M, window_end: 2 * M, window_time: 2 * M - 1, hits: 1, total: 1 },
    ]);
  });

  it("with no key aggregates every record into one result per window", () => {
    const { run: r } = run({
      window: { tumble: "1m" },
      aggregates: { hits: "count(*)", users: "count(DISTINCT user_id)" },
    });
    r.push([click(1, 1), click(2, 2), click(1, 3)]).end();
    expect(r.take()).toEqual([{ window_start: 0, window_end: M, window_time: M - 1, hits: 3, users: 2 }]);
  });

  it("names computed keys and evaluates them per record", () => {
    const { run: r } = run({
      key: [{ name: "domain", expr: "lower(host)" }],
      window: { tumble: "1m" },
      aggregates: { hits: "count(*)" },
    });
    r.push([click(1, 1, 1, "A.example"), click(2, 2, 1, "a.EXAMPLE"), click(3, 3, 1, "b.example")]).end();
    expect(r.take().map((x) => [x.domain, x.hits])).toEqual([
      ["a.example", 2],
      ["b.example", 1],
    ]);
  });

  it("fires everything still open at the end of a bounded run (watermark +∞ then end)", () => {
    const { run: r } = run(perMinute);
    r.push([click(1, 5 * M), click(1, 1)]);
    r.watermark(Number.POSITIVE_INFINITY);
    expect(r.take().map((x) => x.window_start)).toEqual([0, 5 * M]);
    r.end();
    expect(r.take()).toEqual([]);
  });

  it("dead-letters a record without a usable event time, and one whose aggregate fails, changing nothing", () => {
    const { ctx, run: r } = run(
      { window: { tumble: "1m" }, aggregates: { hits: "count(*)", n: "sum(CAST(host AS INT))" } },
      clicks,
    );
    expect(() => r.push([{ user_id: 1, host: "1", ts: null }])).toThrow(/ts: the event time is missing/);
    expect(() => r.push([{ user_id: 1, host: "1", ts: "yesterday" }])).toThrow(/must be a timestamp/);
    r.push([click(1, 1, 1, "5")]);
    const before = JSON.stringify([...ctx.stores.get("panes")!.entries()]);
    expect(() => r.push([click(1, 2, 1, "five")])).toThrow();
    expect(JSON.stringify([...ctx.stores.get("panes")!.entries()])).toBe(before);
    r.end();
    expect(r.take()).toEqual([expect.objectContaining({ hits: 1, n: 5 })]);
  });

  it("never changes the records it reads", () => {
    const { run: r } = run({ ...perMinute, window: { session: { gap: "10s" } } });
    const records = [click(1, 1), click(1, 5 * S), click(1, 2 * S)];
    const copies = structuredClone(records);
    r.push(records).end();
    expect(records).toEqual(copies);
  });
});

describe("transform.window — hopping windows", () => {
  const hop = { key: ["user_id"], window: { hop: { size: "10s", every: "5s" } }, aggregates: { hits: "count(*)" } };

  it("counts a record in every window that holds it", () => {
    const { run: r } = run(hop);
    r.push([click(1, 7 * S), click(1, 12 * S), click(1, 3 * S)]).end();
    expect(r.take().map((x) => [x.window_start, x.window_end, x.hits])).toEqual([
      [-5 * S, 5 * S, 1],
      [0, 10 * S, 2],
      [5 * S, 15 * S, 2],
      [10 * S, 20 * S, 1],
    ]);
  });

  it("treats a record as late when any of its windows is closed, so no window holds it partially", () => {
    const { run: r } = run({ ...hop, late: "output" });
    r.push([click(1, 12 * S)]).watermark(10 * S);
    expect(r.take()).toEqual([]);
    // 7s falls in [0, 10s) (closed) and [5s, 15s) (open): late, counted in neither.
    r.push([click(1, 7 * S)]);
    expect(r.take("late")).toHaveLength(1);
    r.end();
    expect(r.take().map((x) => [x.window_start, x.hits])).toEqual([
      [5 * S, 1],
      [10 * S, 1],
    ]);
  });
});

describe("transform.window — session windows", () => {
  const sessions = {
    key: ["user_id"],
    window: { session: { gap: "10s" } },
    aggregates: {
      clicks: "count(*)",
      total: "sum(amount)",
      first_amount: "first(amount)",
      last_amount: "last(amount)",
    },
  };

  it("closes a session after the gap and starts another", () => {
    const { run: r } = run(sessions);
    // 14s is 9s after 5s: the same session; 26s is 12s after 14s: a new one.
    r.push([click(1, 0, 1), click(1, 5 * S, 2), click(1, 14 * S, 3), click(1, 26 * S, 4)]);
    r.watermark(24 * S - 1);
    expect(r.take()).toEqual([]);
    r.watermark(24 * S);
    expect(r.take()).toEqual([
      {
        user_id: 1,
        window_start: 0,
        window_end: 24 * S,
        window_time: 24 * S - 1,
        clicks: 3,
        total: 6,
        first_amount: 1,
        last_amount: 3,
      },
    ]);
    r.end();
    expect(r.take()).toEqual([expect.objectContaining({ window_start: 26 * S, window_end: 36 * S, clicks: 1 })]);
  });

  it("merges two sessions that an out-of-order record bridges, combining their aggregates", () => {
    const { ctx, run: r } = run(sessions);
    r.push([click(1, 0, 1), click(1, 15 * S, 10)]);
    expect(ctx.stores.get("sessions")!.get("[1]")).toHaveLength(2);
    r.push([click(1, 8 * S, 100)]);
    expect(ctx.stores.get("sessions")!.get("[1]")).toHaveLength(1);
    r.end();
    expect(r.take()).toEqual([
      expect.objectContaining({
        window_start: 0,
        window_end: 25 * S,
        clicks: 3,
        total: 111,
        first_amount: 1,
        last_amount: 100,
      }),
    ]);
  });

  it("keeps sessions per key, and starts a new one when records are exactly the gap apart", () => {
    const { run: r } = run(sessions);
    r.push([click(1, 0), click(2, 5 * S), click(1, 8 * S), click(2, 15 * S)]).end();
    expect(r.take().map((x) => [x.user_id, x.window_start, x.clicks])).toEqual([
      [2, 5 * S, 1],
      [1, 0, 2],
      [2, 15 * S, 1],
    ]);
  });

  it("updates a fired session with a late-but-allowed record and rejects records beyond the lateness", () => {
    const { ctx, run: r } = run({ ...sessions, allowedLateness: "30s", late: "output" });
    r.push([click(1, 0, 1)]).watermark(12 * S);
    expect(r.take()).toEqual([expect.objectContaining({ window_start: 0, window_end: 10 * S, clicks: 1 })]);
    // Within the lateness; the grown session [0, 11s) still ends before the watermark: the update goes out at once.
    r.push([click(1, 1 * S, 2)]);
    expect(r.take()).toEqual([expect.objectContaining({ window_start: 0, window_end: 11 * S, clicks: 2 })]);
    // This one grows it past the watermark: open again, and it fires when the watermark gets there.
    r.push([click(1, 8 * S, 3)]);
    expect(r.take()).toEqual([]);
    r.watermark(18 * S);
    expect(r.take()).toEqual([expect.objectContaining({ window_start: 0, window_end: 18 * S, clicks: 3 })]);
    r.watermark(48 * S);
    expect(ctx.stores.get("sessions")!.size).toBe(0);
    r.push([click(1, 17 * S)]);
    expect(r.take("late")).toHaveLength(1);
    expect(r.take()).toEqual([]);
  });
});

describe("transform.window — processing time and early results", () => {
  it("places records by arrival time and fires on the tick once the clock passes the window end", () => {
    vi.useFakeTimers();
    vi.setSystemTime(10 * S);
    const { run: r } = run({
      key: ["user_id"],
      window: { tumble: "1m" },
      time: "processing",
      aggregates: { hits: "count(*)" },
    });
    r.push([click(1, 999 * M), click(2, 0)]);
    vi.setSystemTime(65 * S);
    r.push([click(1, 0)]);
    r.watermark(500 * M);
    r.tick(59 * S);
    expect(r.take()).toEqual([]);
    r.tick(60 * S);
    expect(r.take()).toEqual([
      { user_id: 1, window_start: 0, window_end: M, window_time: M - 1, hits: 1 },
      { user_id: 2, window_start: 0, window_end: M, window_time: M - 1, hits: 1 },
    ]);
    r.end();
    expect(r.take()).toEqual([{ user_id: 1, window_start: M, window_end: 2 * M, window_time: 2 * M - 1, hits: 1 }]);
  });

  it("never places a record in a window the processing clock already closed, even if the wall clock went back", () => {
    vi.useFakeTimers();
    vi.setSystemTime(M + 30 * S);
    const { ctx, run: r } = run({ window: { tumble: "1m" }, time: "processing", aggregates: { hits: "count(*)" } });
    r.push([click(1, 0)]).tick(2 * M);
    expect(r.take()).toEqual([expect.objectContaining({ window_start: M, hits: 1 })]);
    // A new owner whose clock is behind still starts from the committed clock.
    const next = new OperatorRun(
      windowRuntime.create(
        takeOver<WindowConfig>(
          windowDef,
          { window: { tumble: "1m" }, time: "processing", aggregates: { hits: "count(*)" } },
          ctx,
          { inputs: { in: clicks } },
        ),
      ),
    );
    vi.setSystemTime(M + 40 * S);
    next.push([click(1, 0)]).end();
    expect(next.take()).toEqual([expect.objectContaining({ window_start: 2 * M, hits: 1 })]);
  });

  it("asks the engine for ticks only when it needs the clock", () => {
    const base = { window: { tumble: "1m" }, aggregates: { n: "count(*)" } };
    const tickless = windowRuntime.create(context(base));
    expect(tickless.onTick).toBeUndefined();
    expect(windowRuntime.create(context({ ...base, time: "processing" })).onTick).toBeDefined();
    expect(windowRuntime.create(context({ ...base, emitEarly: "1s" })).onTick).toBeDefined();
  });

  it("emits running results of changed windows with final = false, and the final row with final = true", () => {
    const { run: r } = run({ ...perMinute, emitEarly: "5s" });
    r.push([click(1, 1), click(2, 2)]).tick(1000);
    expect(r.take()).toEqual([
      { user_id: 1, window_start: 0, window_end: M, window_time: M - 1, hits: 1, total: 1, final: false },
      { user_id: 2, window_start: 0, window_end: M, window_time: M - 1, hits: 1, total: 1, final: false },
    ]);
    r.push([click(2, 3)]).tick(3000);
    expect(r.take()).toEqual([]);
    r.tick(6000);
    expect(r.take()).toEqual([expect.objectContaining({ user_id: 2, hits: 2, final: false })]);
    r.tick(12_000);
    expect(r.take()).toEqual([]);
    r.watermark(M);
    expect(r.take()).toEqual([
      expect.objectContaining({ user_id: 1, hits: 1, final: true }),
      expect.objectContaining({ user_id: 2, hits: 2, final: true }),
    ]);
  });

  it("emits early results for open sessions too", () => {
    const { run: r } = run({
      key: ["user_id"],
      window: { session: { gap: "1m" } },
      aggregates: { n: "count(*)" },
      emitEarly: "1s",
    });
    r.push([click(1, 0), click(1, 10 * S)]).tick(0);
    expect(r.take()).toEqual([expect.objectContaining({ window_start: 0, window_end: 70 * S, n: 2, final: false })]);
    r.end();
    expect(r.take()).toEqual([expect.objectContaining({ n: 2, final: true })]);
  });
});

describe("transform.window — failover", () => {
  const inputs = [
    click(1, 1 * S, 1),
    click(2, 61 * S, 2),
    click(1, 50 * S, 3),
    click(3, 119 * S, 4),
    click(1, 65 * S, 5),
    click(2, 125 * S, 6),
    click(1, 62 * S, 7),
    click(3, 181 * S, 8),
    click(1, 30 * S, 9),
    click(2, 240 * S, 10),
  ];
  const script = (r: OperatorRun, from: number, to: number) => {
    for (let i = from; i < to; i++) {
      r.push([inputs[i]!]);
      if (i % 2 === 1) r.watermark((inputs[i]!.ts as number) - 20 * S);
      if (i % 3 === 2) r.tick(i * S);
    }
  };

  for (const [name, config] of [
    [
      "tumbling, with lateness and early results",
      { ...perMinute, allowedLateness: "40s", late: "output", emitEarly: "2s" },
    ],
    ["hopping", { ...perMinute, window: { hop: { size: "1m", every: "20s" } }, late: "output" }],
    [
      "sessions",
      { ...perMinute, window: { session: { gap: "30s" } }, allowedLateness: "10s", late: "output", emitEarly: "1s" },
    ],
  ] as const) {
    it(`continues identically on a new instance built from the committed stores (${name})`, () => {
      const whole = run(config).run;
      script(whole, 0, inputs.length);
      whole.end();

      for (const cut of [3, 6, 8]) {
        const first = run(config);
        script(first.run, 0, cut);
        const ctx = takeOver<WindowConfig>(windowDef, config, first.ctx, { inputs: { in: clicks } });
        const second = new OperatorRun(windowRuntime.create(ctx));
        script(second, cut, inputs.length);
        second.end();
        for (const port of ["out", "late"]) {
          expect([...(first.run.emitted[port] ?? []), ...(second.emitted[port] ?? [])]).toEqual(
            whole.emitted[port] ?? [],
          );
        }
      }
      expect((whole.emitted.out ?? []).length).toBeGreaterThan(3);
    });
  }
});

describe("transform.window — matches a batch computation", () => {
  type Shape = { tumble: number } | { hop: { size: number; every: number } } | { session: { gap: number } };
  const shapes = fc.oneof(
    fc.integer({ min: 1, max: 50 }).map((n): Shape => ({ tumble: n })),
    fc
      .tuple(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 5 }))
      .map(([every, k]): Shape => ({ hop: { size: every * k, every } })),
    // Sizes that are not a multiple of the step: panes shorter than the step.
    fc
      .tuple(fc.integer({ min: 2, max: 20 }), fc.integer({ min: 1, max: 60 }))
      .map(([every, extra]): Shape => ({ hop: { size: every + extra, every } })),
    fc.integer({ min: 1, max: 30 }).map((gap): Shape => ({ session: { gap } })),
  );
  const events = fc.array(
    fc.record({
      step: fc.integer({ min: 0, max: 15 }),
      jitter: fc.integer({ min: 0, max: 100 }),
      user: fc.integer({ min: 1, max: 4 }),
      amount: fc.integer({ min: -5, max: 5 }),
      watermark: fc.boolean(),
    }),
    { maxLength: 80 },
  );

  interface Row {
    user_id: number;
    window_start: number;
    window_end: number;
    n: number;
    total: number;
    low: number;
  }

  function batch(shape: Shape, records: { user_id: number; ts: number; amount: number }[]): Row[] {
    const groups = new Map<string, Row>();
    const put = (user_id: number, start: number, end: number, members: { amount: number }[]) => {
      for (const r of members) {
        const id = `${end}|${user_id}|${start}`;
        const g = groups.get(id) ?? { user_id, window_start: start, window_end: end, n: 0, total: 0, low: Infinity };
        g.n++;
        g.total += r.amount;
        g.low = Math.min(g.low, r.amount);
        groups.set(id, g);
      }
    };
    if ("session" in shape) {
      const gap = shape.session.gap;
      for (const user of new Set(records.map((r) => r.user_id))) {
        const mine = records.filter((r) => r.user_id === user).sort((a, b) => a.ts - b.ts);
        let current: typeof mine = [];
        const flush = () => {
          if (current.length > 0) put(user, current[0]!.ts, current.at(-1)!.ts + gap, current);
          current = [];
        };
        for (const r of mine) {
          if (current.length > 0 && r.ts - current.at(-1)!.ts >= gap) flush();
          current.push(r);
        }
        flush();
      }
    } else {
      const [size, every] = "tumble" in shape ? [shape.tumble, shape.tumble] : [shape.hop.size, shape.hop.every];
      for (const r of records) {
        for (let start = Math.floor(r.ts / every) * every; start > r.ts - size; start -= every) {
          put(r.user_id, start, start + size, [r]);
        }
      }
    }
    return [...groups.values()].sort(
      (a, b) => a.window_end - b.window_end || JSON.stringify([a.user_id]).localeCompare(JSON.stringify([b.user_id])),
    );
  }

  it("emits, for bounded out-of-orderness and watermark = max − bound, exactly the batch result in order", () => {
    fc.assert(
      fc.property(shapes, events, fc.integer({ min: 0, max: 100 }), (shape, evs, bound) => {
        const config = {
          key: ["user_id"],
          window: shape,
          aggregates: { n: "count(*)", total: "sum(amount)", low: "min(amount)" },
        };
        const r = run(config, {
          fields: [field("user_id", t.int), field("amount", t.int), field("ts", t.timestamp)],
          open: false,
          eventTime: "ts",
        }).run;
        let base = 1000;
        let max = Number.NEGATIVE_INFINITY;
        let watermark = Number.NEGATIVE_INFINITY;
        const records: { user_id: number; ts: number; amount: number }[] = [];
        const out: Record<string, unknown>[] = [];
        // Rows reach the next node before the watermark that fired them: never behind what it has seen.
        const collect = () => {
          for (const x of r.take()) {
            expect(x.window_time as number).toBeGreaterThanOrEqual(watermark);
            out.push(x);
          }
        };
        for (const e of evs) {
          base += e.step;
          const rec = { user_id: e.user, ts: base - Math.min(e.jitter, bound), amount: e.amount };
          records.push(rec);
          r.push([rec]);
          max = Math.max(max, rec.ts);
          if (e.watermark && max - bound > watermark) {
            r.watermark(max - bound);
            collect();
            watermark = max - bound;
          }
        }
        r.watermark(Number.POSITIVE_INFINITY).end();
        collect();
        const got = out.map((x) => ({
          user_id: x.user_id,
          window_start: x.window_start,
          window_end: x.window_end,
          n: x.n,
          total: x.total,
          low: x.low,
        }));
        expect(got).toEqual(batch(shape, records));
        expect(r.take("late")).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});

describe("transform.window — declaration", () => {
  it("infers the key, window and aggregate fields with their types, event time on window_time", () => {
    const { outputs, errors } = inferNode(
      windowDef,
      {
        key: ["user_id", { name: "domain", expr: "lower(host)" }],
        window: { tumble: "1m" },
        aggregates: { hits: "count(*)", avg_amount: "round(avg(amount), 2)", last_host: "last(host)" },
        late: "output",
        emitEarly: "10s",
      },
      { in: clicks },
    );
    expect(errors).toEqual([]);
    expect(outputs.out).toEqual({
      fields: [
        field("user_id", t.int),
        field("domain", t.string),
        field("window_start", t.timestamp, false, "start of the window (inclusive)"),
        field("window_end", t.timestamp, false, "end of the window (exclusive)"),
        field("window_time", t.timestamp, false, "window_end − 1 ms: the row's event time"),
        field("hits", t.int),
        field("avg_amount", t.float, true),
        field("last_host", t.string, true),
        field("final", t.boolean, false, "false for early (running) results"),
      ],
      open: false,
      eventTime: "window_time",
    });
    expect(outputs.late).toBe(clicks);
    expect(
      windowDef.ports?.(windowDef.config.parse({ window: { tumble: 1000 }, aggregates: { n: "count(*)" } })),
    ).toEqual({ outputs: [expect.objectContaining({ name: "out" })] });
  });

  it("marks every SQL field as an expression, so parameters are bound in it, never spliced", () => {
    expect(expressionPaths(windowDef)).toEqual([
      ["key", "*"],
      ["key", "*", "expr"],
      ["aggregates", "*"],
    ]);
    const ctx = testContext<WindowConfig>(
      windowDef,
      { window: { tumble: "1m" }, aggregates: { fee: "sum(amount * {{rate}})" }, timeField: "ts" },
      { inputs: { in: clicks }, parameters: { rate: 0.5 } },
    );
    const r = new OperatorRun(windowRuntime.create(ctx));
    r.push([click(1, 1, 4), click(2, 2, 6)]).end();
    expect(r.take()).toEqual([expect.objectContaining({ fee: 5 })]);
  });

  it("shuffles by the key expressions, and globally with no key", () => {
    const parse = (c: unknown) => windowDef.config.parse(c);
    expect(
      windowDef.keyBy?.(
        parse({
          key: ["user_id", { name: "d", expr: "lower(host)" }],
          window: { tumble: "1m" },
          aggregates: { n: "count(*)" },
        }),
      ),
    ).toEqual({ in: ["user_id", "lower(host)"] });
    expect(windowDef.keyBy?.(parse({ window: { tumble: "1m" }, aggregates: { n: "count(*)" } }))).toEqual({ in: [] });
  });

  it("reports expression errors at the aggregate or key that has them", () => {
    const { errors } = inferNode(
      windowDef,
      {
        key: ["user_id", { name: "d", expr: "lower(hots)" }],
        window: { tumble: "1m" },
        aggregates: { hits: "count(*)", bad: "sum(host)", loose: "amount + 1" },
      },
      { in: clicks },
    );
    expect(errors.map((e) => [e.path, e.code])).toEqual([
      [["key", 1, "expr"], "unknown-field"],
      [["aggregates", "bad"], "expression-type"],
      [["aggregates", "loose"], "expression-aggregate"],
    ]);
    expect(errors[0]!.suggestion).toBe("host");
  });

  it("needs an event-time field for event time, and checks a configured one", () => {
    const noTime: RecordSchema = { fields: [field("user_id", t.int), field("ts", t.string)], open: false };
    const base = { window: { tumble: "1m" }, aggregates: { n: "count(*)" } };
    expect(inferNode(windowDef, base, { in: noTime }).errors).toEqual([
      expect.objectContaining({ path: ["timeField"], code: "no-event-time" }),
    ]);
    expect(inferNode(windowDef, { ...base, timeField: "ts" }, { in: noTime }).errors).toEqual([
      expect.objectContaining({ path: ["timeField"], code: "time-field-type" }),
    ]);
    expect(inferNode(windowDef, { ...base, timeField: "tss" }, { in: clicks }).errors).toEqual([
      expect.objectContaining({ path: ["timeField"], code: "unknown-field", suggestion: "ts" }),
    ]);
    expect(inferNode(windowDef, { ...base, time: "processing" }, { in: noTime }).errors).toEqual([]);
    expect(inferNode(windowDef, { ...base, time: "processing", allowedLateness: "5s" }, { in: noTime }).issues).toEqual(
      [expect.objectContaining({ severity: "warning", path: ["allowedLateness"] })],
    );
  });

  it("explains bad configs where they are", () => {
    const problems = (c: unknown) => configProblems(windowDef, c);
    expect(problems({ window: {}, aggregates: { n: "count(*)" } })).toEqual([
      { path: ["window"], message: "choose a window: tumble, hop or session, e.g. { tumble: 1m }" },
    ]);
    expect(problems({ window: { tumble: "1m", session: { gap: "1s" } }, aggregates: { n: "count(*)" } })).toEqual([
      { path: ["window"], message: "choose one window kind, not tumble and session" },
    ]);
    expect(problems({ window: { tumble: "1x" }, aggregates: { n: "count(*)" } })[0]!.path).toEqual([
      "window",
      "tumble",
    ]);
    expect(problems({ window: { hop: { size: "1s", every: "2s" } }, aggregates: { n: "count(*)" } })).toEqual([
      expect.objectContaining({ path: ["window", "hop", "every"], message: expect.stringMatching(/longer than size/) }),
    ]);
    expect(problems({ window: { tumble: "1m" }, aggregates: {} })).toEqual([
      { path: ["aggregates"], message: "compute at least one aggregate, e.g. hits: count(*)" },
    ]);
    expect(problems({ key: ["lower(host)"], window: { tumble: "1m" }, aggregates: { n: "count(*)" } })).toEqual([
      expect.objectContaining({
        path: ["key", 0],
        message: expect.stringMatching(/is an expression, not a field: name/),
      }),
    ]);
    expect(
      problems({ key: [{ expr: "lower(host)" }], window: { tumble: "1m" }, aggregates: { n: "count(*)" } }),
    ).toEqual([expect.objectContaining({ path: ["key", 0], message: expect.stringMatching(/both are required/) })]);
    expect(problems({ key: ["user_id"], window: { tumble: "1m" }, aggregates: { user_id: "count(*)" } })).toEqual([
      { path: ["aggregates", "user_id"], message: '"user_id" is already a key' },
    ]);
    expect(problems({ key: ["window_start"], window: { tumble: "1m" }, aggregates: { n: "count(*)" } })[0]).toEqual(
      expect.objectContaining({
        path: ["key", 0],
        message: expect.stringMatching(/already a field of the window; rename it/),
      }),
    );
    expect(problems({ window: { tumble: "1m" }, aggregates: { final: "count(*)" }, emitEarly: "10s" })).toEqual([
      { path: ["aggregates", "final"], message: '"final" is already the field that marks early results' },
    ]);
    expect(problems({ window: { tumble: "1m" }, aggregates: { n: "count(*)" }, emitEarly: "100ms" })[0]!.path).toEqual([
      "emitEarly",
    ]);
  });

  it("has examples that parse and infer cleanly", () => {
    const open: RecordSchema = { fields: [], open: true, eventTime: "ts" };
    for (const example of windowDef.examples) {
      expect(inferNode(windowDef, example.config, { in: open }).errors, example.title).toEqual([]);
    }
  });
});
