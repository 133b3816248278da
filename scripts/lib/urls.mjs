// Connection URLs: validation and password-free descriptions for messages.

import { SetupError } from "./log.mjs";

/**
 * Checks that `url` is a usable PostgreSQL URL and returns its parts (without the password).
 * @param {string} url @param {string} [variable] the environment variable it came from, for messages
 */
export function parsePostgresUrl(url, variable = "DATABASE_URL") {
  /** @type {URL} */
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    throw new SetupError(`${variable} is not a URL`, `Write it as postgresql://user:password@host:5432/database.`);
  }
  if (parsed.protocol !== "postgresql:" && parsed.protocol !== "postgres:") {
    throw new SetupError(
      `${variable} must start with postgresql:// (it starts with ${parsed.protocol}//)`,
      "Write it as postgresql://user:password@host:5432/database.",
    );
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ""));
  if (!database) {
    throw new SetupError(
      `${variable} names no database`,
      "Add /<database> after the host, e.g. postgresql://localhost:5432/sluice.",
    );
  }
  return {
    host: parsed.hostname || "localhost",
    port: Number(parsed.port || 5432),
    user: decodeURIComponent(parsed.username || process.env.USER || "postgres"),
    database,
  };
}

/**
 * Checks that `url` is a usable Redis URL and returns its parts.
 * @param {string} url @param {string} [variable]
 */
export function parseRedisUrl(url, variable = "REDIS_URL") {
  /** @type {URL} */
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    throw new SetupError(`${variable} is not a URL`, "Write it as redis://[:password@]host:6379[/db].");
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new SetupError(
      `${variable} must start with redis:// or rediss:// (it starts with ${parsed.protocol}//)`,
      "Write it as redis://[:password@]host:6379[/db].",
    );
  }
  return {
    host: parsed.hostname || "localhost",
    port: Number(parsed.port || 6379),
    tls: parsed.protocol === "rediss:",
    username: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
  };
}

/** `host:port/database` for messages: never the password. */
export function describePostgresUrl(/** @type {string} */ url) {
  try {
    const { host, port, user, database } = parsePostgresUrl(url);
    return `${user}@${host}:${port}/${database}`;
  } catch {
    return "(unparseable URL)";
  }
}

/** `host:port` for messages: never the password. */
export function describeRedisUrl(/** @type {string} */ url) {
  try {
    const { host, port, tls } = parseRedisUrl(url);
    return `${tls ? "rediss://" : ""}${host}:${port}`;
  } catch {
    return "(unparseable URL)";
  }
}

/** The same server and credentials, another database (query parameters such as sslmode are kept). */
export function withDatabase(/** @type {string} */ url, /** @type {string} */ database) {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}
