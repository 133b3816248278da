// `npm test` (and CI via .ci/run): installs what is missing, finds or starts PostgreSQL, Redis and the
// brokers, then runs every layer — lint, typecheck, docs, unit (on this Node and on Node 22), integration, e2e —
// even when an earlier one failed, and ends with one line: "N passed, N failed[, N skipped]".
// Node builtins only at the top level: this runs before `npm ci`.

import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { checkNode, ensureDependencies, ensureOsPackages, findExecutable } from "./lib/install.mjs";
import { bold, dim, green, Interrupted, note, red, reportFailure, say, seconds, yellow } from "./lib/log.mjs";
import { ensureNodeBinary } from "./lib/node-binary.mjs";
import { isAlive, onShutdownSignal, run, sleep, stopAll } from "./lib/proc.mjs";
import { redisAnswers } from "./lib/redis.mjs";
import {
  exitCodeFor,
  playwrightCounts,
  singleCheck,
  sumCounts,
  summaryLine,
  turboCounts,
  vitestCounts,
} from "./lib/results.mjs";
import { BROKERS, ensureBroker, postgresForTests, redisForTests } from "./lib/services.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = (/** @type {string} */ name) => path.join(root, "node_modules", ".bin", name);
const MINUTE = 60_000;

/** @typedef {import("./lib/results.mjs").Counts} Counts */
/** @type {{ name: string, counts: Counts, ms: number }[]} */
const layers = [];
/** @type {import("./lib/services.mjs").Service[]} */
const services = [];
/** @type {string | undefined} */
let tmpDir;
let interrupted = false;
/** @type {NodeJS.ProcessEnv} */
let testEnv = process.env;

/** @param {string} file */
function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}

/**
 * Runs one layer: a header, the tool's own output, then a line with its counts and duration. A layer
 * that throws counts as one failure; the next layer runs anyway.
 * @param {string} name @param {string} description @param {() => Promise<Counts | undefined>} body
 */
async function layer(name, description, body) {
  if (interrupted) return;
  console.log(`\n${bold(`━━ ${name}`)} ${dim(description)}`);
  const started = Date.now();
  /** @type {Counts | undefined} */
  let counts;
  try {
    counts = await body();
  } catch (error) {
    if (!(error instanceof Interrupted)) reportFailure(error);
    counts = {
      passed: 0,
      failed: 1,
      skipped: 0,
      notes: [error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error)],
    };
  }
  const ms = Date.now() - started;
  if (!counts) {
    console.log(`${bold(`━━ ${name}`)} ${yellow("skipped")} ${dim(seconds(ms))}`);
    return;
  }
  layers.push({ name, counts, ms });
  const paint = counts.failed > 0 ? red : green;
  console.log(`${bold(`━━ ${name}`)} ${paint(summaryLine(counts))} ${dim(`in ${seconds(ms)}`)}`);
  for (const line of counts.notes) console.log(dim(`   ${line}`));
}

/**
 * Runs a tool with its output going straight to ours.
 * @param {string} name @param {string} command @param {string[]} args @param {number} timeoutMs @param {NodeJS.ProcessEnv} [extraEnv]
 */
async function tool(name, command, args, timeoutMs, extraEnv = {}) {
  const result = await run(name, command, args, {
    cwd: root,
    env: { ...testEnv, ...extraEnv },
    output: "inherit",
    timeoutMs,
  });
  if (result.timedOut) note(`${name} was stopped after ${Math.round(timeoutMs / MINUTE)} minutes`);
  return result.timedOut ? 124 : result.code;
}

/**
 * The three checks of `npm run lint` (package.json's lint:deps and lint:unused say what the last two cover), each run
 * even when an earlier one failed, each counted once.
 */
async function lint() {
  const biome = await tool("biome", bin("biome"), ["check", "."], 5 * MINUTE);
  const depcruise = await tool("depcruise", "npm", ["run", "-s", "lint:deps"], 5 * MINUTE);
  const knip = await tool("knip", "npm", ["run", "-s", "lint:unused"], 5 * MINUTE);
  return sumCounts([
    singleCheck(biome, "biome found problems (run `npx biome check --write .` for the fixable ones)"),
    singleCheck(depcruise, "dependency-cruiser: an import goes against .dependency-cruiser.cjs (its rule names why)"),
    singleCheck(knip, "knip: an unused file, export or dependency, or one used but not declared (see knip.jsonc)"),
  ]);
}

async function typecheck() {
  const turboEnv = { TURBO_TELEMETRY_DISABLED: "1" };
  // Generate first, on its own: turbo.json's `^generate` reaches only direct dependencies, so a
  // package two hops from @sluice/db (web → api → db) could be checked before the client exists.
  const generated = await tool("turbo", bin("turbo"), ["run", "generate"], 5 * MINUTE, turboEnv);
  if (generated !== 0) note("turbo run generate failed: expect type errors about the Prisma client");
  const runs = path.join(root, ".turbo", "runs");
  const before = new Set(existsSync(runs) ? readdirSync(runs) : []);
  const code = await tool(
    "turbo",
    bin("turbo"),
    ["run", "typecheck", "--continue", "--summarize"],
    10 * MINUTE,
    turboEnv,
  );
  const created = existsSync(runs) ? readdirSync(runs).filter((f) => f.endsWith(".json") && !before.has(f)) : [];
  const summaryFile = created.length === 1 && created[0] ? path.join(runs, created[0]) : undefined;
  const summary = summaryFile ? readJson(summaryFile) : undefined;
  if (summaryFile) rmSync(summaryFile, { force: true });
  return turboCounts(summary, code, "typecheck");
}

const cli = path.join(root, "apps/cli/src/main.ts");

async function docs() {
  const code = await tool("docs", process.execPath, ["--import", "tsx", cli, "docs", "--check"], 5 * MINUTE);
  return singleCheck(code, "docs/nodes is stale: run `npm run docs:nodes` and commit the result");
}

/**
 * @param {"unit" | "integration"} project
 * @param {{ node?: string, report?: string }} [options] `node`: a Node binary other than ours to run vitest (and
 *   whatever the tests start as `node`) under
 */
async function vitest(project, { node, report: reportName = project } = {}) {
  const report = path.join(/** @type {string} */ (tmpDir), `${reportName}.json`);
  const args = [
    "run",
    "--project",
    project,
    "--passWithNoTests",
    "--reporter=default",
    "--reporter=json",
    `--outputFile.json=${report}`,
  ];
  // Under another Node: vitest's own script started by it, and that Node first on the PATH for what tests spawn.
  const code = node
    ? await tool(`vitest ${project}`, node, [path.join(root, "node_modules/vitest/vitest.mjs"), ...args], 15 * MINUTE, {
        PATH: `${path.dirname(node)}${path.delimiter}${testEnv.PATH ?? ""}`,
      })
    : await tool(`vitest ${project}`, bin("vitest"), args, 25 * MINUTE);
  return vitestCounts(readJson(report), code);
}

/**
 * The unit layer again under Node 22 (the oldest line besides 20 that package.json's engines allow). On Node 22
 * already, the unit layer was that run: this one is skipped rather than counting the same tests twice.
 */
async function unitUnderNode22() {
  if (process.versions.node.split(".")[0] === "22") {
    note(`already on Node 22 (${process.version}): the unit layer above ran under it`);
    return undefined;
  }
  const node = await ensureNodeBinary(root, { major: 22, range: "^22.12" });
  say(`running under Node ${node.version}`);
  return vitest("unit", { node: node.path, report: "unit-node22" });
}

/**
 * Stops the e2e stack's web build, web app and worker when Playwright ended without its global teardown (killed at
 * its time limit): they are detached, so they would keep a core busy through whatever runs next. Each pid in the file
 * leads its own process group (a build renames itself "next-build", so the command line tells nothing).
 * @param {string} pidFile
 */
async function stopLeftovers(pidFile) {
  if (!existsSync(pidFile)) return;
  const pids = readFileSync(pidFile, "utf8")
    .split("\n")
    .map(Number)
    .filter((pid) => Number.isInteger(pid) && pid > 0 && isAlive(pid));
  if (pids.length === 0) return;
  note(`stopping ${pids.length} process(es) of the e2e stack that Playwright left running: ${pids.join(", ")}`);
  /** @param {NodeJS.Signals} signal */
  const signalAll = (signal) => {
    for (const pid of pids) {
      try {
        process.kill(-pid, signal);
      } catch {
        // already gone
      }
    }
  };
  signalAll("SIGTERM");
  for (let waited = 0; waited < 10_000 && pids.some(isAlive); waited += 250) await sleep(250);
  signalAll("SIGKILL");
}

async function e2e() {
  const specs = readdirSync(path.join(root, "e2e")).filter((f) => f.endsWith(".spec.ts"));
  if (specs.length === 0) {
    note("e2e/ has no *.spec.ts yet: nothing to run");
    return undefined;
  }
  if (!existsSync("/usr/bin/chromium")) note("/usr/bin/chromium is missing: browser specs will fail");
  const report = path.join(/** @type {string} */ (tmpDir), "e2e.json");
  const pidFile = path.join(/** @type {string} */ (tmpDir), "e2e-stack.pids");
  const code = await tool(
    "playwright",
    bin("playwright"),
    ["test", "-c", "e2e/playwright.config.ts", "--reporter=list,json"],
    // A stop for a hung browser, not a budget: the suite takes about 11 minutes here, more on a busy machine.
    25 * MINUTE,
    {
      PLAYWRIGHT_JSON_OUTPUT_FILE: report,
      SLUICE_CHILD_PIDFILE: pidFile,
    },
  );
  await stopLeftovers(pidFile);
  return playwrightCounts(readJson(report), code);
}

/** Which OS packages the run needs and does not have. */
async function missingOsPackages() {
  const missing = [];
  if (!existsSync("/usr/bin/chromium")) missing.push({ name: "chromium", why: "the browser for e2e tests" });
  if (!process.env.REDIS_URL && !findExecutable("redis-server") && !(await redisAnswers("redis://127.0.0.1:6379"))) {
    missing.push({ name: "redis-server", why: "no Redis answers on 127.0.0.1:6379" });
  }
  return missing;
}

async function prepare() {
  checkNode();
  const started = Date.now();
  const [, packagesOk] = await Promise.all([ensureDependencies(root), missingOsPackages().then(ensureOsPackages)]);
  if (!packagesOk) note("continuing without the missing OS packages: the tests that need them will fail");

  tmpDir = mkdtempSync(path.join(tmpdir(), "sluice-test-"));
  chmodSync(tmpDir, 0o755); // the embedded PostgreSQL runs as the postgres user when we are root

  // Optional brokers start in the background; only the integration layer waits for them.
  const brokers = Promise.all(
    [BROKERS.rabbitmq, BROKERS.mosquitto, BROKERS.nats, BROKERS.mariadb].flatMap((b) => (b ? [ensureBroker(b)] : [])),
  );
  const outcomes = await Promise.allSettled([postgresForTests(tmpDir), redisForTests(tmpDir)]);
  for (const outcome of outcomes) if (outcome.status === "fulfilled") services.push(outcome.value);
  const failure = outcomes.find((outcome) => outcome.status === "rejected");
  if (failure?.status === "rejected") throw failure.reason;
  const [postgres, redis] =
    /** @type {[import("./lib/services.mjs").Service, import("./lib/services.mjs").Service]} */ (services);
  say(`PostgreSQL: ${postgres.label}`);
  say(`Redis: ${redis.label}`);
  say(`set up in ${seconds(Date.now() - started)}`);
  testEnv = {
    ...process.env,
    SLUICE_TEST_DATABASE_URL: postgres.url,
    SLUICE_TEST_REDIS_URL: redis.url,
    // The tests' servers listen on loopback, which connections reach only where allowed (destination-policy.ts).
    SLUICE_CONNECTIONS_ALLOW: process.env.SLUICE_CONNECTIONS_ALLOW ?? "127.0.0.0/8,[::1]/128",
    NEXT_TELEMETRY_DISABLED: "1",
    TURBO_TELEMETRY_DISABLED: "1",
  };
  return { brokers };
}

async function cleanUp() {
  await stopAll({ graceMs: 10_000 });
  await Promise.all(services.map((service) => service.stop().catch(() => {})));
  await stopAll({ graceMs: 10_000, services: true });
  if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
}

function printResults(/** @type {number} */ started) {
  console.log(`\n${bold("━━ results")}`);
  for (const { name, counts, ms } of layers) {
    const paint = counts.failed > 0 ? red : green;
    console.log(`   ${name.padEnd(14)} ${paint(summaryLine(counts).padEnd(34))} ${dim(seconds(ms))}`);
  }
  console.log(dim(`   total time ${seconds(Date.now() - started)}`));
}

async function main() {
  const started = Date.now();
  onShutdownSignal(() => {
    interrupted = true;
    note("interrupted: stopping…");
    stopAll({ graceMs: 5000 });
  });

  /** @type {Promise<Awaited<ReturnType<typeof ensureBroker>>[]> | undefined} */
  let brokers;
  try {
    ({ brokers } = await prepare());
  } catch (error) {
    reportFailure(error);
    layers.push({ name: "set-up", counts: { passed: 0, failed: 1, skipped: 0, notes: [] }, ms: Date.now() - started });
  }

  if (brokers && !interrupted) {
    await layer("lint", "biome, dependency-cruiser, knip", lint);
    await layer("typecheck", "turbo run generate, then turbo run typecheck", typecheck);
    if (existsSync(cli)) await layer("docs", "sluice docs --check", docs);
    await layer("unit", "vitest --project unit", () => vitest("unit"));
    await layer("unit (node 22)", "vitest --project unit under Node 22", unitUnderNode22);
    const brokerStates = await brokers;
    const states = brokerStates.map((b) => `${b.name} ${b.status}${b.detail ? ` (${b.detail})` : ""}`);
    await layer("integration", `vitest --project integration — brokers: ${states.join(", ")}`, () =>
      vitest("integration"),
    );
    await layer("e2e", "playwright test -c e2e/playwright.config.ts", e2e);
  }

  await cleanUp();
  printResults(started);
  const total = sumCounts(layers.map((l) => l.counts));
  if (interrupted) {
    console.log(summaryLine(total));
    process.exit(130);
  }
  console.log(summaryLine(total));
  process.exit(exitCodeFor(total));
}

main().catch(async (error) => {
  reportFailure(error);
  await cleanUp().catch(() => {});
  console.log(summaryLine({ passed: 0, failed: 1, skipped: 0, notes: [] }));
  process.exit(1);
});
