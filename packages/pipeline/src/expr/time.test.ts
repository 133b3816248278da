import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  civilFromDays,
  daysFromCivil,
  fromWallTime,
  isValidTimeZone,
  MS_PER_DAY,
  parseTimestamp,
  zoneOffset,
} from "./time";
import { compileFormat, formatTimestamp, parseWithFormat } from "./timestamp-format";

const ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Sydney", "Pacific/Chatham"];
const instant = fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2100, 0, 1) });

/** Offset by an independent route: Intl's wall-clock text read back as UTC. */
function referenceOffset(ms: number, zone: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(ms);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const d = new Date(0);
  d.setUTCFullYear(get("year"), get("month") - 1, get("day"));
  d.setUTCHours(get("hour"), get("minute"), get("second"), 0);
  return d.getTime() - Math.floor(ms / 1000) * 1000;
}

describe("civil calendar", () => {
  it("agrees with Date for every day in four centuries", () => {
    const out = { year: 0, month: 0, day: 0 };
    for (let days = daysFromCivil(1900, 1, 1); days <= daysFromCivil(2300, 1, 1); days += 1) {
      const d = new Date(days * MS_PER_DAY);
      civilFromDays(days, out);
      if (out.year !== d.getUTCFullYear() || out.month !== d.getUTCMonth() + 1 || out.day !== d.getUTCDate()) {
        throw new Error(`day ${days}: ${JSON.stringify(out)} vs ${d.toISOString()}`);
      }
      expect(daysFromCivil(out.year, out.month, out.day)).toBe(days);
    }
    // 146,000 days through expect() take seconds when the two cores are shared: a safety bound, not a timing.
  }, 30_000);

  it("handles years before 1970 and before year 1", () => {
    expect(daysFromCivil(1969, 12, 31)).toBe(-1);
    expect(civilFromDays(daysFromCivil(-44, 3, 15), { year: 0, month: 0, day: 0 })).toEqual({
      year: -44,
      month: 3,
      day: 15,
    });
  });
});

describe("time zone offsets", () => {
  it("match Intl for random instants in zones with DST, half-hour and 45-minute offsets", () => {
    fc.assert(
      fc.property(instant, fc.constantFrom(...ZONES), (ms, zone) => {
        expect(zoneOffset(ms, zone)).toBe(referenceOffset(ms, zone));
      }),
      { numRuns: 3000 },
    );
  });

  it("change exactly at a transition", () => {
    const t = Date.UTC(2024, 2, 31, 1, 0, 0);
    expect(zoneOffset(t - 1, "Europe/Berlin")).toBe(3_600_000);
    expect(zoneOffset(t, "Europe/Berlin")).toBe(7_200_000);
    expect(zoneOffset(t - 1, "Europe/Berlin")).toBe(3_600_000); // cached bucket stays right
  });

  it("map wall-clock time back to the instant, choosing the earlier reading in an overlap", () => {
    fc.assert(
      fc.property(instant, fc.constantFrom(...ZONES), (ms, zone) => {
        const wall = ms + zoneOffset(ms, zone);
        const back = fromWallTime(wall, zone);
        expect(back + zoneOffset(back, zone)).toBe(wall);
        expect(back).toBeLessThanOrEqual(ms);
      }),
      { numRuns: 3000 },
    );
  });

  it("knows which zone names exist", () => {
    expect(isValidTimeZone("Europe/Berlin")).toBe(true);
    expect(isValidTimeZone("UTC")).toBe(true);
    expect(isValidTimeZone("Mars/Olympus")).toBe(false);
    expect(isValidTimeZone("")).toBe(false);
    expect(isValidTimeZone("x".repeat(1000))).toBe(false);
  });
});

describe("timestamp text", () => {
  it.each([
    ["2024-01-02", Date.UTC(2024, 0, 2)],
    ["2024-1-2 3:04", Date.UTC(2024, 0, 2, 3, 4)],
    ["2024-01-02T03:04:05.123456Z", Date.UTC(2024, 0, 2, 3, 4, 5, 123)],
    ["2024-01-02 03:04:05,5", Date.UTC(2024, 0, 2, 3, 4, 5, 500)],
    ["2024-01-02 03:04:05-0130", Date.UTC(2024, 0, 2, 4, 34, 5)],
    ["2024-01-02 03:04:05 UTC", Date.UTC(2024, 0, 2, 3, 4, 5)],
    ["  2024-02-29  ", Date.UTC(2024, 1, 29)],
  ])("parses %s", (text, expected) => {
    expect(parseTimestamp(text, "UTC")).toBe(expected);
  });

  it.each(["2023-02-29", "2024-13-01", "2024-01-01 24:00", "2024-01-01 10:60", "yesterday", "2024-01-01T", ""])(
    "rejects %j",
    (text) => {
      expect(parseTimestamp(text, "UTC")).toBeUndefined();
    },
  );

  it("round-trips through a pattern in any zone", () => {
    const compiled = compileFormat("yyyy-MM-dd HH:mm:ss.SSS XXX");
    if (!compiled.ok) throw new Error(compiled.message);
    // From 1970: older local mean times have offsets in seconds, which XXX cannot show.
    const modern = fc.integer({ min: 0, max: Date.UTC(2100, 0, 1) });
    fc.assert(
      fc.property(modern, fc.constantFrom(...ZONES), (ms, zone) => {
        const text = formatTimestamp(ms, compiled.tokens, zone);
        expect(parseWithFormat(text, compiled.tokens, "UTC")).toBe(ms);
      }),
      { numRuns: 1000 },
    );
  });

  it("rejects bad patterns", () => {
    expect(compileFormat("yyyy-qq")).toMatchObject({ ok: false });
    expect(compileFormat("'open")).toMatchObject({ ok: false });
    expect(compileFormat("y".repeat(500))).toMatchObject({ ok: false });
  });
});
