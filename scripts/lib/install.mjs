// What must be on the machine before anything else: a recent Node, the npm dependencies, and (for the
// test run on Debian) a few OS packages.

import { accessSync, closeSync, constants, existsSync, openSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { note, SetupError, say, seconds } from "./log.mjs";
import { run } from "./proc.mjs";

/**
 * The Node versions Sluice runs on, as package.json's `engines.node` says them: 20 from 20.19 (its end of life has
 * passed; kept while people still have it), 22 from 22.12 and 24 on, the versions Prisma supports. Odd versions
 * (21, 23) were never long-term releases.
 */
export const NODE_ENGINES = "^20.19.0 || ^22.12.0 || >=24.0.0";

/**
 * Why this Node version cannot run Sluice, or undefined when it can (see NODE_ENGINES).
 * @param {string} version e.g. "20.19.1" or "v22.12.0"
 */
export function nodeVersionProblem(version) {
  const [major = 0, minor = 0] = version.replace(/^v/, "").split(".").map(Number);
  if (major === 20 && minor >= 19) return undefined;
  if (major === 22 && minor >= 12) return undefined;
  if (major >= 24) return undefined;
  if (major === 20 || major === 22) {
    return `Node ${version} is too old: Sluice needs ${major}.${major === 20 ? 19 : 12} or newer of Node ${major}`;
  }
  if (major < 20) return `Node ${version} is too old: Sluice needs Node 20.19, 22.12 or 24 and newer`;
  return `Node ${version} is not a long-term support release: Sluice runs on Node 20.19+, 22.12+ and 24+`;
}

export function checkNode() {
  const problem = nodeVersionProblem(process.versions.node);
  if (problem) {
    throw new SetupError(problem, "Install Node 22 or 24 (https://nodejs.org, or `nvm install 24`) and run again.");
  }
}

/** Why `npm ci` must run, or undefined when node_modules matches package-lock.json. */
export function installReason(/** @type {string} */ root) {
  const modules = path.join(root, "node_modules");
  const lock = path.join(root, "package-lock.json");
  if (!existsSync(modules)) return "node_modules is missing";
  if (!existsSync(lock)) return undefined;
  const installed = path.join(modules, ".package-lock.json");
  if (!existsSync(installed)) return "node_modules was not installed by npm";
  if (statSync(lock).mtimeMs > statSync(installed).mtimeMs) return "package-lock.json changed since the last install";
  return undefined;
}

/**
 * Runs `npm install` when node_modules is missing or stale. Not `npm ci`: the registry these machines reach
 * lacks some optional platform packages (e.g. @biomejs/cli-darwin-arm64), so no lock file written here can list
 * them and `npm ci` refuses it everywhere. `npm install` installs the versions the lock file pins all the same.
 */
export async function ensureDependencies(/** @type {string} */ root) {
  const reason = installReason(root);
  if (!reason) return false;
  const started = Date.now();
  const npm = async (/** @type {string} */ command) => {
    const args = [command, "--no-audit", "--no-fund"];
    say(`installing dependencies (${reason}): npm ${args.join(" ")}`);
    return run("npm", "npm", args, { cwd: root, output: "inherit" });
  };
  const result = await npm("install");
  if (!result.ok) {
    throw new SetupError(
      `installing dependencies failed (${result.child.describeExit()})`,
      "Read npm's messages above; check that the npm registry is reachable, then run again.",
    );
  }
  say(`dependencies installed in ${seconds(Date.now() - started)}`);
  return true;
}

/** The absolute path of an executable found on PATH (or in the sbin folders root would see), if any. */
export function findExecutable(/** @type {string} */ name) {
  const dirs = [...(process.env.PATH ?? "").split(path.delimiter), "/usr/local/sbin", "/usr/sbin", "/sbin"];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function isRootOnDebian() {
  return process.getuid?.() === 0 && existsSync("/etc/debian_version");
}

/**
 * Installs missing Debian packages with apt-get when we are root on Debian; otherwise says what to
 * install. Never throws: whatever needs a package that is still missing fails later with its own message.
 * @param {{ name: string, why: string }[]} packages
 */
export async function ensureOsPackages(packages) {
  if (packages.length === 0) return true;
  const names = packages.map((p) => p.name).join(" ");
  const why = packages.map((p) => `${p.name} (${p.why})`).join(", ");
  if (!isRootOnDebian()) {
    note(`missing: ${why}. Install them with your package manager (Debian/Ubuntu: sudo apt-get install -y ${names}).`);
    return false;
  }
  say(`installing ${why} with apt-get`);
  const started = Date.now();
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const aptOptions = ["-o", "DPkg::Lock::Timeout=120", "-q"];
  // Output to a file, not a pipe: a package's install script may start a daemon (redis-server) that
  // keeps the pipe open, and we would wait for it forever.
  const logFile = path.join(tmpdir(), "sluice-apt-get.log");
  const fd = openSync(logFile, "w");
  /** @param {string[]} args */
  const aptGet = (args) =>
    run("apt-get", "apt-get", [...aptOptions, ...args], { env, output: "file", fd, timeoutMs: 15 * 60_000 });
  const update = await aptGet(["update"]);
  const install = update.ok ? await aptGet(["install", "-y", "--no-install-recommends", ...names.split(" ")]) : update;
  closeSync(fd);
  if (!install.ok) {
    for (const line of readFileSync(logFile, "utf8").trimEnd().split("\n").slice(-15)) console.log(`  ${line}`);
    note(`apt-get could not install ${names} (${install.child.describeExit()}); continuing without it.`);
    return false;
  }
  say(`installed ${names} in ${seconds(Date.now() - started)}`);
  return true;
}
