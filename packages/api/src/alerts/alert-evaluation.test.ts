import { AlertRule } from "@sluice/pipeline/alert-rules";
import type { NodeSeconds, RunFigures } from "@sluice/pipeline/control/node-figures";
import { describe, expect, it } from "vitest";
import { evaluateRule, lastActiveMs, type RuleInputs } from "./alert-evaluation";

const NOW = 1_800_000_000_000;
const NOW_SEC = NOW / 1000;

function node(over: Partial<NodeSeconds> = {}): NodeSeconds {
  return {
    in: 0,
    out: 0,
    err: 0,
    latency: {},
    watermark: null,
    stateKeys: null,
    inputLag: null,
    offsetLag: null,
    ...over,
  };
}

function figures(nodes: Record<string, NodeSeconds> = {}, edges: RunFigures["edges"] = {}): RunFigures {
  return { fromSec: NOW_SEC - 10, toSec: NOW_SEC - 1, nodes, edges };
}

function inputs(over: Partial<RuleInputs> = {}): RuleInputs {
  return {
    status: "running",
    nowMs: NOW,
    startedAtMs: NOW - 3_600_000,
    lastActiveMs: null,
    error: null,
    recent: figures(),
    windowed: figures(),
    sinks: ["out"],
    edgesInto: (n) => (n === "agg" ? ["src.out->agg.in"] : []),
    ...over,
  };
}

const rule = (r: Record<string, unknown>) => AlertRule.parse({ id: "r1", ...r });

describe("noData", () => {
  const quiet = rule({ when: "noData", duration: "1m" });

  it("fires once the sinks have put out nothing for the duration, and says for how long", () => {
    const v = evaluateRule(quiet, inputs({ lastActiveMs: NOW - 90_000 }));
    expect(v.firing).toBe(true);
    expect(v.value).toBe(90_000);
    expect(v.summary).toBe("The pipeline's sinks have not put out records for 90s (the rule allows 1m).");
  });

  it("holds while the quiet spell is shorter than the duration", () => {
    expect(evaluateRule(quiet, inputs({ lastActiveMs: NOW - 30_000 })).firing).toBe(false);
  });

  it("measures from the run's start when nothing was ever seen", () => {
    expect(evaluateRule(quiet, inputs({ startedAtMs: NOW - 20_000 })).firing).toBe(false);
    expect(evaluateRule(quiet, inputs({ startedAtMs: NOW - 61_000 })).firing).toBe(true);
  });

  it("does not fire for a paused run", () => {
    expect(evaluateRule(quiet, inputs({ status: "paused", lastActiveMs: NOW - 600_000 })).firing).toBe(false);
  });

  it("takes the end of the newest second the sinks moved records in, or only the watched node's when it names one", () => {
    const second = (sec: number, nodes: Record<string, NodeSeconds>): RunFigures => ({
      fromSec: sec,
      toSec: sec,
      nodes,
      edges: {},
    });
    const seconds = [
      second(NOW_SEC - 3, { out: node({ in: 5 }), src: node({ out: 5 }) }),
      second(NOW_SEC - 2, { src: node({ out: 5 }) }),
      second(NOW_SEC - 1, { src: node(), out: node() }),
    ];
    expect(lastActiveMs(quiet, seconds, ["out"])).toBe((NOW_SEC - 2) * 1000);
    const onSrc = rule({ when: "noData", node: "src", duration: "1m" });
    expect(lastActiveMs(onSrc, seconds, ["out"])).toBe((NOW_SEC - 1) * 1000);
    expect(lastActiveMs(onSrc, [seconds[2]!], ["out"])).toBeNull();
  });
});

describe("runStalled", () => {
  const stalled = rule({ when: "runStalled", duration: "5m" });
  it("fires when no node moved records for the duration", () => {
    const v = evaluateRule(stalled, inputs({ lastActiveMs: NOW - 301_000 }));
    expect(v).toMatchObject({ firing: true, value: 301_000 });
    expect(v.summary).toContain("No node has moved records for 301s");
    expect(evaluateRule(stalled, inputs({ lastActiveMs: NOW - 299_000 })).firing).toBe(false);
  });
  it("sees activity in any node", () => {
    const at = (nodes: Record<string, NodeSeconds>): RunFigures[] => [
      { fromSec: NOW_SEC - 1, toSec: NOW_SEC - 1, nodes, edges: {} },
    ];
    expect(lastActiveMs(stalled, at({ mid: node({ in: 1 }) }), [])).toBe(NOW);
    expect(lastActiveMs(stalled, at({ mid: node() }), [])).toBeNull();
  });
});

describe("errorRate", () => {
  const errors = rule({ when: "errorRate", node: "parse", threshold: 2, window: "10s" });
  it("fires above the threshold of errors per second over the window", () => {
    const v = evaluateRule(errors, inputs({ windowed: figures({ parse: node({ err: 30 }) }) }));
    expect(v).toMatchObject({ firing: true, value: 3 });
    expect(v.summary).toBe('Node "parse" had 3 errors per second over the last 10s (the rule allows 2).');
  });
  it("holds at the threshold and ignores other nodes' errors", () => {
    expect(evaluateRule(errors, inputs({ windowed: figures({ parse: node({ err: 20 }) }) })).firing).toBe(false);
    expect(evaluateRule(errors, inputs({ windowed: figures({ other: node({ err: 900 }) }) })).firing).toBe(false);
  });
  it("sums every node without a node named, over the default minute", () => {
    const all = rule({ when: "errorRate", threshold: 1 });
    const windowed = figures({ a: node({ err: 40 }), b: node({ err: 30 }) });
    expect(evaluateRule(all, inputs({ windowed })).value).toBeCloseTo(70 / 60);
  });
});

describe("lagAbove", () => {
  const lag = rule({ when: "lagAbove", node: "agg", duration: "30s" });
  it("fires when the node's watermark trails the end of the newest second by more than the duration", () => {
    const end = NOW; // toSec + 1, in ms
    const v = evaluateRule(lag, inputs({ recent: figures({ agg: node({ watermark: end - 45_000 }) }) }));
    expect(v).toMatchObject({ firing: true, value: 45_000 });
    expect(evaluateRule(lag, inputs({ recent: figures({ agg: node({ watermark: end - 10_000 }) }) })).firing).toBe(
      false,
    );
  });
  it("has nothing to compare without a watermark", () => {
    expect(evaluateRule(lag, inputs({ recent: figures({ agg: node() }) }))).toMatchObject({
      firing: false,
      value: null,
    });
  });
});

describe("backlogAbove", () => {
  it("fires when an edge into the node holds more than the threshold", () => {
    const backlog = rule({ when: "backlogAbove", node: "agg", threshold: 1000 });
    const edges = { "src.out->agg.in": { sent: 0, backlog: 5000, backpressured: true } };
    expect(evaluateRule(backlog, inputs({ recent: figures({}, edges) }))).toMatchObject({ firing: true, value: 5000 });
    const calm = { "src.out->agg.in": { sent: 0, backlog: 10, backpressured: false } };
    expect(evaluateRule(backlog, inputs({ recent: figures({}, calm) })).firing).toBe(false);
  });
});

describe("runFailed", () => {
  it("fires for a failed run with its error, and not otherwise", () => {
    const failed = rule({ when: "runFailed" });
    const v = evaluateRule(failed, inputs({ status: "failed", error: "the sink refused the batch" }));
    expect(v).toMatchObject({ firing: true, summary: "The run failed: the sink refused the batch." });
    expect(evaluateRule(failed, inputs()).firing).toBe(false);
  });
});
