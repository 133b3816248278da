import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RefreshLoop } from "./refresh-loop";

/** A run that ends when the test says so, counting how many are in flight at once. */
function controlledRuns() {
  const ends: (() => void)[] = [];
  let inFlight = 0;
  let most = 0;
  let started = 0;
  const run = () =>
    new Promise<void>((resolve) => {
      started++;
      inFlight++;
      most = Math.max(most, inFlight);
      ends.push(() => {
        inFlight--;
        resolve();
      });
    });
  return {
    run,
    endOldest: async () => {
      ends.shift()?.();
      await vi.advanceTimersByTimeAsync(0);
    },
    get started() {
      return started;
    },
    get most() {
      return most;
    },
  };
}

describe("dashboard refresh loop", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("refreshes a period after the last refresh ended, never two at once", async () => {
    const runs = controlledRuns();
    const loop = new RefreshLoop({ run: runs.run, hidden: () => false });
    loop.setPeriod(10_000);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(runs.started).toBe(1);
    // A slow refresh: 25 s pass, no second one starts while it runs.
    await vi.advanceTimersByTimeAsync(25_000);
    expect(runs.started).toBe(1);
    await runs.endOldest();
    await vi.advanceTimersByTimeAsync(9_999);
    expect(runs.started).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs.started).toBe(2);
    expect(runs.most).toBe(1);
    loop.stop();
  });

  it("runs asks made during a refresh once, after it", async () => {
    const runs = controlledRuns();
    const loop = new RefreshLoop({ run: runs.run, hidden: () => false });
    const first = loop.refresh();
    const a = loop.refresh();
    const b = loop.refresh();
    expect(a).toBe(b);
    expect(runs.started).toBe(1);
    await runs.endOldest();
    await first;
    expect(runs.started).toBe(2);
    await runs.endOldest();
    await a;
    expect(runs.started).toBe(2);
    expect(runs.most).toBe(1);
    loop.stop();
  });

  it("skips while the tab is hidden and catches up when it is shown", async () => {
    const runs = controlledRuns();
    let hidden = true;
    const loop = new RefreshLoop({ run: runs.run, hidden: () => hidden });
    loop.setPeriod(10_000);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(runs.started).toBe(0);
    hidden = false;
    loop.visibilityChanged();
    expect(runs.started).toBe(1);
    await runs.endOldest();
    loop.setPeriod(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(runs.started).toBe(1);
    loop.stop();
  });
});
