import { describe, expect, it } from "vitest";
import { CpuSampler, heldPartition, sluiceVersion } from "./worker-heartbeat";

// The heartbeat's own arithmetic: CPU as cores used between samples, and which partition a task job's id names.

/** A process clock and CPU counters the test moves by hand (microseconds of CPU, milliseconds of wall time). */
function fakeProcess() {
  const state = { user: 0, system: 0, now: 1000 };
  const sampler = new CpuSampler(
    () => ({ user: state.user, system: state.system }),
    () => state.now,
  );
  return { state, sampler };
}

describe("CpuSampler", () => {
  it("reports CPU time per wall second since the previous sample, user and system together", () => {
    const { state, sampler } = fakeProcess();
    // One second of wall time, 0.6 s user + 0.3 s system: 0.9 of a core.
    state.now += 1000;
    state.user += 600_000;
    state.system += 300_000;
    expect(sampler.sample()).toBeCloseTo(0.9, 6);
    // Half a second during which two cores were busy.
    state.now += 500;
    state.user += 1_000_000;
    expect(sampler.sample()).toBeCloseTo(2, 6);
  });

  it("says 0 for an idle interval, and keeps the last figure when no time has passed", () => {
    const { state, sampler } = fakeProcess();
    state.now += 2000;
    state.user += 500_000;
    expect(sampler.sample()).toBeCloseTo(0.25, 6);
    expect(sampler.sample()).toBeCloseTo(0.25, 6);
    state.now += 1000;
    expect(sampler.sample()).toBe(0);
  });

  it("measures this process by default: the same figure as process.cpuUsage over the same interval", () => {
    const startCpu = process.cpuUsage();
    const startAt = performance.now();
    const sampler = new CpuSampler();
    // Spin until this process has used 100 ms of CPU, however busy the machine is.
    while (process.cpuUsage(startCpu).user < 100_000) Math.sqrt(Math.random());
    const cores = sampler.sample();
    const used = process.cpuUsage(startCpu);
    const expected = (used.user + used.system) / 1000 / (performance.now() - startAt);
    expect(cores).toBeGreaterThan(0);
    expect(Math.abs(cores - expected)).toBeLessThan(0.15);
  });
});

describe("heldPartition", () => {
  it("reads run, stage and partition from a task job's id, dashes in the run id included", () => {
    expect(heldPartition("cmabc123-0-3.g1")).toEqual({ runId: "cmabc123", stage: 0, partition: 3 });
    expect(heldPartition("start-over-2-11.g2")).toEqual({ runId: "start-over", stage: 2, partition: 11 });
    expect(heldPartition("run-1-0")).toEqual({ runId: "run", stage: 1, partition: 0 });
  });

  it("names nothing for an id of another shape", () => {
    expect(heldPartition("?")).toBeUndefined();
    expect(heldPartition("preview-abc")).toBeUndefined();
  });
});

describe("sluiceVersion", () => {
  it("is the package version, with a commit when run from a checkout", () => {
    expect(sluiceVersion()).toMatch(/^\d+\.\d+\.\d+(\+[0-9a-f]{4,40})?$/);
  });
});
