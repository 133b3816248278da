// A rate limit as a setting: how many calls in how long. Free of runtime dependencies, so env.ts can parse it.

/** `points` calls per `durationSeconds`, counted from the first call of a window. */
export interface RateLimitRule {
  points: number;
  durationSeconds: number;
}

export interface RateLimitSettings {
  /** Sign-in attempts for one email address, from anywhere (SLUICE_RATE_SIGNIN_EMAIL). */
  signInPerEmail: RateLimitRule;
  /** Sign-in attempts from one client address, whatever the email (SLUICE_RATE_SIGNIN_IP). */
  signInPerAddress: RateLimitRule;
  /** Sign-ups from one client address (SLUICE_RATE_SIGNUP_IP). */
  signUpPerAddress: RateLimitRule;
  /** Webhook requests for one pipeline with one token (SLUICE_RATE_INGEST). */
  ingestPerToken: RateLimitRule;
  /** API calls (each call of a tRPC batch) and /api/metrics scrapes with one API token (SLUICE_RATE_API_TOKEN). */
  apiPerToken: RateLimitRule;
}

export const DEFAULT_RATE_LIMITS: RateLimitSettings = {
  signInPerEmail: { points: 10, durationSeconds: 15 * 60 },
  signInPerAddress: { points: 30, durationSeconds: 15 * 60 },
  signUpPerAddress: { points: 20, durationSeconds: 60 * 60 },
  ingestPerToken: { points: 3000, durationSeconds: 60 },
  apiPerToken: { points: 600, durationSeconds: 60 },
};

/**
 * Parses a rule written as `<points>/<duration>`, the duration a whole number of seconds with an optional unit:
 * `10/15m`, `3000/60s`, `20/1h`, `5/30`. Returns a sentence for the setting when it cannot.
 */
export function parseRateLimitRule(text: string): RateLimitRule | string {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*([smh]?)\s*$/i.exec(text);
  if (!match) return "write it as calls/duration, like 10/15m (10 calls per 15 minutes), 3000/60s or 20/1h";
  const points = Number(match[1]);
  const unit = (match[3] ?? "").toLowerCase();
  const durationSeconds = Number(match[2]) * (unit === "h" ? 3600 : unit === "m" ? 60 : 1);
  if (points < 1 || points > 1_000_000) return "allow between 1 and 1000000 calls";
  if (durationSeconds < 1 || durationSeconds > 86_400) return "use a duration between 1 second and 24 hours";
  return { points, durationSeconds };
}
