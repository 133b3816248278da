import { describe, expect, it } from "vitest";
import { rangeFromUrl, rangeSearch, resolveRange } from "./time-range";

describe("dashboard time range", () => {
  const now = Date.parse("2026-12-07T12:00:00Z");

  it("resolves a relative range to the span ending now, an absolute one to itself", () => {
    expect(resolveRange({ kind: "relative", last: "15m" }, now)).toEqual({
      from: "2026-12-07T11:45:00.000Z",
      to: "2026-12-07T12:00:00.000Z",
    });
    expect(resolveRange({ kind: "relative", last: "7d" }, now).from).toBe("2026-11-30T12:00:00.000Z");
    const fixed = { kind: "absolute" as const, from: "2026-12-01T00:00:00Z", to: "2026-12-02T00:00:00Z" };
    expect(resolveRange(fixed, now)).toEqual({ from: fixed.from, to: fixed.to });
  });

  it("reads an address's override, and ignores one it cannot use", () => {
    expect(rangeFromUrl({ last: "6h" })).toEqual({ kind: "relative", last: "6h" });
    expect(rangeFromUrl(new URLSearchParams("from=2026-12-01T00:00:00Z&to=2026-12-01T06:00:00Z"))).toEqual({
      kind: "absolute",
      from: "2026-12-01T00:00:00.000Z",
      to: "2026-12-01T06:00:00.000Z",
    });
    expect(rangeFromUrl({ last: "3h" })).toBeNull();
    expect(rangeFromUrl({ from: "2026-12-02T00:00:00Z", to: "2026-12-01T00:00:00Z" })).toBeNull();
    expect(rangeFromUrl({ from: "yesterday", to: "2026-12-01T00:00:00Z" })).toBeNull();
    expect(rangeFromUrl({})).toBeNull();
  });

  it("writes a range back as an address the page reads the same", () => {
    const fixed = { kind: "absolute" as const, from: "2026-12-01T00:00:00.000Z", to: "2026-12-01T06:00:00.000Z" };
    expect(rangeFromUrl(new URLSearchParams(rangeSearch(fixed)))).toEqual(fixed);
    expect(rangeSearch({ kind: "relative", last: "1h" })).toBe("?last=1h");
  });
});
