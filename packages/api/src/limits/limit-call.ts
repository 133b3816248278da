import { TRPCError } from "@trpc/server";
import type { RequestContext } from "../context";
import { RateLimitedError, type RateLimitName } from "./rate-limits";

/**
 * Takes one point of `limit` for `key` on behalf of a procedure call, before the call does any costly work. A call
 * over the limit fails with TOO_MANY_REQUESTS (HTTP 429; the route adds Retry-After from the cause). Nothing is
 * counted for callers without rate limits (in-process) or, for per-address limits, without a known address.
 */
export async function limitCall(
  ctx: Pick<RequestContext, "rateLimits">,
  limit: RateLimitName,
  key: string | null,
): Promise<void> {
  if (!ctx.rateLimits || key === null) return;
  try {
    await ctx.rateLimits.consume(limit, key);
  } catch (err) {
    if (err instanceof RateLimitedError) {
      throw new TRPCError({ code: "TOO_MANY_REQUESTS", message: err.message, cause: err });
    }
    // Without its counters the door stays shut rather than open to guessing.
    throw new TRPCError({
      code: "SERVICE_UNAVAILABLE",
      message: "this is unavailable for a moment: Sluice cannot reach its Redis to count attempts; try again shortly",
      cause: err,
    });
  }
}

/** The longest Retry-After among `errors` that were refused by a rate limit, in seconds; undefined if none was. */
export function retryAfterSeconds(errors: readonly { cause?: unknown }[]): number | undefined {
  let longest: number | undefined;
  for (const error of errors) {
    if (error.cause instanceof RateLimitedError) longest = Math.max(longest ?? 0, error.cause.retryAfterSeconds);
  }
  return longest;
}
