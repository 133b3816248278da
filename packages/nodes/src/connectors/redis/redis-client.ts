import { Redis, type RedisOptions } from "ioredis";
import type { ConnectionDestinations, Destination } from "../../destination-policy";
import { type Diagnosis, errorText, networkProblem, refusedDestination } from "../messaging/connection-problems";
import { parseRedisUrl, type RedisConnectionConfig, redisConnectionDef } from "./redis-connection.def";

// ioredis clients for a Redis connection, and what their errors mean to a person. Server-only.

export function redisWhere(c: RedisConnectionConfig): string {
  const e = parseRedisUrl(c.url);
  return typeof e === "string" ? c.url : `redis ${e.host}:${e.port}`;
}

/** The connection's config, parsed again by its type (defaults, and a clear error for a bad one). */
export function redisConfig(raw: unknown): RedisConnectionConfig {
  return redisConnectionDef.config.parse(raw);
}

/** The connection's host resolved and checked (see destination-policy.ts): connect to its address. */
export function redisDestination(c: RedisConnectionConfig, destinations: ConnectionDestinations): Promise<Destination> {
  const e = parseRedisUrl(c.url);
  if (typeof e === "string") return Promise.reject(new Error(`redis connection URL: ${e}`));
  return destinations.resolve(e.host, e.port, { protocol: "redis", db: e.db });
}

/**
 * A client that has not connected yet, for a destination redisDestination checked. `probe`: one attempt, no retry (Test connection, discovery, opening a node);
 * `run`: reconnects after an outage, but fails commands at once while disconnected instead of queueing them, so a
 * sink write fails and is retried by the engine, and a source reports nothing new.
 */
export function redisClient(
  c: RedisConnectionConfig,
  name: string,
  mode: "probe" | "run",
  destination: Destination,
): Redis {
  const e = parseRedisUrl(c.url);
  if (typeof e === "string") throw new Error(`redis connection URL: ${e}`);
  const tls = e.tls || c.tls;
  const options: RedisOptions = {
    host: destination.address,
    port: destination.port,
    db: e.db,
    connectionName: `sluice:${name}`,
    lazyConnect: true,
    // RESP2 replies have the same shape on every server version (RESP3 turns XREAD's reply into a map).
    protocol: 2,
    connectTimeout: 5000,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: mode === "probe" ? () => null : (attempt) => Math.min(attempt * 100, 2000),
    ...(c.username !== undefined ? { username: c.username } : {}),
    ...(c.password !== undefined ? { password: c.password } : {}),
    ...(tls
      ? {
          tls: {
            rejectUnauthorized: c.tlsVerify,
            ...(destination.servername !== undefined ? { servername: destination.servername } : {}),
          },
        }
      : {}),
  };
  const client = new Redis(options);
  // Errors surface through the commands that fail; the event would otherwise be printed as unhandled.
  client.on("error", () => {});
  return client;
}

/** Connects, rejecting with the server's own reason (ioredis rejects with "Connection is closed" and emits it). */
export async function connectRedis(client: Redis): Promise<void> {
  let last: unknown;
  const onError = (err: unknown) => {
    last = err;
  };
  client.on("error", onError);
  try {
    await client.connect();
  } catch (err) {
    throw last ?? err;
  } finally {
    client.off("error", onError);
  }
}

/** What a Redis error means: wrong password, missing permission, the server away, … */
export function diagnoseRedis(err: unknown, where: string): Diagnosis {
  const refused = refusedDestination(err);
  if (refused) return refused;
  const text = errorText(err);
  if (/WRONGPASS|invalid password|invalid username-password/i.test(text)) {
    return { problem: "auth-failed", message: `${where} refused the user name or password (WRONGPASS)` };
  }
  if (/NOAUTH/.test(text)) {
    return { problem: "auth-failed", message: `${where} requires a password: set one on the connection (NOAUTH)` };
  }
  if (/NOPERM/.test(text)) {
    return { problem: "permission", message: `the user lacks a permission on ${where}: ${text}` };
  }
  if (/ERR DB index is out of range|invalid DB index/i.test(text)) {
    return { problem: "misconfigured", message: `${where} has no database with that number (${text})` };
  }
  return networkProblem(err, where) ?? { problem: "other", message: `${where}: ${text}` };
}
