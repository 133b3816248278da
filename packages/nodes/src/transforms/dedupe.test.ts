import { expressionPaths } from "@sluice/pipeline/parameters";
import { field, type RecordSchema, t } from "@sluice/pipeline/record-schema";
import { afterEach, describe, expect, it, vi } from "vitest";
import { takeOver } from "../stateful/failover-harness";
import { LateRecordError } from "../stateful/late-record";
import { configProblems, inferNode } from "../testing/infer-harness";
import { OperatorRun, testContext } from "../testing/operator-harness";
import { type DedupeConfig, dedupeDef } from "./dedupe.def";
import { dedupeRuntime } from "./dedupe.run";

const events: RecordSchema = {
  fields: [field("event_id", t.string), field("user_id", t.int, true), field("ts", t.timestamp)],
  open: false,
  eventTime: "ts",
};

const S = 1000;
const context = (config: unknown, schema: RecordSchema = events) =>
  testContext<DedupeConfig>(dedupeDef, config, { inputs: { in: schema } });
const run = (config: unknown) => {
  const ctx = context(config);
  return { ctx, run: new OperatorRun(dedupeRuntime.create(ctx)) };
};
const ev = (event_id: string, ts: number, user_id: number | null = 1) => Object.freeze({ event_id, user_id, ts });

afterEach(() => {
  vi.useRealTimers();
});

describe("transform.dedupe", () => {
  const base = { key: ["event_id"], within: "10s" };

  it("passes the first record of a key on unchanged and drops its duplicates within the horizon", () => {
    const { run: r } = run(base);
    const first = ev("a", 0);
    r.push([first, ev("b", 1 * S), ev("a", 5 * S), ev("a", 9_999), ev("a", 10 * S), ev("a", 15 * S), ev("a", 20 * S)]);
    const out = r.take();
    expect(out[0]).toBe(first);
    expect(out.map((x) => [x.event_id, x.ts])).toEqual([
      ["a", 0],
      ["b", 1 * S],
      ["a", 10 * S],
      ["a", 20 * S],
    ]);
  });

  it("treats a later-arriving copy with an earlier event time as a duplicate too", () => {
    const { run: r } = run(base);
    r.push([ev("a", 50 * S), ev("a", 20 * S)]);
    expect(r.take().map((x) => x.ts)).toEqual([50 * S]);
  });

  it("sends duplicates to their own output when asked", () => {
    const { run: r } = run({ ...base, duplicates: "output" });
    r.push([ev("a", 0), ev("a", 1), ev("a", 2)]);
    expect(r.take().map((x) => x.ts)).toEqual([0]);
    expect(r.take("duplicates").map((x) => x.ts)).toEqual([1, 2]);
  });

  it("groups by several expressions, NULL equal to NULL", () => {
    const { run: r } = run({ key: ["lower(event_id)", "user_id"], within: "1m" });
    r.push([ev("A", 0, null), ev("a", 1, null), ev("a", 2, 7)]);
    expect(r.take().map((x) => [x.event_id, x.user_id])).toEqual([
      ["A", null],
      ["a", 7],
    ]);
  });

  it("forgets a key when the watermark passes its expiry, and then judges unseen old records late", () => {
    const { ctx, run: r } = run({ ...base, late: "output" });
    r.push([ev("a", 0), ev("b", 8 * S)]).watermark(10 * S);
    expect([...ctx.stores.get("seen")!.keys()]).toEqual(['["b"]']);
    r.take();
    // "b" is remembered: its copy is checked however far behind the watermark it is.
    r.push([ev("b", 1 * S)]);
    expect(r.take()).toEqual([]);
    // "a" was forgotten; a copy from before the watermark cannot be checked: late.
    r.push([ev("a", 5 * S)]);
    expect(r.take("late").map((x) => x.ts)).toEqual([5 * S]);
    expect(r.take()).toEqual([]);
    // At or after the watermark nothing forgotten can cover it: a new first record.
    r.push([ev("a", 10 * S), ev("c", 10 * S)]);
    expect(r.take().map((x) => x.event_id)).toEqual(["a", "c"]);
  });

  it("dead-letters late records by default, explaining why", () => {
    const { run: r } = run(base);
    r.push([ev("a", 0)]).watermark(30 * S);
    expect(() => r.push([ev("x", 29 * S)])).toThrow(LateRecordError);
    expect(() => r.push([ev("x", 29 * S)])).toThrow(/behind the watermark 1970-01-01T00:00:30.000Z; an earlier record/);
  });

  it("keeps keys for the allowed lateness beyond their expiry", () => {
    const { ctx, run: r } = run({ ...base, allowedLateness: "5s" });
    r.push([ev("a", 0)]).watermark(14 * S);
    expect(ctx.stores.get("seen")!.size).toBe(1);
    r.take();
    r.push([ev("a", 9 * S), ev("z", 9 * S)]);
    expect(r.take().map((x) => x.event_id)).toEqual(["z"]);
    r.watermark(15 * S);
    expect([...ctx.stores.get("seen")!.keys()]).toEqual(['["z"]']);
    expect(() => r.push([ev("a", 9 * S)])).toThrow(LateRecordError);
  });

  it("dead-letters a record without event time", () => {
    const { run: r } = run(base);
    expect(() => r.push([{ event_id: "a" }])).toThrow(/ts: the event time is missing/);
  });

  it("on processing time, measures the horizon by arrival and forgets on the tick", () => {
    vi.useFakeTimers();
    vi.setSystemTime(100 * S);
    const { ctx, run: r } = run({ ...base, time: "processing" });
    r.push([ev("a", 0), ev("a", 999 * S)]);
    vi.setSystemTime(109 * S);
    r.push([ev("a", 0)]);
    expect(r.take()).toHaveLength(1);
    r.tick(110 * S);
    expect(ctx.stores.get("seen")!.size).toBe(0);
    r.push([ev("a", 0)]);
    expect(r.take()).toHaveLength(1);
  });

  it("continues identically on a new instance built from the committed stores", () => {
    const config = { ...base, allowedLateness: "2s", late: "output", duplicates: "output" };
    const inputs = [
      ev("a", 1 * S),
      ev("b", 3 * S),
      ev("a", 5 * S),
      ev("c", 12 * S),
      ev("a", 12 * S),
      ev("b", 9 * S),
      ev("d", 2 * S),
      ev("a", 20 * S),
      ev("c", 14 * S),
      ev("b", 30 * S),
    ];
    const script = (r: OperatorRun, from: number, to: number) => {
      for (let i = from; i < to; i++) {
        r.push([inputs[i]!]);
        if (i % 2 === 1) r.watermark((inputs[i]!.ts as number) - 1 * S);
      }
    };
    const whole = run(config).run;
    script(whole, 0, inputs.length);
    for (const cut of [2, 5, 7]) {
      const first = run(config);
      script(first.run, 0, cut);
      const second = new OperatorRun(
        dedupeRuntime.create(takeOver<DedupeConfig>(dedupeDef, config, first.ctx, { inputs: { in: events } })),
      );
      script(second, cut, inputs.length);
      for (const port of ["out", "duplicates", "late"]) {
        expect([...(first.run.emitted[port] ?? []), ...(second.emitted[port] ?? [])]).toEqual(
          whole.emitted[port] ?? [],
        );
      }
    }
    expect(whole.emitted.late).toHaveLength(1);
    expect(whole.emitted.duplicates!.length).toBeGreaterThan(1);
  });
});

describe("transform.dedupe — declaration", () => {
  it("passes the input schema through on every output it has", () => {
    const { outputs, errors } = inferNode(
      dedupeDef,
      { key: ["event_id"], within: "1m", duplicates: "output", late: "output" },
      { in: events },
    );
    expect(errors).toEqual([]);
    expect(outputs).toEqual({ out: events, duplicates: events, late: events });
    expect(Object.keys(inferNode(dedupeDef, { key: ["event_id"], within: "1m" }, { in: events }).outputs)).toEqual([
      "out",
    ]);
    expect(dedupeDef.keyBy?.(dedupeDef.config.parse({ key: ["event_id", "user_id % 4"], within: "1m" }))).toEqual({
      in: ["event_id", "user_id % 4"],
    });
  });

  it("marks its key expressions as expressions, so parameters are bound in them", () => {
    expect(expressionPaths(dedupeDef)).toEqual([["key", "*"]]);
  });

  it("reports key errors where they are and a missing event time", () => {
    const noTime: RecordSchema = { fields: [field("event_id", t.string)], open: false };
    expect(inferNode(dedupeDef, { key: ["event_id", "evnt_id"], within: "1m" }, { in: noTime }).errors).toEqual([
      expect.objectContaining({ path: ["timeField"], code: "no-event-time" }),
      expect.objectContaining({ path: ["key", 1], code: "unknown-field", suggestion: "event_id" }),
    ]);
    expect(
      inferNode(dedupeDef, { key: ["event_id"], within: "1m", time: "processing" }, { in: noTime }).errors,
    ).toEqual([]);
  });

  it("explains bad configs", () => {
    expect(configProblems(dedupeDef, { key: [], within: "1m" })).toEqual([
      { path: ["key"], message: "name what makes records duplicates, e.g. [event_id]" },
    ]);
    expect(configProblems(dedupeDef, { key: ["a"], within: "0s" })).toEqual([
      { path: ["within"], message: "must be longer than 0" },
    ]);
    expect(configProblems(dedupeDef, { key: ["a"], within: "soon" })[0]!.message).toMatch(/not a duration/);
  });

  it("has examples that parse and infer cleanly", () => {
    const open: RecordSchema = { fields: [], open: true, eventTime: "ts" };
    for (const example of dedupeDef.examples) {
      expect(inferNode(dedupeDef, example.config, { in: open }).errors, example.title).toEqual([]);
    }
  });
});
