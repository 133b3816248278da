import { randomBytes } from "node:crypto";
import { FleetWorker } from "@sluice/engine/fleet-worker";
import { recordingLogger } from "@sluice/log/logger";
import { readRunConnections } from "@sluice/nodes/destination-policy";
import type { ConnectionBundle } from "@sluice/nodes/runtime-contract";
import { connectionsContext } from "@sluice/pipeline/control/protocol";
import { openJson } from "@sluice/pipeline/control/secret-box";
import type { PipelineDefinitionInput } from "@sluice/pipeline/definition";
import { writePipelineText } from "@sluice/pipeline/file-format";
import { type ApiHarness, createApiHarness, rejects } from "@sluice/test-kit/api-harness";
import { FleetHarness, testRedisUrl, waitFor } from "@sluice/test-kit/fleet-harness";
import {
  digest,
  testConnectionRuntimes,
  testConnectionTypes,
  testNodeCatalog,
  testNodeRuntimes,
} from "@sluice/test-kit/test-connections";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { checkHealth } from "../health/health-service";
import { reconcileRuns } from "../runs/run-reconciler";
import { secretsContext } from "./connection-secrets";

// Issue 5: "secret fields are write-only in the API and never reach the browser, logs, exports, templates, error
// messages or metrics (a test searches all of them for a planted secret)". This is that test. It plants a secret in
// a connection, drives a real run through a real worker, makes a connection test and a run fail because of the
// connection, then searches every surface for the secret in the forms it could be written in. Each search also
// checks that it looked at something that matters (a positive control), so an empty haystack cannot pass it.

// Characters that URL-encoding, base64 and JSON write differently, and a random part no fixture can contain.
const SECRET = `pl@nted/${randomBytes(12).toString("hex")}+&=`;
const TOKEN = `tok-${randomBytes(12).toString("hex")}`;

function forms(secret: string): string[] {
  const utf8 = Buffer.from(secret, "utf8");
  return [
    secret,
    encodeURIComponent(secret),
    utf8.toString("base64"),
    utf8.toString("base64").replace(/=+$/, ""),
    utf8.toString("base64url"),
    utf8.toString("hex"),
    utf8.toString("hex").toUpperCase(),
  ];
}
const NEEDLES = [...forms(SECRET), ...forms(TOKEN)];

/** Every planted value, in every form, is absent from `text` (which is described by `where`). */
function expectClean(where: string, text: string): void {
  for (const needle of NEEDLES) {
    if (text.includes(needle))
      throw new Error(`the planted secret leaked into ${where} (as ${JSON.stringify(needle)})`);
  }
}

const logs: string[] = [];
const capture =
  (level: string) =>
  (message: string, fields?: Record<string, unknown>): void => {
    logs.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  };

let fleet: FleetHarness;
let h: ApiHarness;
let worker: FleetWorker;

beforeAll(async () => {
  fleet = new FleetHarness();
  h = await createApiHarness("leak", {
    prefix: fleet.prefix,
    secretKey: fleet.secretKey,
    catalog: testNodeCatalog,
    connectionTypes: testConnectionTypes,
    connectionRuntimes: testConnectionRuntimes,
  });
  // Whatever the API or the engine might print goes to the console: keep it to search it.
  for (const level of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      logs.push(`console.${level} ${args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" ")}`);
    });
  }
  worker = new FleetWorker({
    connect: () => new Redis(testRedisUrl(), { maxRetriesPerRequest: null }),
    prefix: fleet.prefix,
    catalog: testNodeCatalog,
    runtimes: testNodeRuntimes,
    workerId: "leak-worker",
    leaseMs: 2000,
    secretKey: fleet.secretKey,
    log: recordingLogger(({ level, message, fields }) => capture(level)(message, fields)),
  });
  await worker.start();
});

afterAll(async () => {
  await worker?.close();
  await fleet?.close();
  await h?.close();
  vi.restoreAllMocks();
});

function pipeline(name: string, connection: string): PipelineDefinitionInput {
  return {
    apiVersion: "sluice/v1",
    kind: "Pipeline",
    metadata: { name },
    spec: {
      settings: { parallelism: 1 },
      nodes: [
        { id: "src", type: "source.testdb", config: { connection, rows: 20 } },
        // n = 3 divides by zero: a dead letter carrying a record the connection produced.
        { id: "keep", type: "transform.filter", config: { where: "100 / (n - 3) > 0" } },
        { id: "out", type: "sink.console", config: {} },
      ],
      edges: [
        { from: "src", to: "keep" },
        { from: "keep", to: "out" },
      ],
    },
  };
}

async function allRedisValues(prefix: string): Promise<{ keys: number; text: string; byKey: Map<string, string> }> {
  const byKey = new Map<string, string>();
  let cursor = "0";
  do {
    const [next, found] = await h.redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    cursor = next;
    for (const key of found) {
      const type = await h.redis.type(key);
      let value: unknown;
      if (type === "string") value = await h.redis.get(key);
      else if (type === "hash") value = await h.redis.hgetall(key);
      else if (type === "list") value = await h.redis.lrange(key, 0, -1);
      else if (type === "set") value = await h.redis.smembers(key);
      else if (type === "zset") value = await h.redis.zrange(key, "0", "-1", "WITHSCORES");
      else if (type === "stream") value = await h.redis.xrange(key, "-", "+");
      else value = `(${type})`;
      byKey.set(key, `${key} ${JSON.stringify(value)}`);
    }
  } while (cursor !== "0");
  return { keys: byKey.size, text: [...byKey.values()].join("\n"), byKey };
}

async function allPostgresRows(): Promise<Map<string, string>> {
  const tables = await h.db.$queryRaw<{ tablename: string }[]>`
    SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`;
  const out = new Map<string, string>();
  for (const { tablename } of tables) {
    // A whole row as text: every column, bytea as hex, JSON as written.
    const rows = await h.db.$queryRawUnsafe<{ row: string }[]>(
      `SELECT t::text AS row FROM "${tablename.replaceAll('"', '""')}" t`,
    );
    out.set(tablename, rows.map((r) => r.row).join("\n"));
  }
  return out;
}

describe("a planted secret", () => {
  it("reaches the worker that needs it, and no API response, log, row, key, export or error message", async () => {
    const { api } = await h.caller((await h.signUp("Leak")).cookie);
    const responses: { where: string; value: unknown }[] = [];
    const seen = <T>(where: string, value: T): T => {
      responses.push({ where, value });
      return value;
    };

    // The connection, and one that fails: same secret, a host that refuses.
    const { id: connectionId } = seen(
      "connections.create",
      await api.connections.create({
        name: "warehouse",
        type: "testdb",
        config: { host: "db.internal", user: "sluice", password: SECRET, token: TOKEN },
      }),
    );
    const { id: brokenId } = seen(
      "connections.create (broken)",
      await api.connections.create({
        name: "broken",
        type: "testdb",
        config: { host: "refused.test", user: "sluice", password: SECRET },
      }),
    );
    seen(
      "connections.update",
      await api.connections.update({ id: connectionId, config: { host: "db.internal", user: "sluice", port: 5433 } }),
    );

    // Pipelines that use them, a schedule, and a run started by the schedule ("run now").
    const { id: pipelineId } = seen(
      "pipelines.create",
      await api.pipelines.create({ name: "orders", definition: pipeline("orders", "warehouse") }),
    );
    const { id: brokenPipelineId } = seen(
      "pipelines.create (broken)",
      await api.pipelines.create({ name: "broken", definition: pipeline("broken", "broken") }),
    );
    const { schedule } = seen(
      "schedules.create",
      await api.schedules.create({ pipelineId, pattern: "0 3 * * *", enabled: false }),
    );
    const fired = seen("schedules.fireNow", await api.schedules.fireNow({ id: schedule.id }));
    expect(fired.outcome).toBe("STARTED");
    const runId = fired.runId!;
    const done = await fleet.waitForStatus(runId, "completed");
    expect(done.nodes.src?.out).toBe(20);

    // Positive control: the worker did receive the secret (the source emits its digest, never the secret).
    const tail = seen("runs.tail", await api.runs.tail({ runId, nodeId: "out" }));
    expect(JSON.stringify(tail)).toContain(digest(SECRET));

    const { id: brokenRunId } = seen("runs.start (broken)", await api.runs.start({ pipelineId: brokenPipelineId }));
    const failed = await fleet.waitForStatus(brokenRunId, "failed");
    expect(failed.error).toContain("refused.test");
    await reconcileRuns({ db: h.db, redis: h.redis, keys: h.deps.keys });

    // Every read the UI makes.
    seen("connections.list", await api.connections.list());
    seen("connections.get", await api.connections.get({ id: connectionId }));
    seen("connections.get (broken)", await api.connections.get({ id: brokenId }));
    seen("connections.types", await api.connections.types());
    const ok = seen("connections.test", await api.connections.test({ id: connectionId }));
    expect(ok.ok).toBe(true);
    // The runtime's own answers quote the secret: what comes back must have it cut out.
    const refused = seen("connections.test (refused)", await api.connections.test({ id: brokenId }));
    expect(refused).toMatchObject({ ok: false, problem: "host-unreachable" });
    expect(refused.message).toContain("[redacted]");
    const thrown = seen(
      "connections.test (draft that throws)",
      await api.connections.test({
        id: connectionId,
        draft: { type: "testdb", config: { host: "throws.test", user: "sluice" } },
      }),
    );
    expect(thrown.message).toContain("[redacted]");
    seen("connections.discover", await api.connections.discover({ id: connectionId }));
    seen(
      "connections.discover (sample)",
      await api.connections.discover({ id: connectionId, object: "orders", sample: 5 }),
    );
    const discoverError = await rejects(api.connections.discover({ id: brokenId }));
    seen("connections.discover (error)", { code: discoverError.code, message: discoverError.message });
    const invalid = await rejects(
      api.connections.create({ name: "bad", type: "testdb", config: { host: "h", user: "", password: SECRET } }),
    );
    seen("connections.create (invalid)", { message: invalid.message, cause: String(invalid.cause) });

    const got = seen("pipelines.get", await api.pipelines.get({ id: pipelineId }));
    seen("pipelines.list", await api.pipelines.list());
    seen("runs.get", await api.runs.get({ runId }));
    const brokenRun = seen("runs.get (broken)", await api.runs.get({ runId: brokenRunId }));
    expect(brokenRun.status).toBe("FAILED");
    expect(brokenRun.error).toContain("refused.test");
    seen("runs.list", await api.runs.list());
    const letters = seen("runs.deadLetters", await api.runs.deadLetters({ runId }));
    expect(letters.total).toBe(1);
    seen("schedules.list", await api.schedules.list());
    seen("schedules.get", await api.schedules.get({ id: schedule.id }));
    for (const id of [runId, brokenRunId]) {
      for await (const snapshot of await api.runs.live({ runId: id })) {
        seen(`runs.live ${id}`, snapshot);
        break;
      }
    }
    seen("health", await checkHealth(h.deps));

    for (const r of responses) expectClean(`the API response of ${r.where}`, JSON.stringify(r.value));
    expect(responses.length).toBeGreaterThan(25);

    // The export names the connection and nothing more.
    const exported = writePipelineText(got.version.definition, "yaml");
    expect(exported).toContain("connection: warehouse");
    expectClean("the pipeline export", exported);

    // Postgres: every row of every table, the sealed column included (it holds ciphertext only).
    const rows = await allPostgresRows();
    expect(rows.get("Connection")).toContain("db.internal");
    expect(rows.get("Run")).toContain("refused.test");
    for (const [table, text] of rows) expectClean(`Postgres table ${table}`, text);
    const stored = await h.db.connection.findUniqueOrThrow({ where: { id: connectionId } });
    const opened = await openJson<Record<string, string>>(
      fleet.secretKey,
      Buffer.from(stored.secrets!).toString("utf8"),
      secretsContext(connectionId),
    );
    expect(opened).toEqual({ password: SECRET, token: TOKEN });

    // Redis: every key under the prefix (run state, the start jobs, tails, dead letters, schedules).
    const redis = await allRedisValues(fleet.prefix);
    expect(redis.keys).toBeGreaterThan(10);
    expectClean("Redis", redis.text);
    const sealed = await h.redis.hget(h.deps.keys.runMeta(runId), "connections");
    const { connections: bundle } = readRunConnections<ConnectionBundle>(
      await openJson(fleet.secretKey, sealed!, connectionsContext(runId)),
    );
    expect(bundle.warehouse?.config).toMatchObject({ password: SECRET, token: TOKEN, port: 5433 });
    expect(redis.text).toContain(sealed!);

    // Logs of the worker and anything printed to the console meanwhile.
    await waitFor(() => logs.some((l) => l.includes("connected")), 5000);
    expect(logs.join("\n")).toContain("db.internal");
    for (const line of logs) expectClean("the logs", line);
  });
});
