import { type ApiHarness, createApiHarness, rejects } from "@sluice/test-kit/api-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Saved queries end to end against real Postgres: saving, listing, opening, changing and deleting them; names unique
// in a workspace; other workspaces see none of them; viewers only read; a query whose connection is deleted stays and
// says its source is gone.

let h: ApiHarness;
let cookie: string;
let workspaceId: string;
let warehouseId: string;

async function api(as = cookie, ws?: string) {
  return (await h.caller(as, ws)).api;
}

/** A connection of a type that answers SQL; never opened here, so it needs no server behind it. */
async function postgresConnection(name: string): Promise<string> {
  const me = await api();
  const { id } = await me.connections.create({
    name,
    type: "postgres",
    config: { host: "127.0.0.1", port: 5432, database: "postgres", user: "postgres" },
  });
  return id;
}

beforeAll(async () => {
  h = await createApiHarness("saved-queries");
  ({ cookie } = await h.signUp("Analyst"));
  workspaceId = (await (await api()).auth.me())!.workspaces[0]!.id;
  warehouseId = await postgresConnection("warehouse");
});
afterAll(async () => {
  await h?.close();
});

describe("saved queries", () => {
  it("are created, listed, opened, changed and deleted", async () => {
    const me = await api();
    const created = await me.savedQueries.create({
      name: "Orders by day",
      description: "  Daily order counts  ",
      source: { kind: "connection", connectionId: warehouseId },
      sql: "select date_trunc('day', placed) as day, count(*) as orders from orders group by 1",
      chart: { kind: "line", x: "day", y: ["orders"] },
    });
    expect(created.name).toBe("Orders by day");

    const list = await me.savedQueries.list();
    expect(list).toEqual([
      expect.objectContaining({
        id: created.id,
        name: "Orders by day",
        description: "Daily order counts",
        source: { kind: "connection", connectionId: warehouseId, connectionName: "warehouse" },
        sourceProblem: null,
        author: "Analyst",
      }),
    ]);

    const opened = await me.savedQueries.get({ id: created.id });
    expect(opened.sql).toMatch(/^select date_trunc/);
    expect(opened.chart).toEqual({ kind: "line", x: "day", y: ["orders"] });

    const changed = await me.savedQueries.update({
      id: created.id,
      name: "Orders per day",
      source: { kind: "files" },
      sql: "select 1 as one",
      chart: null,
    });
    expect(changed).toMatchObject({
      name: "Orders per day",
      description: "Daily order counts",
      source: { kind: "files" },
      sql: "select 1 as one",
      chart: null,
    });
    expect(changed.updatedAt.getTime()).toBeGreaterThanOrEqual(opened.updatedAt.getTime());

    await me.savedQueries.delete({ id: created.id });
    expect((await rejects(me.savedQueries.get({ id: created.id }))).code).toBe("NOT_FOUND");
    expect(await me.savedQueries.list()).toEqual([]);
  });

  it("refuse a name the workspace has already, naming the field", async () => {
    const me = await api();
    const first = await me.savedQueries.create({ name: "Revenue", source: { kind: "files" }, sql: "select 1" });
    const again = await rejects(
      me.savedQueries.create({ name: "Revenue", source: { kind: "files" }, sql: "select 2" }),
    );
    expect(again.code).toBe("CONFLICT");
    expect(again.message).toMatch(/^name: a saved query called "Revenue" already exists/);

    const other = await me.savedQueries.create({ name: "Growth", source: { kind: "files" }, sql: "select 3" });
    const renamed = await rejects(me.savedQueries.update({ id: other.id, name: "Revenue" }));
    expect(renamed.code).toBe("CONFLICT");
    expect(renamed.message).toMatch(/^name:/);
    await me.savedQueries.delete({ id: first.id });
    await me.savedQueries.delete({ id: other.id });
  });

  it("refuse bad input with a message that says what is wrong", async () => {
    const me = await api();
    const blank = await rejects(me.savedQueries.create({ name: "  ", source: { kind: "files" }, sql: "select 1" }));
    expect(blank.code).toBe("BAD_REQUEST");
    expect(blank.message).toMatch(/give the query a name/);
    const long = await rejects(
      me.savedQueries.create({ name: "Long", source: { kind: "files" }, sql: "x".repeat(100_001) }),
    );
    expect(long.message).toMatch(/at most 100,000 characters/);
  });

  it("take only a connection of this workspace that can answer SQL", async () => {
    const me = await api();
    const { cookie: strangerCookie } = await h.signUp("Stranger");
    const stranger = await api(strangerCookie);
    const theirs = await stranger.connections.create({
      name: "theirs",
      type: "postgres",
      config: { host: "127.0.0.1", port: 5432, database: "postgres", user: "postgres" },
    });
    const foreign = await rejects(
      me.savedQueries.create({
        name: "Foreign",
        source: { kind: "connection", connectionId: theirs.id },
        sql: "select 1",
      }),
    );
    expect(foreign.code).toBe("NOT_FOUND");

    // A Redis connection reads streams, not SQL: made directly, as it needs no server to be refused.
    const row = await h.db.connection.create({ data: { workspaceId, name: "no-sql", type: "redis" } });
    const refused = await rejects(
      me.savedQueries.create({ name: "No SQL", source: { kind: "connection", connectionId: row.id }, sql: "select 1" }),
    );
    expect(refused.code).toBe("BAD_REQUEST");
    expect(refused.message).toMatch(/^source: connection "no-sql" is of type "redis", which cannot answer SQL queries/);
    await h.db.connection.delete({ where: { id: row.id } });
  });

  it("are neither seen nor changed from another workspace", async () => {
    const me = await api();
    const mine = await me.savedQueries.create({ name: "Private", source: { kind: "files" }, sql: "select 1" });
    const { cookie: otherCookie } = await h.signUp("Other");
    const other = await api(otherCookie);
    expect(await other.savedQueries.list()).toEqual([]);
    for (const call of [
      () => other.savedQueries.get({ id: mine.id }),
      () => other.savedQueries.update({ id: mine.id, sql: "select 2" }),
      () => other.savedQueries.delete({ id: mine.id }),
    ]) {
      expect((await rejects(call())).code).toBe("NOT_FOUND");
    }
    expect((await me.savedQueries.get({ id: mine.id })).sql).toBe("select 1");
    await me.savedQueries.delete({ id: mine.id });
  });

  it("are read by viewers, who cannot save them", async () => {
    const me = await api();
    const saved = await me.savedQueries.create({ name: "Shared", source: { kind: "files" }, sql: "select 1" });
    const { cookie: viewerCookie } = await h.signUp("Viewer");
    const viewerId = (await (await api(viewerCookie)).auth.me())!.user.id;
    await h.db.membership.create({ data: { userId: viewerId, workspaceId, role: "VIEWER" } });
    const viewer = await api(viewerCookie, workspaceId);
    expect((await viewer.savedQueries.list()).map((q) => q.name)).toContain("Shared");
    expect((await viewer.savedQueries.get({ id: saved.id })).name).toBe("Shared");
    const refused = await rejects(
      viewer.savedQueries.create({ name: "Mine", source: { kind: "files" }, sql: "select 1" }),
    );
    expect(refused.code).toBe("FORBIDDEN");
    expect((await rejects(viewer.savedQueries.update({ id: saved.id, sql: "select 2" }))).code).toBe("FORBIDDEN");
    expect((await rejects(viewer.savedQueries.delete({ id: saved.id }))).code).toBe("FORBIDDEN");
    await me.savedQueries.delete({ id: saved.id });
  });

  it("stay when their connection is deleted, and say the source is gone", async () => {
    const me = await api();
    const doomedId = await postgresConnection("doomed");
    const saved = await me.savedQueries.create({
      name: "Orphan",
      source: { kind: "connection", connectionId: doomedId },
      sql: "select 1",
    });
    await me.connections.delete({ id: doomedId });

    const opened = await me.savedQueries.get({ id: saved.id });
    expect(opened.source).toEqual({ kind: "connection", connectionId: null, connectionName: null });
    expect(opened.sourceProblem).toMatch(/connection was deleted/);
    const listed = (await me.savedQueries.list()).find((q) => q.id === saved.id);
    expect(listed?.sourceProblem).toMatch(/connection was deleted/);

    // Choosing another source mends it.
    const mended = await me.savedQueries.update({
      id: saved.id,
      source: { kind: "connection", connectionId: warehouseId },
    });
    expect(mended.source).toEqual({ kind: "connection", connectionId: warehouseId, connectionName: "warehouse" });
    expect(mended.sourceProblem).toBeNull();
    await me.savedQueries.delete({ id: saved.id });
  });

  it("are written to the audit log as saved queries, by name", async () => {
    const me = await api();
    const saved = await me.savedQueries.create({ name: "Audited", source: { kind: "files" }, sql: "select 1" });
    await me.savedQueries.delete({ id: saved.id });
    const entries = await h.db.auditEntry.findMany({
      where: { workspaceId, action: { startsWith: "savedQueries." } },
      orderBy: { at: "asc" },
    });
    const audited = entries.filter((e) => e.targetId === saved.id);
    expect(audited.map((e) => [e.action, e.targetType, e.targetName])).toEqual([
      ["savedQueries.create", "saved query", "Audited"],
      ["savedQueries.delete", "saved query", "Audited"],
    ]);
  });
});
