// Redis for start and test: a PING over a raw socket (no client library needed), and a private
// `redis-server` child process.

import { createHash } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import tls from "node:tls";
import { findExecutable } from "./install.mjs";
import { note, SetupError } from "./log.mjs";
import { portInUse, waitFor } from "./ports.mjs";
import { Child, commandLineOf, isAlive } from "./proc.mjs";
import { writePrivateFile } from "./secrets.mjs";
import { describeRedisUrl, parseRedisUrl } from "./urls.mjs";

/** @param {string[]} parts */
function command(parts) {
  return `*${parts.length}\r\n${parts.map((p) => `$${Buffer.byteLength(p)}\r\n${p}\r\n`).join("")}`;
}

/**
 * Sends AUTH (when the URL has a password) and PING; resolves with Redis' reply line ("+PONG",
 * "-LOADING …", "-NOAUTH …"). Rejects on connection errors (error.code ECONNREFUSED etc.).
 * @param {string} url @param {number} [timeoutMs]
 * @returns {Promise<string>}
 */
export function redisPing(url, timeoutMs = 3000) {
  const { host, port, tls: useTls, username, password } = parseRedisUrl(url);
  return new Promise((resolve, reject) => {
    const socket = useTls ? tls.connect({ host, port, servername: host }) : net.connect({ host, port });
    const expected = password ? 2 : 1;
    /** @type {string[]} */
    const replies = [];
    let buffer = "";
    const finish = (/** @type {Error | undefined} */ error, /** @type {string} */ reply = "") => {
      socket.destroy();
      if (error) reject(error);
      else resolve(reply);
    };
    socket.setTimeout(timeoutMs, () => finish(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })));
    socket.once("error", (error) => finish(error));
    socket.once(useTls ? "secureConnect" : "connect", () => {
      const auth = password ? command(username ? ["AUTH", username, password] : ["AUTH", password]) : "";
      socket.write(auth + command(["PING"]));
    });
    socket.on("data", (chunk) => {
      buffer += chunk.toString("utf8");
      let end = buffer.indexOf("\r\n");
      while (end >= 0) {
        replies.push(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf("\r\n");
      }
      const authReply = password ? replies[0] : undefined;
      if (authReply?.startsWith("-")) finish(undefined, authReply);
      else if (replies.length >= expected) finish(undefined, /** @type {string} */ (replies[expected - 1]));
    });
  });
}

/** True when Redis at `url` answers PING with PONG. */
export async function redisAnswers(/** @type {string} */ url, timeoutMs = 1500) {
  try {
    return (await redisPing(url, timeoutMs)) === "+PONG";
  } catch {
    return false;
  }
}

/**
 * Throws a one-line SetupError unless Redis at `url` answers PING.
 * @param {string} url @param {{ variable?: string, unsetHint?: string }} [options]
 */
export async function checkRedisUrl(url, { variable = "REDIS_URL", unsetHint = "" } = {}) {
  parseRedisUrl(url, variable);
  const where = describeRedisUrl(url);
  /** @type {string} */
  let reply;
  try {
    reply = await redisPing(url);
  } catch (error) {
    const code = /** @type {NodeJS.ErrnoException} */ (error).code;
    const reason =
      code === "ECONNREFUSED"
        ? "connection refused"
        : code === "ENOTFOUND" || code === "EAI_AGAIN"
          ? "host not found"
          : code === "ETIMEDOUT"
            ? "no answer within 3 s"
            : /** @type {Error} */ (error).message;
    throw new SetupError(
      `cannot reach Redis at ${where}: ${reason}`,
      `Start Redis there or correct ${variable}${unsetHint}.`,
    );
  }
  if (reply === "+PONG") return;
  if (/NOAUTH|WRONGPASS|invalid password|AUTH/i.test(reply)) {
    throw new SetupError(`Redis at ${where} refused us (${reply.slice(1)})`, `Check the password in ${variable}.`);
  }
  if (reply.startsWith("-LOADING")) {
    if (await waitFor(() => redisAnswers(url), { timeoutMs: 60_000, intervalMs: 500 })) return;
  }
  throw new SetupError(
    `Redis at ${where} answered PING with "${reply}"`,
    `Check that ${variable} points at a Redis server.`,
  );
}

export const REDIS_INSTALL_HINT =
  "Install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis), or set REDIS_URL to a Redis you run yourself.";

/**
 * The ACL file of a private redis-server: `user` may run everything but the administration commands (CONFIG, DEBUG,
 * MODULE, ACL, SHUTDOWN, replication, …) on every key and channel; the default user is off, so a connection that
 * has not authenticated as `user` can do nothing. The file holds the password's SHA-256, not the password.
 * @param {{ name: string, password: string }} user
 */
function aclRules(user) {
  if (!/^[A-Za-z0-9_-]+$/.test(user.name)) throw new Error("a Redis user name is letters, digits, '_' and '-'");
  const hash = createHash("sha256").update(user.password).digest("hex");
  return [
    "user default off resetpass resetkeys resetchannels -@all",
    `user ${user.name} on #${hash} ~* &* +@all -@admin`,
    "",
  ].join("\n");
}

/**
 * Starts a private redis-server on 127.0.0.1:`port` with its files in `dir` (append-only file on
 * when `persistent`, so queued jobs survive a restart). With `user`, only that ACL user gets in (see aclRules) and
 * the returned URL carries its name and password.
 * @param {{ dir: string, port: number, persistent: boolean, portHint?: string, user?: { name: string, password: string } }} options
 */
export async function startPrivateRedis({ dir, port, persistent, portHint = "", user }) {
  const server = findExecutable("redis-server");
  if (!server) throw new SetupError("redis-server is not installed", REDIS_INSTALL_HINT);
  mkdirSync(dir, { recursive: true });

  // A server an earlier run could not stop (it was killed) still holds the port: stop it.
  const pidFile = path.join(dir, "redis-server.pid");
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, "utf8").trim());
    if (pid > 0 && isAlive(pid) && /redis-server/.test(commandLineOf(pid)) && commandLineOf(pid).includes(`:${port}`)) {
      note(`stopping the redis-server an earlier run left running (pid ${pid})`);
      process.kill(pid, "SIGTERM");
      await waitFor(async () => !isAlive(pid), { timeoutMs: 10_000 });
    }
    rmSync(pidFile, { force: true });
  }
  if (await portInUse(port)) {
    throw new SetupError(
      `port ${port} (for the private redis-server) is in use`,
      portHint || "Free it or choose another port.",
    );
  }

  const logFile = path.join(dir, "redis-server.log");
  /** @type {string[]} */
  const acl = [];
  if (user) {
    const aclFile = path.join(dir, "users.acl");
    writePrivateFile(aclFile, aclRules(user));
    acl.push("--aclfile", aclFile);
  }
  const fd = openSync(logFile, "a");
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--protected-mode",
    "yes",
    "--daemonize",
    "no",
    "--dir",
    dir,
    "--appendonly",
    persistent ? "yes" : "no",
    "--save",
    "",
    "--logfile",
    "",
    ...acl,
  ];
  const child = new Child("redis", server, args, {
    cwd: dir,
    output: "file",
    fd,
    signalGroup: false,
    service: true,
    logFile,
  });
  closeSync(fd);
  if (child.pid) writeFileSync(pidFile, `${child.pid}\n`);

  const credentials = user ? `${encodeURIComponent(user.name)}:${encodeURIComponent(user.password)}@` : "";
  const url = `redis://${credentials}127.0.0.1:${port}`;
  const ready = await waitFor(() => redisAnswers(url), {
    timeoutMs: 60_000,
    intervalMs: 100,
    stopIf: () => Boolean(child.exitInfo),
  });
  if (!ready) {
    await child.stop({ graceMs: 5000 });
    const details = existsSync(logFile) ? readFileSync(logFile, "utf8").trimEnd().split("\n").slice(-15) : [];
    throw new SetupError(
      `the private redis-server did not start (${child.exitInfo ? child.describeExit() : "no answer within 60 s"})`,
      `Its log is ${logFile}; the last lines are above.`,
      { details },
    );
  }
  return {
    url,
    child,
    async stop() {
      await child.stop({ graceMs: 10_000 });
      rmSync(pidFile, { force: true });
    },
  };
}
