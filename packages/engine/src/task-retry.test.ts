import { describe, expect, it } from "vitest";
import { retryWorthAnEvent } from "./task-retry";

describe("retries on the run's timeline", () => {
  it("puts the first retry, every change of error and then attempts 2, 4, 8… on the timeline", () => {
    expect(retryWorthAnEvent(1, "down", undefined)).toBe(true);
    expect(retryWorthAnEvent(2, "down", "down")).toBe(true);
    expect(retryWorthAnEvent(3, "down", "down")).toBe(false);
    expect(retryWorthAnEvent(3, "timed out", "down")).toBe(true);
    expect(retryWorthAnEvent(8, "down", "down")).toBe(true);
    expect(retryWorthAnEvent(12, "down", "down")).toBe(false);
  });
});
