import { describe, expect, it } from "vitest";
import { formatAbsolute, formatIso, formatRelative } from "./format";

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
