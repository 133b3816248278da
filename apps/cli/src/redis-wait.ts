import { checkRedisUrl, pingRedis } from "@sluice/engine/redis-connection";

// While Redis is away, `sluice run` says once in a while what it waits for, in one line, and nothing else: no
// stack traces, one line however many connections noticed. The address never carries the URL's password.

const WAIT_NOTICE_EVERY_MS = 5000;

/** "host:port" of a redis:// URL, without its credentials. */
function redisAddress(url: string): string {
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

/** Resolves true once Redis answers a PING, saying through `notice` that it waits meanwhile. */
export async function waitForRedis(url: string, options: WaitForRedisOptions): Promise<boolean> {
  for (;;) {
    if (options.stopped()) return false;
    try {
      await pingRedis(url, 2000, { cluster: options.cluster });
      return true;
    } catch {
      options.notice();
    }
    if (options.stopped()) return false;
    await new Promise((r) => setTimeout(r, options.retryMs ?? 1000));
  }
}
