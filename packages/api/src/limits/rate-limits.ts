import { createHash } from "node:crypto";
import type { Cluster, Redis } from "ioredis";
import { RateLimiterRedis, type RateLimiterRes } from "rate-limiter-flexible";
import { DEFAULT_RATE_LIMITS, type RateLimitRule, type RateLimitSettings } from "./rate-limit-rule";

// Rate limits on the doors an attacker knocks on: sign-in (per email and per client address), sign-up (per client
// address), webhook ingest (per pipeline and token) and API tokens (per token, every call made with one). Counters
// live in the fleet's Redis, so every web process shares them; each call consumes one point *before* any expensive
// work (password hashing, reading a body), and one call inside a tRPC batch is one point like any other.

export type RateLimitName = keyof RateLimitSettings;

/** What a refused call was trying to do, for the sentence the caller reads. */
const DOING: Record<RateLimitName, string> = {
  signInPerEmail: "sign-in attempts for this email",
  signInPerAddress: "sign-in attempts from your address",
  signUpPerAddress: "sign-ups from your address",
  ingestPerToken: "requests to this ingest URL with this token",
  apiPerToken: "calls with this API token",
};

/** Marks a RateLimitedError made by any copy of this module (see its Symbol.hasInstance). */
const RATE_LIMITED = Symbol.for("sluice.RateLimitedError");

export class RateLimitedError extends Error {
  override name = "RateLimitedError";
  readonly [RATE_LIMITED] = true;
  constructor(
    limit: RateLimitName,
    rule: RateLimitRule,
    /** Whole seconds until a call would be allowed again (at least 1): the Retry-After value. */
    readonly retryAfterSeconds: number,
  ) {
    super(
      `too many ${DOING[limit]}: at most ${rule.points} in ${describeDuration(rule.durationSeconds)}; try again in ${describeDuration(retryAfterSeconds)}`,
    );
  }

  /**
   * `instanceof` by mark, not by prototype. Next bundles this module once per server entry (instrumentation, each
   * route), while the RateLimits that throws is built once per process by whichever entry asked first (apps/web's
   * getDeps caches it on globalThis): a route's copy of the class would not know the errors of the copy that threw.
   */
  static override [Symbol.hasInstance](value: unknown): value is RateLimitedError {
    return typeof value === "object" && value !== null && RATE_LIMITED in value && value[RATE_LIMITED] === true;
  }
}

/**
 * A refusal from rate-limiter-flexible: it rejects a call over the limit with a RateLimiterRes and a store failure
 * with an Error (its README). Told apart by that and by shape, since the class may come from another copy too.
 */
function isRefusal(err: unknown): err is RateLimiterRes {
  if (typeof err !== "object" || err === null || err instanceof Error) return false;
  const res = err as Partial<Record<"msBeforeNext" | "remainingPoints", unknown>>;
  return typeof res.msBeforeNext === "number" && typeof res.remainingPoints === "number";
}

function describeDuration(seconds: number): string {
  if (seconds % 3600 === 0) return seconds === 3600 ? "1 hour" : `${seconds / 3600} hours`;
  if (seconds % 60 === 0 && seconds >= 60) return seconds === 60 ? "1 minute" : `${seconds / 60} minutes`;
  return seconds === 1 ? "1 second" : `${seconds} seconds`;
}

/** The limits of one installation, counted in Redis under `<prefix>:rl:<limit>:<key>`. */
export class RateLimits {
  private readonly limiters: Record<RateLimitName, RateLimiterRedis>;
  private readonly settings: RateLimitSettings;

  constructor(redis: Redis | Cluster, prefix: string, settings: Partial<RateLimitSettings> = {}) {
    this.settings = { ...DEFAULT_RATE_LIMITS, ...settings };
    const names = Object.keys(this.settings) as RateLimitName[];
    this.limiters = Object.fromEntries(
      names.map((name) => [
        name,
        new RateLimiterRedis({
          storeClient: redis,
          keyPrefix: `${prefix}:rl:${name}`,
          points: this.settings[name].points,
          duration: this.settings[name].durationSeconds,
        }),
      ]),
    ) as Record<RateLimitName, RateLimiterRedis>;
  }

  /**
   * Takes one point of `limit` for `key` (hashed: emails and tokens are not written to Redis in clear); throws
   * RateLimitedError when none is left. A Redis failure is thrown as it is.
   */
  async consume(limit: RateLimitName, key: string): Promise<void> {
    try {
      await this.limiters[limit].consume(keyHash(key));
    } catch (err) {
      if (!isRefusal(err)) throw err;
      throw new RateLimitedError(limit, this.settings[limit], Math.max(1, Math.ceil(err.msBeforeNext / 1000)));
    }
  }

  /** Forgets the calls counted for `key`, e.g. an email's failed sign-ins once its owner got in. */
  async reset(limit: RateLimitName, key: string): Promise<void> {
    await this.limiters[limit].delete(keyHash(key));
  }
}

function keyHash(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("base64url").slice(0, 32);
}

/**
 * The client's address from X-Forwarded-For. Next's server sets that header to the socket's address only when the
 * request has none, and a reverse proxy appends the address it saw, so the trustworthy entry is the one that many
 * places from the end: the last one with no proxy or one proxy in front (`trustedProxies` 0 or 1), the one before it
 * behind two, and so on. Without a proxy a client can send its own header, so per-address limits only bind behind a
 * proxy that appends; the per-email limit binds either way.
 */
export function clientAddress(headers: Headers, trustedProxies: number): string | null {
  const forwarded = headers.get("x-forwarded-for");
  if (!forwarded) return null;
  const hops = forwarded
    .split(",")
    .map((h) => h.trim())
    .filter((h) => h.length > 0);
  const entry = hops[hops.length - Math.max(1, trustedProxies)] ?? hops[0];
  return entry ? entry.slice(0, 100) : null;
}
