import net from "node:net";
import { FleetWorker } from "@sluice/engine/fleet-worker";
import { catalog } from "@sluice/nodes/catalog";
import { DestinationPolicy, type ProtectedEndpoint } from "@sluice/nodes/destination-policy";
import { runtimes } from "@sluice/nodes/runtimes";
import { emptyDefinition, type PipelineDefinition } from "@sluice/pipeline/definition";
import { type ApiHarness, createApiHarness, rejects, TEST_ALLOW } from "@sluice/test-kit/api-harness";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

// Findings 1 and 2 of issue 12: a connection to Sluice's own PostgreSQL database (or its Redis) passed Test, Browse
// sampled every account, a preview read every workspace's pipelines and a run wrote into Membership. Now every
// connector resolves its host through the DestinationPolicy, in the web process (Test, Browse) and on workers
// (preview, runs): Sluice's own endpoints are always refused; loopback, link-local and metadata addresses unless
// SLUICE_CONNECTIONS_ALLOW opens them.

const REDIS_URL = process.env.SLUICE_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

let h: ApiHarness;
/** The same server, without SLUICE_CONNECTIONS_ALLOW: what a deployment gets by default. */
let strict: ApiHarness;
let worker: FleetWorker;

beforeAll(async () => {
  h = await createApiHarness("destinations");
  strict = await createApiHarness("destinations-strict", {
    destinations: DestinationPolicy.fromSettings(undefined),
  });
  // A worker as apps/worker builds one: it knows the fleet's Redis and the allow list, not DATABASE_URL.
  worker = new FleetWorker({
    connect: () => new Redis(REDIS_URL, { maxRetriesPerRequest: null }),
    prefix: h.deps.keys.prefix,
    catalog,
    runtimes,
    workerId: "destinations-worker",
    secretKey: h.deps.secretKey!,
    destinations: DestinationPolicy.fromSettings(TEST_ALLOW, { redisUrl: REDIS_URL }),
  });
  await worker.start();
});
afterAll(async () => {
  await worker?.close();
  await h?.close();
  await strict?.close();
});

function own(harness: ApiHarness, kind: ProtectedEndpoint["kind"]): ProtectedEndpoint {
  return harness.deps.destinations.protectedEndpoints.find((e) => e.kind === kind)!;
}

async function signedIn(harness: ApiHarness, name: string) {
  const { api } = await harness.caller((await harness.signUp(name)).cookie);
  const me = await api.auth.me();
  return { api, workspaceId: me!.workspaces[0]!.id };
}

type Api = Awaited<ReturnType<typeof signedIn>>["api"];

/** A PostgreSQL connection to the API's own database (host, port and database of DATABASE_URL). */
async function ownDatabaseConnection(api: Api, name = "warehouse") {
  const db = own(h, "database");
  return api.connections.create({
    name,
    type: "postgres",
    config: { host: db.host, port: db.port, database: String(db.database), user: "postgres", sslmode: "disable" },
  });
}

function pipeline(nodes: PipelineDefinition["spec"]["nodes"]): PipelineDefinition {
  const def = emptyDefinition("p");
  def.spec.nodes.push(...nodes);
  def.spec.edges.push({ from: nodes[0]!.id, to: nodes[1]!.id });
  return def;
}

const OWN_DATABASE =
  /connection "warehouse": .*:\d+ is Sluice's own database \("sluice_[^"]+"\), which no connection may reach/;

async function runOutcome(runId: string): Promise<{ status: string; error: string }> {
  const key = h.deps.keys.runMeta(runId);
  const deadline = Date.now() + 20_000;
  for (;;) {
    const [status, error] = await h.redis.hmget(key, "status", "error");
    if (status === "failed" || status === "completed" || status === "stopped") {
      return { status, error: error ?? "" };
    }
    if (Date.now() > deadline) throw new Error(`run ${runId} is still ${status} after 20 s (${error ?? ""})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("Sluice's own database is not a destination (finding 1)", () => {
  it("refuses it on Test, naming why, and allows another database on the same server", async () => {
    const { api } = await signedIn(h, "Mallory");
    const { id } = await ownDatabaseConnection(api);
    const test = await api.connections.test({ id });
    expect(test.ok).toBe(false);
    expect(test.message).toMatch(OWN_DATABASE);

    // The same server and port, another database: a pipeline may use a shared server.
    const db = own(h, "database");
    const other = await api.connections.test({
      draft: {
        type: "postgres",
        config: { host: db.host, port: db.port, database: "postgres", user: "postgres", sslmode: "disable" },
      },
    });
    expect(other).toMatchObject({ ok: true });
  });

  it("refuses it on Browse: no account's email or password hash leaves", async () => {
    const { api } = await signedIn(h, "Browser");
    const { id } = await ownDatabaseConnection(api);
    const err = await rejects(api.connections.discover({ id, object: "User", sample: 5 }));
    expect(err.message).toMatch(OWN_DATABASE);
    expect(err.message).not.toContain("@example.com");
  });

  it("refuses it in a preview, on the worker, which never knew DATABASE_URL", async () => {
    const { api } = await signedIn(h, "Previewer");
    await ownDatabaseConnection(api);
    const result = await api.pipelines.preview({
      definition: pipeline([
        { id: "src", type: "source.postgres", config: { connection: "warehouse", table: "Pipeline", cursor: "id" } },
        { id: "out", type: "sink.console", config: {} },
      ]),
      limit: 10,
    });
    const text = JSON.stringify(result);
    expect(text).toMatch(/is Sluice's own database/);
    expect(result.nodes.src?.outputs.out ?? []).toEqual([]);
  });

  it("fails a run whose sink writes into it, with the reason, and writes nothing", async () => {
    const { api, workspaceId } = await signedIn(h, "Intruder");
    await ownDatabaseConnection(api);
    const before = await h.db.membership.count();
    const { id: pipelineId } = await api.pipelines.create({
      name: "takeover",
      definition: pipeline([
        {
          id: "gen",
          type: "source.generator",
          config: { count: 3, rate: 0 },
        },
        { id: "sink", type: "sink.postgres", config: { connection: "warehouse", table: "Membership" } },
      ]),
    });
    const { id: runId } = await api.runs.start({ pipelineId });
    const outcome = await runOutcome(runId);
    expect(outcome.status).toBe("failed");
    expect(outcome.error).toMatch(OWN_DATABASE);
    expect(await h.db.membership.count()).toBe(before);
    expect(workspaceId).toBeTruthy();
  });
});

describe("Sluice's own Redis is not a destination (finding 2)", () => {
  it("refuses the fleet's Redis database on Test and Browse, and allows another database number", async () => {
    const { api } = await signedIn(h, "Snoop");
    const { id } = await api.connections.create({ name: "cache", type: "redis", config: { url: REDIS_URL } });
    const test = await api.connections.test({ id });
    expect(test.ok).toBe(false);
    expect(test.message).toMatch(
      /^connection "cache": .*:\d+ is Sluice's own Redis \(database 0\), which no connection may reach/,
    );
    const err = await rejects(api.connections.discover({ id }));
    expect(err.message).toContain("is Sluice's own Redis");

    // On the worker too: a preview reading another workspace's ingest stream is refused.
    const preview = await api.pipelines.preview({
      definition: pipeline([
        { id: "src", type: "source.redis-stream", config: { connection: "cache", stream: `${h.deps.keys.prefix}:x` } },
        { id: "out", type: "sink.console", config: {} },
      ]),
      limit: 10,
    });
    expect(JSON.stringify(preview)).toContain("is Sluice's own Redis (database 0)");

    const other = new URL(REDIS_URL);
    other.pathname = "/1";
    expect(await api.connections.test({ draft: { type: "redis", config: { url: other.toString() } } })).toMatchObject({
      ok: true,
    });
  });
});

describe("loopback, link-local and metadata addresses", () => {
  it("refuses a loopback address without SLUICE_CONNECTIONS_ALLOW, and a name that resolves to one the same", async () => {
    const { api } = await signedIn(strict, "Local");
    const config = { port: 5432, database: "postgres", user: "postgres", sslmode: "disable" };
    const byAddress = await api.connections.test({
      draft: { type: "postgres", config: { host: "127.0.0.1", ...config } },
    });
    expect(byAddress).toMatchObject({
      ok: false,
      message:
        "127.0.0.1:5432 is a loopback address, which Sluice does not connect to unless SLUICE_CONNECTIONS_ALLOW allows it",
    });
    const { id } = await api.connections.create({
      name: "lo",
      type: "postgres",
      config: { host: "localhost", ...config },
    });
    const byName = await api.connections.test({ id });
    expect(byName.ok).toBe(false);
    expect(byName.message).toMatch(
      /^connection "lo": localhost \((127\.0\.0\.1|\[::1\]):5432\) is a loopback address, which Sluice does not connect to unless SLUICE_CONNECTIONS_ALLOW allows it$/,
    );
  });

  it("refuses link-local and cloud-metadata addresses without opening a socket", async () => {
    const { api } = await signedIn(strict, "Cloud");
    const connect = vi.spyOn(net.Socket.prototype, "connect");
    try {
      const metadata = await api.connections.test({
        draft: { type: "http", config: { baseUrl: "http://169.254.169.254/latest/meta-data/" } },
      });
      expect(metadata).toMatchObject({
        ok: false,
        message:
          "169.254.169.254:80 is a cloud metadata address, which Sluice does not connect to unless SLUICE_CONNECTIONS_ALLOW allows it",
      });
      const mapped = await api.connections.test({
        draft: { type: "redis", config: { url: "redis://[::ffff:169.254.10.1]:6379" } },
      });
      expect(mapped.message).toContain("is a link-local address");
      const touched = connect.mock.calls.filter((args) => JSON.stringify(args).includes("169.254."));
      expect(touched).toEqual([]);
    } finally {
      connect.mockRestore();
    }
  });
});
