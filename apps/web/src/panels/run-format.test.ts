import { describe, expect, it } from "vitest";
import { formatCount, formatDuration, formatInstant, formatRetry, toMs } from "./run-format";

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

  it("formats instants in UTC and counts with separators", () => {
    expect(formatInstant(Date.UTC(2024, 4, 1, 12, 0, 3, 250))).toBe("2024-05-01 12:00:03.250 UTC");
    expect(formatCount(1234567)).toBe("1,234,567");
  });

  it("reads dates as they cross the wire", () => {
    expect(toMs("2024-05-01T00:00:00.000Z")).toBe(Date.UTC(2024, 4, 1));
    expect(toMs(null)).toBeNull();
    expect(toMs("nonsense")).toBeNull();
  });
});
