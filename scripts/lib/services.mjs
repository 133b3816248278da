// Which PostgreSQL and Redis to use, for `npm start` (the app's own data) and `npm test` (a server the
// tests create their databases on), and starting the machine's brokers when they are installed but stopped.

import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { findExecutable } from "./install.mjs";
import { SetupError, shortPath } from "./log.mjs";
import { freePort, portFromEnv, portInUse, tcpAnswers, waitFor } from "./ports.mjs";
import { checkDatabaseUrl, ensureAppDatabase, postgresAnswers, startEmbeddedPostgres } from "./postgres.mjs";
import { run } from "./proc.mjs";
import { checkRedisUrl, REDIS_INSTALL_HINT, redisAnswers, startPrivateRedis } from "./redis.mjs";
import { storedSecret } from "./secrets.mjs";
import { describePostgresUrl, describeRedisUrl } from "./urls.mjs";

/**
 * @typedef {{ url: string, label: string, stop: () => Promise<void>, child?: import("./proc.mjs").Child, adminUrl?: string }} Service
 */

const nothingToStop = async () => {};

// ---------------------------------------------------------------------------------------------------
// npm start

/** The role the app connects to the embedded PostgreSQL as: it owns the app's database and nothing else. */
export const APP_ROLE = "sluice_app";
/** The private redis-server's one user (the default user is off). */
export const APP_REDIS_USER = "sluice";

/**
 * DATABASE_URL when set, else the embedded PostgreSQL with its data in .sluice/postgres (kept across
 * runs) and a database `sluice` the app reaches as its own role (see startAppPostgres).
 * @param {string} root @param {string} command how the user started us, for hints ("npm start")
 * @returns {Promise<Service>}
 */
export async function postgresForApp(root, command) {
  const configured = process.env.DATABASE_URL;
  if (configured) {
    const { created } = await checkDatabaseUrl(configured, {
      unsetHint: ", or unset it to use an embedded PostgreSQL",
    });
    const label = `PostgreSQL at ${describePostgresUrl(configured)} (DATABASE_URL${created ? ", database created" : ""})`;
    return { url: configured, label, stop: nothingToStop };
  }
  const port = portFromEnv("SLUICE_PG_PORT", 54_329);
  return startAppPostgres({
    stateDir: path.join(root, ".sluice"),
    port,
    portHint: `Choose another with SLUICE_PG_PORT=${port + 1} ${command}, or set DATABASE_URL to use your own PostgreSQL.`,
  });
}

/**
 * The embedded PostgreSQL as `npm start` runs it, with everything in `stateDir`: data in postgres/, its log in
 * postgres.log, the superuser's password in postgres-superuser-password and the app role's in
 * postgres-app-password (both generated once, owner-only). Every connection needs a password; the app gets a URL
 * for role sluice_app, which owns the database `sluice` and is no superuser. A data folder from an earlier version
 * (no passwords, everything owned by `postgres`) is upgraded in place.
 * @param {{ stateDir: string, port: number, portHint?: string }} options
 * @returns {Promise<Service>}
 */
export async function startAppPostgres({ stateDir, port, portHint = "" }) {
  const dataDir = path.join(stateDir, "postgres");
  const superuserFile = path.join(stateDir, "postgres-superuser-password");
  const superuser = storedSecret(superuserFile);
  const app = storedSecret(path.join(stateDir, "postgres-app-password"));
  const server = await startEmbeddedPostgres({
    dataDir,
    port,
    logFile: path.join(stateDir, "postgres.log"),
    superuserPassword: superuser.value,
    resetPassword: superuser.created,
    passwordHint: shortPath(superuserFile),
    portHint,
  });
  try {
    const url = await ensureAppDatabase(server.adminUrl, { database: "sluice", role: APP_ROLE, password: app.value });
    return {
      url,
      label: `embedded PostgreSQL ${server.version} on 127.0.0.1:${port} (data in ${shortPath(dataDir)}, role ${APP_ROLE})`,
      stop: server.stop,
      child: server.child,
      adminUrl: server.adminUrl,
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/**
 * REDIS_URL when set, else a private redis-server on SLUICE_REDIS_PORT with its files in .sluice/redis.
 * @param {string} root @param {string} command
 * @returns {Promise<Service>}
 */
export async function redisForApp(root, command) {
  const configured = process.env.REDIS_URL;
  if (configured) {
    await checkRedisUrl(configured, { unsetHint: ", or unset it to use a private redis-server" });
    return { url: configured, label: `Redis at ${describeRedisUrl(configured)} (REDIS_URL)`, stop: nothingToStop };
  }
  const port = portFromEnv("SLUICE_REDIS_PORT", 63_790);
  return startAppRedis({
    stateDir: path.join(root, ".sluice"),
    port,
    portHint: `Choose another with SLUICE_REDIS_PORT=${port + 1} ${command}, or set REDIS_URL to use your own Redis.`,
  });
}

/**
 * The private redis-server as `npm start` runs it: files in `stateDir`/redis (append-only, kept across runs), one
 * ACL user `sluice` whose password is generated once into `stateDir`/redis-password (owner-only); the default user
 * is off, so a connection without the password can do nothing.
 * @param {{ stateDir: string, port: number, portHint?: string }} options
 * @returns {Promise<Service>}
 */
export async function startAppRedis({ stateDir, port, portHint = "" }) {
  const dir = path.join(stateDir, "redis");
  const password = storedSecret(path.join(stateDir, "redis-password")).value;
  const server = await startPrivateRedis({
    dir,
    port,
    persistent: true,
    portHint,
    user: { name: APP_REDIS_USER, password },
  });
  return {
    url: server.url,
    label: `private redis-server on 127.0.0.1:${port} (data in ${shortPath(dir)}, user ${APP_REDIS_USER})`,
    stop: server.stop,
    child: server.child,
  };
}

// ---------------------------------------------------------------------------------------------------
// Brokers on this project's machines (see docs in shared/notes/stack.md): started when installed but
// stopped, never required.

/** @typedef {{ name: string, port: number, installed: () => boolean, start: string, waitMs: number }} Broker */

/** @type {Record<string, Broker>} */
export const BROKERS = {
  postgres: {
    name: "PostgreSQL",
    port: 5432,
    installed: () =>
      Boolean(findExecutable("pg_ctlcluster")) &&
      existsSync("/etc/postgresql") &&
      readdirSync("/etc/postgresql").length > 0,
    start: "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    waitMs: 30_000,
  },
  redis: {
    name: "Redis",
    port: 6379,
    installed: () => Boolean(findExecutable("redis-server")) && existsSync("/var/lib/redis"),
    start:
      'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log',
    waitMs: 10_000,
  },
  rabbitmq: {
    name: "RabbitMQ",
    port: 5672,
    installed: () => Boolean(findExecutable("rabbitmq-server")),
    start: "rabbitmq-server -detached",
    waitMs: 90_000,
  },
  mosquitto: {
    name: "Mosquitto",
    port: 1883,
    installed: () => Boolean(findExecutable("mosquitto")) && existsSync("/etc/mosquitto/mosquitto.conf"),
    start: "mosquitto -d -c /etc/mosquitto/mosquitto.conf",
    waitMs: 10_000,
  },
  nats: {
    name: "NATS",
    port: 4222,
    installed: () => existsSync("/usr/sbin/nats-server") && Boolean(findExecutable("start-stop-daemon")),
    start:
      "start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log",
    waitMs: 15_000,
  },
  mariadb: {
    name: "MariaDB",
    port: 3306,
    installed: () => existsSync("/usr/sbin/mariadbd") && Boolean(findExecutable("start-stop-daemon")),
    start: "start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd",
    waitMs: 30_000,
  },
};

/**
 * Starts one broker if it is installed and not answering on its port. Resolves with a short status;
 * never rejects.
 * @param {Broker} broker
 * @returns {Promise<{ name: string, status: "running" | "started" | "not installed" | "failed", detail?: string }>}
 */
export async function ensureBroker(broker) {
  const { name, port } = broker;
  if (await tcpAnswers("127.0.0.1", port)) return { name, status: "running" };
  if (!broker.installed()) return { name, status: "not installed" };
  // Output to a file, not a pipe: a daemon that keeps its inherited stdout open would otherwise hold
  // us until the timeout.
  const logFile = path.join(tmpdir(), `sluice-start-${name.toLowerCase()}.log`);
  const fd = openSync(logFile, "w");
  const result = await run(`start ${name}`, "sh", ["-c", broker.start], { output: "file", fd, timeoutMs: 60_000 });
  closeSync(fd);
  // Some start commands return at once and the broker comes up later (rabbitmq-server -detached);
  // one that failed will not bring it up at all.
  const up = await waitFor(() => tcpAnswers("127.0.0.1", port), {
    timeoutMs: result.ok ? broker.waitMs : 0,
    intervalMs: 300,
  });
  if (up) {
    rmSync(logFile, { force: true });
    return { name, status: "started" };
  }
  const output = readFileSync(logFile, "utf8").trim().split("\n").slice(-2).join(" / ");
  const detail = `${result.ok ? `nothing answers on port ${port}` : result.child.describeExit()}${output ? `: ${output}` : ""}`;
  return { name, status: "failed", detail };
}

// ---------------------------------------------------------------------------------------------------
// npm test

/**
 * The PostgreSQL server tests create their databases on: DATABASE_URL when set, else the machine's
 * server on 127.0.0.1:5432 (started if installed but stopped), else an embedded one in `tmpDir`.
 * @param {string} tmpDir
 * @returns {Promise<Service & { kind: string }>}
 */
export async function postgresForTests(tmpDir) {
  const configured = process.env.DATABASE_URL;
  if (configured) {
    await checkDatabaseUrl(configured, { unsetHint: ", or unset it to let the tests find or start a PostgreSQL" });
    return {
      url: configured,
      kind: "configured",
      label: `PostgreSQL at ${describePostgresUrl(configured)} (DATABASE_URL)`,
      stop: nothingToStop,
    };
  }
  const local = "postgresql://postgres@127.0.0.1:5432/postgres";
  if (await postgresAnswers(local)) {
    return { url: local, kind: "local", label: "PostgreSQL on 127.0.0.1:5432", stop: nothingToStop };
  }
  const system = BROKERS.postgres;
  if (system?.installed()) {
    const started = await ensureBroker(system);
    if (started.status === "started" && (await waitFor(() => postgresAnswers(local), { timeoutMs: 10_000 }))) {
      return { url: local, kind: "local", label: "PostgreSQL on 127.0.0.1:5432 (started it)", stop: nothingToStop };
    }
  }
  const preferred = 54_339;
  const port = (await portInUse(preferred)) ? await freePort() : preferred;
  const server = await startEmbeddedPostgres({
    dataDir: path.join(tmpDir, "postgres"),
    port,
    logFile: path.join(tmpDir, "postgres.log"),
    ephemeral: true,
  });
  return {
    url: server.adminUrl,
    kind: "embedded",
    label: `embedded PostgreSQL ${server.version} on 127.0.0.1:${port}`,
    stop: server.stop,
  };
}

/**
 * The Redis tests use: REDIS_URL when set, else 127.0.0.1:6379 (started if installed but stopped),
 * else a private redis-server in `tmpDir`.
 * @param {string} tmpDir
 * @returns {Promise<Service & { kind: string }>}
 */
export async function redisForTests(tmpDir) {
  const configured = process.env.REDIS_URL;
  if (configured) {
    await checkRedisUrl(configured, { unsetHint: ", or unset it to let the tests find or start a Redis" });
    return {
      url: configured,
      kind: "configured",
      label: `Redis at ${describeRedisUrl(configured)} (REDIS_URL)`,
      stop: nothingToStop,
    };
  }
  const local = "redis://127.0.0.1:6379";
  if (await redisAnswers(local))
    return { url: local, kind: "local", label: "Redis on 127.0.0.1:6379", stop: nothingToStop };
  const system = BROKERS.redis;
  if (system?.installed()) {
    const started = await ensureBroker(system);
    if (started.status === "started" && (await waitFor(() => redisAnswers(local), { timeoutMs: 5000 }))) {
      return { url: local, kind: "local", label: "Redis on 127.0.0.1:6379 (started it)", stop: nothingToStop };
    }
  }
  if (!findExecutable("redis-server"))
    throw new SetupError("no Redis answers on 127.0.0.1:6379 and redis-server is not installed", REDIS_INSTALL_HINT);
  const preferred = 63_799;
  const port = (await portInUse(preferred)) ? await freePort() : preferred;
  const server = await startPrivateRedis({ dir: path.join(tmpDir, "redis"), port, persistent: false });
  return { url: server.url, kind: "private", label: `private redis-server on 127.0.0.1:${port}`, stop: server.stop };
}
