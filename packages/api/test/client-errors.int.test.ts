import { Prisma } from "@sluice/db/generated/prisma/client";
import { type LogEntry, recordingLogger } from "@sluice/log/logger";
import type { PipelineDefinition } from "@sluice/pipeline/definition";
import { type ApiHarness, rejects } from "@sluice/test-kit/api-harness";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import superjson, { type SuperJSONResult } from "superjson";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRequestContext, WORKSPACE_HEADER } from "../src/context";
import { handleLimitedIngestRequest } from "../src/ingest/ingest-service";
import { DEFINITION_LIMITS } from "../src/pipelines/pipeline-service";
import { appRouter } from "../src/root";
import { createCallerFactory, createTRPCRouter, publicProcedure } from "../src/trpc";
import { type Caller, createRoleHarness, type RoleFixture, samplePipeline } from "./role-fixture";

// Issue 12, finding 12: every mistake of the caller is a 4xx naming the field, and nothing of Sluice's insides
// reaches a message. Each case here answered 500 (or 502, or 503 + Retry-After) before.

let h: ApiHarness;
let fx: RoleFixture;
let editor: Caller;

beforeAll(async () => {
  ({ h, fx } = await createRoleHarness("client-errors"));
  editor = await fx.callerAs(fx.members.EDITOR.cookie, fx.workspaceId);
});
afterAll(async () => {
  await h?.close();
});

function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

describe("text, numbers and nesting the database cannot take", () => {
  it("refuses a NUL character in any text with 400 naming the field", async () => {
    const before = await h.db.pipeline.count();
    const err = await rejects(editor.pipelines.create({ name: "Orders\u0000" }));
    expect(err.code).toBe("BAD_REQUEST");
    expect(err.message).toBe("name: remove the NUL character (\\u0000): text cannot contain it");
    const search = await rejects(editor.pipelines.list({ search: "a\u0000" }));
    expect(search.message).toMatch(/^search: remove the NUL character/);
    const inConfig = await rejects(
      editor.connections.update({ id: fx.connectionId, config: { host: "db\u0000.internal", user: "u" } }),
    );
    expect(inConfig.message).toMatch(/^config\.host: remove the NUL character/);
    expect(await h.db.pipeline.count()).toBe(before);
  });

  it("refuses unpaired surrogates, which jsonb cannot store", async () => {
    const definition = { ...samplePipeline(), ui: { note: "half \ud83d" } };
    const err = await rejects(editor.pipelines.create({ name: "Surrogates", definition }));
    expect(err.code).toBe("BAD_REQUEST");
    expect(err.message).toBe("definition.ui.note: the text is not valid Unicode (it holds an unpaired surrogate)");
  });

  it("bounds version numbers to PostgreSQL's integer", async () => {
    const err = await rejects(editor.pipelines.get({ id: fx.pipelineId, version: 2 ** 31 }));
    expect(err.code).toBe("BAD_REQUEST");
    expect(err.message).toBe("version: a version number is at most 2147483647");
    const start = await rejects(editor.runs.start({ pipelineId: fx.pipelineId, version: 2 ** 40 }));
    expect(start.message).toMatch(/^version: /);
    const save = await rejects(
      editor.pipelines.saveVersion({ id: fx.pipelineId, baseVersion: 2 ** 31, definition: samplePipeline() }),
    );
    expect(save.message).toMatch(/^baseVersion: /);
  });

  it("refuses deep JSON with 400 instead of overflowing the stack", async () => {
    const before = await h.db.pipelineVersion.count();
    const definition = { ...samplePipeline(), ui: nested(20_000) };
    const err = await rejects(editor.pipelines.create({ name: "Deep", definition }));
    expect(err.code).toBe("BAD_REQUEST");
    expect(err.message).toMatch(/^definition\.ui(\.a)+: the value is nested more than 64 levels deep$/);
    expect(await h.db.pipelineVersion.count()).toBe(before);
  });
});

describe("over HTTP", () => {
  async function post(path: string, body: string): Promise<{ status: number; message: string }> {
    const req = new Request(`http://sluice.test/api/trpc/${path}`, {
      method: "POST",
      headers: {
        cookie: fx.members.EDITOR.cookie,
        [WORKSPACE_HEADER]: fx.workspaceId,
        "content-type": "application/json",
      },
      // The input as superjson wraps it on the wire (the text itself is sent as written: the deep JSON below).
      body: `{"json":${body}}`,
    });
    const res = await fetchRequestHandler({
      endpoint: "/api/trpc",
      req,
      router: appRouter,
      createContext: ({ req, resHeaders }) => createRequestContext(h.deps, req, resHeaders),
    });
    const answer = (await res.json()) as { error?: SuperJSONResult };
    const error = answer.error && superjson.deserialize<{ message: string }>(answer.error);
    return { status: res.status, message: error?.message ?? "" };
  }

  it("answers a NUL, a huge version and deep JSON with 400, not 500", async () => {
    expect(await post("pipelines.create", JSON.stringify({ name: "a\u0000b" }))).toEqual({
      status: 400,
      message: "name: remove the NUL character (\\u0000): text cannot contain it",
    });
    const version = await post(
      "pipelines.saveVersion",
      JSON.stringify({ id: fx.pipelineId, baseVersion: 2 ** 31, definition: samplePipeline() }),
    );
    expect(version.status).toBe(400);
    const deep = `{"name":"Deep","definition":${JSON.stringify(samplePipeline()).replace(/}$/, `,"ui":${'{"a":'.repeat(10_000)}1${"}".repeat(10_000)}}`)}}`;
    const answer = await post("pipelines.create", deep);
    expect(answer.status).toBe(400);
    expect(answer.message).toMatch(/^definition\.ui(\.a)+: the value is nested more than 64 levels deep$/);
  });
});

describe("definition limits", () => {
  async function latest() {
    return (await h.db.pipeline.findUniqueOrThrow({ where: { id: fx.pipelineId } })).latestVersion;
  }

  it("refuses a ui block over its limit with 413 naming it, on create, save and preview", async () => {
    const before = await h.db.pipelineVersion.count();
    const definition = { ...samplePipeline(), ui: { blob: "x".repeat(DEFINITION_LIMITS.uiBytes) } };
    const created = await rejects(editor.pipelines.create({ name: "Big ui", definition }));
    expect(created.code).toBe("PAYLOAD_TOO_LARGE");
    expect(getHTTPStatusCodeFromError(created)).toBe(413);
    expect(created.message).toBe("definition.ui: 257 KiB is more than the 256 KiB the pipeline's ui block may take");
    const saved = await rejects(
      editor.pipelines.saveVersion({ id: fx.pipelineId, baseVersion: await latest(), definition }),
    );
    expect(saved.message).toMatch(/^definition\.ui: /);
    const previewed = await rejects(editor.pipelines.preview({ definition }));
    expect(previewed.code).toBe("PAYLOAD_TOO_LARGE");
    expect(await h.db.pipelineVersion.count()).toBe(before);
  });

  it("names the node whose settings or ui are too large, and bounds their nesting", async () => {
    const big: PipelineDefinition = samplePipeline();
    big.spec.nodes[1]!.config = { where: "true", padding: "y".repeat(DEFINITION_LIMITS.nodeConfigBytes) };
    const err = await rejects(editor.pipelines.create({ name: "Big config", definition: big }));
    expect(err.code).toBe("PAYLOAD_TOO_LARGE");
    expect(err.message).toBe(
      'definition.spec.nodes.1.config (node "keep"): 65 KiB is more than the 64 KiB a node\'s settings may take',
    );
    const noted: PipelineDefinition = samplePipeline();
    noted.spec.nodes[0]!.ui = { x: 0, y: 0, sketch: "z".repeat(DEFINITION_LIMITS.nodeUiBytes) };
    expect((await rejects(editor.pipelines.create({ name: "Big node ui", definition: noted }))).message).toMatch(
      /^definition\.spec\.nodes\.0\.ui \(node "gen"\): /,
    );
    const deep: PipelineDefinition = samplePipeline();
    deep.spec.nodes[2]!.config = nested(40);
    const tooDeep = await rejects(editor.pipelines.create({ name: "Deep config", definition: deep }));
    expect(tooDeep.code).toBe("BAD_REQUEST");
    expect(tooDeep.message).toMatch(/^definition\.spec\.nodes\.2\.config(\.a)+ \(node "out"\): the value is nested/);
  });

  it("refuses a definition over the whole limit, each part within its own", async () => {
    const huge: PipelineDefinition = samplePipeline();
    const parts = Math.ceil(DEFINITION_LIMITS.bytes / (DEFINITION_LIMITS.nodeConfigBytes - 1024)) + 1;
    for (let i = 0; i < parts; i++) {
      huge.spec.nodes.push({
        id: `pad${i}`,
        type: "sink.console",
        config: { note: "w".repeat(DEFINITION_LIMITS.nodeConfigBytes - 1024) },
      });
    }
    const err = await rejects(editor.pipelines.create({ name: "Huge", definition: huge }));
    expect(err.code).toBe("PAYLOAD_TOO_LARGE");
    expect(err.message).toMatch(/^definition: 4\.\d MiB is more than the 4\.0 MiB a pipeline definition may take/);
  });

  it("keeps a definition within every limit", async () => {
    const definition = { ...samplePipeline(), ui: { blob: "x".repeat(DEFINITION_LIMITS.uiBytes - 1024) } };
    const { id } = await editor.pipelines.create({ name: "Just fits", definition });
    expect((await editor.pipelines.get({ id })).version.definition.ui).toEqual(definition.ui);
  });
});

describe("errors at the edge", () => {
  const boom = (err: unknown) =>
    publicProcedure.mutation(() => {
      throw err;
    });
  const known = (code: string, meta: Record<string, unknown> = {}) =>
    new Prisma.PrismaClientKnownRequestError("Invalid `tx.thing.create()` invocation in /srv/app.ts:83", {
      code,
      clientVersion: "7",
      meta,
    });
  const router = createTRPCRouter({
    taken: boom(known("P2002", { target: ["workspaceId", "name"] })),
    gone: boom(known("P2025")),
    long: boom(known("P2000", { column_name: "description" })),
    range: boom(known("P2020")),
    other: boom(new Error("connect ECONNREFUSED 10.0.0.7:5432 at Pool.connect (/srv/node_modules/pg/lib/pool.js:45)")),
  });
  const logged: LogEntry[] = [];
  const call = createCallerFactory(router)({ logger: recordingLogger((entry) => logged.push(entry)) } as never);

  it("turns database refusals the caller caused into domain errors without Prisma's text", async () => {
    const taken = await rejects(call.taken());
    expect([taken.code, taken.message]).toEqual(["CONFLICT", "name: this value is already taken in this workspace"]);
    const gone = await rejects(call.gone());
    expect([gone.code, gone.message]).toEqual(["NOT_FOUND", "it does not exist in this workspace (any more)"]);
    const long = await rejects(call.long());
    expect([long.code, long.message]).toEqual(["BAD_REQUEST", "description: the value is too long"]);
    expect((await rejects(call.range())).code).toBe("BAD_REQUEST");
  });

  it("answers anything unexpected with a generic 500 and a ref, the details in the log only", async () => {
    const err = await rejects(call.other());
    expect(err.code).toBe("INTERNAL_SERVER_ERROR");
    const ref = /^something went wrong on our side \(ref ([0-9a-f]{8})\)$/.exec(err.message)?.[1];
    expect(ref).toBeDefined();
    const entry = logged.find((e) => e.fields.ref === ref);
    expect(entry?.level).toBe("error");
    expect(String((entry?.fields.err as Error | undefined)?.message)).toContain("ECONNREFUSED 10.0.0.7");
  });

  it("says nothing of a failing context over HTTP either", async () => {
    // No context, so no logger of the request's: the process's logger takes the details (stderr).
    const res = await fetchRequestHandler({
      endpoint: "/api/trpc",
      req: new Request("http://sluice.test/api/trpc/auth.me"),
      router: appRouter,
      createContext: () => {
        throw new Error('relation "Session" does not exist at /srv/packages/api/src/auth/session.ts:40');
      },
    });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).toMatch(/something went wrong on our side \(ref [0-9a-f]{8}\)/);
    expect(text).not.toContain("Session");
    expect(text).not.toContain("session.ts");
  });
});

describe("discovery and ingest answer the caller's mistakes with 4xx", () => {
  it("answers a discovery the user's system refuses with 422, not 502", async () => {
    const owner = await fx.callerAs(fx.members.OWNER.cookie, fx.workspaceId);
    const { id } = await owner.connections.create({
      name: "refusing",
      type: "testdb",
      config: { host: "refused.test", user: "sluice", password: "pw-refusing" },
    });
    const err = await rejects(editor.connections.discover({ id }));
    expect(err.code).toBe("UNPROCESSABLE_CONTENT");
    expect(getHTTPStatusCodeFromError(err)).toBe(422);
    expect(err.message).toMatch(/^discovery failed: /);
    expect(err.message).not.toContain("pw-refusing");
  });

  it("answers deeply nested ingest bodies with 400 and no Retry-After", async () => {
    const owner = await fx.callerAs(fx.members.OWNER.cookie, fx.workspaceId);
    const { secret: token } = await owner.ingest.createToken({ pipelineId: fx.startPipelineId });
    const deps = { db: h.db, redis: h.redis, keys: h.deps.keys };
    for (const [type, body] of [
      ["application/json", `${"[".repeat(100_000)}${"]".repeat(100_000)}`],
      ["application/json", `{"a":${'{"b":'.repeat(5000)}1${"}".repeat(5000)}}`],
      ["application/x-ndjson", `{"ok":1}\n{"a":${"[".repeat(70)}${"]".repeat(70)}}`],
    ] as const) {
      const res = await handleLimitedIngestRequest(
        deps,
        fx.startPipelineId,
        new Request(`http://sluice.test/api/ingest/${fx.startPipelineId}`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": type },
          body,
        }),
      );
      expect(res.status).toBe(400);
      expect(res.headers.get("retry-after")).toBeNull();
      expect(((await res.json()) as { error: string }).error).toMatch(/nested more than 64 levels deep/);
    }
  });
});
