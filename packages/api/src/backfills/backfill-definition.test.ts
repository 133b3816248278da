import { catalog } from "@sluice/nodes/catalog";
import { emptyDefinition, type PipelineDefinition } from "@sluice/pipeline/definition";
import { describe, expect, it } from "vitest";
import { BackfillInputError, backfillDefinition, endsByItself, upstreamOf } from "./backfill-definition";

// Two sources into one sink, a second sink on one of them: what a backfill of the first sink keeps and changes.
function pipeline(): PipelineDefinition {
  const def = emptyDefinition("two-sinks");
  def.spec.nodes.push(
    { id: "events", type: "source.redis-stream", config: { connection: "r", stream: "events" } },
    { id: "rows", type: "source.postgres", config: { connection: "pg", table: "orders", cursor: "id" } },
    { id: "both", type: "transform.union", config: {} },
    { id: "out", type: "sink.postgres", config: { connection: "pg", table: "totals", mode: "upsert", key: ["k"] } },
    { id: "log", type: "sink.console", config: {} },
  );
  def.spec.edges.push(
    { from: "events", to: "both" },
    { from: "rows", to: "both" },
    { from: "both", to: "out" },
    { from: "events", to: "log" },
  );
  def.spec.alerts = [{ id: "quiet", when: "noData", duration: "1m", severity: "warning" }];
  return def;
}

const configs = Object.fromEntries(pipeline().spec.nodes.map((n) => [n.id, n.config]));

describe("backfillDefinition", () => {
  it("keeps the sink and what feeds it, bounds the replayed source and writes the shadow table", () => {
    const def = pipeline();
    expect([...upstreamOf(def, "out")].sort()).toEqual(["both", "events", "out", "rows"]);
    const derived = backfillDefinition(
      def,
      configs,
      catalog,
      "out",
      { events: { from: { time: 1000 } } },
      "totals__g1",
    );
    expect(derived.spec.nodes.map((n) => n.id)).toEqual(["events", "rows", "both", "out"]);
    expect(derived.spec.edges).toHaveLength(3);
    expect(derived.spec.alerts).toBeUndefined();
    expect(derived.spec.nodes.find((n) => n.id === "out")?.config.table).toBe("totals__g1");
    const events = derived.spec.nodes.find((n) => n.id === "events")!.config;
    expect(events.start).toBe("999-18446744073709551615");
    expect(events.until).toBe("start");
    // The bounded table read runs as it is.
    expect(derived.spec.nodes.find((n) => n.id === "rows")?.config).toEqual(configs.rows);
  });

  it("names a source that neither is replayed nor ends by itself", () => {
    expect(() => backfillDefinition(pipeline(), configs, catalog, "out", {}, "t")).toThrow(
      new BackfillInputError(
        'replay.events: source "events" (source.redis-stream) does not end by itself: choose where its replay starts',
      ),
    );
  });

  it("refuses a replay of a node that does not feed the sink", () => {
    const def = pipeline();
    def.spec.nodes.push({ id: "lone", type: "source.generator", config: {} });
    expect(() =>
      backfillDefinition(
        def,
        configs,
        catalog,
        "out",
        { events: { from: { time: 0 } }, lone: { from: { time: 0 } } },
        "t",
      ),
    ).toThrow(/replay\.lone: node "lone" is not a source that feeds sink "out"/);
  });

  it("knows the sources that end by themselves", () => {
    expect(endsByItself("source.postgres", { mode: "bounded" })).toBe(true);
    expect(endsByItself("source.postgres", { mode: "polling" })).toBe(false);
    expect(endsByItself("source.generator", {})).toBe(false);
    expect(endsByItself("source.generator", { count: 10 })).toBe(true);
    expect(endsByItself("source.redis-stream", { until: "start" })).toBe(true);
  });
});
