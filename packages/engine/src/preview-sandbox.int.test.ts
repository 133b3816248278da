import { randomBytes } from "node:crypto";
import { recordingLogger } from "@sluice/log/logger";
import { catalog } from "@sluice/nodes/catalog";
import { DestinationPolicy } from "@sluice/nodes/destination-policy";
import type { ConnectionBundle } from "@sluice/nodes/runtime-contract";
import { runtimes } from "@sluice/nodes/runtimes";
import {
  type PreviewJob,
  PreviewResult,
  PreviewStopped,
  previewConnectionsContext,
  QUEUE_PREVIEW,
} from "@sluice/pipeline/control/protocol";
import { sealJson } from "@sluice/pipeline/control/secret-box";
import { FleetHarness, slicePipeline, testRedisUrl, waitFor } from "@sluice/test-kit/fleet-harness";
import { Job, Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FleetWorker } from "./fleet-worker";

// Previews run in threads with hard limits: one that burns CPU or memory is killed with a clear message, while the
// worker that took it (in this very process) keeps heartbeating and committing its running task.

/** The time the CPU-burning preview asks for; the worker's own cap (SLUICE_PREVIEW_TIMEOUT) is higher. */
const LIMIT_MS = 2000;
const MEMORY_MB = 64;

let harness: FleetHarness;
let worker: FleetWorker;
let queue: Queue;
const stoppedLog: Record<string, unknown>[] = [];

beforeAll(async () => {
  harness = new FleetHarness();
  const log = recordingLogger(({ message, fields }) => {
    if (message === "preview stopped") stoppedLog.push(fields);
  });
  worker = new FleetWorker({
    connect: () => harness.connect("worker-previewer"),
    prefix: harness.prefix,
    catalog,
    runtimes,
    workerId: "previewer",
    leaseMs: 2000,
    preview: { timeoutMs: 20_000, memoryMb: MEMORY_MB },
    secretKey: harness.secretKey,
    // Loopback Redis is allowed, Sluice's own (the test Redis, database 0) never is.
    destinations: DestinationPolicy.fromSettings("127.0.0.1/32:6379", { redisUrl: testRedisUrl() }),
    log,
  });
  await worker.start();
  queue = new Queue(QUEUE_PREVIEW, { connection: harness.connect("preview"), prefix: harness.keys.bullPrefix });
  // A long task: a paced generator that keeps committing for minutes.
  await harness.startRun("steady", slicePipeline({ count: 10_000_000, rate: 200, seed: 2 }, "status = 200", 1));
  await waitFor(
    async () => ((await harness.snapshot("steady"))?.nodes.gen?.out ?? 0) > 0,
    30_000,
    () => "no commit",
  );
});

afterAll(async () => {
  await queue?.close();
  await worker?.close();
  await harness?.close();
});

/** generator → map (computing `value`, or each field of it) → console. */
function draft(value: string | Record<string, string>): Record<string, unknown> {
  return {
    apiVersion: "sluice/v1",
    kind: "Pipeline",
    metadata: { name: "draft" },
    spec: {
      settings: {},
      nodes: [
        { id: "gen", type: "source.generator", config: { count: 100_000, rate: 0 } },
        { id: "calc", type: "transform.map", config: { set: typeof value === "string" ? { value } : value } },
        { id: "out", type: "sink.console", config: {} },
      ],
      edges: [
        { from: "gen", to: "calc" },
        { from: "calc", to: "out" },
      ],
    },
  };
}

interface Observed {
  answer: unknown;
  tookMs: number;
  /** Distinct heartbeat times of the worker seen while the preview ran. */
  beats: number;
  /** The longest the heartbeat stood still meanwhile, in ms (it beats every second). */
  beatGapMs: number;
  /** Distinct committed counts of the running task seen while the preview ran. */
  commits: number;
}

/** Sends a preview job and watches the worker's heartbeat and the running task until the answer comes. */
async function preview(
  value: string | Record<string, string> | { spec: unknown },
  limit = 200,
  connections?: ConnectionBundle,
  timeoutMs = 20_000,
): Promise<Observed> {
  const jobId = `preview-${randomBytes(6).toString("hex")}`;
  const sealed = connections
    ? { connections: await sealJson(harness.secretKey, connections, previewConnectionsContext(jobId)) }
    : {};
  const definition = typeof value === "string" || !("spec" in value) ? draft(value) : value;
  const job: PreviewJob = { v: 1, definition, parameters: {}, limit, timeoutMs, ...sealed };
  const started = Date.now();
  const added = await queue.add("preview", job, { jobId });
  const beats = new Set<number>();
  const commits = new Set<number>();
  for (;;) {
    const score = await harness.redis.zscore(harness.keys.workers, "previewer");
    if (score !== null) beats.add(Number(score));
    commits.add((await harness.snapshot("steady"))?.nodes.gen?.out ?? 0);
    const state = await queue.getJobState(added.id!);
    if (state === "completed" || state === "failed") {
      const done = await Job.fromId(queue, added.id!);
      if (state === "failed") throw new Error(`preview job failed: ${done?.failedReason}`);
      const times = [...beats, Date.now()].sort((a, b) => a - b);
      const beatGapMs = Math.max(...times.slice(1).map((t, i) => t - times[i]!));
      return {
        answer: done?.returnvalue,
        tookMs: Date.now() - started,
        beats: beats.size,
        beatGapMs,
        commits: commits.size,
      };
    }
    if (Date.now() - started > 60_000) throw new Error("the preview never answered");
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("preview threads", () => {
  it("stops a preview that burns CPU past its time limit while the worker keeps heartbeating and committing", async () => {
    // Linear work, but a lot of it: about a million characters rewritten per record, hundreds of records.
    const seen = await preview(
      "length(regexp_replace(repeat(country, 500000), '[A-Z]', 'x'))",
      200,
      undefined,
      LIMIT_MS,
    );
    const stopped = PreviewStopped.parse(seen.answer);
    expect(stopped.stopped).toBe("time");
    expect(stopped.message).toMatch(/^the preview took longer than 2 s and was stopped — /);
    // Killed at its limit (plus the second it has to answer): counted from when its thread got it.
    const ran = stoppedLog.at(-1)?.ranMs as number;
    expect(ran).toBeGreaterThanOrEqual(LIMIT_MS);
    expect(ran).toBeLessThan(LIMIT_MS + 4000);
    // A safety bound for the whole round trip, thread start included, on a busy machine.
    expect(seen.tookMs).toBeLessThan(LIMIT_MS + 20_000);
    // The worker's own loop was never blocked: its heartbeat moved on and the running task kept committing.
    expect(seen.beats).toBeGreaterThanOrEqual(3);
    expect(seen.beatGapMs).toBeLessThan(LIMIT_MS + 1000);
    expect(seen.commits).toBeGreaterThanOrEqual(3);
  });

  it("stops a preview that uses more than its memory, and the worker answers the next one", async () => {
    // Each record carries 8 MB of fresh text; the sink keeps every record until the sample ends.
    const big = Object.fromEntries("abcdefgh".split("").map((f) => [f, "upper(repeat(country, 500000))"]));
    const seen = await preview(big, 100);
    const stopped = PreviewStopped.parse(seen.answer);
    expect(stopped.stopped).toBe("memory");
    expect(stopped.message).toMatch(/^the preview used more than 64 MiB of memory and was stopped — /);
    expect(seen.beatGapMs).toBeLessThan(LIMIT_MS + 1000);

    // An ordinary preview, answered from a fresh thread as each one is.
    const next = await preview("lower(country)", 10);
    const result = PreviewResult.parse(next.answer);
    expect(result.problems).toEqual([]);
    expect(result.nodes.calc?.outputs.out).toHaveLength(10);
    expect(result.nodes.calc?.outputs.out?.[0]?.value).toMatch(/^[a-z]{2}$/);
    expect(await harness.redis.zscore(harness.keys.workers, "previewer")).not.toBeNull();
  });

  it("lets the preview's connections reach only what the worker's destination policy allows", async () => {
    const stream = `${harness.prefix}:preview-stream`;
    const other = harness.connect("db7");
    await other.select(7);
    await other.xadd(stream, "*", "data", JSON.stringify({ n: 1 }));
    try {
      const reading = (db: number) => ({
        apiVersion: "sluice/v1",
        kind: "Pipeline",
        metadata: { name: "draft" },
        spec: {
          settings: {},
          nodes: [
            { id: "src", type: "source.redis-stream", config: { connection: `db${db}`, stream, format: "json" } },
            { id: "out", type: "sink.console", config: {} },
          ],
          edges: [{ from: "src", to: "out" }],
        },
      });
      const bundle: ConnectionBundle = {
        db0: { type: "redis", config: { url: "redis://127.0.0.1:6379/0" } },
        db7: { type: "redis", config: { url: "redis://127.0.0.1:6379/7" } },
      };
      // Another database on that server: allowed, and read through the thread.
      const allowed = PreviewResult.parse((await preview(reading(7), 10, bundle)).answer);
      expect(allowed.problems).toEqual([]);
      expect(allowed.nodes.src?.outputs.out?.length).toBe(1);
      // Sluice's own Redis: the thread asked the worker, and the worker refused.
      const refused = PreviewResult.parse((await preview(reading(0), 10, bundle)).answer);
      expect(refused.problems.join(" ")).toMatch(/Sluice's own Redis/);
    } finally {
      await other.del(stream);
      await other.quit();
    }
  });
});
