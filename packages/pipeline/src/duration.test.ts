import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "./duration";

describe("parseDuration", () => {
  it("reads every unit", () => {
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration("5s")).toBe(5000);
    expect(parseDuration("1.5m")).toBe(90_000);
    expect(parseDuration("2h")).toBe(7_200_000);
    expect(parseDuration("1d")).toBe(86_400_000);
    expect(parseDuration(42)).toBe(42);
  });
  it("rejects what is not a duration", () => {
    expect(parseDuration("5")).toBeUndefined();
    expect(parseDuration("s")).toBeUndefined();
    expect(parseDuration("-1s")).toBeUndefined();
    expect(parseDuration(Number.NaN)).toBeUndefined();
  });
  it("formats back to the largest whole unit", () => {
    expect(formatDuration(60_000)).toBe("1m");
    expect(formatDuration(1500)).toBe("1500ms");
  });
});
