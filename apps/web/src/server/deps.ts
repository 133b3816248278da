// Server-only: builds the database pool and Redis connections. (The `server-only` package is not installed; nothing
// under src/app/**/*client* or src/editor imports this module.)
import type { ApiDeps } from "@sluice/api/context";
import { RateLimits } from "@sluice/api/limits/rate-limits";
import { createDb } from "@sluice/db/client";
import { createLogger } from "@sluice/log/logger";
import { catalog } from "@sluice/nodes/catalog";
import { connectionRuntimes } from "@sluice/nodes/connection-runtimes";
import { connectionCatalog } from "@sluice/nodes/connections";
import { DestinationPolicy } from "@sluice/nodes/destination-policy";
import { createKeys } from "@sluice/pipeline/control/keys";
import { QUEUE_CONTROL, QUEUE_PREVIEW } from "@sluice/pipeline/control/protocol";
import { Queue } from "bullmq";
import { Cluster, Redis } from "ioredis";
import { webEnv } from "./env";

// One set of connections per process. Cached on globalThis because `next dev` re-evaluates modules on every edit,
// which would otherwise open a new pool and a new Redis connection each time.

const CACHE = Symbol.for("sluice.web.deps");
type Cache = { [CACHE]?: ApiDeps };

/**
 * The process's Redis connection; with SLUICE_REDIS_CLUSTER, REDIS_URL is a seed node of a Redis Cluster (every
 * script and multi-key command Sluice sends stays within one hash tag, so the cluster client serves unchanged).
 */
function connect(url: string, cluster: boolean): Redis {
  if (!cluster) return new Redis(url, { maxRetriesPerRequest: null, connectionName: "sluice-web" });
  const u = new URL(url);
  return new Cluster([{ host: u.hostname, port: Number(u.port || 6379) }], {
    redisOptions: {
      maxRetriesPerRequest: null,
      connectionName: "sluice-web",
      ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
      ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
      ...(u.protocol === "rediss:" ? { tls: {} } : {}),
    },
    clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
  }) as unknown as Redis;
}

function build(): ApiDeps {
  const env = webEnv();
  const log = createLogger({ ...env.log, name: "web" });
  if (!env.secretKey) {
    log.warn(
      "SLUICE_SECRET_KEY is not set: connections with secrets cannot be stored, and pipelines that use connections cannot run",
    );
  }
  const keys = createKeys(env.redisPrefix);
  const redis = connect(env.redisUrl, env.redisCluster);
  // ioredis reconnects on its own; without a listener an outage would crash the process with "Unhandled error event".
  redis.on("error", (err) => log.error("redis connection failed; retrying", { error: err.message }));
  const controlQueue = new Queue(QUEUE_CONTROL, { connection: redis, prefix: keys.bullPrefix });
  controlQueue.on("error", (err) => log.error("control queue failed", { error: err.message }));
  const previewQueue = new Queue(QUEUE_PREVIEW, { connection: redis, prefix: keys.bullPrefix });
  previewQueue.on("error", (err) => log.error("preview queue failed", { error: err.message }));
  return {
    db: createDb(env.databaseUrl),
    redis,
    keys,
    controlQueue,
    previewQueue,
    secureCookies: env.secureCookies,
    secretKey: env.secretKey,
    catalog,
    connectionTypes: connectionCatalog,
    // Test and discovery run in the web process: they answer a person waiting on the form.
    connectionRuntimes,
    // Sluice's own database and Redis are never destinations; loopback and the like only where allowed.
    destinations: DestinationPolicy.fromSettings(env.connectionsAllow, {
      databaseUrl: env.databaseUrl,
      redisUrl: env.redisUrl,
    }),
    limits: { maxBodyBytes: env.ingestMaxBody, maxBacklog: env.ingestMaxBacklog },
    rateLimits: new RateLimits(redis, keys.prefix, env.rateLimits),
    trustedProxies: env.trustedProxies,
    runRetentionMs: env.runRetentionMs,
    historyRetention: env.historyRetention,
    ...(env.filesDir ? { filesDir: env.filesDir } : {}),
    logger: log,
  };
}

export function getDeps(): ApiDeps {
  const cache = globalThis as Cache;
  cache[CACHE] ??= build();
  return cache[CACHE];
}
