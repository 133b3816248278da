import { Cluster, Redis } from "ioredis";

export class RedisUrlError extends Error {
  override name = "RedisUrlError";
}

/** Validates a redis:// URL up front so a typo gets one clear sentence, not a reconnect loop. */
export function checkRedisUrl(url: string, variable = "REDIS_URL"): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RedisUrlError(`${variable} is not a URL: write redis://host:6379 (or rediss:// for TLS)`);
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") {
    throw new RedisUrlError(`${variable} must start with redis:// or rediss:// (got ${u.protocol}//)`);
  }
  return u;
}

export interface RedisConnectOptions {
  /** REDIS_URL names one node of a Redis Cluster; the client finds the others (SLUICE_REDIS_CLUSTER=true). */
  cluster?: boolean;
}

/** The user name and password a redis:// URL carries, as ioredis options. */
function credentials(u: URL): { username?: string; password?: string } {
  return {
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
  };
}

function clusterClient(url: string, name: string): Cluster {
  const u = checkRedisUrl(url);
  return new Cluster([{ host: u.hostname, port: Number(u.port || 6379) }], {
    redisOptions: {
      maxRetriesPerRequest: null,
      connectionName: name,
      ...credentials(u),
      ...(u.protocol === "rediss:" ? { tls: {} } : {}),
    },
    // Keep trying while the cluster is unreachable, like the single-node client does.
    clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
    enableReadyCheck: true,
  });
}

/**
 * A connection for the engine and BullMQ: commands wait through reconnects instead of failing
 * (maxRetriesPerRequest: null), which is what lets a run ride out a Redis restart. Connection errors are
 * reported through `onError`, at most every 10 s while Redis is away.
 *
 * A Cluster client has the same command API as a single-node one for everything Sluice sends (every multi-key
 * command and script stays within one hash tag), so it is handed out under the same type.
 */
export function connectRedis(
  url: string,
  name: string,
  onError: (message: string) => void = (m) => process.stderr.write(`${m}\n`),
  options: RedisConnectOptions = {},
): Redis {
  checkRedisUrl(url);
  const redis: Redis = options.cluster
    ? (clusterClient(url, name) as unknown as Redis)
    : new Redis(url, { maxRetriesPerRequest: null, connectionName: name, enableAutoPipelining: false });
  let lastReported = 0;
  let suppressed = 0;
  redis.on("error", (err: Error) => {
    const now = Date.now();
    if (now - lastReported < 10_000) {
      suppressed++;
      return;
    }
    onError(
      `redis connection ${name}: ${err.message}${suppressed ? ` (and ${suppressed} more errors)` : ""}; retrying`,
    );
    lastReported = now;
    suppressed = 0;
  });
  return redis;
}

/** One PING with a deadline, for start-up checks: resolves or rejects with a sentence naming host and port. */
export async function pingRedis(url: string, timeoutMs = 3000, options: RedisConnectOptions = {}): Promise<void> {
  const u = checkRedisUrl(url);
  const probe = options.cluster
    ? new Cluster([{ host: u.hostname, port: Number(u.port || 6379) }], {
        lazyConnect: true,
        clusterRetryStrategy: () => null,
        redisOptions: {
          connectTimeout: timeoutMs,
          maxRetriesPerRequest: 0,
          ...credentials(u),
        },
      })
    : new Redis(url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        connectTimeout: timeoutMs,
      });
  // The connection's own error says why (ECONNREFUSED, WRONGPASS, …); the rejected call only that it closed.
  let why: unknown;
  probe.on("error", (err) => {
    why ??= err;
  });
  try {
    await probe.connect();
    await probe.ping();
  } catch (err) {
    const cause = why ?? err;
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new RedisUrlError(
      `cannot reach Redis at ${u.hostname}:${u.port || 6379} (${reason}); start it or set REDIS_URL`,
      { cause },
    );
  } finally {
    probe.disconnect();
  }
}
