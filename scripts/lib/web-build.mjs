// Whether apps/web needs `next build`, and running it. The check must stay cheap: it runs on every
// `npm start` and before e2e.

import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { heartbeat, SetupError, say, seconds } from "./log.mjs";
import { run } from "./proc.mjs";

// Written by tools, not by people: changes here do not call for a new build.
const IGNORED = new Set([
  "node_modules",
  ".next",
  "generated",
  "test-results",
  "playwright-report",
  "coverage",
  "next-env.d.ts",
]);

/**
 * True when something under `target` (a file or a folder, recursively) is newer than `since`. Folder
 * times count too, so a deleted or renamed file makes the build stale.
 * @param {string} target @param {number} since
 */
function changedSince(target, since) {
  /** @type {import("node:fs").Stats} */
  let stat;
  try {
    stat = statSync(target);
  } catch {
    return false;
  }
  if (stat.mtimeMs > since) return true;
  if (!stat.isDirectory()) return false;
  for (const entry of readdirSync(target, { withFileTypes: true })) {
    if (IGNORED.has(entry.name) || entry.name.startsWith(".") || entry.name.endsWith(".tsbuildinfo")) continue;
    if (changedSince(path.join(target, entry.name), since)) return true;
  }
  return false;
}

/** What a production build of apps/web is made from. @param {string} root */
function webBuildInputs(root) {
  const packages = path.join(root, "packages");
  const packageSources = existsSync(packages)
    ? readdirSync(packages, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .flatMap((entry) => [path.join(packages, entry.name, "src"), path.join(packages, entry.name, "package.json")])
    : [];
  return [
    path.join(root, "apps/web"),
    ...packageSources,
    path.join(root, "prisma/schema.prisma"),
    path.join(root, "package-lock.json"),
  ];
}

/**
 * True when apps/web/.next/BUILD_ID is newer than every source the build reads (apps/web, packages/x/src,
 * the Prisma schema, package-lock.json).
 * @param {string} root
 */
export function webBuildIsCurrent(root) {
  /** @type {number} */
  let built;
  try {
    built = statSync(path.join(root, "apps/web/.next/BUILD_ID")).mtimeMs;
  } catch {
    return false;
  }
  return !webBuildInputs(root).some((input) => changedSince(input, built));
}

/** [node, path to next's CLI] as installed for apps/web. @param {string} root */
export function nextCli(root) {
  const require = createRequire(path.join(root, "apps/web/package.json"));
  const manifest = require.resolve("next/package.json");
  const { bin } = JSON.parse(readFileSync(manifest, "utf8"));
  return path.join(path.dirname(manifest), typeof bin === "string" ? bin : bin.next);
}

/** Where the last successful build's duration is kept, to tell the next one how long it may take. @param {string} root */
function buildTimeFile(root) {
  return path.join(root, ".sluice", "web-build-time.json");
}

/** How long the last successful `next build` in this checkout took, if known. @param {string} root */
export function lastBuildMs(root) {
  try {
    const { ms } = JSON.parse(readFileSync(buildTimeFile(root), "utf8"));
    return Number.isFinite(ms) && ms > 0 ? ms : undefined;
  } catch {
    return undefined;
  }
}

/** @param {string} root @param {number} ms */
function recordBuildMs(root, ms) {
  mkdirSync(path.join(root, ".sluice"), { recursive: true });
  writeFileSync(buildTimeFile(root), `${JSON.stringify({ ms, at: new Date().toISOString() })}\n`);
}

/**
 * Which of `next build`'s lines reach the terminal: its warnings and errors. The rest (banner, route table) is
 * kept for the failure message; the progress is ours (a heartbeat with the elapsed time).
 * @param {string} line without colour codes
 */
export function isBuildProblem(line) {
  return /^\s*(⚠|⨯|✖|Error|error|Failed|Type error|Module not found)/.test(line);
}

/**
 * Runs `next build` in apps/web unless the build is current.
 * @param {string} root @param {NodeJS.ProcessEnv} env
 */
export async function ensureWebBuild(root, env) {
  if (webBuildIsCurrent(root)) {
    say("web app build is up to date");
    return false;
  }
  if (!existsSync(path.join(root, "apps/web/package.json"))) {
    throw new SetupError("apps/web is missing", "Check out the whole repository.");
  }
  const expectedMs = lastBuildMs(root);
  say(
    expectedMs
      ? `building the web app (next build); it took ${seconds(expectedMs)} last time…`
      : "building the web app (next build) for the first time: this takes a few minutes…",
  );
  const started = Date.now();
  const stopHeartbeat = heartbeat("building the web app", { expectedMs });
  const result = await run("next build", process.execPath, [nextCli(root), "build"], {
    cwd: path.join(root, "apps/web"),
    // Type errors are the typecheck's to report (see next.config.ts); here they would only cost a minute.
    env: { ...env, NODE_ENV: "production", SLUICE_BUILD_TYPECHECK: "off" },
    output: "prefix",
    prefix: "[build]",
    show: isBuildProblem,
  }).finally(stopHeartbeat);
  if (!result.ok) {
    throw new SetupError(
      `the web app did not build (next build: ${result.child.describeExit()})`,
      "Fix the errors shown above with [build], then run again.",
      { details: result.tail.slice(-40).map((line) => `[build] ${line}`) },
    );
  }
  const took = Date.now() - started;
  recordBuildMs(root, took);
  say(`web app built in ${seconds(took)}`);
  return true;
}
