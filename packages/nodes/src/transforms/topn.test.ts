import { expressionPaths } from "@sluice/pipeline/parameters";
import { field, type RecordSchema, t } from "@sluice/pipeline/record-schema";
import { describe, expect, it } from "vitest";
import { takeOver } from "../stateful/failover-harness";
import { LateRecordError } from "../stateful/late-record";
import { configProblems, inferNode } from "../testing/infer-harness";
import { OperatorRun, testContext } from "../testing/operator-harness";
import { type TopNConfig, topnDef } from "./topn.def";
import { topnRuntime } from "./topn.run";
import { type WindowConfig, windowDef } from "./window.def";
import { windowRuntime } from "./window.run";

const bids: RecordSchema = {
  fields: [
    field("auction", t.int),
    field("bidder", t.int),
    field("price", t.int, true),
    field("dateTime", t.timestamp),
  ],
  open: false,
  eventTime: "dateTime",
};

const S = 1000;
const run = (config: unknown, schema: RecordSchema = bids) => {
  const ctx = testContext<TopNConfig>(topnDef, config, { inputs: { in: schema } });
  return { ctx, run: new OperatorRun(topnRuntime.create(ctx)) };
};
const bid = (auction: number, price: number | null, dateTime: number, bidder = 1) =>
  Object.freeze({ auction, bidder, price, dateTime });

describe("transform.topn — in its own windows", () => {
  it("emits the highest bid per tumbling window when the watermark closes it (Nexmark q7)", () => {
    const { run: r } = run({ window: { tumble: "10s" }, orderBy: "price", n: 1 });
    r.push([bid(1, 50, 1 * S), bid(2, 90, 4 * S), bid(3, 70, 12 * S), bid(1, 80, 9 * S)]);
    r.watermark(9_999);
    expect(r.take()).toEqual([]);
    r.watermark(10 * S);
    const [top] = r.take();
    expect(top).toEqual({
      auction: 2,
      bidder: 1,
      price: 90,
      dateTime: 4 * S,
      rank: 1,
      window_start: 0,
      window_end: 10 * S,
      window_time: 10 * S - 1,
    });
    r.end();
    expect(r.take().map((x) => [x.price, x.window_start])).toEqual([[70, 10 * S]]);
  });

  it("ranks N per key, ties by arrival, NULLs last, ascending when asked", () => {
    const { run: r } = run({ key: ["auction"], window: { tumble: "1m" }, orderBy: "price", descending: false, n: 3 });
    r.push([
      bid(1, null, 1, 10),
      bid(1, 30, 2, 11),
      bid(2, 5, 3, 12),
      bid(1, 20, 4, 13),
      bid(1, 20, 5, 14),
      bid(1, 40, 6, 15),
    ]).end();
    expect(r.take().map((x) => [x.auction, x.rank, x.price, x.bidder])).toEqual([
      [1, 1, 20, 13],
      [1, 2, 20, 14],
      [1, 3, 30, 11],
      [2, 1, 5, 12],
    ]);
  });

  it("puts NULL last when ranking highest first too, and emits fewer than N when there are fewer", () => {
    const { run: r } = run({ window: { tumble: "1m" }, orderBy: "price", n: 5 });
    r.push([bid(1, null, 1), bid(2, 3, 2)]).end();
    expect(r.take().map((x) => [x.rank, x.price])).toEqual([
      [1, 3],
      [2, null],
    ]);
  });

  it("keeps at most N candidates per key and pane, whatever arrives", () => {
    const { ctx, run: r } = run({ window: { tumble: "1m" }, orderBy: "price", n: 2 });
    r.push(Array.from({ length: 100 }, (_, i) => bid(i, (i * 37) % 101, i)));
    const state = [...ctx.stores.get("top")!.map.values()] as unknown[][];
    expect(state).toHaveLength(1);
    expect(state[0]).toHaveLength(2);
    r.end();
    expect(r.take().map((x) => x.price)).toEqual([100, 99]);
  });

  it("ranks across the panes of hopping windows", () => {
    const { run: r } = run({ window: { hop: { size: "10s", every: "5s" } }, orderBy: "price", n: 2 });
    r.push([bid(1, 10, 1 * S), bid(2, 30, 6 * S), bid(3, 20, 7 * S), bid(4, 40, 11 * S)]).end();
    expect(r.take().map((x) => [x.window_start, x.rank, x.auction])).toEqual([
      [-5 * S, 1, 1],
      [0, 1, 2],
      [0, 2, 3],
      [5 * S, 1, 4],
      [5 * S, 2, 2],
      [10 * S, 1, 4],
    ]);
  });

  it("sends records of closed windows to the late output or the dead-letter queue", () => {
    const out = run({ window: { tumble: "10s" }, orderBy: "price", n: 1, late: "output" }).run;
    out.push([bid(1, 1, 1 * S)]).watermark(10 * S);
    out.take();
    const late = bid(2, 99, 9 * S);
    out.push([late]);
    expect(out.take("late")).toEqual([late]);
    expect(out.take()).toEqual([]);

    const dl = run({ window: { tumble: "10s" }, orderBy: "price", n: 1 }).run;
    dl.watermark(10 * S);
    expect(() => dl.push([late])).toThrow(LateRecordError);
  });

  it("re-emits the whole ranking when a late-but-allowed record changes it, not when it does not", () => {
    const { run: r } = run({ window: { tumble: "10s" }, orderBy: "price", n: 2, allowedLateness: "5s" });
    r.push([bid(1, 50, 1 * S), bid(2, 40, 2 * S)]).watermark(12 * S);
    expect(r.take().map((x) => [x.rank, x.auction])).toEqual([
      [1, 1],
      [2, 2],
    ]);
    r.push([bid(3, 10, 3 * S)]);
    expect(r.take()).toEqual([]);
    r.push([bid(4, 45, 3 * S)]);
    expect(r.take().map((x) => [x.rank, x.auction])).toEqual([
      [1, 1],
      [2, 4],
    ]);
    r.watermark(15 * S);
    expect(() => r.push([bid(5, 99, 3 * S)])).toThrow(LateRecordError);
  });

  it("replaces input fields named like its own in place", () => {
    const schema: RecordSchema = {
      fields: [field("rank", t.string), field("price", t.int), field("ts", t.timestamp)],
      open: false,
      eventTime: "ts",
    };
    const { run: r } = run({ window: { tumble: "1m" }, orderBy: "price", n: 1 }, schema);
    r.push([{ rank: "gold", price: 1, ts: 5 }]).end();
    const [row] = r.take();
    expect(Object.keys(row!)).toEqual(["rank", "price", "ts", "window_start", "window_end", "window_time"]);
    expect(row!.rank).toBe(1);
    expect(
      inferNode(topnDef, { window: { tumble: "1m" }, orderBy: "price", n: 1 }, { in: schema }).outputs.out!.fields.map(
        (f) => f.name,
      ),
    ).toEqual(["rank", "price", "ts", "window_start", "window_end", "window_time"]);
  });

  it("continues identically on a new instance built from the committed stores", () => {
    const config = {
      key: ["auction % 2"],
      window: { hop: { size: "10s", every: "5s" } },
      orderBy: "price",
      n: 2,
      allowedLateness: "3s",
      late: "output",
    };
    const inputs = [
      bid(1, 5, 1 * S),
      bid(2, 7, 3 * S),
      bid(3, 7, 6 * S),
      bid(4, 1, 8 * S),
      bid(5, 9, 11 * S),
      bid(6, 9, 7 * S),
      bid(7, 2, 14 * S),
      bid(8, 3, 9 * S),
      bid(9, 8, 21 * S),
      bid(10, 4, 16 * S),
    ];
    const script = (r: OperatorRun, from: number, to: number) => {
      for (let i = from; i < to; i++) {
        r.push([inputs[i]!]);
        if (i % 2 === 1) r.watermark((inputs[i]!.dateTime as number) - 2 * S);
      }
    };
    const whole = run(config).run;
    script(whole, 0, inputs.length);
    whole.end();
    for (const cut of [2, 5, 8]) {
      const first = run(config);
      script(first.run, 0, cut);
      const second = new OperatorRun(
        topnRuntime.create(takeOver<TopNConfig>(topnDef, config, first.ctx, { inputs: { in: bids } })),
      );
      script(second, cut, inputs.length);
      second.end();
      for (const port of ["out", "late"]) {
        expect([...(first.run.emitted[port] ?? []), ...(second.emitted[port] ?? [])]).toEqual(
          whole.emitted[port] ?? [],
        );
      }
    }
    expect(whole.emitted.out!.length).toBeGreaterThan(6);
  });
});

describe("transform.topn — within the windows of its input (Nexmark q5)", () => {
  const countConfig = {
    key: ["auction"],
    window: { hop: { size: "10s", every: "5s" } },
    aggregates: { bids: "count(*)" },
  };
  const counts = windowDef.infer({
    config: windowDef.config.parse(countConfig),
    inputs: { in: bids },
    settings: { parallelism: 1, delivery: "exactly-once", batchSize: 1000 },
    parameters: {},
  }).outputs.out!;

  it("ranks the rows of an upstream window by their own window and keeps its bounds", () => {
    const counter = new OperatorRun(
      windowRuntime.create(testContext<WindowConfig>(windowDef, countConfig, { inputs: { in: bids } })),
    );
    const hottest = run({ orderBy: "bids", n: 1 }, counts).run;
    const events = [
      bid(1, 1, 1 * S),
      bid(2, 1, 2 * S),
      bid(2, 1, 3 * S),
      bid(1, 1, 6 * S),
      bid(1, 1, 7 * S),
      bid(3, 1, 12 * S),
    ];
    // The engine's order: a stage's output, then its watermark, reach the next stage.
    for (const [batch, wm] of [
      [events.slice(0, 3), 4 * S],
      [events.slice(3, 5), 10 * S],
      [events.slice(5), 16 * S],
    ] as const) {
      counter.push(batch).watermark(wm);
      hottest.push(counter.take()).watermark(wm);
    }
    counter.end();
    hottest.push(counter.take()).end();
    expect(hottest.take().map((x) => [x.window_start, x.window_end, x.auction, x.bids, x.rank])).toEqual([
      [-5 * S, 5 * S, 2, 2, 1],
      [0, 10 * S, 1, 3, 1],
      [5 * S, 15 * S, 1, 2, 1],
      [10 * S, 20 * S, 3, 1, 1],
    ]);
    expect(hottest.take("late")).toEqual([]);
  });

  it("infers rank added to the input schema, keeping its event time", () => {
    const { outputs, errors } = inferNode(topnDef, { orderBy: "bids", n: 1 }, { in: counts });
    expect(errors).toEqual([]);
    expect(outputs.out).toEqual({
      ...counts,
      fields: [...counts.fields, field("rank", t.int, false, "1 = best in its key and window")],
    });
  });

  it("needs window bounds on the input when it has no window of its own", () => {
    expect(inferNode(topnDef, { orderBy: "price", n: 1 }, { in: bids }).errors).toEqual([
      expect.objectContaining({ path: ["window"], code: "no-window" }),
    ]);
  });
});

describe("transform.topn — declaration", () => {
  it("infers its output and reports errors where they are", () => {
    const { outputs, errors } = inferNode(
      topnDef,
      { window: { tumble: "1m" }, orderBy: "price", n: 1, late: "output" },
      { in: bids },
    );
    expect(errors).toEqual([]);
    expect(outputs.out!.eventTime).toBe("window_time");
    expect(outputs.out!.fields.map((f) => `${f.name}:${f.type.kind}`)).toEqual([
      "auction:int",
      "bidder:int",
      "price:int",
      "dateTime:timestamp",
      "rank:int",
      "window_start:timestamp",
      "window_end:timestamp",
      "window_time:timestamp",
    ]);
    expect(outputs.late).toBe(bids);
    expect(
      inferNode(
        topnDef,
        { key: ["auctoin"], window: { tumble: "1m" }, orderBy: "prise", n: 1 },
        { in: bids },
      ).errors.map((e) => [e.path, e.suggestion]),
    ).toEqual([
      [["key", 0], "auction"],
      [["orderBy"], "price"],
    ]);
    const arrays: RecordSchema = { ...bids, fields: [...bids.fields, field("tags", t.array(t.string))] };
    expect(inferNode(topnDef, { window: { tumble: "1m" }, orderBy: "tags", n: 1 }, { in: arrays }).errors).toEqual([
      expect.objectContaining({
        path: ["orderBy"],
        message: expect.stringMatching(/cannot rank by a value of type array<string>/),
      }),
    ]);
    expect(topnDef.keyBy?.(topnDef.config.parse({ key: ["auction"], orderBy: "price", n: 1 }))).toEqual({
      in: ["auction"],
    });
  });

  it("marks its SQL fields as expressions, so parameters are bound in them", () => {
    expect(expressionPaths(topnDef)).toEqual([["key", "*"], ["orderBy"]]);
  });

  it("explains bad configs", () => {
    expect(configProblems(topnDef, { orderBy: "price", n: 0 })).toEqual([
      { path: ["n"], message: "n must be at least 1" },
    ]);
    expect(configProblems(topnDef, { orderBy: "price", n: 1, window: { session: { gap: "1s" } } })[0]!.path).toEqual([
      "window",
    ]);
    expect(configProblems(topnDef, { orderBy: "", n: 1 })).toEqual([
      { path: ["orderBy"], message: "write what to rank by, e.g. price" },
    ]);
  });

  it("has examples that parse and infer cleanly", () => {
    const open: RecordSchema = { fields: [], open: true, eventTime: "ts" };
    for (const example of topnDef.examples) {
      expect(inferNode(topnDef, example.config, { in: open }).errors, example.title).toEqual([]);
    }
  });
});
