import { TRPCError } from "@trpc/server";
import { describe, expect, it, vi } from "vitest";
import { limitCall, retryAfterSeconds } from "./limit-call";
import { RateLimitedError, type RateLimits } from "./rate-limits";

// The built web app holds a copy of these modules per server entry (instrumentation, each route), and the process's
// one RateLimits is built by whichever entry asked first: a refusal thrown by one copy must read as a refusal in all.

const rule = { points: 10, durationSeconds: 900 };

function throwing(err: unknown): RateLimits {
  return {
    consume: async () => {
      throw err;
    },
  } as unknown as RateLimits;
}

describe("limitCall", () => {
  it("answers a refusal made by another copy of the module with 429, its sentence and Retry-After", async () => {
    vi.resetModules();
    const other = await import("./rate-limits");
    expect(other.RateLimitedError).not.toBe(RateLimitedError);
    const refusal = new other.RateLimitedError("signInPerEmail", rule, 42);

    const error = await limitCall({ rateLimits: throwing(refusal) }, "signInPerEmail", "a@example.com").catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TRPCError);
    expect(error).toMatchObject({
      code: "TOO_MANY_REQUESTS",
      message: "too many sign-in attempts for this email: at most 10 in 15 minutes; try again in 42 seconds",
    });
    expect(retryAfterSeconds([{ cause: (error as TRPCError).cause }])).toBe(42);
  });

  it("answers anything else, such as Redis being away, as unavailable for a moment", async () => {
    const error = await limitCall(
      { rateLimits: throwing(new Error("connect ECONNREFUSED")) },
      "signInPerEmail",
      "a@example.com",
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "SERVICE_UNAVAILABLE" });
    expect(retryAfterSeconds([{ cause: (error as TRPCError).cause }])).toBeUndefined();
  });
});
