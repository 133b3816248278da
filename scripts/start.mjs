// `npm start` (production build) and `npm run dev` (`--dev`: next dev, worker under tsx watch).
// Installs what is missing, uses DATABASE_URL/REDIS_URL or starts an embedded PostgreSQL and a private
// redis-server, migrates and seeds while the web app builds, then runs the web app (on 127.0.0.1 unless HOST
// says otherwise) and one worker until Ctrl-C. Every step says itself with the time since the start.
// Node builtins only at the top level: this runs before `npm ci`.

import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { appEnvironment, persistentSecretKey, startWeb, startWorker, waitUntilHealthy } from "./lib/app.mjs";
import { checkNode, ensureDependencies, findExecutable } from "./lib/install.mjs";
import { bold, dim, green, heartbeat, red, reportFailure, SetupError, say } from "./lib/log.mjs";
import { listenHost, localUrl, portFromEnv, portInUse } from "./lib/ports.mjs";
import { commandLineOf, isAlive, mustRun, onShutdownSignal, run, runningCount, stopAll } from "./lib/proc.mjs";
import { REDIS_INSTALL_HINT } from "./lib/redis.mjs";
import { postgresForApp, redisForApp } from "./lib/services.mjs";
import { Supervisor } from "./lib/supervise.mjs";
import { ensureWebBuild } from "./lib/web-build.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const dev = process.argv.includes("--dev");
const command = dev ? "npm run dev" : "npm start";
const lockFile = path.join(root, ".sluice", "start.pid");

/** PostgreSQL at 0 and Redis at 1 once each has started (they start side by side). @type {import("./lib/services.mjs").Service[]} */
const services = [];
let exiting = false;
const supervisor = new Supervisor();

/** One `npm start` per checkout: a second one would stop the first one's PostgreSQL as "stale". */
function claimCheckout() {
  mkdirSync(path.dirname(lockFile), { recursive: true });
  if (existsSync(lockFile)) {
    const pid = Number(readFileSync(lockFile, "utf8").trim());
    if (pid > 0 && pid !== process.pid && isAlive(pid) && commandLineOf(pid).includes("start.mjs")) {
      throw new SetupError(
        `Sluice is already running from this folder (pid ${pid})`,
        "Stop it first (Ctrl-C in its terminal), or run the other copy from another checkout.",
      );
    }
  }
  writeFileSync(lockFile, `${process.pid}\n`);
}

function releaseCheckout() {
  try {
    if (Number(readFileSync(lockFile, "utf8").trim()) === process.pid) rmSync(lockFile);
  } catch {
    // not ours, or already gone
  }
}

/** Stops the app first, then the databases it used; exits with `code`. @param {number} code */
async function shutdown(code) {
  if (exiting) return;
  exiting = true;
  supervisor.stop();
  const anythingStarted = runningCount() > 0 || services.length > 0;
  if (anythingStarted) say("stopping…");
  await stopAll({ graceMs: 10_000 });
  await Promise.all(services.map((service) => service.stop()));
  await stopAll({ graceMs: 10_000, services: true }); // services that were still starting
  releaseCheckout();
  if (anythingStarted) say(code === 0 ? "stopped" : red("stopped after a failure"));
  process.exit(code);
}

/**
 * Runs `step` while saying, every ~15 s, how long it has taken. @template T
 * @param {string} what e.g. "waiting for the app" @param {() => Promise<T>} step
 */
async function withHeartbeat(what, step) {
  const stop = heartbeat(what);
  try {
    return await step();
  } finally {
    stop();
  }
}

/**
 * PostgreSQL started (or checked), migrated and seeded; kept in services[0]. Migrating needs no Prisma client, seeding
 * does: it waits for `generated`.
 * @param {NodeJS.ProcessEnv} baseEnv @param {Promise<unknown>} generated
 */
async function prepareDatabase(baseEnv, generated) {
  say(process.env.DATABASE_URL ? "checking PostgreSQL (DATABASE_URL)…" : "starting PostgreSQL…");
  const database = await postgresForApp(root, command);
  services[0] = database;
  say(`PostgreSQL: ${database.label}`);

  say("migrating the database…");
  const env = { ...baseEnv, DATABASE_URL: database.url };
  const migrate = await mustRun(
    "applying migrations",
    "Read the error above; fix the migration or the database, then run again.",
    process.execPath,
    ["--import", "tsx", "packages/db/src/migrate-cli.ts", "deploy"],
    { cwd: root, env },
  );
  say(`migrations: ${migrate.tail.join(" ").trim() || "done"}`);

  // Seeding imports the Prisma client, so it waits for it to be generated.
  await generated;
  say("seeding…");
  const seed = await run("seed", process.execPath, ["--import", "tsx", "packages/api/src/seed-cli.ts"], {
    cwd: root,
    env,
    output: "prefix",
    prefix: dim("[seed]"),
  });
  if (!seed.ok) throw new SetupError(`seeding failed (${seed.child.describeExit()})`, "Read the [seed] output above.");
  return database;
}

/** The private redis-server (or REDIS_URL, checked); kept in services[1]. */
async function prepareRedis() {
  say(process.env.REDIS_URL ? "checking Redis (REDIS_URL)…" : "starting Redis…");
  const broker = await redisForApp(root, command);
  services[1] = broker;
  say(`Redis: ${broker.label}`);
  return broker;
}

async function main() {
  checkNode();
  await ensureDependencies(root);
  claimCheckout();

  const host = listenHost();
  const port = portFromEnv("PORT", 3000);
  const url = localUrl(host, port);
  const portTaken = () =>
    new SetupError(
      `port ${port} is in use`,
      `Stop what is using it, or choose another port: PORT=${port + 1} ${command}.`,
    );
  if (await portInUse(port)) throw portTaken();

  if (!process.env.REDIS_URL && !findExecutable("redis-server"))
    throw new SetupError("redis-server is not installed", REDIS_INSTALL_HINT);

  // The build needs the Prisma client, not the databases: it runs while PostgreSQL starts and migrates.
  say("generating the Prisma client…");
  const generated = mustRun(
    "generating the Prisma client",
    "Read the error above; check prisma/schema.prisma.",
    process.execPath,
    ["scripts/prisma-generate.mjs"],
    { cwd: root },
  );
  const nodeEnv = dev ? "development" : "production";
  const baseEnv = { ...process.env, NODE_ENV: nodeEnv, NEXT_TELEMETRY_DISABLED: "1" };
  const [database, broker] = await Promise.all([
    prepareDatabase(baseEnv, generated),
    prepareRedis(),
    dev ? generated : generated.then(() => ensureWebBuild(root, baseEnv)),
  ]);

  const env = appEnvironment({
    databaseUrl: database.url,
    redisUrl: broker.url,
    port,
    secretKey: persistentSecretKey(root),
    nodeEnv,
  });
  if (await portInUse(port)) throw portTaken();

  say(`starting the web app (${dev ? "next dev" : "next start"}, listening on ${host} port ${port})…`);
  const web = startWeb({ root, port, host, env, dev });
  say("starting the worker…");
  const worker = startWorker({ root, env, dev });
  say(`waiting for the app to answer ${url}/api/health…`);
  await withHeartbeat("waiting for the app", () =>
    waitUntilHealthy({ baseUrl: url, children: [web, worker], timeoutMs: dev ? 240_000 : 90_000 }),
  );
  console.log(green(bold(`Sluice is ready at ${url}`)));
  say("press Ctrl-C to stop it");

  // From now on a process that stops on its own is restarted; one that keeps stopping ends everything.
  supervisor.watch("web", web, () => startWeb({ root, port, host, env, dev }));
  supervisor.watch("worker", worker, () => startWorker({ root, env, dev }));
  // In the order `services` holds them.
  /** @type {[string, () => Promise<import("./lib/services.mjs").Service>][]} */
  const restarts = [
    ["PostgreSQL", () => postgresForApp(root, command)],
    ["Redis", () => redisForApp(root, command)],
  ];
  for (const [index, [name, startAgain]] of restarts.entries()) {
    const service = services[index];
    if (!service?.child) continue;
    supervisor.watch(name, service.child, async () => {
      const fresh = await startAgain();
      services[index] = fresh;
      if (!fresh.child) throw new Error(`the ${name} service has no process`);
      return fresh.child;
    });
  }
  const gaveUp = await supervisor.gaveUp;
  if (exiting) return;
  console.error(red(`sluice: ${gaveUp.message}; stopping Sluice.`));
  await shutdown(1);
}

onShutdownSignal(() => shutdown(0));
main().catch(async (error) => {
  if (exiting) return;
  reportFailure(error);
  await shutdown(1);
});
