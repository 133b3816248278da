import { createHash } from "node:crypto";
import { type LogEntry, recordingLogger } from "@sluice/log/logger";
import { installIngestToken } from "@sluice/nodes/connectors/http/ingest-endpoint";
import { ingestKeys, META } from "@sluice/nodes/connectors/http/ingest-stream";
import { emptyDefinition, type PipelineDefinition } from "@sluice/pipeline/definition";
import { type ApiHarness, createApiHarness, rejects } from "@sluice/test-kit/api-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiDeps, createRequestContext, WORKSPACE_HEADER } from "../context";
import { handleLimitedIngestRequest } from "../ingest/ingest-service";
import { RateLimits } from "../limits/rate-limits";
import { createCaller } from "../root";
import { importLegacyIngestTokens } from "./legacy-ingest-tokens";

// API tokens against the real database and Redis: what each scope lets a token do, that a revoked, expired or
// orphaned token is refused with the very next request, that tokens cannot manage tokens, when "last used" is
// written, that the secret is shown once and nowhere else, the per-token rate limit, tokens at the ingest URL, and
// the move of webhook ingest tokens from Redis. (Every procedure's token rule: test/token-matrix.int.test.ts; over
// HTTP: apps/web/src/server/api-tokens-http.int.test.ts.)

let h: ApiHarness;
beforeAll(async () => {
  h = await createApiHarness("api-tokens");
});
afterAll(async () => {
  await h?.close();
});

function generatorPipeline(): PipelineDefinition {
  const def = emptyDefinition("tokens");
  def.spec.nodes.push(
    { id: "gen", type: "source.generator", config: { rate: 10 } },
    { id: "out", type: "sink.console", config: {} },
  );
  def.spec.edges.push({ from: "gen", to: "out" });
  return def;
}

interface CallOptions {
  deps?: ApiDeps;
  workspaceId?: string;
  /** The client's address, as the proxy in front reports it. */
  address?: string;
}

/** A caller for one request carrying `Authorization: Bearer <secret>`, as the tRPC endpoint builds it. */
async function withToken(secret: string, { deps = h.deps, workspaceId, address }: CallOptions = {}) {
  const headers: Record<string, string> = { authorization: `Bearer ${secret}` };
  if (workspaceId) headers[WORKSPACE_HEADER] = workspaceId;
  if (address) headers["x-forwarded-for"] = address;
  const req = new Request("http://sluice.test/api/trpc", { headers });
  return createCaller(await createRequestContext(deps, req, new Headers()));
}

/** A new user with a workspace of their own, their session's caller, and a pipeline in it. */
async function owner(name = "Owner") {
  const { cookie } = await h.signUp(name);
  const { api } = await h.caller(cookie);
  const me = await api.auth.me();
  const { id: pipelineId } = await api.pipelines.create({
    name: `tokens-${Math.random()}`,
    definition: generatorPipeline(),
  });
  return { api, cookie, userId: me!.user.id, workspaceId: me!.workspaces[0]!.id, pipelineId };
}

/** Adds a new user to `workspaceId` in `role`; their session's caller, addressing that workspace. */
async function memberOf(workspaceId: string, role: "VIEWER" | "EDITOR" | "ADMIN", name: string) {
  const { cookie } = await h.signUp(name);
  const user = await (await h.caller(cookie)).api.auth.me();
  await h.db.membership.create({ data: { userId: user!.user.id, workspaceId, role } });
  const headers = new Headers();
  const req = new Request("http://sluice.test/api/trpc", { headers: { cookie, [WORKSPACE_HEADER]: workspaceId } });
  const api = createCaller(await createRequestContext(h.deps, req, headers));
  return { api, userId: user!.user.id };
}

describe("scopes", () => {
  it("lets a read token list but not change, naming the scope it lacks", async () => {
    const a = await owner();
    const { secret, token } = await a.api.tokens.createPersonal({
      name: "reader",
      scopes: ["read"],
      expiresInDays: 30,
    });
    expect(secret).toMatch(/^slu_[A-Za-z0-9_-]{43}$/);
    expect(token).toMatchObject({ kind: "personal", prefix: secret.slice(0, 12), scopes: ["read"], state: "active" });

    const reader = await withToken(secret);
    const listed = await reader.pipelines.list({});
    expect(listed.map((p) => p.id)).toContain(a.pipelineId);
    expect((await reader.auth.me())?.workspaces).toEqual([expect.objectContaining({ id: a.workspaceId })]);

    const refused = await rejects(reader.pipelines.create({ name: "not allowed" }));
    expect(refused.code).toBe("FORBIDDEN");
    expect(refused.message).toBe('this needs an API token with the "write" scope; this token has "read"');
    const rename = await rejects(reader.pipelines.rename({ id: a.pipelineId, name: "renamed" }));
    expect(rename.message).toMatch(/"write" scope/);
    expect(await h.db.pipeline.count({ where: { workspaceId: a.workspaceId } })).toBe(1);
  });

  it("keeps run control apart from writing: a write token cannot start a run, a run token can", async () => {
    const a = await owner();
    const writer = await withToken(
      (await a.api.tokens.createPersonal({ name: "writer", scopes: ["read", "write"], expiresInDays: 1 })).secret,
    );
    const { id } = await writer.pipelines.create({ name: "made with a token", definition: generatorPipeline() });
    const start = await rejects(writer.runs.start({ pipelineId: id }));
    expect(start.code).toBe("FORBIDDEN");
    expect(start.message).toBe('this needs an API token with the "run" scope; this token has "read", "write"');
    expect(await h.db.run.count({ where: { pipelineId: id } })).toBe(0);

    const runner = await withToken(
      (await a.api.tokens.createPersonal({ name: "runner", scopes: ["run"], expiresInDays: 1 })).secret,
    );
    const run = await runner.runs.start({ pipelineId: id });
    expect(await h.db.run.findUniqueOrThrow({ where: { id: run.id }, select: { startedById: true } })).toEqual({
      startedById: a.userId,
    });
    // `run` alone does not read.
    expect((await rejects(runner.runs.get({ runId: run.id }))).message).toMatch(/"read" scope/);
  });

  it("binds a token to its workspace: another one of its user's is refused", async () => {
    const a = await owner();
    const other = await h.db.workspace.create({ data: { name: "Second", slug: `second-${Math.random()}` } });
    await h.db.membership.create({ data: { userId: a.userId, workspaceId: other.id, role: "OWNER" } });
    const { secret } = await a.api.tokens.createPersonal({ name: "first only", scopes: ["read"], expiresInDays: 1 });
    const elsewhere = await rejects((await withToken(secret, { workspaceId: other.id })).pipelines.list({}));
    expect(elsewhere.code).toBe("FORBIDDEN");
    expect(elsewhere.message).toBe("you are not a member of that workspace");
    expect(await (await withToken(secret)).pipelines.list({})).toHaveLength(1);
  });
});

describe("a token outlives no revocation and no expiry", () => {
  it("is refused on the very next request after it is revoked", async () => {
    const a = await owner();
    const { secret, token } = await a.api.tokens.createPersonal({ name: "short", scopes: ["read"], expiresInDays: 1 });
    expect(await (await withToken(secret)).pipelines.list({})).toHaveLength(1);
    const revoked = await a.api.tokens.revokePersonal({ id: token.id });
    expect(revoked.state).toBe("revoked");
    const refused = await rejects((await withToken(secret)).pipelines.list({}));
    expect(refused.code).toBe("UNAUTHORIZED");
    expect(refused.message).toBe(`this API token was revoked at ${revoked.revokedAt!.toISOString()}`);
    // Revoking again keeps the first time.
    expect((await a.api.tokens.revokePersonal({ id: token.id })).revokedAt).toEqual(revoked.revokedAt);
  });

  it("is refused once expired, and cannot be made to live longer than a year", async () => {
    const a = await owner();
    const { secret, token } = await a.api.tokens.createPersonal({ name: "ends", scopes: ["read"], expiresInDays: 1 });
    const expiresAt = new Date(token.createdAt.getTime() + 86_400_000);
    expect(Math.abs(token.expiresAt.getTime() - expiresAt.getTime())).toBeLessThan(5_000);
    const past = new Date(Date.now() - 1000);
    await h.db.apiToken.update({ where: { id: token.id }, data: { expiresAt: past } });
    const refused = await rejects((await withToken(secret)).auth.me());
    expect(refused.code).toBe("UNAUTHORIZED");
    expect(refused.message).toBe(`this API token expired at ${past.toISOString()}; create a new one`);
    expect((await a.api.tokens.mine()).find((t) => t.id === token.id)?.state).toBe("expired");

    for (const expiresInDays of [0, 366, 1.5]) {
      const bad = await rejects(a.api.tokens.createPersonal({ name: "forever", scopes: ["read"], expiresInDays }));
      expect(bad.code).toBe("BAD_REQUEST");
      expect(bad.message).toMatch(/^expiresInDays: /);
    }
  });

  it("stops a personal token when its creator leaves the workspace; a workspace token stays", async () => {
    const a = await owner();
    const b = await memberOf(a.workspaceId, "ADMIN", "Bea");
    const personal = await b.api.tokens.createPersonal({ name: "bea", scopes: ["read", "write"], expiresInDays: 7 });
    const shared = await b.api.tokens.createWorkspace({
      name: "ci",
      scopes: ["read"],
      expiresInDays: 7,
      role: "VIEWER",
    });
    expect(shared.token).toMatchObject({ kind: "workspace", role: "VIEWER", createdBy: { id: b.userId } });
    await (await withToken(personal.secret)).pipelines.create({ name: "by bea's token" });

    // Her role is read at each request: as a viewer her token no longer writes.
    await h.db.membership.update({
      where: { userId_workspaceId: { userId: b.userId, workspaceId: a.workspaceId } },
      data: { role: "VIEWER" },
    });
    const demoted = await rejects((await withToken(personal.secret)).pipelines.create({ name: "again" }));
    expect(demoted.code).toBe("FORBIDDEN");
    expect(demoted.message).toBe("this needs the editor role in this workspace; yours is viewer");

    await h.db.membership.delete({ where: { userId_workspaceId: { userId: b.userId, workspaceId: a.workspaceId } } });
    const gone = await rejects((await withToken(personal.secret)).pipelines.list({}));
    expect(gone.code).toBe("UNAUTHORIZED");
    expect(gone.message).toBe(
      "this personal API token no longer works: its owner is no longer a member of its workspace",
    );
    // The workspace's token is the workspace's: it keeps its role, whoever made it.
    const ci = await withToken(shared.secret);
    expect((await ci.pipelines.list({})).map((p) => p.name)).toContain("by bea's token");
    expect((await rejects(ci.pipelines.create({ name: "viewer token" }))).message).toMatch(/"write" scope/);
  });
});

describe("managing tokens", () => {
  it("cannot be done with a token, whatever its scopes", async () => {
    const a = await owner();
    const all = await withToken(
      (
        await a.api.tokens.createPersonal({
          name: "everything",
          scopes: ["read", "write", "run", "ingest"],
          expiresInDays: 1,
        })
      ).secret,
    );
    const { token } = await a.api.tokens.createPersonal({ name: "victim", scopes: ["read"], expiresInDays: 1 });
    const attempts = [
      all.tokens.createPersonal({ name: "minted", scopes: ["read"], expiresInDays: 365 }),
      all.tokens.mine(),
      all.tokens.revokePersonal({ id: token.id }),
      all.tokens.createWorkspace({ name: "minted", scopes: ["read"], expiresInDays: 365, role: "ADMIN" }),
      all.tokens.workspace(),
      all.ingest.createToken({ pipelineId: a.pipelineId }),
      all.auth.signOut(),
    ];
    for (const attempt of attempts) {
      const err = await rejects(attempt);
      expect(err.code).toBe("FORBIDDEN");
      expect(err.message).toBe("this cannot be done with an API token: sign in to Sluice and do it there");
    }
    expect(await h.db.apiToken.count({ where: { workspaceId: a.workspaceId } })).toBe(2);
    expect((await a.api.tokens.mine()).find((t) => t.id === token.id)?.state).toBe("active");
  });

  it("shows each member their own personal tokens, and the workspace's to admins only", async () => {
    const a = await owner();
    const editor = await memberOf(a.workspaceId, "EDITOR", "Ed");
    await a.api.tokens.createPersonal({ name: "owner's", scopes: ["read"], expiresInDays: 1 });
    const mine = await editor.api.tokens.createPersonal({ name: "ed's", scopes: ["read"], expiresInDays: 1 });
    expect((await editor.api.tokens.mine()).map((t) => t.name)).toEqual(["ed's"]);
    expect((await a.api.tokens.mine()).map((t) => t.name)).toEqual(["owner's"]);
    expect((await rejects(a.api.tokens.revokePersonal({ id: mine.token.id }))).code).toBe("NOT_FOUND");
    expect((await rejects(editor.api.tokens.workspace())).code).toBe("FORBIDDEN");
    const owned = await rejects(
      a.api.tokens.createWorkspace({ name: "x", scopes: ["read"], expiresInDays: 1, role: "OWNER" as "ADMIN" }),
    );
    expect(owned.code).toBe("BAD_REQUEST");
  });
});

describe("last use", () => {
  it("is recorded with the client's address, at most once a minute", async () => {
    const a = await owner();
    const { secret, token } = await a.api.tokens.createPersonal({ name: "used", scopes: ["read"], expiresInDays: 1 });
    expect(token.lastUsedAt).toBeNull();
    const before = Date.now();
    await (await withToken(secret, { address: "198.51.100.23" })).pipelines.list({});
    const first = (await a.api.tokens.mine())[0]!;
    expect(first.lastUsedFrom).toBe("198.51.100.23");
    expect(first.lastUsedAt!.getTime()).toBeGreaterThanOrEqual(before - 1000);

    await (await withToken(secret, { address: "198.51.100.99" })).pipelines.list({});
    const second = (await a.api.tokens.mine())[0]!;
    expect(second.lastUsedAt).toEqual(first.lastUsedAt);
    expect(second.lastUsedFrom).toBe("198.51.100.23");

    await h.db.apiToken.update({ where: { id: token.id }, data: { lastUsedAt: new Date(Date.now() - 61_000) } });
    await (await withToken(secret, { address: "198.51.100.99" })).pipelines.list({});
    const third = (await a.api.tokens.mine())[0]!;
    expect(third.lastUsedFrom).toBe("198.51.100.99");
    expect(third.lastUsedAt!.getTime()).toBeGreaterThan(first.lastUsedAt!.getTime());
  });
});

describe("the secret", () => {
  it("is in the answer that made it and nowhere else: not in lists, rows or logs", async () => {
    const entries: LogEntry[] = [];
    const logged = { ...h.deps, logger: recordingLogger((e) => entries.push(e)) };
    const session = await h.signUp("Secretive");
    const sessionApi = createCaller(
      await createRequestContext(
        logged,
        new Request("http://sluice.test/api/trpc", { headers: { cookie: session.cookie } }),
        new Headers(),
      ),
    );
    const { id: pipelineId } = await sessionApi.pipelines.create({ name: "hooked" });
    const personal = await sessionApi.tokens.createPersonal({
      name: "p",
      scopes: ["read", "write", "run"],
      expiresInDays: 1,
    });
    const ingest = await sessionApi.ingest.createToken({ pipelineId });
    const secrets = [personal.secret, ingest.secret];
    const hashes = secrets.map((s) => createHash("sha256").update(s).digest("hex"));

    // Failures on our side are logged with their cause: make one happen under the token.
    const tokenApi = await withToken(personal.secret, { deps: logged });
    const db = new Proxy(h.db, {
      get(target, property, receiver) {
        if (property === "run") throw new Error("the runs table is unavailable");
        return Reflect.get(target, property, receiver);
      },
    });
    const failing = await withToken(personal.secret, { deps: { ...logged, db } });
    const failed = await rejects(failing.runs.list({ pipelineId }));
    expect(failed.code).toBe("INTERNAL_SERVER_ERROR");
    await rejects(tokenApi.pipelines.get({ id: "no-such-pipeline", version: 1 }));

    const answers = JSON.stringify([
      await sessionApi.tokens.mine(),
      await sessionApi.tokens.workspace(),
      await sessionApi.ingest.status({ pipelineId }),
      await tokenApi.auth.me(),
      personal.token,
      ingest.token,
    ]);
    const rows = JSON.stringify(
      await h.db.apiToken.findMany({ where: { id: { in: [personal.token.id, ingest.token.id] } } }),
    );
    const logs = JSON.stringify(entries);
    expect(entries.length).toBeGreaterThan(0); // the failure above was logged
    for (const secret of secrets) {
      for (const [place, text] of [
        ["answers", answers],
        ["rows", rows],
        ["logs", logs],
      ] as const) {
        expect(text, place).not.toContain(secret);
        expect(text, place).not.toContain(secret.slice(12)); // the part after the shown prefix
      }
    }
    for (const hash of hashes) {
      expect(answers).not.toContain(hash);
      expect(rows).toContain(hash); // only the digest is kept
    }
  });
});

describe("rate limit", () => {
  it("counts each token's calls and refuses past the limit with when to retry", async () => {
    const a = await owner();
    const limited: ApiDeps = {
      ...h.deps,
      rateLimits: new RateLimits(h.redis, `${h.deps.keys.prefix}:tokens`, {
        apiPerToken: { points: 3, durationSeconds: 60 },
      }),
    };
    const one = (await a.api.tokens.createPersonal({ name: "one", scopes: ["read"], expiresInDays: 1 })).secret;
    const two = (await a.api.tokens.createPersonal({ name: "two", scopes: ["read"], expiresInDays: 1 })).secret;
    const api = await withToken(one, { deps: limited });
    for (let i = 0; i < 3; i++) await api.pipelines.list({});
    const refused = await rejects(api.pipelines.list({}));
    expect(refused.code).toBe("TOO_MANY_REQUESTS");
    expect(refused.message).toMatch(/^too many calls with this API token: at most 3 in 1 minute; try again in \d+ /);
    // Another token, and the same user's session, have their own allowance.
    await (await withToken(two, { deps: limited })).pipelines.list({});
    const session = createCaller(
      await createRequestContext(
        limited,
        new Request("http://sluice.test/api/trpc", { headers: { cookie: a.cookie } }),
        new Headers(),
      ),
    );
    await session.pipelines.list({});
  });
});

describe("tokens at the ingest URL", () => {
  const post = (pipelineId: string, token: string) =>
    handleLimitedIngestRequest(
      h.deps,
      pipelineId,
      new Request(`http://sluice.test/api/ingest/${pipelineId}`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ n: 1 }),
      }),
    );
  const error = async (r: Response) => ((await r.json()) as { error?: string }).error;

  it("takes a personal or workspace token with the ingest scope acting as an editor, for its own workspace", async () => {
    const a = await owner();
    const ingesting = await a.api.tokens.createPersonal({ name: "i", scopes: ["ingest"], expiresInDays: 1 });
    expect((await post(a.pipelineId, ingesting.secret)).status).toBe(202);

    const reader = await a.api.tokens.createPersonal({ name: "r", scopes: ["read", "write"], expiresInDays: 1 });
    const noScope = await post(a.pipelineId, reader.secret);
    expect(noScope.status).toBe(403);
    expect(await error(noScope)).toBe(
      'this needs an API token with the "ingest" scope; this token has "read", "write"',
    );

    const viewerToken = await a.api.tokens.createWorkspace({
      name: "v",
      scopes: ["ingest"],
      expiresInDays: 1,
      role: "VIEWER",
    });
    const viewer = await post(a.pipelineId, viewerToken.secret);
    expect(viewer.status).toBe(403);
    expect(await error(viewer)).toBe("posting records needs the editor role; this token acts as viewer");

    const b = await owner("Other");
    const foreign = await post(b.pipelineId, ingesting.secret);
    expect(foreign.status).toBe(404);

    // An ingest token reaches nothing but its ingest URL.
    const hook = await a.api.ingest.createToken({ pipelineId: a.pipelineId });
    const refused = await rejects((await withToken(hook.secret)).pipelines.list({}));
    expect(refused.code).toBe("FORBIDDEN");
    expect(refused.message).toBe('this needs an API token with the "read" scope; this token has "ingest"');
  });

  it("moves the tokens of webhook ingest URLs made before API tokens, once, keeping them working", async () => {
    const a = await owner();
    const { id: other } = await a.api.pipelines.create({ name: "other hook" });
    const oldToken = "sluice_ing_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG";
    const replaced = "sluice_ing_ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut";
    const later = Date.now() + 3_600_000;
    await installIngestToken(h.deps, a.pipelineId, replaced, 0);
    await installIngestToken(h.deps, a.pipelineId, oldToken, 3600);
    await installIngestToken(h.deps, other, `${oldToken}x`, 0);
    // A pipeline run from a file (`sluice run`) has no row: its token stays for that command.
    await installIngestToken(h.deps, "file-pipeline", `${oldToken}y`, 0);
    expect((await post(a.pipelineId, oldToken)).status).toBe(401);

    expect(await importLegacyIngestTokens(h.deps)).toBe(3);
    expect((await post(a.pipelineId, oldToken)).status).toBe(202);
    expect((await post(a.pipelineId, replaced)).status).toBe(202);
    expect((await post(other, `${oldToken}x`)).status).toBe(202);
    const { tokens } = await a.api.ingest.status({ pipelineId: a.pipelineId });
    expect(tokens.map((t) => [t.name, t.prefix, t.state])).toEqual(
      expect.arrayContaining([
        ["Webhook (from before API tokens)", "sluice_ing_", "active"],
        ["Webhook, replaced", "sluice_ing_", "active"],
      ]),
    );
    const replacedRow = tokens.find((t) => t.name === "Webhook, replaced")!;
    expect(Math.abs(replacedRow.expiresAt.getTime() - later)).toBeLessThan(60_000);
    expect(await h.redis.hget(ingestKeys(h.deps.keys.prefix, a.pipelineId).meta, META.token)).toBeNull();
    expect(await h.redis.hget(ingestKeys(h.deps.keys.prefix, "file-pipeline").meta, META.token)).not.toBeNull();
    // Done once: later starts skip the scan.
    expect(await importLegacyIngestTokens(h.deps)).toBe(0);
  });
});
