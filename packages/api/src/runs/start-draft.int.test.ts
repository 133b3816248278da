import { randomBytes } from "node:crypto";
import { emptyDefinition, type PipelineDefinition } from "@sluice/pipeline/definition";
import type { PipelineProblem } from "@sluice/pipeline/issues";
import { type ApiHarness, createApiHarness, rejects } from "@sluice/test-kit/api-harness";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import superjson, { type SuperJSONResult } from "superjson";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sealSecrets } from "../connections/connection-secrets";
import { createRequestContext } from "../context";
import { appRouter } from "../root";
import { startRun } from "./run-service";

let h: ApiHarness;
beforeAll(async () => {
  h = await createApiHarness("start-draft");
});
afterAll(async () => {
  await h?.close();
});

function slice(where = "status = 200"): PipelineDefinition {
  const def = emptyDefinition("draft-slice");
  def.spec.nodes.push(
    { id: "gen", type: "source.generator", config: { rate: 10 } },
    { id: "keep", type: "transform.filter", config: { where } },
    { id: "out", type: "sink.console", config: {} },
  );
  def.spec.edges.push({ from: "gen", to: "keep" }, { from: "keep", to: "out" });
  return def;
}

async function pipelineWith(def: PipelineDefinition) {
  const { cookie, email } = await h.signUp("Drafter");
  const { api } = await h.caller(cookie);
  const { id } = await api.pipelines.create({ name: `p-${Math.random()}`, definition: def });
  return { api, id, cookie, email };
}

const PROBLEM_KEYS = ["nodeId", "edgeIndex", "path", "message"];

/** runs.start as the web app calls it, for what the error formatter puts on the wire. */
async function startOverHttp(cookie: string, input: unknown) {
  const req = new Request("http://sluice.test/api/trpc/runs.start", {
    method: "POST",
    headers: { cookie, "content-type": "application/json" },
    body: JSON.stringify(superjson.serialize(input)),
  });
  const res = await fetchRequestHandler({
    endpoint: "/api/trpc",
    req,
    router: appRouter,
    createContext: ({ req, resHeaders }) => createRequestContext(h.deps, req, resHeaders),
  });
  const answer = (await res.json()) as { error: SuperJSONResult };
  const error = superjson.deserialize<{ data: { problems: PipelineProblem[] | null } }>(answer.error);
  return { status: res.status, data: error.data };
}

const versionCount = (pipelineId: string) => h.db.pipelineVersion.count({ where: { pipelineId } });

describe("starting the editor's draft", () => {
  it("refuses a draft with errors, naming node and field, and saves no version and records no run", async () => {
    const { api, id, cookie } = await pipelineWith(slice());
    const broken = slice("statsu = 200");
    broken.spec.nodes.push({ id: "loose", type: "sink.console", config: {} });
    const err = await rejects(
      api.runs.start({ pipelineId: id, draft: { baseVersion: 1, definition: broken, message: "try" } }),
    );
    expect(err.code).toBe("BAD_REQUEST");
    expect(err.message).toMatch(/^The draft has \d+ problems? to fix before it can start\. /);
    expect(err.message).toContain("Node keep: ");
    expect(err.message).toContain("Did you mean “status”?");
    expect(err.message).not.toContain("config.where");
    // Over the wire, each problem with its node and field, for the Start dialog to point at.
    const wire = await startOverHttp(cookie, { pipelineId: id, draft: { baseVersion: 1, definition: broken } });
    expect(wire.status).toBe(400);
    expect(wire.data.problems).toContainEqual({
      nodeId: "keep",
      path: ["config", "where"],
      message: expect.stringMatching(/^Node keep: .*Did you mean “status”\?$/),
    });
    expect(wire.data.problems?.some((p) => p.nodeId === "loose" && p.message.includes("loose"))).toBe(true);
    expect(wire.data.problems?.every((p) => Object.keys(p).every((k) => PROBLEM_KEYS.includes(k)))).toBe(true);
    expect(await versionCount(id)).toBe(1);
    expect((await h.db.pipeline.findUniqueOrThrow({ where: { id } })).latestVersion).toBe(1);
    expect(await h.db.run.count({ where: { pipelineId: id } })).toBe(0);
  });

  it("refuses a draft whose node names a connection the workspace lacks, saving nothing", async () => {
    const { api, id } = await pipelineWith(slice());
    const def = slice();
    def.spec.nodes.push({ id: "db", type: "sink.postgres", config: { connection: "nowhere", table: "t" } });
    def.spec.edges.push({ from: "keep", to: "db" });
    const err = await rejects(api.runs.start({ pipelineId: id, draft: { baseVersion: 1, definition: def } }));
    expect(err.code).toBe("BAD_REQUEST");
    expect(err.message).toBe(
      'The draft has 1 problem to fix before it can start. Node db: There is no connection named "nowhere".',
    );
    expect(await versionCount(id)).toBe(1);
  });

  it("refuses a draft whose alert rule names a missing or non-webhook connection, saving nothing", async () => {
    const { api, id } = await pipelineWith(slice());
    await api.connections.create({
      name: "warehouse",
      type: "postgres",
      config: { host: "127.0.0.1", database: "x", user: "u", password: "p", sslmode: "disable" },
    });
    const def = slice();
    def.spec.alerts = [{ id: "failed", when: "runFailed", severity: "critical", connection: "ops-slack" }];
    const missing = await rejects(api.runs.start({ pipelineId: id, draft: { baseVersion: 1, definition: def } }));
    expect(missing.code).toBe("BAD_REQUEST");
    expect(missing.message).toBe(
      'The draft has 1 problem to fix before it can start. Alert rule "failed": there is no connection named "ops-slack".',
    );
    def.spec.alerts = [{ id: "failed", when: "runFailed", severity: "critical", connection: "warehouse" }];
    const wrongType = await rejects(api.runs.start({ pipelineId: id, draft: { baseVersion: 1, definition: def } }));
    expect(wrongType.message).toContain("is a postgres connection; a rule needs a webhook connection");
    expect(await versionCount(id)).toBe(1);
    expect(await h.db.run.count({ where: { pipelineId: id } })).toBe(0);
  });

  it("refuses a draft whose connection's secrets cannot be opened, saving no version and recording no run", async () => {
    const { api, id } = await pipelineWith(slice());
    const { id: connectionId } = await api.connections.create({
      name: "warehouse",
      type: "postgres",
      config: { host: "127.0.0.1", database: "x", user: "u", password: "p", sslmode: "disable" },
    });
    // As if SLUICE_SECRET_KEY had changed since the connection was saved.
    await h.db.connection.update({
      where: { id: connectionId },
      data: { secrets: await sealSecrets(randomBytes(32), connectionId, { password: "p" }) },
    });
    const def = slice();
    def.spec.nodes.push({ id: "db", type: "sink.postgres", config: { connection: "warehouse", table: "t" } });
    def.spec.edges.push({ from: "keep", to: "db" });
    const err = await rejects(api.runs.start({ pipelineId: id, draft: { baseVersion: 1, definition: def } }));
    expect(err.code).toBe("BAD_REQUEST");
    expect(err.message).toContain('cannot open the secrets of connection "warehouse"');
    expect(await versionCount(id)).toBe(1);
    expect((await h.db.pipeline.findUniqueOrThrow({ where: { id } })).latestVersion).toBe(1);
    expect(await h.db.run.count({ where: { pipelineId: id } })).toBe(0);
  });

  it("takes back the draft's version when the start job cannot be queued", async () => {
    const { api, id, email } = await pipelineWith(slice());
    const actor = {
      workspaceId: (await h.db.pipeline.findUniqueOrThrow({ where: { id } })).workspaceId,
      userId: (await h.db.user.findUniqueOrThrow({ where: { email } })).id,
    };
    // A control queue on a Redis nobody listens at: the add fails after the version and the run were written.
    const connection = new Redis("redis://127.0.0.1:1", {
      lazyConnect: true,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    const deadQueue = new Queue("control", { connection });
    deadQueue.on("error", () => {}); // its refused connection is this test's premise, not news
    try {
      const input = {
        pipelineId: id,
        parameters: {},
        draft: { baseVersion: 1, definition: slice("status = 1"), message: "" },
      };
      const err = await rejects(startRun({ ...h.deps, controlQueue: deadQueue }, actor, input));
      expect(err.code).toBe("SERVICE_UNAVAILABLE");
    } finally {
      await deadQueue.close().catch(() => {});
      connection.disconnect();
    }
    expect(await versionCount(id)).toBe(1);
    expect((await h.db.pipeline.findUniqueOrThrow({ where: { id } })).latestVersion).toBe(1);
    expect(await h.db.run.count({ where: { pipelineId: id } })).toBe(0);
    // Saving goes on from where it was: the next save is version 2 again.
    expect((await api.runs.start({ pipelineId: id, draft: { baseVersion: 1, definition: slice() } })).version).toBe(2);
  });

  it("saves a valid draft as the next version and runs that version", async () => {
    const { api, id } = await pipelineWith(slice());
    const def = slice("status = 404");
    const started = await api.runs.start({
      pipelineId: id,
      draft: { baseVersion: 1, definition: def, message: "404s" },
    });
    expect(started.version).toBe(2);
    const saved = await h.db.pipelineVersion.findUniqueOrThrow({
      where: { pipelineId_number: { pipelineId: id, number: 2 } },
    });
    expect(saved.message).toBe("404s");
    expect((await api.runs.get({ runId: started.id })).version).toBe(2);
    const job = await h.deps.controlQueue.getJob(`start-${started.id}`);
    expect(job?.data.definition.spec.nodes.find((n: { id: string }) => n.id === "keep")?.config).toEqual({
      where: "status = 404",
    });
  });

  it("refuses a draft for a pipeline that is running without saving it", async () => {
    const { api, id } = await pipelineWith(slice());
    await api.runs.start({ pipelineId: id });
    const err = await rejects(api.runs.start({ pipelineId: id, draft: { baseVersion: 1, definition: slice() } }));
    expect(err.code).toBe("CONFLICT");
    expect(await versionCount(id)).toBe(1);
  });

  it("refuses a stale draft as a conflict and a version together with a draft as bad input", async () => {
    const { api, id } = await pipelineWith(slice());
    await api.pipelines.saveVersion({ id, baseVersion: 1, definition: slice("status = 500") });
    const stale = await rejects(api.runs.start({ pipelineId: id, draft: { baseVersion: 1, definition: slice() } }));
    expect(stale.code).toBe("CONFLICT");
    const both = await rejects(
      api.runs.start({ pipelineId: id, version: 1, draft: { baseVersion: 2, definition: slice() } }),
    );
    expect(both.code).toBe("BAD_REQUEST");
    expect(await versionCount(id)).toBe(2);
    expect(await h.db.run.count({ where: { pipelineId: id } })).toBe(0);
  });
});
