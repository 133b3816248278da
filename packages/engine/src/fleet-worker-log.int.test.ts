import { type LogEntry, recordingLogger } from "@sluice/log/logger";
import { catalog } from "@sluice/nodes/catalog";
import { runtimes } from "@sluice/nodes/runtimes";
import { FleetHarness, slicePipeline } from "@sluice/test-kit/fleet-harness";
import { afterEach, describe, expect, it } from "vitest";
import { FleetWorker } from "./fleet-worker";

// What a worker logs about a partition's work says which run, stage and partition it is about.

let harness: FleetHarness | undefined;
let worker: FleetWorker | undefined;
afterEach(async () => {
  await worker?.close();
  await harness?.close();
});

describe("a worker's log", () => {
  it("puts the run, stage and partition on every line of a partition's work", async () => {
    harness = new FleetHarness();
    const lines: LogEntry[] = [];
    worker = new FleetWorker({
      connect: () => harness!.connect("log-worker"),
      prefix: harness.prefix,
      catalog,
      runtimes,
      workerId: "log-worker",
      leaseMs: 2000,
      log: recordingLogger((entry) => lines.push(entry)),
    });
    await worker.start();
    await harness.startRun("logged", slicePipeline({ count: 200, rate: 0, seed: 3 }, "status = 200", 2));
    await harness.waitForStatus("logged", "completed");

    const leased = lines.filter((l) => l.message === "task leased");
    const finished = lines.filter((l) => l.message === "task finished");
    // One stage of two partitions: each leased and finished once, each line naming its own partition.
    expect(leased.map((l) => [l.fields.run, l.fields.stage, l.fields.partition]).sort()).toEqual([
      ["logged", 0, 0],
      ["logged", 0, 1],
    ]);
    expect(finished.map((l) => [l.fields.run, l.fields.partition]).sort()).toEqual([
      ["logged", 0],
      ["logged", 1],
    ]);
    // Lines about the worker itself carry no run.
    expect(lines.find((l) => l.message === "worker started")?.fields.run).toBeUndefined();
  });
});
