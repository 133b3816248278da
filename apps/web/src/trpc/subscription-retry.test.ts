import { describe, expect, it } from "vitest";
import { reconnectDelayMs, retrySubscription } from "./subscription-retry";

describe("retrySubscription", () => {
  it("opens again after a dropped stream or a server error, not after a refusal of the client", () => {
    expect(retrySubscription({ error: {} })).toBe(true);
    expect(retrySubscription({ error: { data: null } })).toBe(true);
    expect(retrySubscription({ error: { data: { httpStatus: 502 } } })).toBe(true);
    expect(retrySubscription({ error: { data: { httpStatus: 401 } } })).toBe(false);
    expect(retrySubscription({ error: { data: { httpStatus: 400 } } })).toBe(false);
  });
});

describe("reconnectDelayMs", () => {
  it("backs off from about 1 s, doubling, to at most about 30 s", () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 5, 6, 7, 20].map((n) => reconnectDelayMs(n, mid))).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000,
    ]);
    expect(reconnectDelayMs(1, () => 0)).toBe(800);
    expect(reconnectDelayMs(10, () => 1)).toBe(36_000);
  });
});
