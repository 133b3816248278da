import { randomBytes } from "node:crypto";
import { readRunConnections } from "@sluice/nodes/destination-policy";
import type { ConnectionBundle } from "@sluice/nodes/runtime-contract";
import { connectionsContext } from "@sluice/pipeline/control/protocol";
import { openJson } from "@sluice/pipeline/control/secret-box";
import { type ApiHarness, createApiHarness, rejects } from "@sluice/test-kit/api-harness";
import {
  testConnectionRuntimes,
  testConnectionTypes,
  testDbPipeline,
  testNodeCatalog,
} from "@sluice/test-kit/test-connections";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { testConnection } from "./connection-probe";
import { sealSecrets, secretsContext } from "./connection-secrets";

const options = {
  catalog: testNodeCatalog,
  connectionTypes: testConnectionTypes,
  connectionRuntimes: testConnectionRuntimes,
};

let h: ApiHarness;
beforeAll(async () => {
  h = await createApiHarness("connections", options);
});
afterAll(async () => {
  await h?.close();
});

const password = () => `pw-${randomBytes(8).toString("hex")}`;

async function signedIn(name = "Conn") {
  const { api } = await h.caller((await h.signUp(name)).cookie);
  const me = await api.auth.me();
  return { api, workspaceId: me!.workspaces[0]!.id };
}

type Api = Awaited<ReturnType<typeof signedIn>>["api"];

/** A testdb connection called "warehouse" on db.internal with the password given. */
function createWarehouse(api: Api, secret: string) {
  return api.connections.create({
    name: "warehouse",
    type: "testdb",
    config: { host: "db.internal", user: "sluice", password: secret },
  });
}

async function storedSecrets(id: string): Promise<Record<string, unknown>> {
  const row = await h.db.connection.findUniqueOrThrow({ where: { id } });
  if (!row.secrets) return {};
  return openJson(h.deps.secretKey!, Buffer.from(row.secrets).toString("utf8"), secretsContext(id));
}

describe("connections", () => {
  it("describes the connection types for the form, secret fields marked", async () => {
    const { api } = await signedIn();
    const types = await api.connections.types();
    expect(types.map((t) => t.type)).toEqual(["othermq", "testdb"]);
    const testdb = types.find((t) => t.type === "testdb")!;
    expect(testdb).toMatchObject({
      title: "Test DB",
      secretFields: ["password", "token"],
      canTest: true,
      canDiscover: true,
    });
    const properties = testdb.configSchema.properties as Record<string, { secret?: boolean; default?: unknown }>;
    expect(properties.password?.secret).toBe(true);
    expect(properties.host?.secret).toBeUndefined();
    expect(properties.port?.default).toBe(5432);
    expect(types.find((t) => t.type === "othermq")).toMatchObject({ canTest: false, canDiscover: false });
  });

  it("stores the secret fields sealed, apart from the rest, and never returns them", async () => {
    const { api } = await signedIn();
    const secret = password();
    const { id } = await createWarehouse(api, secret);
    const row = await h.db.connection.findUniqueOrThrow({ where: { id } });
    expect(row.config).toEqual({ host: "db.internal", user: "sluice" });
    expect(row.secretFields).toEqual(["password"]);
    expect(Buffer.from(row.secrets!).toString("utf8")).not.toContain(secret);
    expect(await storedSecrets(id)).toEqual({ password: secret });
    // Bound to its row: the same box does not open as another connection's.
    await expect(
      openJson(h.deps.secretKey!, Buffer.from(row.secrets!).toString("utf8"), secretsContext("another")),
    ).rejects.toThrow();

    const view = await api.connections.get({ id });
    expect(view).toMatchObject({
      name: "warehouse",
      type: "testdb",
      knownType: true,
      config: { host: "db.internal", user: "sluice" },
      secrets: { password: true, token: false },
      usedBy: [],
    });
    expect(JSON.stringify(await api.connections.list())).not.toContain(secret);
    expect(
      (await rejects(api.connections.create({ name: "warehouse", type: "othermq", config: { url: "x" } }))).code,
    ).toBe("CONFLICT");
  });

  it("names the field that is wrong, and the type that does not exist", async () => {
    const { api } = await signedIn();
    const missing = await rejects(
      api.connections.create({ name: "w", type: "testdb", config: { host: "h", user: "u", port: "5432" } }),
    );
    expect(missing.code).toBe("BAD_REQUEST");
    expect(missing.message).toContain("config.port:");
    expect(missing.message).toContain("config.password:");
    // What the error formatter turns into data.fields for the form.
    expect(missing.cause).toBeInstanceOf(z.ZodError);
    expect((missing.cause as z.ZodError).issues.map((i) => i.path.join("."))).toEqual([
      "config.port",
      "config.password",
    ]);
    const type = await rejects(api.connections.create({ name: "w", type: "testbd", config: {} }));
    expect(type.message).toContain('type: unknown connection type "testbd" (did you mean "testdb"?)');
    expect((type.cause as z.ZodError).issues.map((i) => i.path.join("."))).toEqual(["type"]);
    const name = await rejects(api.connections.create({ name: "my warehouse", type: "othermq", config: { url: "x" } }));
    expect(name.message).toContain("name:");
    expect(await h.db.connection.count({ where: { name: "w" } })).toBe(0);
  });

  it("updates: a secret left out is kept, null clears it, a value replaces it; the rest is replaced", async () => {
    const { api } = await signedIn();
    const [first, token, second] = [password(), password(), password()];
    const { id } = await api.connections.create({
      name: "warehouse",
      type: "testdb",
      config: { host: "a", user: "u", password: first, token },
    });
    let view = await api.connections.update({ id, config: { host: "b", user: "u", port: 6432 } });
    expect(view.config).toEqual({ host: "b", user: "u", port: 6432 });
    expect(view.secrets).toEqual({ password: true, token: true });
    expect(await storedSecrets(id)).toEqual({ password: first, token });

    view = await api.connections.update({ id, config: { host: "b", user: "u", token: null, password: second } });
    expect(view.secrets).toEqual({ password: true, token: false });
    expect(view.config).toEqual({ host: "b", user: "u" });
    expect(await storedSecrets(id)).toEqual({ password: second });
    expect(JSON.stringify(view)).not.toContain(second);

    // Clearing a required secret is refused, naming it, and changes nothing.
    const cleared = await rejects(api.connections.update({ id, config: { host: "c", user: "u", password: null } }));
    expect(cleared.message).toContain("config.password:");
    expect((await api.connections.get({ id })).config.host).toBe("b");
  });

  it("knows which pipelines use a connection: no rename or delete while they do, unless forced", async () => {
    const { api } = await signedIn();
    const { id } = await api.connections.create({
      name: "warehouse",
      type: "testdb",
      config: { host: "a", user: "u", password: password() },
    });
    const { id: pipelineId } = await api.pipelines.create({
      name: "Orders sync",
      definition: testDbPipeline("warehouse"),
    });
    expect((await api.connections.get({ id })).usedBy).toEqual([
      { pipelineId, pipelineName: "Orders sync", nodes: ["src"] },
    ]);
    const rename = await rejects(api.connections.update({ id, name: "dwh" }));
    expect(rename.code).toBe("CONFLICT");
    expect(rename.message).toContain('"Orders sync"');
    const del = await rejects(api.connections.delete({ id }));
    expect(del.code).toBe("PRECONDITION_FAILED");
    expect(del.message).toContain('"Orders sync"');

    // The latest version counts: once it names another connection, the old one is free.
    await api.pipelines.saveVersion({ id: pipelineId, baseVersion: 1, definition: testDbPipeline("other") });
    expect((await api.connections.get({ id })).usedBy).toEqual([]);
    expect((await api.connections.update({ id, name: "other" })).name).toBe("other");
    expect((await api.connections.list()).map((c) => [c.name, c.usedBy.length])).toEqual([["other", 1]]);
    await api.connections.delete({ id, force: true });
    expect(await api.connections.list()).toEqual([]);
  });

  it("keeps every workspace's connections to itself", async () => {
    const a = await signedIn("Alice");
    const b = await signedIn("Bob");
    const { id } = await a.api.connections.create({ name: "mq", type: "othermq", config: { url: "amqp://x" } });
    expect((await rejects(b.api.connections.get({ id }))).code).toBe("NOT_FOUND");
    expect((await rejects(b.api.connections.test({ id }))).code).toBe("NOT_FOUND");
    expect((await rejects(b.api.connections.delete({ id }))).code).toBe("NOT_FOUND");
    expect(await b.api.connections.list()).toEqual([]);
  });
});

describe("testing and discovering connections", () => {
  it("tests a saved connection and says what the runtime says, with the secrets cut out", async () => {
    const { api } = await signedIn();
    const secret = password();
    const { id } = await createWarehouse(api, secret);
    const ok = await api.connections.test({ id });
    expect(ok).toMatchObject({ ok: true, problem: null, message: "connected to db.internal:5432 as sluice" });
    expect(ok.details).toEqual({ server: "testdb 1.0", session: "sluice/[redacted]", token: null });

    // A draft over the stored secrets: the password is not sent again, the stored one is used.
    const refused = await api.connections.test({
      id,
      draft: { type: "testdb", config: { host: "refused.test", user: "sluice" } },
    });
    expect(refused).toMatchObject({ ok: false, problem: "host-unreachable" });
    expect(refused.message).toBe(
      "could not connect to testdb://sluice:[redacted]@refused.test:5432: connection refused",
    );

    const thrown = await api.connections.test({
      draft: { type: "testdb", config: { host: "throws.test", user: "u", password: secret } },
    });
    expect(thrown).toMatchObject({ ok: false, problem: "other" });
    expect(thrown.message).toBe('the test failed: handshake failed for password "[redacted]" (sent as [redacted])');

    const wrongType = await rejects(api.connections.test({ id, draft: { type: "othermq", config: { url: "x" } } }));
    expect(wrongType.message).toContain("draft.type:");
    const invalid = await rejects(api.connections.test({ draft: { type: "testdb", config: { host: "x" } } }));
    expect(invalid.message).toContain("config.user:");
  });

  it("gives up after the deadline even when the runtime never answers", async () => {
    const { api, workspaceId } = await signedIn();
    const { id } = await api.connections.create({
      name: "stuck",
      type: "testdb",
      config: { host: "hang.test", user: "u", password: password() },
    });
    const started = Date.now();
    const result = await testConnection(h.deps, workspaceId, { id }, 300);
    expect(result).toMatchObject({ ok: false, problem: "timeout" });
    expect(result.message).toContain("no answer within 300 ms");
    expect(Date.now() - started).toBeLessThan(5000);
    const untestable = await api.connections.create({ name: "mq", type: "othermq", config: { url: "amqp://x" } });
    expect(await api.connections.test({ id: untestable.id })).toMatchObject({ ok: false, problem: "other" });
  });

  it("discovers objects and samples, with the secrets cut out", async () => {
    const { api } = await signedIn();
    const secret = password();
    const { id } = await createWarehouse(api, secret);
    const found = await api.connections.discover({ id });
    expect(found.objects.map((o) => o.name)).toEqual(["orders", "audit_[redacted]"]);
    expect(found.sample).toBeUndefined();
    const sampled = await api.connections.discover({ id, object: "orders", sample: 2 });
    expect(sampled.sample).toEqual([
      { id: 1, note: "pw=[redacted]" },
      { id: 2, note: "fine" },
    ]);
    await api.connections.update({ id, config: { host: "refused.test", user: "sluice" } });
    const failed = await rejects(api.connections.discover({ id }));
    expect(failed.code).toBe("UNPROCESSABLE_CONTENT");
    expect(failed.message).toBe("discovery failed: connect ECONNREFUSED testdb://sluice:[redacted]@refused.test");
  });
});

describe("runs that use connections", () => {
  it("seals the connections the run's nodes name into its start job, for that run only", async () => {
    const { api } = await signedIn();
    const secret = password();
    await createWarehouse(api, secret);
    await api.connections.create({
      name: "unused",
      type: "testdb",
      config: { host: "elsewhere", user: "x", password: password() },
    });
    const { id: pipelineId } = await api.pipelines.create({ name: "sync", definition: testDbPipeline("warehouse") });
    const { id: runId } = await api.runs.start({ pipelineId });
    const job = await h.deps.controlQueue.getJob(`start-${runId}`);
    const sealed = job?.data.connections as string;
    expect(sealed).toMatch(/^v2\.[0-9a-f]{8}\./);
    expect(sealed).not.toContain(secret);
    const opened = readRunConnections<ConnectionBundle>(
      await openJson(h.deps.secretKey!, sealed, connectionsContext(runId)),
    );
    expect(opened.connections).toEqual({
      warehouse: {
        type: "testdb",
        config: { host: "db.internal", port: 5432, user: "sluice", password: secret },
        secrets: ["password"],
      },
    });
    // Sluice's own database and Redis travel with it, so the workers (which know no DATABASE_URL) refuse them too.
    expect(opened.protectedEndpoints.map((e) => e.kind)).toEqual(["database", "redis"]);
    expect(opened.protectedEndpoints[0]).toEqual({
      ...h.deps.destinations.protectedEndpoints[0],
      addresses: expect.arrayContaining([expect.any(String)]),
    });
    await expect(openJson(h.deps.secretKey!, sealed, connectionsContext("another-run"))).rejects.toThrow();
  });

  it("refuses to start when a node names a missing connection or one of the wrong type, saying where", async () => {
    const { api } = await signedIn();
    await createWarehouse(api, "p");
    await api.connections.create({ name: "queue", type: "othermq", config: { url: "amqp://x" } });
    const typo = await api.pipelines.create({ name: "typo", definition: testDbPipeline("warehose") });
    const missing = await rejects(api.runs.start({ pipelineId: typo.id }));
    expect(missing.code).toBe("BAD_REQUEST");
    expect(missing.message).toContain('Node src: There is no connection named "warehose". Did you mean “warehouse”?');
    const wrong = await api.pipelines.create({ name: "wrong", definition: testDbPipeline("queue") });
    const mismatch = await rejects(api.runs.start({ pipelineId: wrong.id }));
    expect(mismatch.message).toContain('Node src: Connection "queue" is a othermq connection');
    expect(await h.db.run.count({ where: { pipelineId: { in: [typo.id, wrong.id] } } })).toBe(0);
  });

  it("leaves no run behind when the connections cannot be sealed into the start job", async () => {
    const { api } = await signedIn();
    await api.connections.create({
      name: "huge",
      type: "testdb",
      config: { host: "h".repeat(1_100_000), user: "u", password: "p" },
    });
    const { id: pipelineId } = await api.pipelines.create({ name: "huge", definition: testDbPipeline("huge") });
    const err = await rejects(api.runs.start({ pipelineId }));
    expect(err.message).toContain("too large to hand to the workers");
    expect(await h.db.run.count({ where: { pipelineId } })).toBe(0);
  });

  it("cannot open secrets stored with another key, and says so", async () => {
    const { api } = await signedIn();
    const { id } = await createWarehouse(api, "p");
    // As if SLUICE_SECRET_KEY had changed since the connection was saved.
    await h.db.connection.update({
      where: { id },
      data: { secrets: await sealSecrets(randomBytes(32), id, { password: "p" }) },
    });
    const { id: pipelineId } = await api.pipelines.create({ name: "sync", definition: testDbPipeline("warehouse") });
    const err = await rejects(api.runs.start({ pipelineId }));
    expect(err.message).toContain('cannot open the secrets of connection "warehouse"');
    expect(await h.db.run.count({ where: { pipelineId } })).toBe(0);
    expect((await rejects(api.connections.test({ id }))).message).toContain("cannot open the secrets");
    // Replacing every secret needs no old key.
    await api.connections.update({ id, config: { host: "h", user: "u", password: "new" } });
    expect((await api.connections.test({ id })).ok).toBe(true);
  });
});

describe("a server without SLUICE_SECRET_KEY", () => {
  let bare: ApiHarness;
  beforeAll(async () => {
    bare = await createApiHarness("connections-nokey", { ...options, secretKey: undefined });
  });
  afterAll(async () => {
    await bare?.close();
  });

  it("stores connections without secrets, refuses secrets, and refuses runs that need connections", async () => {
    const { api } = await bare.caller((await bare.signUp("Keyless")).cookie);
    const refused = await rejects(
      api.connections.create({ name: "warehouse", type: "testdb", config: { host: "h", user: "u", password: "p" } }),
    );
    expect(refused.code).toBe("BAD_REQUEST");
    expect(refused.message).toContain("set SLUICE_SECRET_KEY");
    await api.connections.create({ name: "queue", type: "othermq", config: { url: "amqp://x" } });
    expect((await api.connections.list()).map((c) => c.name)).toEqual(["queue"]);

    // A node that names a connection needs the key to hand it to the workers.
    await bare.db.connection.create({
      data: {
        workspaceId: (await bare.db.connection.findFirstOrThrow()).workspaceId,
        name: "warehouse",
        type: "testdb",
        config: { host: "h", user: "u" },
      },
    });
    const { id: pipelineId } = await api.pipelines.create({ name: "sync", definition: testDbPipeline("warehouse") });
    const err = await rejects(api.runs.start({ pipelineId }));
    expect(err.code).toBe("BAD_REQUEST");
    expect(err.message).toContain('this pipeline uses connection "warehouse"');
    expect(err.message).toContain("set SLUICE_SECRET_KEY");
    expect(await bare.db.run.count({ where: { pipelineId } })).toBe(0);
  });
});
