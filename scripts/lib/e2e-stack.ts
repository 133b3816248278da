// The app the e2e tests drive: a fresh database cloned from the migrated template, a fresh Redis key
// prefix, `next start` and one worker on a port the Playwright config chose. Started by
// e2e/global-setup.ts, stopped by e2e/global-teardown.ts (same process; state kept on globalThis).

import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { appEnvironment, startWeb, startWorker, waitUntilHealthy } from "./app.mjs";
import { SetupError } from "./log.mjs";
import type { Child } from "./proc.mjs";
import { createTestDatabase, ensureTemplateDatabase, type TestDatabase, testRedisUrl, uniquePrefix } from "./test-db";
import { ensureWebBuild } from "./web-build.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));

interface E2EStack {
  database?: TestDatabase;
  redisPrefix?: string;
  children: Child[];
}

const key = Symbol.for("sluice.e2e.stack");
const store = globalThis as unknown as Record<symbol, E2EStack | undefined>;

function explain(error: unknown): string {
  if (error instanceof SetupError) return [error.message, ...error.details.map((line) => `  ${line}`)].join("\n");
  return error instanceof Error ? error.message : String(error);
}

/** Starts the stack; returns the base URL. Cleans up after itself when it cannot start. */
export async function startE2EStack(port: number): Promise<string> {
  const stack: E2EStack = { children: [] };
  store[key] = stack;
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await ensureTemplateDatabase();
    stack.database = await createTestDatabase("", { namePrefix: "sluice_e2e" });
    stack.redisPrefix = uniquePrefix("e2e");
    // The built-in templates, as `npm start` seeds them.
    await promisify(execFile)(process.execPath, ["--import", "tsx", "packages/api/src/seed-cli.ts"], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: stack.database.url },
    }).catch((err: { stderr?: string; message: string }) => {
      throw new SetupError(`seeding the e2e database failed: ${err.stderr?.trim() || err.message}`);
    });
    const env = appEnvironment({
      databaseUrl: stack.database.url,
      redisUrl: testRedisUrl(),
      port,
      redisPrefix: stack.redisPrefix,
      secretKey: randomBytes(32).toString("hex"),
      nodeEnv: "production",
    });
    // The e2e tests' servers listen on loopback, which connections reach only where allowed.
    env.SLUICE_CONNECTIONS_ALLOW ??= "127.0.0.0/8,[::1]/128";
    // The specs' own output is what tells a failure; the app's info lines (a task leased, a run started) would bury it.
    env.SLUICE_LOG_LEVEL ??= "warn";
    // Every spec signs up a new user from 127.0.0.1, and each sign-up also signs in: more than the default 20
    // sign-ups an hour and 30 sign-ins in 15 minutes from one address (the limits themselves are tested in
    // web-hardening.int.test.ts).
    env.SLUICE_RATE_SIGNUP_IP ??= "1000/1h";
    env.SLUICE_RATE_SIGNIN_IP ??= "1000/15m";
    // For specs that start a worker of their own (to kill it): Playwright hands global set-up's environment on.
    process.env.E2E_APP_ENV = JSON.stringify(env);
    await ensureWebBuild(root, env);
    stack.children = [startWeb({ root, port, env }), startWorker({ root, env })];
    await waitUntilHealthy({ baseUrl, children: stack.children, timeoutMs: 90_000 });
    return baseUrl;
  } catch (error) {
    await stopE2EStack();
    throw new Error(`e2e: could not start the app: ${explain(error)}`);
  }
}

/** Deletes the keys the run wrote under its prefix (best effort: Redis may be gone). */
async function deleteKeys(prefix: string): Promise<void> {
  const { default: Redis } = await import("ioredis");
  const redis = new Redis(testRedisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on("error", () => {});
  try {
    await redis.connect();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } catch {
    // leave them: the prefix is unique, they harm nothing
  } finally {
    redis.disconnect();
  }
}

/** Stops web and worker (SIGTERM, SIGKILL after 10 s), drops the database, removes the Redis keys. */
export async function stopE2EStack(): Promise<void> {
  const stack = store[key];
  if (!stack) return;
  store[key] = undefined;
  await Promise.all(stack.children.map((child) => child.stop({ graceMs: 10_000 })));
  await stack.database
    ?.drop()
    .catch((error: Error) => console.error(`e2e: could not drop ${stack.database?.name}: ${error.message}`));
  if (stack.redisPrefix) await deleteKeys(stack.redisPrefix);
}
