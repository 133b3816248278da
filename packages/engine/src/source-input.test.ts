import { silentLogger } from "@sluice/log/logger";
import { catalog } from "@sluice/nodes/catalog";
import { DestinationPolicy } from "@sluice/nodes/destination-policy";
import { bundleResolver, type RuntimeContext } from "@sluice/nodes/runtime-contract";
import { runtimes } from "@sluice/nodes/runtimes";
import { counterField } from "@sluice/pipeline/control/protocol";
import { emptySchema } from "@sluice/pipeline/record-schema";
import { validate } from "@sluice/pipeline/validate";
import { afterEach, describe, expect, it } from "vitest";
import { BatchBudget } from "./batch-budget";
import { FusedStage } from "./fused-stage";
import { SourceInput } from "./source-input";
import { TrackedStateStore } from "./state-store";

const START = Date.UTC(2026, 0, 1);

/** gen → keep (status 200 only) → out, fused into one stage as a partition runs it. */
async function openStage(count: number) {
  const definition = {
    apiVersion: "sluice/v1",
    kind: "Pipeline",
    metadata: { name: "source-input" },
    spec: {
      settings: { parallelism: 1 },
      nodes: [
        { id: "gen", type: "source.generator", config: { count, rate: 0, startTime: START, seed: 4 } },
        { id: "keep", type: "transform.filter", config: { where: "status = 200" } },
        { id: "out", type: "sink.discard", config: {} },
      ],
      edges: [
        { from: "gen", to: "keep" },
        { from: "keep", to: "out" },
      ],
    },
  };
  const validation = validate(definition, catalog, { parameters: {} });
  const def = validation.definition;
  if (!def) throw new Error(`the test pipeline is invalid: ${JSON.stringify(validation.issues)}`);
  const context = (nodeId: string, config: unknown): RuntimeContext<unknown> => ({
    nodeId,
    config,
    runId: "r1",
    runStartedAt: START,
    partition: 0,
    partitions: 1,
    parameters: {},
    settings: def.spec.settings,
    // Each node here has one input, on port "in", from the node before it.
    inputs: Object.fromEntries(
      def.spec.edges.filter((e) => e.to === nodeId).map((e) => ["in", validation.schemas[e.from]?.out ?? emptySchema]),
    ),
    outputs: validation.schemas[nodeId] ?? {},
    log: { info() {}, warn() {}, error() {} },
    services: {
      tail: { async append() {} },
      connections: bundleResolver({}),
      destinations: DestinationPolicy.fromSettings(undefined),
    },
    state: (name) => new TrackedStateStore(`${nodeId}:${name}`) as never,
  });
  return FusedStage.open({
    nodeIds: ["gen", "keep", "out"],
    definition: def,
    validation,
    runtimes,
    offsets: {},
    outlets: new Map(),
    eventTimeField: () => "ts",
    context,
  });
}

function sourceInput(stage: FusedStage, idleTimeout?: number) {
  return new SourceInput({
    stage,
    budget: new BatchBudget(1 << 20),
    batchSize: 1000,
    maxOutOfOrder: 1000,
    idleTimeout,
    log: silentLogger,
    taskId: "r1-0-0",
  });
}

const shutdown = new AbortController().signal;
let opened: FusedStage | undefined;
afterEach(async () => {
  await opened?.close();
  opened = undefined;
});

describe("a source stage's input and the stage's batch report", () => {
  it("reads a batch into the stage, records its offset and extent, and the stage reports what it did", async () => {
    const stage = await openStage(50);
    opened = stage;
    const input = sourceInput(stage);
    stage.begin(1);
    const set: Record<string, string> = {};
    const read = await input.read({ set, now: START, bound: null, shutdown });

    expect(read.records).toBe(50);
    expect(read.ended).toBe(true);
    expect(read.extent).toEqual({ sources: { gen: 50 }, upstreams: {} });
    expect(Object.keys(set)).toContain("o:gen");

    const kept = stage.pendingWrites();
    expect(kept.map((s) => s.nodeId)).toEqual(["out"]);
    const report = stage.report();
    expect(report.active).toBe(true);
    expect(report.deadLetters).toEqual([]);
    expect(report.increments[counterField("gen", "out")]).toBe(50);
    expect(report.increments[counterField("keep", "in")]).toBe(50);
    expect(report.increments[counterField("out", "in")]).toBe(kept[0]!.buffer.length);
    expect(kept[0]!.buffer.length).toBeLessThan(50);

    // The next batch starts empty: nothing to write, nothing to report.
    stage.begin(2);
    expect(stage.pendingWrites()).toEqual([]);
    expect(stage.report()).toEqual({ increments: {}, deadLetters: [], active: false });
  });

  it("reads exactly a recorded batch's count again, and reads nothing for a source the record does not name", async () => {
    const stage = await openStage(500);
    opened = stage;
    const input = sourceInput(stage);
    stage.begin(1);
    const bound = { seq: 1, sources: { gen: 7 }, upstreams: {} };
    const read = await input.read({ set: {}, now: START, bound, shutdown });
    expect(read.records).toBe(7);
    expect(read.extent.sources).toEqual({ gen: 7 });

    const none = await input.read({ set: {}, now: START, bound: { seq: 2, sources: {}, upstreams: {} }, shutdown });
    expect(none.records).toBe(0);
  });

  it("holds the watermark at the highest event time less the allowed lateness, and lets an idle source go", async () => {
    const stage = await openStage(5000);
    opened = stage;
    const input = sourceInput(stage, 10_000);
    stage.begin(1);
    const before = input.watermark(START, -5);
    expect(before).toEqual({ value: Number.NEGATIVE_INFINITY, idle: false });

    const read = await input.read({ set: {}, now: START, bound: null, shutdown });
    expect(read.ended).toBe(false);
    const wm = input.watermark(START, -5);
    expect(wm.idle).toBe(false);
    expect(wm.value).toBeGreaterThanOrEqual(START - 1000);
    expect(wm.value).toBeLessThan(START + 5000 * 1000);

    // Quiet for longer than the idle timeout: the stage keeps the watermark it has and says it is idle.
    expect(input.watermark(START + 20_000, 12_345)).toEqual({ value: 12_345, idle: true });
    expect(input.quietWait(0, 250)).toBe(1);
    expect(input.quietWait(3_000, 250)).toBe(250);
  });
});

describe("a source stage's offset lag", () => {
  it("asks each source that can tell, leaves out one whose ask failed, and gives 0 for one that ended", async () => {
    const stage = await openStage(50);
    opened = stage;
    const debug: { message: string; fields: unknown }[] = [];
    const input = new SourceInput({
      stage,
      budget: new BatchBudget(1 << 20),
      batchSize: 1000,
      maxOutOfOrder: 1000,
      idleTimeout: undefined,
      log: { ...silentLogger, debug: (message, fields) => debug.push({ message, fields }) },
      taskId: "r1-0-0",
      scrub: (text) => text.replace("s3cret", "[redacted]"),
    });
    // The generator has no offset lag of its own: nothing to ask.
    expect(await input.offsetLag()).toEqual(new Map());

    let answer: () => Promise<{ value: number; unit: "messages" } | undefined> = async () => ({
      value: 7,
      unit: "messages",
    });
    Object.assign(stage.sources[0]!.reader, { offsetLag: () => answer() });
    expect(await input.offsetLag()).toEqual(new Map([["gen", { value: 7, unit: "messages" }]]));

    answer = async () => {
      throw new Error("password s3cret refused");
    };
    expect(await input.offsetLag()).toEqual(new Map());
    expect(debug).toEqual([
      {
        message: "offset lag not sampled",
        fields: { task: "r1-0-0", node: "gen", error: "password [redacted] refused" },
      },
    ]);

    answer = async () => undefined;
    expect(await input.offsetLag()).toEqual(new Map());

    stage.begin(1);
    expect((await input.read({ set: {}, now: START, bound: null, shutdown })).ended).toBe(true);
    expect(await input.offsetLag()).toEqual(new Map([["gen", { value: 0, unit: "messages" }]]));
  });
});

describe("a source that reads ahead", () => {
  /** The generator's reader, made to read ahead and to log every read it is asked for; reads from `failFrom` on fail. */
  function readingAhead(stage: FusedStage, failFrom = Number.POSITIVE_INFINITY) {
    const source = stage.sources[0]!;
    const inner = source.reader;
    const asked: number[] = [];
    source.reader = {
      readAhead: true,
      async read(max, signal) {
        asked.push(max);
        if (asked.length >= failFrom) throw new Error("disk went away");
        return inner.read(max, signal);
      },
      close: () => inner.close(),
    };
    return asked;
  }

  it("is asked for its next batch as soon as one comes, and the next batch takes it with its own offset", async () => {
    const stage = await openStage(2500);
    opened = stage;
    const input = sourceInput(stage);
    const asked = readingAhead(stage);

    let total = 0;
    stage.begin(1);
    const set1: Record<string, string> = {};
    const first = await input.read({ set: set1, now: START, bound: null, shutdown });
    total += first.records;
    expect(first.ended).toBe(false);
    // The second batch is already asked for, before the first is written or committed.
    expect(asked).toHaveLength(2);

    stage.begin(2);
    const set2: Record<string, string> = {};
    const second = await input.read({ set: set2, now: START, bound: null, shutdown });
    total += second.records;
    expect(second.records).toBeGreaterThan(0);
    expect(set2["o:gen"]).not.toEqual(set1["o:gen"]);
    expect(asked).toHaveLength(3);

    let batches = 2;
    while (true) {
      stage.begin(++batches);
      const read = await input.read({ set: {}, now: START, bound: null, shutdown });
      total += read.records;
      if (read.ended) break;
    }
    // Every record once, and nothing asked for after the source ended.
    expect(total).toBe(2500);
    expect(asked).toHaveLength(batches);
    await input.settle();
  });

  it("fails the batch that takes a read ahead that failed", async () => {
    const stage = await openStage(5000);
    opened = stage;
    const input = sourceInput(stage);
    readingAhead(stage, 2);
    stage.begin(1);
    expect((await input.read({ set: {}, now: START, bound: null, shutdown })).records).toBeGreaterThan(0);
    // The read ahead has failed by now, unhandled by no one; the batch that takes it fails with its error.
    await new Promise((r) => setTimeout(r, 10));
    stage.begin(2);
    await expect(input.read({ set: {}, now: START, bound: null, shutdown })).rejects.toThrow("disk went away");
  });
});
