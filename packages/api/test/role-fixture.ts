import { createHash, randomBytes } from "node:crypto";
import type { Db } from "@sluice/db/client";
import { emptyDefinition, type PipelineDefinition } from "@sluice/pipeline/definition";
import { type ApiHarness, createApiHarness } from "@sluice/test-kit/api-harness";
import { testConnectionRuntimes, testConnectionTypes, testNodeCatalog } from "@sluice/test-kit/test-connections";
import type { AnyTRPCProcedure } from "@trpc/server";
import { createSession, SESSION_COOKIE } from "../src/auth/session";
import { createRequestContext, WORKSPACE_HEADER } from "../src/context";
import { appRouter, createCaller } from "../src/root";
import { createToken } from "../src/tokens/token-service";
import type { Access } from "../src/trpc";

// One workspace with a member in every role, an outsider with a workspace of their own, objects of every kind in
// the first, and a minimal valid input for every procedure: what the authorization matrix and the fuzz test call
// the router with. Procedures are listed from appRouter itself, never by hand.

export type Caller = ReturnType<typeof createCaller>;

export const MEMBER_ROLES = ["VIEWER", "EDITOR", "ADMIN", "OWNER"] as const;
type MemberRole = (typeof MEMBER_ROLES)[number];

export interface ProcedureInfo {
  path: string;
  type: "query" | "mutation" | "subscription";
  access: Access | undefined;
}

/** Every procedure of appRouter, by its dotted path, with the rule its builder declared. */
export function listProcedures(): ProcedureInfo[] {
  // At run time tRPC 11 keeps every procedure here under its full dotted path; the declared type is the nested one.
  const procedures = appRouter._def.procedures as unknown as Record<string, AnyTRPCProcedure>;
  return Object.entries(procedures)
    .map(([path, procedure]) => ({
      path,
      type: procedure._def.type,
      access: (procedure._def.meta as { access?: Access } | undefined)?.access,
    }))
    .sort((a, b) => a.path.localeCompare(b.path));
}

const PASSWORD = `Fixture-${randomBytes(6).toString("hex")}-pass`;

interface Person {
  userId: string;
  email: string;
  cookie: string;
}

export interface RoleFixture {
  /** Workspace A, where the members are. */
  workspaceId: string;
  members: Record<MemberRole, Person>;
  /** Signed in, member of a workspace of their own only. */
  outsider: Person & { workspaceId: string };
  pipelineId: string;
  /** A second pipeline, for starting runs. */
  startPipelineId: string;
  connectionId: string;
  scheduleId: string;
  runId: string;
  /** Everything of workspace A that must never show in an answer to someone outside it. */
  markers: string[];
  /** A caller acting as `cookie` (anonymous without), addressing `workspaceId` (their first workspace without). */
  callerAs(cookie?: string, workspaceId?: string): Promise<Caller>;
  /** A new session of the same user, for procedures that end the one they are called with. */
  freshCookie(person: Person): Promise<string>;
  /** A minimal valid input for `path`, as `as` would send it; undefined when the procedure takes none. */
  sampleInput(path: string): Promise<unknown>;
  /**
   * Puts workspace A's members back as the fixture made them after a call of `path` that may have changed them (a
   * member who left, an owner who handed the workspace over), so the next call meets the same roles.
   */
  restoreAfter(path: string): Promise<void>;
  /** Whether a sample input is known for `path`: the tests fail for a procedure without one. */
  hasSample(path: string): boolean;
}

const unique = (label: string) => `${label}-${randomBytes(4).toString("hex")}`;

/** generator → filter → console: valid, runnable, touches nothing outside Sluice. */
export function samplePipeline(name = "sample"): PipelineDefinition {
  const def = emptyDefinition(name);
  def.spec.nodes.push(
    { id: "gen", type: "source.generator", config: { rate: 10 } },
    { id: "keep", type: "transform.filter", config: { where: "true" } },
    { id: "out", type: "sink.console", config: {} },
  );
  def.spec.edges.push({ from: "gen", to: "keep" }, { from: "keep", to: "out" });
  return def;
}

async function signUpPerson(h: ApiHarness, name: string): Promise<Person> {
  const email = `${unique(name.toLowerCase())}@example.com`;
  const anonymous = await createCaller(await contextFor(h, undefined, undefined));
  await anonymous.auth.signUp({ email, name, password: PASSWORD });
  const user = await h.db.user.findUniqueOrThrow({ where: { email }, select: { id: true } });
  const { token } = await createSession(h.db, user.id, "role-fixture");
  return { userId: user.id, email, cookie: `${SESSION_COOKIE}=${token}` };
}

function contextFor(h: ApiHarness, cookie: string | undefined, workspaceId: string | undefined) {
  const headers: Record<string, string> = {};
  if (cookie) headers.cookie = cookie;
  if (workspaceId) headers[WORKSPACE_HEADER] = workspaceId;
  const req = new Request("http://sluice.test/api/trpc", { headers });
  return createRequestContext(h.deps, req, new Headers());
}

async function ownWorkspace(db: Db, userId: string): Promise<string> {
  const m = await db.membership.findFirstOrThrow({ where: { userId }, select: { workspaceId: true } });
  return m.workspaceId;
}

/** A harness of its own (named `name`) with the test node and connection types, and the fixture in it. */
export async function createRoleHarness(name: string): Promise<{ h: ApiHarness; fx: RoleFixture }> {
  const h = await createApiHarness(name, {
    catalog: testNodeCatalog,
    connectionTypes: testConnectionTypes,
    connectionRuntimes: testConnectionRuntimes,
  });
  return { h, fx: await createRoleFixture(h) };
}

/** Builds the fixture in the harness's database; the harness must know the testdb connection type. */
async function createRoleFixture(h: ApiHarness): Promise<RoleFixture> {
  const owner = await signUpPerson(h, "Owner");
  const workspaceId = await ownWorkspace(h.db, owner.userId);
  // A name of its own, so renaming it to this in the samples changes nothing.
  const workspaceName = unique("Fixture workspace");
  await h.db.workspace.update({ where: { id: workspaceId }, data: { name: workspaceName } });
  const members = { OWNER: owner } as Record<MemberRole, Person>;
  for (const role of ["ADMIN", "EDITOR", "VIEWER"] as const) {
    const person = await signUpPerson(h, role[0] + role.slice(1).toLowerCase());
    await h.db.membership.create({ data: { userId: person.userId, workspaceId, role } });
    members[role] = person;
  }
  const outsiderPerson = await signUpPerson(h, "Outsider");
  const outsider = { ...outsiderPerson, workspaceId: await ownWorkspace(h.db, outsiderPerson.userId) };

  const callerAs = async (cookie?: string, ws?: string) => createCaller(await contextFor(h, cookie, ws));
  const api = await callerAs(owner.cookie, workspaceId);

  const connectionName = unique("warehouse");
  const { id: connectionId } = await api.connections.create({
    name: connectionName,
    type: "testdb",
    config: { host: "db.internal", user: "sluice", password: unique("pw") },
  });
  const pipelineName = unique("Orders");
  const { id: pipelineId } = await api.pipelines.create({ name: pipelineName, definition: samplePipeline() });
  const startName = unique("Starts");
  const { id: startPipelineId } = await api.pipelines.create({ name: startName, definition: samplePipeline() });
  const { id: runId } = await api.runs.start({ pipelineId });
  const { schedule } = await api.schedules.create({ pipelineId, pattern: "0 3 * * *" });
  await api.ingest.createToken({ pipelineId });
  // A template of A's pipeline, shared by link; a pipeline made from it; links to the template and to the run.
  const templateTitle = unique("Orders template");
  const { id: templateId } = await api.templates.publish({ pipelineId, title: templateTitle, tags: ["sample"] });
  const { pipelineId: madePipelineId } = await api.templates.use({ templateId, name: unique("Made") });
  const { token: templateShareToken } = await api.shares.createTemplateLink({ templateId });
  const { token: runShareToken } = await api.shares.createRunLink({ runId, expiresInHours: 1 });
  const savedQueryName = unique("Orders by day");
  const { id: savedQueryId } = await api.savedQueries.create({
    name: savedQueryName,
    source: { kind: "files" },
    sql: "select 1 AS one",
  });
  const dashboardName = unique("Orders dashboard");
  const { id: dashboardId } = await api.dashboards.create({ name: dashboardName });
  const { tileId: dashboardTileId } = await api.dashboards.addTile({ id: dashboardId, kind: "QUERY", savedQueryId });
  const reportName = unique("Daily report");
  const reportOf = async (name: string) =>
    (
      await api.reports.create({
        name,
        savedQueryId,
        pattern: "0 6 * * *",
        filePath: "reports/fixture-{date}.csv",
        enabled: false,
      })
    ).report.id;
  const reportId = await reportOf(reportName);
  // A backfill whose run failed: reads answer, and every action on it is refused as not possible now.
  const { id: backfillId } = await h.db.backfill.create({
    data: {
      workspaceId,
      pipelineId,
      runId,
      sinkNodeId: "out",
      liveTable: "orders",
      shadowTable: "orders__g1",
      generation: 1,
      replay: {},
      state: "FAILED",
      error: "fixture",
      createdById: owner.userId,
    },
  });
  const workspaceTokenName = unique("ci token");
  await api.tokens.createWorkspace({ name: workspaceTokenName, scopes: ["read"], expiresInDays: 30, role: "VIEWER" });

  // Fresh objects for procedures that destroy what they are given.
  const freshPipeline = async () => (await api.pipelines.create({ name: unique("Doomed") })).id;
  const freshConnection = async () =>
    (
      await api.connections.create({
        name: unique("doomed"),
        type: "testdb",
        config: { host: "db.internal", user: "sluice", password: "pw" },
      })
    ).id;
  const freshSchedule = async () =>
    (await api.schedules.create({ pipelineId, pattern: "0 4 * * *", enabled: false })).schedule.id;
  const latestVersion = async () =>
    (await h.db.pipeline.findUniqueOrThrow({ where: { id: pipelineId }, select: { latestVersion: true } }))
      .latestVersion;

  const freshTemplate = async () =>
    (
      await api.templates.publish({
        pipelineId: startPipelineId,
        title: unique("Doomed template"),
        visibility: "WORKSPACE",
      })
    ).id;
  const freshSavedQuery = async () =>
    (await api.savedQueries.create({ name: unique("Doomed query"), source: { kind: "files" }, sql: "select 1" })).id;
  const freshDashboard = async () => (await api.dashboards.create({ name: unique("Doomed dashboard") })).id;
  // Tiles are added to and removed from dashboards of their own: a dashboard holds a bounded number of tiles.
  const freshTile = async () => {
    const id = await freshDashboard();
    return { id, tileId: (await api.dashboards.addTile({ id, kind: "PIPELINE_FIGURES", pipelineId })).tileId };
  };
  const freshLink = async () => (await api.shares.createTemplateLink({ templateId })).id;
  const madeVersion = async () =>
    (await h.db.pipeline.findUniqueOrThrow({ where: { id: madePipelineId }, select: { latestVersion: true } }))
      .latestVersion;

  const freshSilence = async () =>
    (
      await h.db.alertSilence.create({
        data: { workspaceId, pipelineId, until: new Date(Date.now() + 3_600_000), createdById: owner.userId },
      })
    ).id;

  // Tokens to revoke, the owner's (so a personal one is only found by the owner).
  const freshToken = async (kind: "PERSONAL" | "WORKSPACE" | "INGEST") =>
    (
      await createToken(h.db, {
        workspaceId,
        kind,
        createdById: owner.userId,
        name: unique("doomed token"),
        scopes: [kind === "INGEST" ? "ingest" : "read"],
        expiresInDays: 1,
        ...(kind === "WORKSPACE" ? { role: "VIEWER" as const } : {}),
        ...(kind === "INGEST" ? { pipelineId } : {}),
      })
    ).token;

  // Members and invitations for procedures that change or use them up.
  const freshMember = async () => {
    const user = await h.db.user.create({
      data: { email: `${unique("member")}@example.com`, name: "Fresh member", passwordHash: "unused" },
    });
    await h.db.membership.create({ data: { userId: user.id, workspaceId, role: "VIEWER" } });
    return user.id;
  };
  const invitation = async (revoked: boolean) => {
    const token = randomBytes(32).toString("base64url");
    const row = await h.db.invitation.create({
      data: {
        workspaceId,
        tokenHash: createHash("sha256").update(token).digest("hex"),
        role: "VIEWER",
        createdById: owner.userId,
        expiresAt: new Date(Date.now() + 86_400_000),
        revokedAt: revoked ? new Date() : null,
      },
    });
    return { id: row.id, token };
  };
  // Accepting a live invitation would make the outsider a member of A: every caller gets one that was revoked.
  const revokedToken = (await invitation(true)).token;

  const samples: Record<string, () => unknown> = {
    "alerts.inbox": () => ({ unreadOnly: true, limit: 10 }),
    "alerts.list": () => ({ state: "firing", pipelineId }),
    "alerts.markRead": () => ({ all: true }),
    "alerts.silence": () => ({ pipelineId, forMs: 3_600_000 }),
    "alerts.unsilence": async () => ({ id: await freshSilence() }),
    "audit.exportPlan": () => ({ format: "csv", action: "runs." }),
    "audit.list": () => ({ limit: 10 }),
    "auth.me": () => undefined,
    "backfills.compare": () => ({ id: backfillId }),
    "backfills.discard": () => ({ id: backfillId }),
    "backfills.dropPrevious": () => ({ id: backfillId }),
    "backfills.get": () => ({ id: backfillId }),
    "backfills.list": () => ({ pipelineId, limit: 10 }),
    "backfills.plan": () => ({ pipelineId }),
    // The fixture's pipeline has no PostgreSQL sink: the start is refused as a bad choice, after the rule.
    "backfills.start": () => ({ pipelineId, sinkNodeId: "out", replay: {} }),
    "backfills.swap": () => ({ id: backfillId }),
    "auth.signIn": () => ({ email: owner.email, password: PASSWORD }),
    "auth.signOut": () => undefined,
    "auth.signUp": () => ({ email: `${unique("new")}@example.com`, name: "New", password: PASSWORD }),
    "connections.create": () => ({
      name: unique("conn"),
      type: "testdb",
      config: { host: "db.internal", user: "sluice", password: "pw" },
    }),
    "connections.delete": async () => ({ id: await freshConnection() }),
    "connections.discover": () => ({ id: connectionId, object: "orders", sample: 2 }),
    "connections.get": () => ({ id: connectionId }),
    "connections.list": () => undefined,
    "connections.test": () => ({ id: connectionId }),
    "connections.types": () => undefined,
    "connections.update": () => ({ id: connectionId, config: { host: "db.internal", user: "sluice" } }),
    "dashboards.addTile": async () => ({ id: await freshDashboard(), kind: "PIPELINE_FIGURES", pipelineId, w: 4 }),
    "dashboards.create": () => ({ name: unique("Dashboard"), timeRange: { kind: "relative", last: "6h" } }),
    "dashboards.delete": async () => ({ id: await freshDashboard() }),
    "dashboards.get": () => ({ id: dashboardId }),
    "dashboards.layout": async () => ({
      id: dashboardId,
      tiles: (
        await h.db.dashboardTile.findMany({
          where: { dashboardId },
          select: { id: true, x: true, y: true, w: true, h: true },
        })
      ).map(({ id, ...place }) => ({ tileId: id, ...place })),
    }),
    "dashboards.list": () => undefined,
    "dashboards.removeTile": freshTile,
    "dashboards.renameTile": () => ({ id: dashboardId, tileId: dashboardTileId, title: "Orders" }),
    "dashboards.update": () => ({ id: dashboardId, refreshSeconds: 30 }),
    "fleet.list": () => undefined,
    "overview.get": () => undefined,
    "ingest.createToken": () => ({ pipelineId }),
    "ingest.revokeToken": async () => ({ pipelineId, id: (await freshToken("INGEST")).id }),
    "ingest.status": () => ({ pipelineId }),
    "invitations.accept": () => ({ token: revokedToken }),
    "invitations.create": () => ({ role: "VIEWER" }),
    "invitations.list": () => undefined,
    "invitations.preview": () => ({ token: revokedToken }),
    "invitations.revoke": async () => ({ id: (await invitation(false)).id }),
    "members.leave": () => undefined,
    "members.list": () => undefined,
    "members.remove": async () => ({ userId: await freshMember() }),
    "members.setRole": async () => ({ userId: await freshMember(), role: "EDITOR" }),
    "members.transferOwnership": async () => ({ userId: await freshMember() }),
    "pipelines.byName": () => ({ name: pipelineName }),
    "pipelines.create": () => ({ name: unique("New pipeline") }),
    "pipelines.delete": async () => ({ id: await freshPipeline() }),
    "pipelines.duplicate": () => ({ id: pipelineId, name: unique("Copy") }),
    "pipelines.get": () => ({ id: pipelineId, version: 1 }),
    "pipelines.history": () => ({ pipelineId, from: Date.now() - 3_600_000, to: Date.now() }),
    "pipelines.list": () => ({ search: "Orders", limit: 10 }),
    "pipelines.preview": () => ({ definition: samplePipeline(), timeoutMs: 500 }),
    "pipelines.rename": () => ({ id: pipelineId, name: pipelineName }),
    "pipelines.saveVersion": async () => ({
      id: pipelineId,
      baseVersion: await latestVersion(),
      definition: samplePipeline(),
    }),
    "pipelines.versions": () => ({ id: pipelineId, limit: 10 }),
    "queries.cancel": () => ({ queryId: "fixture-query-0" }),
    // The fixture's connection is of the test type (it answers no SQL): queries go to the workspace's files.
    "queries.exportPlan": () => ({ source: { kind: "files" }, sql: "select 1 AS one", format: "csv" }),
    "queries.run": () => ({ source: { kind: "files" }, sql: "select 1 AS one", queryId: unique("fixture-query") }),
    "queries.schema": () => ({ source: { kind: "files" } }),
    "queries.sources": () => undefined,
    "runs.deadLetters": () => ({ runId, limit: 10 }),
    "runs.deadLetterGroups": () => ({ runId }),
    "runs.discardDeadLetters": () => ({ runId, ids: ["0.0.1-0"], reason: "authorization sample" }),
    "runs.fixDeadLetter": () => ({ runId, id: "0.0.1-0", record: "{}" }),
    "runs.fixDeadLetters": () => ({ runId, ids: ["0.0.1-0"], expression: "n = 1" }),
    "runs.previewDeadLetterFix": () => ({ runId, ids: ["0.0.1-0"], expression: "n = 1" }),
    "runs.figures": () => ({ runId }),
    "runs.get": () => ({ runId }),
    "runs.history": () => ({ runId, from: Date.now() - 3_600_000, to: Date.now() }),
    "runs.list": () => ({ pipelineId, limit: 10 }),
    "runs.live": () => ({ runId }),
    "runs.logs": () => ({ runId, level: "info", limit: 10 }),
    "runs.logTail": () => ({ runId }),
    "runs.pause": () => ({ runId }),
    "runs.timeline": () => ({ runId }),
    "runs.replayDeadLetters": () => ({ runId }),
    "runs.restart": () => ({ runId }),
    "runs.resume": () => ({ runId }),
    "runs.start": () => ({ pipelineId: startPipelineId, version: 1 }),
    "runs.stop": () => ({ runId }),
    "runs.tail": () => ({ runId, nodeId: "out" }),
    // The fixture's connection answers no SQL, so saved queries read the workspace's files.
    "savedQueries.create": () => ({
      name: unique("Saved query"),
      description: "authorization sample",
      source: { kind: "files" },
      sql: "select 1 AS one",
      chart: { kind: "number", x: "one", y: ["one"] },
    }),
    "savedQueries.delete": async () => ({ id: await freshSavedQuery() }),
    "savedQueries.exportPlan": () => ({ id: savedQueryId, format: "parquet" }),
    "savedQueries.get": () => ({ id: savedQueryId }),
    "savedQueries.list": () => undefined,
    "savedQueries.run": () => ({ id: savedQueryId, queryId: unique("fixture-saved") }),
    "savedQueries.update": () => ({ id: savedQueryId, description: "Orders, by day" }),
    "reports.create": () => ({
      name: unique("Report"),
      savedQueryId,
      pattern: "0 6 * * *",
      timeZone: "Europe/Berlin",
      range: "1d",
      format: "CSV",
      filePath: "reports/{date}.csv",
      condition: { kind: "rows", op: ">", value: 0 },
      severity: "info",
      enabled: false,
    }),
    "reports.delete": async () => ({ id: await reportOf(unique("Doomed report")) }),
    "reports.deliveries": () => ({ reportId, limit: 5 }),
    "reports.enable": () => ({ id: reportId, enabled: false }),
    "reports.get": () => ({ id: reportId }),
    "reports.list": () => undefined,
    "reports.runNow": () => ({ id: reportId }),
    "reports.update": () => ({ id: reportId, range: "1h" }),
    "schedules.create": () => ({ pipelineId, pattern: "0 5 * * *", version: 1, enabled: false }),
    "schedules.delete": async () => ({ id: await freshSchedule() }),
    "schedules.fireNow": () => ({ id: scheduleId }),
    "schedules.get": () => ({ id: scheduleId }),
    "schedules.list": () => ({ pipelineId }),
    "schedules.update": () => ({ id: scheduleId, version: 1, enabled: true }),
    "shares.createRunLink": () => ({ runId, expiresInHours: 1 }),
    "shares.createTemplateLink": () => ({ templateId }),
    "shares.figures": () => ({ token: runShareToken }),
    "shares.list": () => ({ templateId }),
    "shares.revoke": async () => ({ id: await freshLink() }),
    "shares.view": () => ({ token: templateShareToken }),
    "templates.delete": async () => ({ id: await freshTemplate() }),
    "templates.forPipeline": () => ({ pipelineId: madePipelineId }),
    "templates.get": () => ({ id: templateId }),
    "templates.list": () => ({ search: "orders", scope: "all" }),
    "templates.publish": () => ({
      pipelineId: startPipelineId,
      templateId,
      title: templateTitle,
      message: "authorization sample",
    }),
    "templates.update": () => ({ id: templateId, description: "Orders, filtered" }),
    "templates.upgrade": async () => ({ pipelineId: madePipelineId, toVersion: 1, baseVersion: await madeVersion() }),
    "templates.upgradePlan": () => ({ pipelineId: madePipelineId }),
    "templates.use": () => ({ templateId, name: unique("From template") }),
    "tokens.createPersonal": () => ({ name: unique("token"), scopes: ["read"], expiresInDays: 7 }),
    "tokens.createWorkspace": () => ({ name: unique("token"), scopes: ["read"], expiresInDays: 7, role: "VIEWER" }),
    "tokens.mine": () => undefined,
    "tokens.revokePersonal": async () => ({ id: (await freshToken("PERSONAL")).id }),
    "tokens.revokeWorkspace": async () => ({ id: (await freshToken("WORKSPACE")).id }),
    "tokens.workspace": () => undefined,
    "workspaces.create": () => ({ name: unique("Team") }),
    // A wrong confirmation: an owner's call passes the rule and is then refused, so the fixture's workspace stays.
    "workspaces.delete": () => ({ confirmName: "not the workspace's name" }),
    "workspaces.rename": () => ({ name: workspaceName }),
  };
  const scheduleId = schedule.id;

  return {
    workspaceId,
    members,
    outsider,
    pipelineId,
    startPipelineId,
    connectionId,
    scheduleId,
    runId,
    markers: [
      workspaceId,
      pipelineId,
      startPipelineId,
      connectionId,
      scheduleId,
      runId,
      pipelineName,
      startName,
      connectionName,
      savedQueryId,
      savedQueryName,
      reportId,
      reportName,
      dashboardId,
      dashboardName,
      workspaceTokenName,
    ],
    callerAs,
    async freshCookie(person) {
      const { token } = await createSession(h.db, person.userId, "role-fixture");
      return `${SESSION_COOKIE}=${token}`;
    },
    sampleInput: async (path) => samples[path]?.(),
    async restoreAfter(path) {
      if (!path.startsWith("members.")) return;
      const canonical = MEMBER_ROLES.map((role) => ({ role, userId: members[role].userId }));
      await h.db.$transaction([
        h.db.membership.deleteMany({ where: { workspaceId, userId: { notIn: canonical.map((m) => m.userId) } } }),
        ...canonical.map(({ role, userId }) =>
          h.db.membership.upsert({
            where: { userId_workspaceId: { userId, workspaceId } },
            create: { userId, workspaceId, role },
            update: { role },
          }),
        ),
      ]);
    },
    hasSample: (path) => Object.hasOwn(samples, path),
  };
}

/** Calls `path` on `api` with `input`. A subscription is opened and closed again at once (or after its first value). */
export async function callProcedure(api: Caller, info: ProcedureInfo, input: unknown): Promise<unknown> {
  let target: unknown = api;
  for (const key of info.path.split(".")) target = (target as Record<string, unknown>)[key];
  const result = await (target as (input: unknown) => Promise<unknown>)(input);
  if (info.type === "subscription") {
    const iterator = (result as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    // The first step runs the workspace check; a run with no live state yet never yields, so wait only briefly.
    const next = iterator.next();
    next.catch(() => {}); // awaited below when it wins; once the wait wins, its outcome no longer matters
    const first = await Promise.race([
      next,
      new Promise<"waiting">((resolve) => setTimeout(() => resolve("waiting"), 300)),
    ]).finally(() => void iterator.return?.(undefined));
    return first === "waiting" ? { waiting: true } : first;
  }
  return result;
}
