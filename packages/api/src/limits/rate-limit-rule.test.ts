import { describe, expect, it } from "vitest";
import { parseRateLimitRule } from "./rate-limit-rule";
import { clientAddress } from "./rate-limits";

describe("rate limit settings", () => {
  it("reads calls per duration with an optional unit", () => {
    expect(parseRateLimitRule("10/15m")).toEqual({ points: 10, durationSeconds: 900 });
    expect(parseRateLimitRule(" 3000 / 60s ")).toEqual({ points: 3000, durationSeconds: 60 });
    expect(parseRateLimitRule("20/1H")).toEqual({ points: 20, durationSeconds: 3600 });
    expect(parseRateLimitRule("5/30")).toEqual({ points: 5, durationSeconds: 30 });
  });

  it("answers a sentence for anything else", () => {
    expect(parseRateLimitRule("ten per minute")).toMatch(/^write it as calls\/duration, like 10\/15m/);
    expect(parseRateLimitRule("0/1m")).toBe("allow between 1 and 1000000 calls");
    expect(parseRateLimitRule("5/2d")).toMatch(/^write it as/);
    expect(parseRateLimitRule("5/25h")).toBe("use a duration between 1 second and 24 hours");
  });
});

describe("the client's address", () => {
  const headers = (xff?: string) => new Headers(xff === undefined ? {} : { "x-forwarded-for": xff });

  it("takes the entry the nearest trusted proxy wrote: the last with none or one, further back with more", () => {
    expect(clientAddress(headers("198.51.100.7"), 0)).toBe("198.51.100.7");
    expect(clientAddress(headers("6.6.6.6, 198.51.100.7"), 0)).toBe("198.51.100.7");
    expect(clientAddress(headers("6.6.6.6, 198.51.100.7"), 1)).toBe("198.51.100.7");
    expect(clientAddress(headers("6.6.6.6, 198.51.100.7, 10.0.0.2"), 2)).toBe("198.51.100.7");
    expect(clientAddress(headers("198.51.100.7"), 3)).toBe("198.51.100.7");
  });

  it("is unknown without the header (in-process callers)", () => {
    expect(clientAddress(headers(), 0)).toBeNull();
    expect(clientAddress(headers(" , "), 0)).toBeNull();
  });
});
