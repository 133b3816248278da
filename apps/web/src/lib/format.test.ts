import { describe, expect, it } from "vitest";
import {
  formatAbsolute,
  formatCompact,
  formatIso,
  formatLag,
  formatLatency,
  formatOffsetLag,
  formatRate,
  formatRelative,
} from "./format";

const AT = Date.UTC(2024, 4, 1, 12, 0, 3, 250);

describe("time formatting", () => {
  it("shows a time in the given zone, to the second, naming the zone", () => {
    expect(formatAbsolute(AT, "UTC")).toBe("May 1, 2024, 12:00:03 PM UTC");
    expect(formatAbsolute(new Date(AT), "Europe/Berlin")).toBe("May 1, 2024, 2:00:03 PM GMT+2");
  });

  it("gives the exact instant for a tooltip, and leaves what is no time as it is", () => {
    expect(formatIso(AT)).toBe("2024-05-01T12:00:03.250Z");
    expect(formatIso(Number.NaN)).toBe("NaN");
    expect(formatAbsolute(Number.POSITIVE_INFINITY)).toBe("Infinity");
  });

  it("says how long ago a recent time was, and the time itself for an old one", () => {
    expect(formatRelative(AT - 10_000, AT)).toBe("just now");
    expect(formatRelative(AT - 3 * 60_000, AT)).toBe("3 minutes ago");
    expect(formatRelative(AT - 30 * 86_400_000, AT)).toBe(formatAbsolute(AT - 30 * 86_400_000));
  });
});

describe("live figure formatting", () => {
  it("shortens counts and rates, keeping a decimal where it matters", () => {
    expect(formatCompact(0)).toBe("0");
    expect(formatCompact(0.5)).toBe("0.5");
    expect(formatCompact(12)).toBe("12");
    expect(formatCompact(999)).toBe("999");
    expect(formatCompact(1234)).toBe("1.2k");
    expect(formatCompact(3_400_000)).toBe("3.4M");
    expect(formatCompact(2_000_000_000)).toBe("2B");
    expect(formatRate(1234)).toBe("1.2k/s");
    expect(formatRate(Number.NaN)).toBe("—/s");
  });

  it("shows a latency in the unit that reads best", () => {
    expect(formatLatency(0.25)).toBe("0.25 ms");
    expect(formatLatency(3.44)).toBe("3.4 ms");
    expect(formatLatency(120.4)).toBe("120 ms");
    expect(formatLatency(1530)).toBe("1.5 s");
  });

  it("shows a lag in seconds, minutes, hours and days", () => {
    expect(formatLag(400)).toBe("0 s");
    expect(formatLag(45_000)).toBe("45 s");
    expect(formatLag(130_000)).toBe("2 m 10 s");
    expect(formatLag((3 * 3600 + 5 * 60) * 1000)).toBe("3 h 05 m");
    expect(formatLag(50 * 3600 * 1000)).toBe("2 d 2 h");
    expect(formatLag(-1)).toBe("—");
  });

  it("shows a source's offset lag in its unit", () => {
    expect(formatOffsetLag(12_400, "messages")).toBe("12.4k msgs");
    expect(formatOffsetLag(830, "entries")).toBe("830 entries");
    expect(formatOffsetLag(0, "entries")).toBe("0 entries");
    expect(formatOffsetLag(999, "bytes")).toBe("999 B");
    expect(formatOffsetLag(1_234_567, "bytes")).toBe("1.2 MB");
    expect(formatOffsetLag(5e12, "bytes")).toBe("5 TB");
    expect(formatOffsetLag(Number.NaN, "bytes")).toBe("—");
  });
});
