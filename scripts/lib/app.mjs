// Running Sluice itself: the Next.js web app and a worker as child processes, and waiting until
// /api/health says both can do their work. Used by `npm start` and by the e2e global setup.

import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { cyan, magenta, SetupError } from "./log.mjs";
import { Child, sleep } from "./proc.mjs";
import { storedSecret } from "./secrets.mjs";
import { nextCli } from "./web-build.mjs";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * The environment the web app and the worker read.
 * @param {{ databaseUrl: string, redisUrl: string, port: number, redisPrefix?: string, secretKey: string, nodeEnv: string }} settings
 * @returns {NodeJS.ProcessEnv}
 */
export function appEnvironment({ databaseUrl, redisUrl, port, redisPrefix, secretKey, nodeEnv }) {
  return {
    ...process.env,
    // One absolute files directory for the worker (run from the root) and the web app (run from apps/web), which
    // reads what the worker's File sinks wrote.
    SLUICE_FILES_DIR: path.resolve(ROOT, process.env.SLUICE_FILES_DIR ?? ".sluice/files"),
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    PORT: String(port),
    SLUICE_REDIS_PREFIX: redisPrefix ?? process.env.SLUICE_REDIS_PREFIX ?? "sluice",
    SLUICE_SECRET_KEY: secretKey,
    NODE_ENV: nodeEnv,
    NEXT_TELEMETRY_DISABLED: "1",
  };
}

/**
 * SLUICE_SECRET_KEY when set, else a key generated once and kept in .sluice/secret-key: connection
 * secrets stored with it must stay readable across restarts.
 * @param {string} root
 */
export function persistentSecretKey(root) {
  if (process.env.SLUICE_SECRET_KEY) return process.env.SLUICE_SECRET_KEY;
  return storedSecret(path.join(root, ".sluice", "secret-key"), { bytes: 32 }).value;
}

/**
 * Next's start-up banner ("▲ Next.js", "- Local:", "✓ Ready in 1.2s"): it says "ready" before the app can answer
 * (the database and the worker are not checked yet), so only our own line says when Sluice is ready.
 * @param {string} line without colour codes
 */
export function isNextBanner(line) {
  return /^\s*(▲ Next\.js|- (Local|Network|Environments?|Experiments)\b|· |✓ (Starting|Ready in|Running next\.config)\b)/.test(
    line,
  );
}

/**
 * Starts the web app: `next start` (or `next dev`) in apps/web, listening on `host` (127.0.0.1 by default).
 * @param {{ root: string, port: number, host?: string, env: NodeJS.ProcessEnv, dev?: boolean, output?: "prefix" | "capture" }} options
 */
export function startWeb({ root, port, host = "127.0.0.1", env, dev = false, output = "prefix" }) {
  const args = [nextCli(root), dev ? "dev" : "start", "--port", String(port), "--hostname", host];
  return new Child("web", process.execPath, args, {
    cwd: path.join(root, "apps/web"),
    env,
    output,
    prefix: cyan("[web]"),
    show: (line) => !isNextBanner(line),
  });
}

/**
 * Starts one worker (under `tsx watch` in dev mode, so it restarts on changes).
 * @param {{ root: string, env: NodeJS.ProcessEnv, dev?: boolean, output?: "prefix" | "capture" }} options
 */
export function startWorker({ root, env, dev = false, output = "prefix" }) {
  const main = path.join("apps", "worker", "src", "main.ts");
  const tsxCli = createRequire(path.join(root, "package.json")).resolve("tsx/cli");
  const args = dev ? [tsxCli, "watch", "--clear-screen=false", main] : ["--import", "tsx", main];
  return new Child("worker", process.execPath, args, { cwd: root, env, output, prefix: magenta("[worker]") });
}

/** @param {string} url */
async function fetchHealth(url) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    const text = await response.text();
    /** @type {any} */
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { status: response.status, text, body };
  } catch (error) {
    const cause = /** @type {any} */ (error).cause;
    return {
      status: 0,
      text: String(cause?.code ?? cause?.message ?? /** @type {Error} */ (error).message),
      body: undefined,
    };
  }
}

/** @param {any} body */
function isHealthy(body) {
  return body?.db?.ok === true && body?.redis?.ok === true && Number(body?.workers?.live) >= 1;
}

/**
 * Polls GET /api/health until it answers 200 with db and redis ok and at least one live worker.
 * Throws a SetupError when `timeoutMs` passes (with the last answer) or a child exits first.
 * @param {{ baseUrl: string, children: Child[], timeoutMs: number }} options
 */
export async function waitUntilHealthy({ baseUrl, children, timeoutMs }) {
  const url = new URL("/api/health", baseUrl).toString();
  const deadline = Date.now() + timeoutMs;
  let last = { status: 0, text: "no answer yet", body: /** @type {any} */ (undefined) };
  for (;;) {
    const exited = children.find((child) => child.exitInfo);
    if (exited) {
      throw new SetupError(
        `the ${exited.name} process exited while starting (${exited.describeExit()})`,
        "Its last output is above.",
        {
          details: exited.tail.slice(-20),
        },
      );
    }
    last = await fetchHealth(url);
    if (last.status === 200 && isHealthy(last.body)) return last.body;
    if (Date.now() > deadline) break;
    await sleep(500);
  }
  const answer = last.status ? `HTTP ${last.status}: ${last.text.slice(0, 400)}` : last.text;
  throw new SetupError(
    `${url} did not report a healthy app within ${Math.round(timeoutMs / 1000)} s (last answer: ${answer})`,
    "Read the [web] and [worker] output above for the cause.",
  );
}
