import { expressionPaths } from "@sluice/pipeline/parameters";
import { field, type RecordSchema, t } from "@sluice/pipeline/record-schema";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { takeOver } from "../stateful/failover-harness";
import { LateRecordError } from "../stateful/late-record";
import { configProblems, inferNode } from "../testing/infer-harness";
import { OperatorRun, testContext } from "../testing/operator-harness";
import { type JoinConfig, joinDef } from "./join.def";
import { joinRuntime } from "./join.run";

const clicks: RecordSchema = {
  fields: [field("id", t.int), field("ad_id", t.int, true), field("ts", t.timestamp)],
  open: false,
  eventTime: "ts",
};
const impressions: RecordSchema = {
  fields: [field("id", t.int), field("ad_id", t.int), field("campaign", t.string), field("shown_at", t.timestamp)],
  open: false,
  eventTime: "shown_at",
};
const inputs = { left: clicks, right: impressions };

const S = 1000;
const M = 60 * S;
const run = (config: unknown, schemas: Record<string, RecordSchema> = inputs) => {
  const ctx = testContext<JoinConfig>(joinDef, config, { inputs: schemas });
  return { ctx, run: new OperatorRun(joinRuntime.create(ctx)) };
};
const click = (id: number, ad_id: number | null, ts: number) => Object.freeze({ id, ad_id, ts });
const shown = (id: number, ad_id: number, shown_at: number, campaign = "c") =>
  Object.freeze({ id, ad_id, campaign, shown_at });

const lookback = { on: { left: ["ad_id"], right: ["ad_id"] }, between: { lower: "-5m", upper: "0s" } };

describe("transform.join — interval", () => {
  it("emits a pair when its second record arrives, in either order, with the bounds inclusive", () => {
    const { run: r } = run(lookback);
    r.push([shown(1, 7, 10 * M)], "right");
    r.push([click(100, 7, 12 * M), click(101, 7, 15 * M), click(102, 7, 15 * M + 1), click(103, 8, 12 * M)], "left");
    r.push([shown(2, 7, 14 * M)], "right");
    expect(r.take().map((x) => [x.id, x.right_id, x.join_time])).toEqual([
      [100, 1, 12 * M],
      [101, 1, 15 * M],
      // 14m is after click 100 (12m): outside [12m − 5m, 12m].
      [101, 2, 15 * M],
      [102, 2, 15 * M + 1],
    ]);
  });

  it("lays the output out as inferred: left fields, right fields with clashes prefixed, join_time", () => {
    const { run: r } = run(lookback);
    r.push([shown(1, 7, 0, "spring")], "right").push([click(100, 7, 1)], "left");
    const [row] = r.take();
    expect(row).toEqual({
      id: 100,
      ad_id: 7,
      ts: 1,
      right_id: 1,
      right_ad_id: 7,
      campaign: "spring",
      shown_at: 0,
      join_time: 1,
    });
    const { outputs, errors } = inferNode(joinDef, lookback, inputs);
    expect(errors).toEqual([]);
    expect(outputs.out!.fields.map((f) => f.name)).toEqual(Object.keys(row!));
    expect(outputs.out!.eventTime).toBe("join_time");
  });

  it("drops buffered records once nothing that is not late can match them", () => {
    const { ctx, run: r } = run(lookback);
    r.push([click(100, 7, 10 * M)], "left").push([shown(1, 7, 10 * M)], "right");
    expect(ctx.stores.get("left")!.size).toBe(1);
    expect(ctx.stores.get("right")!.size).toBe(1);
    // A left record stays while right records up to its time (upper 0s) may come: until the watermark passes it.
    r.watermark(10 * M);
    expect(ctx.stores.get("left")!.size).toBe(1);
    r.watermark(10 * M + 1);
    expect(ctx.stores.get("left")!.size).toBe(0);
    // A right record stays while left records up to 5 minutes after it may come.
    expect(ctx.stores.get("right")!.size).toBe(1);
    r.watermark(15 * M + 1);
    expect(ctx.stores.get("right")!.size).toBe(0);
  });

  it("left join: emits an unmatched left record with NULL right fields once its interval is past", () => {
    const { run: r } = run({ ...lookback, kind: "left" });
    r.push([click(100, 7, 10 * M), click(101, 8, 10 * M)], "left").push([shown(1, 7, 9 * M)], "right");
    expect(r.take().map((x) => [x.id, x.right_id])).toEqual([[100, 1]]);
    r.watermark(10 * M);
    expect(r.take()).toEqual([]);
    r.watermark(11 * M);
    expect(r.take()).toEqual([
      {
        id: 101,
        ad_id: 8,
        ts: 10 * M,
        right_id: null,
        right_ad_id: null,
        campaign: null,
        shown_at: null,
        join_time: 10 * M,
      },
    ]);
    expect(
      inferNode(joinDef, { ...lookback, kind: "left" }, inputs)
        .outputs.out!.fields.filter((f) => f.nullable)
        .map((f) => f.name),
    ).toEqual(["ad_id", "right_id", "right_ad_id", "campaign", "shown_at"]);
  });

  it("a NULL key matches nothing; a left join emits its row at once", () => {
    const inner = run(lookback).run;
    inner.push([click(1, null, 0)], "left").end();
    expect(inner.take()).toEqual([]);
    const outer = run({ ...lookback, kind: "left" }).run;
    outer.push([click(1, null, 0)], "left");
    expect(outer.take()).toEqual([expect.objectContaining({ id: 1, right_id: null, join_time: 0 })]);
  });

  it("late records of each side go to their own late output, or to the dead-letter queue", () => {
    const { run: r } = run({ ...lookback, late: "output", allowedLateness: "1m" });
    r.watermark(10 * M);
    const lateClick = click(1, 7, 9 * M - 1);
    const lateShow = shown(2, 7, 9 * M - 1);
    r.push([lateClick, click(2, 7, 9 * M)], "left").push([lateShow], "right");
    expect(r.take("late_left")).toEqual([lateClick]);
    expect(r.take("late_right")).toEqual([lateShow]);
    const dl = run(lookback).run;
    dl.watermark(10 * M);
    expect(() => dl.push([lateClick], "left")).toThrow(LateRecordError);
    expect(() => dl.push([lateShow], "right")).toThrow(/records it could have matched may already be gone/);
  });

  it("matches every pair of non-late records exactly once, as a batch join would", () => {
    const events = fc.array(
      fc.record({
        side: fc.constantFrom("left" as const, "right" as const),
        step: fc.integer({ min: 0, max: 10 }),
        jitter: fc.integer({ min: 0, max: 40 }),
        key: fc.integer({ min: 1, max: 3 }),
        watermark: fc.boolean(),
      }),
      { maxLength: 60 },
    );
    const bounds = fc
      .tuple(fc.integer({ min: -30, max: 30 }), fc.integer({ min: 0, max: 30 }))
      .map(([lower, width]) => ({ lower, upper: lower + width }));
    fc.assert(
      fc.property(events, bounds, fc.integer({ min: 0, max: 40 }), fc.boolean(), (evs, between, bound, outer) => {
        const schema = (time: string): RecordSchema => ({
          fields: [field("n", t.int), field("k", t.int), field(time, t.timestamp)],
          open: false,
          eventTime: time,
        });
        const r = run(
          { on: { left: ["k"], right: ["k"] }, between, kind: outer ? "left" : "inner" },
          { left: schema("lt"), right: schema("rt") },
        ).run;
        let base = 0;
        let max = Number.NEGATIVE_INFINITY;
        let watermark = Number.NEGATIVE_INFINITY;
        const lefts: { n: number; k: number; lt: number }[] = [];
        const rights: { n: number; k: number; rt: number }[] = [];
        const out: Record<string, unknown>[] = [];
        // Whatever a step emits reaches the next node before the watermark of that step does: it must not be
        // behind the watermark the next node has seen (no allowed lateness here).
        const collect = () => {
          for (const x of r.take()) {
            expect(x.join_time as number).toBeGreaterThanOrEqual(watermark);
            out.push(x);
          }
        };
        evs.forEach((e, n) => {
          base += e.step;
          const time = base - Math.min(e.jitter, bound);
          if (e.side === "left") {
            lefts.push({ n, k: e.key, lt: time });
            r.push([lefts.at(-1)!], "left");
          } else {
            rights.push({ n, k: e.key, rt: time });
            r.push([rights.at(-1)!], "right");
          }
          collect();
          max = Math.max(max, time);
          if (e.watermark && max - bound > watermark) {
            r.watermark(max - bound);
            collect();
            watermark = max - bound;
          }
        });
        r.end();
        collect();
        const got = out.map((x) => `${x.n}-${x.right_n ?? "null"}`);
        const want: string[] = [];
        for (const l of lefts) {
          const matches = rights.filter(
            (x) => x.k === l.k && x.rt >= l.lt + between.lower && x.rt <= l.lt + between.upper,
          );
          for (const m of matches) want.push(`${l.n}-${m.n}`);
          if (outer && matches.length === 0) want.push(`${l.n}-null`);
        }
        expect(got.sort()).toEqual(want.sort());
        expect(r.take("late_left")).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});

describe("transform.join — window", () => {
  const tumbling = { on: { left: ["ad_id"], right: ["ad_id"] }, type: "window", window: { tumble: "1m" } };

  it("joins records of the same key in the same window, with the window's fields", () => {
    const { run: r } = run(tumbling);
    r.push([click(100, 7, 10 * S), click(101, 7, 70 * S)], "left");
    r.push([shown(1, 7, 59 * S), shown(2, 7, 60 * S), shown(3, 8, 1 * S)], "right");
    expect(r.take()).toEqual([
      {
        id: 100,
        ad_id: 7,
        ts: 10 * S,
        right_id: 1,
        right_ad_id: 7,
        campaign: "c",
        shown_at: 59 * S,
        window_start: 0,
        window_end: M,
        window_time: M - 1,
      },
      expect.objectContaining({ id: 101, right_id: 2, window_start: M }),
    ]);
    expect(inferNode(joinDef, tumbling, inputs).outputs.out!.eventTime).toBe("window_time");
  });

  it("emits a pair once per window the two share when windows hop", () => {
    const { run: r } = run({ ...tumbling, window: { hop: { size: "10s", every: "5s" } } });
    r.push([click(100, 7, 6 * S)], "left").push([shown(1, 7, 8 * S), shown(2, 7, 11 * S)], "right");
    expect(r.take().map((x) => [x.right_id, x.window_start])).toEqual([
      [1, 0],
      [1, 5 * S],
      [2, 5 * S],
    ]);
  });

  it("left join: a NULL row for each window a left record matched nothing in, when that window closes", () => {
    const { ctx, run: r } = run({ ...tumbling, window: { hop: { size: "10s", every: "5s" } }, kind: "left" });
    r.push([click(100, 7, 6 * S)], "left").push([shown(1, 7, 12 * S)], "right");
    expect(r.take().map((x) => [x.right_id, x.window_start])).toEqual([[1, 5 * S]]);
    r.watermark(10 * S);
    expect(r.take().map((x) => [x.id, x.right_id, x.window_start])).toEqual([[100, null, 0]]);
    expect(ctx.stores.get("left")!.size).toBe(1);
    r.watermark(15 * S);
    expect(r.take()).toEqual([]);
    expect(ctx.stores.get("left")!.size).toBe(0);
  });

  it("treats a record whose earliest window is closed as late", () => {
    const { run: r } = run({ ...tumbling, late: "output" });
    r.watermark(M);
    r.push([shown(1, 7, M - 1)], "right");
    expect(r.take("late_right")).toHaveLength(1);
  });
});

describe("transform.join — failover", () => {
  for (const [name, config] of [
    ["interval left join", { ...lookback, kind: "left", allowedLateness: "1m", late: "output" }],
    [
      "window left join",
      {
        on: { left: ["ad_id"], right: ["ad_id"] },
        type: "window",
        window: { hop: { size: "4m", every: "2m" } },
        kind: "left",
        late: "output",
      },
    ],
  ] as const) {
    it(`continues identically on a new instance built from the committed stores (${name})`, () => {
      const script: [string, Record<string, unknown>][] = [
        ["left", click(1, 7, 10 * M)],
        ["right", shown(1, 7, 8 * M)],
        ["left", click(2, 8, 11 * M)],
        ["right", shown(2, 7, 12 * M)],
        ["left", click(3, 7, 13 * M)],
        ["right", shown(3, 8, 9 * M)],
        ["left", click(4, 9, 14 * M)],
        ["right", shown(4, 7, 17 * M)],
        ["left", click(5, 7, 20 * M)],
        ["left", click(6, 7, 12 * M)],
      ];
      const play = (r: OperatorRun, from: number, to: number) => {
        for (let i = from; i < to; i++) {
          const [port, record] = script[i]!;
          r.push([record], port);
          if (i % 2 === 1) r.watermark(Number(record.ts ?? record.shown_at) - 2 * M);
        }
      };
      const whole = run(config).run;
      play(whole, 0, script.length);
      whole.end();
      for (const cut of [2, 5, 8]) {
        const first = run(config);
        play(first.run, 0, cut);
        const second = new OperatorRun(
          joinRuntime.create(takeOver<JoinConfig>(joinDef, config, first.ctx, { inputs })),
        );
        play(second, cut, script.length);
        second.end();
        for (const port of ["out", "late_left", "late_right"]) {
          expect([...(first.run.emitted[port] ?? []), ...(second.emitted[port] ?? [])]).toEqual(
            whole.emitted[port] ?? [],
          );
        }
      }
      expect(whole.emitted.out!.filter((x) => x.right_id === null).length).toBeGreaterThan(0);
      expect(whole.emitted.out!.filter((x) => x.right_id !== null).length).toBeGreaterThan(0);
    });
  }
});

describe("transform.join — declaration", () => {
  it("shuffles each side by its own keys", () => {
    expect(
      joinDef.keyBy?.(
        joinDef.config.parse({ on: { left: ["seller"], right: ["id"] }, type: "window", window: { tumble: "10s" } }),
      ),
    ).toEqual({
      left: ["seller"],
      right: ["id"],
    });
  });

  it("reports key errors per side and keys that can never be equal", () => {
    const { errors } = inferNode(
      joinDef,
      { on: { left: ["ad_idd", "id"], right: ["ad_id", "campaign"] }, between: { lower: "-1m", upper: "0s" } },
      inputs,
    );
    expect(errors.map((e) => [e.path, e.code])).toEqual([
      [["on", "left", 0], "unknown-field"],
      [["on", "right", 1], "expression-type"],
    ]);
    expect(errors[1]!.message).toMatch(/on.left\[1\] is int but on.right\[1\] is string/);
  });

  it("reports a prefix that still clashes, and a missing event time per side", () => {
    const left: RecordSchema = { ...clicks, fields: [...clicks.fields, field("x_id", t.int)] };
    expect(inferNode(joinDef, { ...lookback, rightPrefix: "x_" }, { left, right: impressions }).errors).toEqual([
      expect.objectContaining({
        path: ["rightPrefix"],
        message: expect.stringMatching(/"id" would be renamed "x_id"/),
      }),
    ]);
    const untimed: RecordSchema = { fields: [field("ad_id", t.int)], open: false };
    expect(inferNode(joinDef, lookback, { left: clicks, right: untimed }).errors).toEqual([
      expect.objectContaining({ path: ["timeField", "right"], code: "no-event-time" }),
    ]);
  });

  it("marks its key expressions as expressions, so parameters are bound in them", () => {
    expect(expressionPaths(joinDef)).toEqual([
      ["on", "left", "*"],
      ["on", "right", "*"],
    ]);
  });

  it("explains bad configs", () => {
    const on = { left: ["a"], right: ["b"] };
    expect(configProblems(joinDef, { on })).toEqual([
      { path: ["between"], message: expect.stringMatching(/needs between/) },
    ]);
    expect(configProblems(joinDef, { on, type: "window" })).toEqual([
      { path: ["window"], message: expect.stringMatching(/needs a window/) },
    ]);
    expect(
      configProblems(joinDef, { on: { left: ["a", "b"], right: ["b"] }, between: { lower: "-1m", upper: "0s" } }),
    ).toEqual([
      { path: ["on", "right"], message: expect.stringMatching(/2 key expression\(s\) and the right side 1/) },
    ]);
    expect(configProblems(joinDef, { on, between: { lower: "1m", upper: "-1m" } })).toEqual([
      { path: ["between", "upper"], message: expect.stringMatching(/before lower/) },
    ]);
    expect(configProblems(joinDef, { on, between: { lower: "-5 min", upper: "0s" } })[0]!.path).toEqual([
      "between",
      "lower",
    ]);
  });

  it("has examples that parse and infer cleanly", () => {
    const open: RecordSchema = { fields: [], open: true, eventTime: "ts" };
    for (const example of joinDef.examples) {
      expect(inferNode(joinDef, example.config, { left: open, right: open }).errors, example.title).toEqual([]);
    }
  });
});
