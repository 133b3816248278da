import { describe, expect, it } from "vitest";
import { errorOf, NOW, run, runtimeErrorOf } from "./test-support";

const utc = (iso: string) => Date.parse(iso);
const berlin = { timeZone: "Europe/Berlin" };

describe("date-time functions", () => {
  it("reads the injected clock", () => {
    expect(run("now()")).toBe(NOW);
    expect(run("current_timestamp")).toBe(NOW);
    expect(run("CURRENT_TIMESTAMP - INTERVAL '1' HOUR")).toBe(NOW - 3_600_000);
  });

  it("extracts every field", () => {
    const ts = utc("2024-02-29T13:45:30.250Z"); // a Thursday
    const fields: [string, number][] = [
      ["year", 2024],
      ["quarter", 1],
      ["month", 2],
      ["week", 9],
      ["day", 29],
      ["hour", 13],
      ["minute", 45],
      ["second", 30],
      ["millisecond", 250],
      ["dow", 4],
      ["isodow", 4],
      ["doy", 60],
      ["epoch", ts / 1000],
    ];
    for (const [field, expected] of fields) {
      expect(run(`extract(${field} FROM ts)`, { ts }), field).toBe(expected);
      expect(run(`extract('${field}', ts)`, { ts }), field).toBe(expected);
    }
    expect(run("date_part('dow', ts)", { ts: utc("2024-03-03T00:00:00Z") })).toBe(0);
    expect(run("extract(isodow FROM ts)", { ts: utc("2024-03-03T00:00:00Z") })).toBe(7);
  });

  it("numbers ISO weeks across year boundaries", () => {
    expect(run("extract(week FROM ts)", { ts: utc("2021-01-01T00:00:00Z") })).toBe(53);
    expect(run("extract(week FROM ts)", { ts: utc("2024-12-30T00:00:00Z") })).toBe(1);
    expect(run("extract(week FROM ts)", { ts: utc("2026-12-31T00:00:00Z") })).toBe(53);
  });

  it("reads wall-clock fields in a zone, across the spring-forward gap", () => {
    // Europe/Berlin jumps from 02:00 CET to 03:00 CEST at 2024-03-31T01:00Z.
    expect(run("extract(hour FROM ts, 'Europe/Berlin')", { ts: utc("2024-03-31T00:59:59Z") })).toBe(1);
    expect(run("extract(hour FROM ts, 'Europe/Berlin')", { ts: utc("2024-03-31T01:00:00Z") })).toBe(3);
    expect(run("extract(hour FROM ts)", { ts: utc("2024-03-31T01:00:00Z") }, berlin)).toBe(3);
    expect(run("extract(day FROM ts, 'America/Los_Angeles')", { ts: utc("2024-03-01T05:00:00Z") })).toBe(29);
  });

  it("truncates in a zone, honouring DST", () => {
    const trunc = (unit: string, iso: string, zone: string) =>
      new Date(run(`date_trunc('${unit}', ts, '${zone}')`, { ts: utc(iso) }) as number).toISOString();
    // Midnight on the day DST starts is still CET (+01:00); the next midnight is CEST (+02:00).
    expect(trunc("day", "2024-03-31T12:00:00Z", "Europe/Berlin")).toBe("2024-03-30T23:00:00.000Z");
    expect(trunc("day", "2024-04-01T12:00:00Z", "Europe/Berlin")).toBe("2024-03-31T22:00:00.000Z");
    // The repeated hour at fall-back: 02:30 CEST and 02:30 CET truncate to their own 02:00.
    expect(trunc("hour", "2024-10-27T00:30:00Z", "Europe/Berlin")).toBe("2024-10-27T00:00:00.000Z");
    expect(trunc("hour", "2024-10-27T01:30:00Z", "Europe/Berlin")).toBe("2024-10-27T01:00:00.000Z");
    expect(trunc("day", "2024-10-27T23:30:00Z", "Europe/Berlin")).toBe("2024-10-27T23:00:00.000Z");
    // New York: spring forward 2024-03-10, fall back 2024-11-03.
    expect(trunc("day", "2024-03-10T12:00:00Z", "America/New_York")).toBe("2024-03-10T05:00:00.000Z");
    expect(trunc("day", "2024-11-03T12:00:00Z", "America/New_York")).toBe("2024-11-03T04:00:00.000Z");
    expect(trunc("month", "2024-11-15T12:00:00Z", "America/New_York")).toBe("2024-11-01T04:00:00.000Z");
    // Half-hour offset: hours start at :30 UTC in India.
    expect(trunc("hour", "2024-05-05T10:10:00Z", "Asia/Kolkata")).toBe("2024-05-05T09:30:00.000Z");
  });

  it("truncates to every unit", () => {
    const ts = utc("2024-08-14T13:45:30.250Z"); // Wednesday
    const cases: [string, string][] = [
      ["millisecond", "2024-08-14T13:45:30.250Z"],
      ["second", "2024-08-14T13:45:30.000Z"],
      ["minute", "2024-08-14T13:45:00.000Z"],
      ["hour", "2024-08-14T13:00:00.000Z"],
      ["day", "2024-08-14T00:00:00.000Z"],
      ["week", "2024-08-12T00:00:00.000Z"],
      ["month", "2024-08-01T00:00:00.000Z"],
      ["quarter", "2024-07-01T00:00:00.000Z"],
      ["year", "2024-01-01T00:00:00.000Z"],
    ];
    for (const [unit, expected] of cases) {
      expect(new Date(run(`date_trunc('${unit}', ts)`, { ts }) as number).toISOString(), unit).toBe(expected);
    }
    expect(run("date_trunc('DAY', ts)", { ts })).toBe(utc("2024-08-14T00:00:00Z"));
  });

  it("resolves wall-clock literals in a gap forward and in an overlap to the earlier instant", () => {
    expect(run("TIMESTAMP '2024-03-31 02:30:00'", {}, berlin)).toBe(utc("2024-03-31T01:30:00Z"));
    expect(run("TIMESTAMP '2024-10-27 02:30:00'", {}, berlin)).toBe(utc("2024-10-27T00:30:00Z"));
    expect(run("TIMESTAMP '2024-10-27 03:30:00'", {}, berlin)).toBe(utc("2024-10-27T02:30:00Z"));
    expect(run("TIMESTAMP '2024-06-01 12:00:00+05:30'", {}, berlin)).toBe(utc("2024-06-01T06:30:00Z"));
  });

  it("formats in a zone, with the offset that applies at that instant", () => {
    const fmt = "format_timestamp(ts, 'yyyy-MM-dd HH:mm:ss XXX', 'Europe/Berlin')";
    expect(run(fmt, { ts: utc("2024-03-31T00:30:00Z") })).toBe("2024-03-31 01:30:00 +01:00");
    expect(run(fmt, { ts: utc("2024-03-31T01:30:00Z") })).toBe("2024-03-31 03:30:00 +02:00");
    expect(run("format_timestamp(ts, 'HH:mm XXX')", { ts: utc("2024-01-01T05:06:00Z") })).toBe("05:06 Z");
  });

  it.each([
    ["EEE, d MMM yyyy HH:mm:ss Z", "Thu, 4 Jul 2024 09:05:03 +0000"],
    ["EEEE d MMMM yy", "Thursday 4 July 24"],
    ["hh:mm a", "09:05 AM"],
    ["yyyyMMdd'T'HHmmss.SSS", "20240704T090503.007"],
    ["'Day' D 'of' yyyy", "Day 186 of 2024"],
    ["'quoted ''text'''", "quoted 'text'"],
    ["M/d H:m:s S", "7/4 9:5:3 0"],
  ])("formats with %s", (pattern, expected) => {
    expect(
      run(`format_timestamp(ts, '${pattern.replaceAll("'", "''")}')`, { ts: utc("2024-07-04T09:05:03.007Z") }),
    ).toBe(expected);
  });

  it.each([
    ["to_timestamp('2024-01-02 03:04:05')", utc("2024-01-02T03:04:05Z")],
    ["to_timestamp('2024-01-02T03:04:05.5Z')", utc("2024-01-02T03:04:05.500Z")],
    ["to_timestamp('2024-01-02')", utc("2024-01-02T00:00:00Z")],
    ["to_timestamp('02/01/2024 15:30', 'dd/MM/yyyy HH:mm')", utc("2024-01-02T15:30:00Z")],
    ["to_timestamp('12 Jan 2024', 'd MMM yyyy')", utc("2024-01-12T00:00:00Z")],
    ["to_timestamp('3 june 2024', 'd MMMM yyyy')", utc("2024-06-03T00:00:00Z")],
    ["to_timestamp('20240102', 'yyyyMMdd')", utc("2024-01-02T00:00:00Z")],
    ["to_timestamp('2024-01-02 10:00 +02:00', 'yyyy-MM-dd HH:mm XXX')", utc("2024-01-02T08:00:00Z")],
    ["to_timestamp('01:30 PM', 'hh:mm a')", utc("1970-01-01T13:30:00Z")],
    ["to_timestamp('12:15 AM', 'hh:mm a')", utc("1970-01-01T00:15:00Z")],
    ["to_timestamp('2024-10-27 02:30', 'yyyy-MM-dd HH:mm', 'Europe/Berlin')", utc("2024-10-27T00:30:00Z")],
    ["to_timestamp('2024-060', 'yyyy-DDD')", utc("2024-02-29T00:00:00Z")],
    ["to_timestamp(1700000000)", 1_700_000_000_000],
    ["to_timestamp(1.5)", 1500],
    ["to_timestamp('not a date')", null],
    ["to_timestamp('2024-02-30')", null],
    ["to_timestamp('31/02/2024', 'dd/MM/yyyy')", null],
    ["to_timestamp('2024-01-02x', 'yyyy-MM-dd')", null],
  ])("%s", (source, expected) => {
    expect(run(source)).toBe(expected);
  });

  it("uses the pipeline's default zone", () => {
    expect(run("to_timestamp('2024-07-01 12:00')", {}, berlin)).toBe(utc("2024-07-01T10:00:00Z"));
    expect(run("format_timestamp(ts, 'HH:mm')", { ts: utc("2024-07-01T10:00:00Z") }, berlin)).toBe("12:00");
  });

  it("checks constant arguments at compile time and data arguments at run time", () => {
    expect(errorOf("extract(fortnight FROM ts)").message).toContain("Unknown extract field 'fortnight'");
    expect(errorOf("date_trunc('day', ts, 'Europe/Berln')").message).toContain("did you mean 'Europe/Berlin'?");
    expect(runtimeErrorOf("date_trunc('day', ts, s)", { ts: 0, s: "Nowhere/Land" }).message).toContain(
      "Unknown time zone 'Nowhere/Land'",
    );
    expect(runtimeErrorOf("date_trunc(s, ts)", { ts: 0, s: "eon" }).message).toContain("Unknown date_trunc unit 'eon'");
    expect(run("date_trunc('hour', ts, s)", { ts: utc("2024-05-05T10:10:00Z"), s: "Asia/Kolkata" })).toBe(
      utc("2024-05-05T09:30:00Z"),
    );
  });

  it("accepts timestamp text where a timestamp is expected", () => {
    expect(run("extract(year FROM '2031-05-06')")).toBe(2031);
    expect(errorOf("extract(year FROM 'soon')").message).toContain("must be a timestamp; 'soon' is not one");
  });
});
