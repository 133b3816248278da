import { describe, expect, it } from "vitest";
import { catalog } from "./catalog";
import { replayConfig, replayRefusal, replaySupport } from "./replay";

const T1 = Date.UTC(2026, 4, 1, 10, 0, 0);
const T2 = Date.UTC(2026, 4, 1, 11, 0, 0);

function valid(type: string, config: Record<string, unknown>) {
  const parsed = catalog.get(type)!.config.safeParse(config);
  expect(parsed.error?.issues ?? []).toEqual([]);
  return parsed.data as Record<string, unknown>;
}

describe("replaySupport", () => {
  it.each(["source.redis-stream", "source.nats-jetstream", "source.postgres", "source.file"])(
    "%s can be replayed by time and by offset",
    (type) => {
      expect(replaySupport(type)?.by).toEqual(["time", "offset"]);
      expect(replaySupport(type)?.offsetLabel.length).toBeGreaterThan(0);
    },
  );

  it.each(["source.webhook", "source.mqtt", "source.rabbitmq", "source.postgres-cdc", "sink.postgres", "nope"])(
    "%s cannot, and says why",
    (type) => {
      expect(replaySupport(type)).toBeUndefined();
      expect(replayRefusal(type).length).toBeGreaterThan(20);
    },
  );

  it("names the CDC way in its refusal", () => {
    expect(replayRefusal("source.postgres-cdc")).toMatch(/snapshot/);
    expect(replayRefusal("source.postgres-cdc")).toMatch(/LSN/);
  });
});

describe("replayConfig: Redis Streams", () => {
  const live = { connection: "r", stream: "orders", group: "live-group", start: "latest" };

  it("starts just before the first entry of the from-millisecond and stops after the last of the to-millisecond", () => {
    const c = replayConfig("source.redis-stream", live, { time: T1 }, { time: T2 });
    expect(c).toMatchObject({
      stream: "orders",
      start: `${T1 - 1}-18446744073709551615`,
      until: `${T2}-18446744073709551615`,
    });
    expect(c).not.toHaveProperty("group");
    valid("source.redis-stream", c);
  });

  it("reads an entry id range inclusively at both ends", () => {
    expect(
      replayConfig("source.redis-stream", live, { offset: "1700000000000-5" }, { offset: "1700000000100-2" }),
    ).toMatchObject({
      start: "1700000000000-4",
      until: "1700000000100-2",
    });
    expect(
      replayConfig("source.redis-stream", live, { offset: "1700000000000-0" }, { offset: "1700000000100" }),
    ).toMatchObject({
      start: "1699999999999-18446744073709551615",
      until: "1700000000100-18446744073709551615",
    });
    expect(replayConfig("source.redis-stream", live, { offset: "0-0" }).start).toBe("earliest");
  });

  it("without an end, stops at the stream's last entry when the run starts", () => {
    expect(replayConfig("source.redis-stream", live, { time: T1 }).until).toBe("start");
  });

  it("refuses an offset that is not an entry id, naming it", () => {
    expect(() => replayConfig("source.redis-stream", live, { offset: "yesterday" })).toThrow(
      /"yesterday" is not a Redis entry id/,
    );
    expect(() => replayConfig("source.redis-stream", live, { time: T2 }, { time: T1 })).toThrow(/before the start/);
    expect(() => replayConfig("source.redis-stream", live, { time: Number.NaN })).toThrow(/epoch milliseconds/);
  });
});

describe("replayConfig: NATS JetStream", () => {
  const live = { connection: "n", stream: "ORDERS", consumer: "live", start: "latest" };

  it("starts at a time and stops at a time, with a consumer of its own", () => {
    const c = replayConfig("source.nats-jetstream", live, { time: T1 }, { time: T2 });
    expect(c).toMatchObject({ start: "2026-05-01T10:00:00.000Z", until: "2026-05-01T11:00:00.000Z" });
    expect(c).not.toHaveProperty("consumer");
    valid("source.nats-jetstream", c);
  });

  it("reads a sequence range inclusively", () => {
    const c = replayConfig("source.nats-jetstream", live, { offset: "100" }, { offset: "250" });
    expect(c).toMatchObject({ start: 99, until: 250 });
    expect(replayConfig("source.nats-jetstream", live, { offset: "1" }).until).toBe("start");
    expect(() => replayConfig("source.nats-jetstream", live, { offset: "1-0" })).toThrow(/not a stream sequence/);
  });
});

describe("replayConfig: PostgreSQL query source", () => {
  const live = { connection: "w", table: "orders", cursor: "updated_at", mode: "polling", pollInterval: "5s" };

  it("reads a cursor range once", () => {
    const c = replayConfig("source.postgres", live, { time: T1 }, { time: T2 });
    expect(c).toMatchObject({
      mode: "bounded",
      cursorFrom: "2026-05-01T10:00:00.000Z",
      cursorTo: "2026-05-01T11:00:00.000Z",
    });
    valid("source.postgres", c);
    expect(replayConfig("source.postgres", live, { offset: "1042" })).not.toHaveProperty("cursorTo");
  });

  it("refuses time bounds on a cursor declared as a number", () => {
    const ids = { ...live, cursor: "id", columns: [{ name: "id", type: "int" }, "name"] };
    expect(() => replayConfig("source.postgres", ids, { time: T1 })).toThrow(/"id" is declared int/);
    expect(replayConfig("source.postgres", ids, { offset: "10" }, { offset: "20" })).toMatchObject({
      cursorFrom: "10",
      cursorTo: "20",
    });
  });

  it("names the field when the result would not be valid", () => {
    expect(() => replayConfig("source.postgres", { connection: "w", cursor: "id" }, { offset: "1" })).toThrow(
      /not valid at table/,
    );
  });
});

describe("replayConfig: files", () => {
  it("bounds by name or by modification time", () => {
    const live = { path: "exports/*.jsonl" };
    const byName = replayConfig("source.file", live, { offset: "exports/a.jsonl" }, { offset: "exports/m.jsonl" });
    expect(byName).toMatchObject({ nameFrom: "exports/a.jsonl", nameTo: "exports/m.jsonl" });
    valid("source.file", byName);
    const byTime = replayConfig("source.file", live, { time: T1 }, { time: T2 });
    expect(byTime).toMatchObject({ modifiedFrom: "2026-05-01T10:00:00.000Z", modifiedTo: "2026-05-01T11:00:00.000Z" });
    valid("source.file", byTime);
  });
});

it("refuses a source that cannot be replayed, saying why", () => {
  expect(() => replayConfig("source.webhook", {}, { time: T1 })).toThrow(
    /source.webhook cannot be replayed: A webhook/,
  );
});
