import { describe, expect, it } from "vitest";
import { formatCount, formatDuration, formatRetry, toMs } from "./run-format";

describe("run formatters", () => {
  it("says why and how often a partition is retried, and when next", () => {
    const retry = { stage: 0, partition: 2, error: "cannot connect to db:5432", attempt: 7, nextAt: 20_000 };
    expect(formatRetry(retry, 4_200)).toBe("retrying: cannot connect to db:5432 (attempt 7, next in 16 s)");
    expect(formatRetry(retry, 19_900)).toBe("retrying: cannot connect to db:5432 (attempt 7, next now)");
  });

  it("formats durations at a readable scale", () => {
    expect(formatDuration(850)).toBe("850 ms");
    expect(formatDuration(12_400)).toBe("12 s");
    expect(formatDuration(3_450)).toBe("3.5 s");
    expect(formatDuration(185_000)).toBe("3 min 05 s");
    expect(formatDuration(7_620_000)).toBe("2 h 07 min");
    expect(formatDuration(-1)).toBe("—");
  });

  it("counts with separators", () => {
    expect(formatCount(1234567)).toBe("1,234,567");
  });

  it("reads a Date, epoch milliseconds or nothing as milliseconds", () => {
    expect(toMs(new Date(Date.UTC(2024, 4, 1)))).toBe(Date.UTC(2024, 4, 1));
    expect(toMs(Date.UTC(2024, 4, 1))).toBe(Date.UTC(2024, 4, 1));
    expect(toMs(null)).toBeNull();
    expect(toMs(new Date(Number.NaN))).toBeNull();
  });
});
