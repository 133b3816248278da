import { checkRedisUrl, pingRedis } from "@sluice/engine/redis-connection";

// While Redis is away, `sluice run` says once in a while what it waits for, in one line, and nothing else: no
// stack traces, one line however many connections noticed. The address never carries the URL's password. Only
// trouble reaching Redis is waited out: a Redis that answers and refuses (a wrong password, say) is said once.

const WAIT_NOTICE_EVERY_MS = 5000;

/** "host:port" of a redis:// URL, without its credentials. */
export function redisAddress(url: string): string {
  const u = checkRedisUrl(url);
  return `${u.hostname}:${u.port || 6379}`;
}

/**
 * A reporter every connection and queue of a run shares: the first trouble prints "waiting for Redis at …" at once,
 * later trouble at most every `everyMs`.
 */
export function redisWaitNotice(url: string, say: (line: string) => void, everyMs = WAIT_NOTICE_EVERY_MS): () => void {
  const line = `sluice run: waiting for Redis at ${redisAddress(url)} …`;
  let last = Number.NEGATIVE_INFINITY;
  return () => {
    const now = Date.now();
    if (now - last < everyMs) return;
    last = now;
    say(line);
  };
}

export interface WaitForRedisOptions {
  cluster: boolean;
  notice: () => void;
  /** Stop waiting (Ctrl-C): resolves false. */
  stopped: () => boolean;
  retryMs?: number;
}

/** Redis answered, and refused: waiting would not change that. Its message is one line naming the cause. */
export class RedisRefusedError extends Error {
  override name = "RedisRefusedError";
}

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/** Whether a failed PING was trouble on the way to Redis (worth waiting out), not an answer from it. */
function isConnectionTrouble(err: unknown): boolean {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  if (!(cause instanceof Error)) return false;
  const code = (cause as NodeJS.ErrnoException).code;
  if (code !== undefined && NETWORK_CODES.has(code)) return true;
  // ioredis's own wording when the socket closed or the connect timed out (no code), and a Redis still loading.
  return /^(Connection is closed|connect ETIMEDOUT|Stream isn't writeable|LOADING)/.test(cause.message);
}

/**
 * Resolves true once Redis answers a PING, saying through `notice` that it waits meanwhile; false when stopped.
 * Throws RedisRefusedError when Redis answers with an error (WRONGPASS, NOAUTH, …).
 */
export async function waitForRedis(url: string, options: WaitForRedisOptions): Promise<boolean> {
  for (;;) {
    if (options.stopped()) return false;
    try {
      await pingRedis(url, 2000, { cluster: options.cluster });
      return true;
    } catch (err) {
      if (!isConnectionTrouble(err)) {
        const cause = (err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err)).trim();
        const hint = /^(WRONGPASS|NOAUTH|NOPERM)/.test(cause) ? "; check the user and password in REDIS_URL" : "";
        throw new RedisRefusedError(
          `Redis at ${redisAddress(url)} refused this client: ${cause.replace(/\.$/, "")}${hint}`,
        );
      }
      options.notice();
    }
    if (options.stopped()) return false;
    await new Promise((r) => setTimeout(r, options.retryMs ?? 1000));
  }
}
