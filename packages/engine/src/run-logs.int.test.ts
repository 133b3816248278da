import { catalog } from "@sluice/nodes/catalog";
import { runtimes } from "@sluice/nodes/runtimes";
import { RUN_LOGS_MAX, readRunLogs, readRunLogsSince } from "@sluice/pipeline/control/run-logs";
import { runKeys } from "@sluice/pipeline/control/run-state";
import { FleetHarness, waitFor } from "@sluice/test-kit/fleet-harness";
import { afterEach, describe, expect, it } from "vitest";
import { RunLogSink } from "./run-log-sink";

// A run's log as the workers keep it: their lines about the run (and only that run), filterable by level and node,
// redacted, bounded, and counted rather than kept when they come faster than Redis takes them.

let harness: FleetHarness;
let sink: RunLogSink | undefined;
afterEach(async () => {
  await sink?.close();
  sink = undefined;
  await harness?.close();
});

function generatorRun(count: number) {
  return {
    apiVersion: "sluice/v1",
    kind: "Pipeline",
    metadata: { name: "logs" },
    spec: {
      settings: { parallelism: 2, batchSize: 200 },
      nodes: [
        { id: "gen", type: "source.generator", config: { count, rate: 4000 } },
        { id: "out", type: "sink.console", config: {} },
      ],
      edges: [{ from: "gen", to: "out" }],
    },
  };
}

describe("run logs", () => {
  it("keeps each run's own lines from a real worker, and none of another run's", async () => {
    harness = new FleetHarness();
    await harness.startInProcess("logs-w1", catalog, runtimes);
    const { redis, keys } = harness;
    await harness.startRun("la", generatorRun(400));
    await harness.startRun("lb", generatorRun(400));
    await harness.waitForStatus("la", "completed");
    await harness.waitForStatus("lb", "completed");
    const page = await waitFor(
      async () => {
        const p = await readRunLogs(redis, keys, "la", { limit: 100 });
        return p.lines.filter((l) => l.message === "task finished").length === 2 ? p : undefined;
      },
      5000,
      () => "for both partitions' last lines in run la's log",
    );
    expect(page.lines.every((l) => String(l.fields.task).startsWith("la-"))).toBe(true);
    expect(page.lines.every((l) => l.worker === "logs-w1" && l.stage === 0)).toBe(true);
    expect(new Set(page.lines.map((l) => l.partition))).toEqual(new Set([0, 1]));
    expect(page.lines.some((l) => l.message === "task leased" && l.level === "info")).toBe(true);
    // Newest first.
    const ats = page.lines.map((l) => l.at);
    expect([...ats].sort((a, b) => b - a)).toEqual(ats);
    const other = await readRunLogs(redis, keys, "lb", { limit: 100 });
    expect(other.lines.length).toBeGreaterThan(0);
    expect(other.lines.every((l) => String(l.fields.task).startsWith("lb-"))).toBe(true);
    // Nothing at warn or above in a run that went well.
    expect((await readRunLogs(redis, keys, "la", { limit: 100, level: "warn" })).lines).toEqual([]);
    // The stream is one of the run's keys: its retention covers it.
    expect(await runKeys(redis, keys, "la")).toContain(keys.runLogs("la"));
    expect(await redis.pttl(keys.runLogs("la"))).toBeGreaterThan(0);
  });

  it("filters by level and node, pages on, redacts secrets and stays bounded", async () => {
    harness = new FleetHarness();
    const { redis, keys } = harness;
    await redis.hset(keys.runMeta("lf"), { status: "running" });
    sink = new RunLogSink({ redis, keys, level: "info", workerId: "w-test" });
    const log = sink.logger.child({ run: "lf", stage: 0, partition: 1 });
    log.debug("not kept: below the run-log level");
    log.info("connected", { node: "src", password: "hunter2" });
    log.warn("slow sink", { node: "dst" });
    log.error("write failed", { node: "dst", error: "timeout" });
    sink.logger.info("a worker line about no run");
    await sink.flush();

    const all = await readRunLogs(redis, keys, "lf", { limit: 10 });
    expect(all.lines.map((l) => [l.level, l.message, l.node])).toEqual([
      ["error", "write failed", "dst"],
      ["warn", "slow sink", "dst"],
      ["info", "connected", "src"],
    ]);
    expect(all.lines[2]?.fields.password).toBe("[redacted]");
    expect(JSON.stringify(await redis.xrange(keys.runLogs("lf"), "-", "+"))).not.toContain("hunter2");
    const warnings = await readRunLogs(redis, keys, "lf", { limit: 10, level: "warn" });
    expect(warnings.lines.map((l) => l.message)).toEqual(["write failed", "slow sink"]);
    const dst = await readRunLogs(redis, keys, "lf", { limit: 1, node: "dst" });
    expect(dst.lines.map((l) => l.message)).toEqual(["write failed"]);
    const more = await readRunLogs(redis, keys, "lf", { limit: 1, node: "dst", after: dst.next! });
    expect(more.lines.map((l) => l.message)).toEqual(["slow sink"]);
    expect((await readRunLogs(redis, keys, "lf", { limit: 1, node: "dst", after: more.next! })).lines).toEqual([]);
    // The tail's step: what came after a line, oldest first.
    const since = await readRunLogsSince(redis, keys, "lf", all.lines[2]!.id, { limit: 10 });
    expect(since.lines.map((l) => l.message)).toEqual(["slow sink", "write failed"]);

    // Far more lines than the stream keeps: the oldest go.
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 4000; i++) log.info("busy", { i });
      await sink.flush();
    }
    const length = await redis.xlen(keys.runLogs("lf"));
    expect(length).toBeGreaterThanOrEqual(RUN_LOGS_MAX);
    expect(length).toBeLessThanOrEqual(RUN_LOGS_MAX + 200);
    expect((await readRunLogs(redis, keys, "lf", { limit: 10, node: "src" })).lines).toEqual([]);

    // Written faster than one flush takes them: the buffer's overflow is counted, and the count is logged.
    for (let i = 0; i < 6000; i++) log.info("burst", { i });
    await sink.flush();
    await sink.flush();
    const newest = await readRunLogs(redis, keys, "lf", { limit: 1, level: "warn" });
    expect(newest.lines[0]?.message).toBe("1000 log lines of this run were not kept: Redis did not keep up");
    expect(newest.lines[0]?.fields.dropped).toBe(1000);
    expect(sink.droppedLines).toBe(0);
  });

  it("keeps nothing for a run whose state is gone", async () => {
    harness = new FleetHarness();
    const { redis, keys } = harness;
    sink = new RunLogSink({ redis, keys, level: "info", workerId: "w-test" });
    sink.logger.child({ run: "gone" }).info("late line");
    await sink.flush();
    expect(await redis.exists(keys.runLogs("gone"))).toBe(0);
  });
});
