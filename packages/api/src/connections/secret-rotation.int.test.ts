import { randomBytes } from "node:crypto";
import { openSealedConnections } from "@sluice/engine/sealed-connections";
import { connectionsContext, previewConnectionsContext } from "@sluice/pipeline/control/protocol";
import {
  resealJson,
  type SecretKeyring,
  type SecretKeys,
  sealedKeyId,
  secretKeyId,
} from "@sluice/pipeline/control/secret-box";
import { type ApiHarness, createApiHarness, rejects } from "@sluice/test-kit/api-harness";
import {
  testConnectionRuntimes,
  testConnectionTypes,
  testDbPipeline,
  testNodeCatalog,
} from "@sluice/test-kit/test-connections";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sealSecrets } from "./connection-secrets";
import { runConnectionBundle, sealConnections } from "./run-connections";
import { runConnectionBundles, type SealedValue, storedConnectionSecrets } from "./sealed-values";
import { rotateSecretKey, type SecretRotationDeps, secretCensus } from "./secret-rotation";

// Rotating SLUICE_SECRET_KEY from A to B on the real PostgreSQL and Redis: connections stored under A (and one in
// the format written before sealed values named their key), a run and two jobs carrying bundles sealed under A;
// then every process gets B as the current key and A as a previous one, the rotation re-seals everything, and
// everything opens with B alone, the way the workers open what they are handed.

const A = randomBytes(32);
const B = randomBytes(32);
const C = randomBytes(32);
const AB: SecretKeyring = { current: B, previous: [A] };

let h: ApiHarness;
beforeAll(async () => {
  h = await createApiHarness("secret-rotation", {
    catalog: testNodeCatalog,
    connectionTypes: testConnectionTypes,
    connectionRuntimes: testConnectionRuntimes,
    secretKey: A,
  });
});
afterAll(async () => {
  await h?.close();
});

function rotation(secretKey: SecretKeyring): SecretRotationDeps {
  return {
    db: h.db,
    redis: h.redis,
    keys: h.deps.keys,
    secretKey,
  };
}

/** A value as it was written before sealed values named their key: the same ciphertext, without the key id. */
function oldFormat(box: string): string {
  const [, , iv, sealed] = box.split(".");
  return `v1.${iv}.${sealed}`;
}

const storedBox = async (id: string) =>
  Buffer.from((await h.db.connection.findUniqueOrThrow({ where: { id } })).secrets!).toString("utf8");

/**
 * The connection `name` of the workspace, with its secrets, as a worker gets it: read and opened by the API with
 * `keys`, sealed into a run's bundle, and opened by the engine's own code with `keys` again.
 */
async function asWorkerSeesIt(keys: SecretKeys, workspaceId: string, name: string) {
  const deps = { db: h.db, secretKey: keys, connectionTypes: testConnectionTypes, destinations: h.deps.destinations };
  const bundle = await runConnectionBundle(deps, workspaceId, new Map([[name, ["src"]]]));
  const context = connectionsContext(`run-${name}`);
  const box = await sealConnections(bundle!, context);
  const opened = await openSealedConnections(h.deps.destinations, { box, secretKey: keys, context });
  return opened.connections[name]?.config;
}

type Api = Awaited<ReturnType<ApiHarness["caller"]>>["api"];

const passwords = new Map<string, string>();
let api: Api;
let cookie = "";
let previewData: Record<string, unknown>;
let workspaceId = "";
let slug = "";
let runId = "";

describe("rotating the secret key from A to B while Sluice runs", () => {
  it("starts from connections, a run and jobs sealed under A, one connection in the old format", async () => {
    cookie = (await h.signUp("Rot")).cookie;
    api = (await h.caller(cookie)).api;
    const me = await api.auth.me();
    workspaceId = me!.workspaces[0]!.id;
    slug = (await h.db.workspace.findUniqueOrThrow({ where: { id: workspaceId } })).slug;
    for (const name of ["warehouse", "replica", "archive", "legacy"]) {
      const password = `pw-${name}-${randomBytes(6).toString("hex")}`;
      passwords.set(name, password);
      await api.connections.create({ name, type: "testdb", config: { host: `${name}.internal`, user: "u", password } });
    }
    await api.connections.create({ name: "plain", type: "othermq", config: { url: "amqp://mq" } });
    // "legacy" as the key's first version wrote it.
    const legacy = await h.db.connection.findFirstOrThrow({ where: { workspaceId, name: "legacy" } });
    await h.db.connection.update({
      where: { id: legacy.id },
      data: { secrets: new Uint8Array(Buffer.from(oldFormat(await storedBox(legacy.id)), "utf8")) },
    });
    expect(await asWorkerSeesIt(A, workspaceId, "legacy")).toMatchObject({ password: passwords.get("legacy") });

    // A run waiting for a worker (its start job), and one a worker took (its meta carries the bundle from then on).
    const { id: pipelineId } = await api.pipelines.create({ name: "sync", definition: testDbPipeline("warehouse") });
    runId = (await api.runs.start({ pipelineId })).id;
    const start = await h.deps.controlQueue.getJob(`start-${runId}`);
    await h.redis.hset(h.deps.keys.runMeta(runId), { status: "running", connections: start!.data.connections });
    // A preview waiting for a worker.
    const bundle = await runConnectionBundle({ ...h.deps, secretKey: A }, workspaceId, new Map([["replica", ["src"]]]));
    const previewId = "preview-rotation";
    previewData = {
      v: 1,
      definition: testDbPipeline("replica"),
      parameters: {},
      connections: await sealConnections(bundle!, previewConnectionsContext(previewId)),
      limit: 10,
      timeoutMs: 1000,
    };
    await h.deps.previewQueue.add("preview", previewData, { jobId: previewId });

    const census = await secretCensus(rotation(AB));
    expect(census.currentKeyId).toBe(await secretKeyId(B));
    expect(census.tallies).toEqual([
      { keyId: await secretKeyId(B), role: "current", connections: 0, runs: 0, jobs: 0 },
      { keyId: await secretKeyId(A), role: "previous", connections: 3, runs: 1, jobs: 2 },
      { keyId: null, role: "old format", connections: 1, runs: 0, jobs: 0 },
    ]);
    expect(census.problems).toEqual([]);
  });

  it("keeps serving while every process has B as current and A as previous: new secrets are sealed under B", async () => {
    h.deps.secretKey = AB;
    api = (await h.caller(cookie)).api;
    passwords.set("fresh", "pw-fresh");
    const { id } = await api.connections.create({
      name: "fresh",
      type: "testdb",
      config: { host: "fresh.internal", user: "u", password: "pw-fresh" },
    });
    expect(sealedKeyId(await storedBox(id))).toBe(await secretKeyId(B));
    // What A sealed still opens, for the API and for the workers.
    expect(await asWorkerSeesIt(AB, workspaceId, "warehouse")).toMatchObject({ password: passwords.get("warehouse") });
    expect(await asWorkerSeesIt(AB, workspaceId, "legacy")).toMatchObject({ password: passwords.get("legacy") });
  });

  it("re-seals only a value that did not change since it was read", async () => {
    const values: SealedValue[] = (await storedConnectionSecrets(h.db, 100).next()).value;
    const first = values.find((v) => v.label === `connection "archive" in workspace "${slug}"`);
    const row = await h.db.connection.findFirstOrThrow({ where: { workspaceId, name: "archive" } });
    // Someone saves the connection with a new secret between the rotation's read and its write.
    await api.connections.update({
      id: row.id,
      config: { host: `${row.name}.internal`, user: "u", password: "edited" },
    });
    passwords.set(row.name, "edited");
    const edited = await storedBox(row.id);
    expect(await first!.replace((await resealJson(AB, first!.box, first!.context))!)).toBe(false);
    expect(await storedBox(row.id)).toBe(edited);
    expect(await asWorkerSeesIt(B, workspaceId, row.name)).toMatchObject({ password: "edited" });

    // The same for a run's bundle in Redis.
    const [run]: SealedValue[] = (await runConnectionBundles(h.redis, h.deps.keys, 100).next()).value;
    expect(run!.label).toBe(`run ${runId}`);
    const metaKey = h.deps.keys.runMeta(runId);
    await h.redis.hset(metaKey, "connections", "written-meanwhile");
    expect(await run!.replace((await resealJson(AB, run!.box, run!.context))!)).toBe(false);
    expect(await h.redis.hget(metaKey, "connections")).toBe("written-meanwhile");
    await h.redis.hset(metaKey, "connections", run!.box);
  });

  it("leaves every value openable when it stops half-way, and finishes when run again", async () => {
    const edited = async () =>
      h.db.connection.findMany({ select: { id: true, updatedAt: true }, orderBy: { id: "asc" } });
    const before = await edited();
    // As if the rotation had stopped after its first batch of two connections.
    const batch: SealedValue[] = (await storedConnectionSecrets(h.db, 2).next()).value;
    for (const value of batch) {
      const next = await resealJson(AB, value.box, value.context);
      if (next) expect(await value.replace(next)).toBe(true);
    }
    for (const name of ["warehouse", "replica", "archive", "legacy"]) {
      expect(await asWorkerSeesIt(AB, workspaceId, name)).toMatchObject({ password: passwords.get(name) });
    }

    const report = await rotateSecretKey(rotation(AB), { batchSize: 2 });
    expect(report.problems).toEqual([]);
    expect(report.resealed.runs).toBe(1);
    expect(report.resealed.jobs).toBe(2);
    expect(report.resealed.connections + report.alreadyCurrent.connections).toBe(5);
    // Re-sealing is no edit: each connection still says when it was last changed.
    expect(await edited()).toEqual(before);
    const census = await secretCensus(rotation(AB));
    expect(census.tallies).toEqual([
      { keyId: await secretKeyId(B), role: "current", connections: 5, runs: 1, jobs: 2 },
      { keyId: await secretKeyId(A), role: "previous", connections: 0, runs: 0, jobs: 0 },
    ]);
  });

  it("is harmless to run again", async () => {
    const before = await h.db.connection.findMany({ orderBy: { id: "asc" } });
    const again = await rotateSecretKey(rotation(AB));
    expect(again.resealed).toEqual({ connections: 0, runs: 0, jobs: 0 });
    expect(again.alreadyCurrent).toEqual({ connections: 5, runs: 1, jobs: 2 });
    // Untouched, down to the time a connection says it was last edited.
    expect(await h.db.connection.findMany({ orderBy: { id: "asc" } })).toEqual(before);
  });

  it("opens everything with B alone afterwards, the way the workers do", async () => {
    h.deps.secretKey = { current: B, previous: [] };
    api = (await h.caller(cookie)).api;
    for (const name of ["warehouse", "replica", "archive", "legacy", "fresh"]) {
      expect(await asWorkerSeesIt(B, workspaceId, name)).toEqual({
        host: `${name}.internal`,
        port: 5432,
        user: "u",
        password: passwords.get(name),
      });
    }
    const meta = await h.redis.hget(h.deps.keys.runMeta(runId), "connections");
    const run = await openSealedConnections(h.deps.destinations, {
      box: meta!,
      secretKey: B,
      context: connectionsContext(runId),
    });
    expect(run.connections.warehouse?.config).toMatchObject({ password: passwords.get("warehouse") });
    const start = await h.deps.controlQueue.getJob(`start-${runId}`);
    const queued = await openSealedConnections(h.deps.destinations, {
      box: start!.data.connections,
      secretKey: B,
      context: connectionsContext(runId),
    });
    expect(queued.connections.warehouse?.config).toMatchObject({ password: passwords.get("warehouse") });
    const preview = await h.deps.previewQueue.getJob("preview-rotation");
    // Only the bundle changed in the job.
    expect({ ...preview!.data, connections: "" }).toEqual({ ...previewData, connections: "" });
    const previewed = await openSealedConnections(h.deps.destinations, {
      box: preview!.data.connections,
      secretKey: B,
      context: previewConnectionsContext("preview-rotation"),
    });
    expect(previewed.connections.replica?.config).toMatchObject({ password: passwords.get("replica") });
    // And a run starts with B alone, its bundle sealed under B.
    const { id: pipelineId } = await api.pipelines.create({ name: "after", definition: testDbPipeline("legacy") });
    const { id: after } = await api.runs.start({ pipelineId });
    const job = await h.deps.controlQueue.getJob(`start-${after}`);
    expect(sealedKeyId(job!.data.connections)).toBe(await secretKeyId(B));
  });
});

describe("a value sealed under a key no process was given", () => {
  it("is named by its connection and key id, never by its secret, and left as it is", async () => {
    const { api: lost } = await h.caller((await h.signUp("Lost")).cookie);
    const me = await lost.auth.me();
    const lostWorkspace = me!.workspaces[0]!.id;
    const lostSlug = (await h.db.workspace.findUniqueOrThrow({ where: { id: lostWorkspace } })).slug;
    const { id } = await lost.connections.create({
      name: "orphan",
      type: "testdb",
      config: { host: "orphan.internal", user: "u", password: "pw-orphan-secret" },
    });
    const underC = await sealSecrets(C, id, { password: "pw-orphan-secret" });
    await h.db.connection.update({ where: { id }, data: { secrets: underC } });
    const c = await secretKeyId(C);
    const expected = {
      label: `connection "orphan" in workspace "${lostSlug}"`,
      message: `it was sealed with key ${c}, which is neither SLUICE_SECRET_KEY nor one of SLUICE_SECRET_KEY_PREVIOUS`,
    };

    const census = await secretCensus(rotation({ current: B, previous: [] }));
    expect(census.problems).toEqual([expected]);
    expect(census.tallies.find((t) => t.keyId === c)).toMatchObject({ role: "not configured", connections: 1 });
    const report = await rotateSecretKey(rotation({ current: B, previous: [] }));
    expect(report.problems).toEqual([expected]);
    expect(JSON.stringify([census, report])).not.toContain("pw-orphan-secret");
    expect(Buffer.from((await h.db.connection.findUniqueOrThrow({ where: { id } })).secrets!)).toEqual(
      Buffer.from(underC),
    );

    // The API says the same when a run needs it.
    const { id: pipelineId } = await lost.pipelines.create({ name: "orphaned", definition: testDbPipeline("orphan") });
    const err = await rejects(lost.runs.start({ pipelineId }));
    expect(err.message).toBe(
      `cannot open the secrets of connection "orphan": they were sealed with key ${c}, which this server does not have; add that key to SLUICE_SECRET_KEY_PREVIOUS, or enter the secrets anew`,
    );
  });
});
