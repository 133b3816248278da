import { randomBytes } from "node:crypto";
import { SESSION_COOKIE } from "@sluice/api/auth/session";
import { type ApiDeps, createRequestContext, WORKSPACE_HEADER } from "@sluice/api/context";
import { createCaller } from "@sluice/api/root";
import { createDb, type Db } from "@sluice/db/client";
import { catalog } from "@sluice/nodes/catalog";
import { connectionRuntimes } from "@sluice/nodes/connection-runtimes";
import { connectionCatalog } from "@sluice/nodes/connections";
import { DestinationPolicy } from "@sluice/nodes/destination-policy";
import { createKeys } from "@sluice/pipeline/control/keys";
import { figureField } from "@sluice/pipeline/control/node-figures";
import { QUEUE_CONTROL, QUEUE_PREVIEW } from "@sluice/pipeline/control/protocol";
import { emptyDefinition } from "@sluice/pipeline/definition";
import { createTestDatabase } from "@sluice/scripts/lib/test-db";
import { TRPCError } from "@trpc/server";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { expect } from "vitest";

// Integration-test harness for the API: a fresh migrated database and a private Redis prefix per test file;
// procedures are called through the real router with a real request context (cookies included).

export interface ApiHarness {
  deps: ApiDeps;
  db: Db;
  redis: Redis;
  /**
   * A caller acting as whoever holds `cookie` (anonymous without one), addressing `workspaceId` (their first
   * workspace without one). Response headers land in `headers`.
   */
  caller(cookie?: string, workspaceId?: string): Promise<{ api: ReturnType<typeof createCaller>; headers: Headers }>;
  /** Signs up a fresh user and returns their session cookie. */
  signUp(name?: string): Promise<{ cookie: string; email: string }>;
  close(): Promise<void>;
}

export interface ApiHarnessOptions
  extends Partial<
    Pick<ApiDeps, "secretKey" | "catalog" | "connectionTypes" | "connectionRuntimes" | "destinations" | "filesDir">
  > {
  /** The Redis key prefix (default: a fresh one), e.g. to share a fleet harness's. */
  prefix?: string;
}

/** What the harness allows by default: loopback, where the local test servers listen. */
export const TEST_ALLOW = "127.0.0.0/8,[::1]/128";

/**
 * Without options: the build's node and connection types and a fresh random SLUICE_SECRET_KEY; pass
 * `secretKey: undefined` for a server that has none.
 */
export async function createApiHarness(label: string, options: ApiHarnessOptions = {}): Promise<ApiHarness> {
  const database = await createTestDatabase(label);
  const db = createDb(database.url, { poolSize: 4 });
  const redisUrl = process.env.SLUICE_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const keys = createKeys(options.prefix ?? `t-${label}-${randomBytes(4).toString("hex")}`);
  const controlQueue = new Queue(QUEUE_CONTROL, { connection: redis.duplicate(), prefix: keys.bullPrefix });
  const previewQueue = new Queue(QUEUE_PREVIEW, { connection: redis.duplicate(), prefix: keys.bullPrefix });
  const deps: ApiDeps = {
    db,
    redis,
    keys,
    controlQueue,
    previewQueue,
    secureCookies: false,
    secretKey: "secretKey" in options ? options.secretKey : randomBytes(32),
    catalog: options.catalog ?? catalog,
    connectionTypes: options.connectionTypes ?? connectionCatalog,
    connectionRuntimes: options.connectionRuntimes ?? connectionRuntimes,
    // As `npm test` sets SLUICE_CONNECTIONS_ALLOW: the local test servers are reachable, this harness's own
    // database and Redis database are not.
    destinations:
      options.destinations ?? DestinationPolicy.fromSettings(TEST_ALLOW, { databaseUrl: database.url, redisUrl }),
    ...(options.filesDir ? { filesDir: options.filesDir } : {}),
  };

  const caller = async (cookie?: string, workspaceId?: string) => {
    const headers = new Headers();
    const sent: Record<string, string> = {};
    if (cookie) sent.cookie = cookie;
    if (workspaceId) sent[WORKSPACE_HEADER] = workspaceId;
    const req = new Request("http://sluice.test/api/trpc", { headers: sent });
    const ctx = await createRequestContext(deps, req, headers);
    return { api: createCaller(ctx), headers };
  };

  return {
    deps,
    db,
    redis,
    caller,
    async signUp(name = "Ada") {
      const email = `${name.toLowerCase()}-${randomBytes(4).toString("hex")}@example.com`;
      const { api, headers } = await caller();
      // Sign-up answers alike for new and known emails and opens no session; signing in does.
      await api.auth.signUp({ email, name, password: "correct horse battery" });
      await api.auth.signIn({ email, password: "correct horse battery" });
      const set = headers.get("set-cookie") ?? "";
      const token = set.split(";")[0]?.split("=")[1];
      return { cookie: `${SESSION_COOKIE}=${token}`, email };
    },
    async close() {
      await controlQueue.obliterate({ force: true }).catch(() => {});
      await controlQueue.close();
      await previewQueue.obliterate({ force: true }).catch(() => {});
      await previewQueue.close();
      let cursor = "0";
      do {
        const [next, found] = await redis.scan(cursor, "MATCH", `${keys.prefix}:*`, "COUNT", 1000);
        cursor = next;
        if (found.length > 0) await redis.del(...found);
      } while (cursor !== "0");
      await redis.quit();
      await db.$disconnect();
      await database.drop();
    },
  };
}

/** Awaits a call that must fail with a TRPCError, and returns the error for further checks. */
export async function rejects(promise: Promise<unknown>): Promise<TRPCError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TRPCError);
  return err as TRPCError;
}

/**
 * Starts a generator → console pipeline called `name` (no worker takes it) and writes the live state workers would
 * keep for it — running, one partition, `out` counting `count` records in every second from 2 s ago to 30 s ahead —
 * so live subscriptions have a second to read each second. Returns the run's id.
 */
export async function startWatchedRun(
  h: ApiHarness,
  api: ReturnType<typeof createCaller>,
  name: string,
  count: number,
): Promise<string> {
  const def = emptyDefinition(name);
  def.spec.nodes.push(
    { id: "gen", type: "source.generator", config: { rate: 5 } },
    { id: "out", type: "sink.console", config: {} },
  );
  def.spec.edges.push({ from: "gen", to: "out" });
  const { id: pipelineId } = await api.pipelines.create({ name, definition: def });
  const { id: runId } = await api.runs.start({ pipelineId });
  const keys = h.deps.keys;
  await h.redis.hset(keys.runMeta(runId), {
    status: "running",
    desired: "running",
    stages: JSON.stringify([{ index: 0, partitions: 1 }]),
  });
  const now = Math.floor(Date.now() / 1000);
  for (let sec = now - 2; sec <= now + 30; sec++) {
    await h.redis.hset(keys.runFigures(runId, sec), { [figureField.count("out", "in")]: String(count) });
    await h.redis.pexpire(keys.runFigures(runId, sec), 60_000);
  }
  return runId;
}
