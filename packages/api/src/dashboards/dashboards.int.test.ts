import { type ApiHarness, createApiHarness, rejects } from "@sluice/test-kit/api-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Dashboards end to end against real Postgres: made, listed, opened, changed and deleted; tiles of a saved query or a
// pipeline of the same workspace, placed where they fit; layouts inside the grid without overlaps; names unique in a
// workspace; other workspaces see none of it; viewers only read; a tile goes with its query.

let h: ApiHarness;
let cookie: string;
let workspaceId: string;

async function api(as = cookie, ws?: string) {
  return (await h.caller(as, ws)).api;
}

async function savedQuery(name: string) {
  return (await (await api()).savedQueries.create({ name, source: { kind: "files" }, sql: "select 1 as one" })).id;
}

beforeAll(async () => {
  h = await createApiHarness("dashboards");
  ({ cookie } = await h.signUp("Analyst"));
  workspaceId = (await (await api()).auth.me())!.workspaces[0]!.id;
});
afterAll(async () => {
  await h?.close();
});

describe("dashboards", () => {
  it("are created, listed, opened, changed and deleted", async () => {
    const me = await api();
    const created = await me.dashboards.create({ name: "Operations", description: "  What runs  " });
    const opened = await me.dashboards.get({ id: created.id });
    expect(opened).toMatchObject({
      name: "Operations",
      description: "What runs",
      timeRange: { kind: "relative", last: "1h" },
      refreshSeconds: 60,
      tiles: [],
      author: "Analyst",
    });
    expect((await me.dashboards.list()).map((d) => [d.name, d.tileCount])).toEqual([["Operations", 0]]);

    const changed = await me.dashboards.update({
      id: created.id,
      name: "Ops",
      timeRange: { kind: "absolute", from: "2026-12-01T00:00:00Z", to: "2026-12-02T00:00:00Z" },
      refreshSeconds: 10,
    });
    expect(changed).toMatchObject({
      name: "Ops",
      description: "What runs",
      timeRange: { kind: "absolute", from: "2026-12-01T00:00:00Z", to: "2026-12-02T00:00:00Z" },
      refreshSeconds: 10,
    });

    await me.dashboards.delete({ id: created.id });
    expect((await rejects(me.dashboards.get({ id: created.id }))).code).toBe("NOT_FOUND");
    expect(await me.dashboards.list()).toEqual([]);
  });

  it("refuse a taken name, a backwards range and a refresh period not offered, naming the field", async () => {
    const me = await api();
    const first = await me.dashboards.create({ name: "Revenue" });
    const again = await rejects(me.dashboards.create({ name: "Revenue" }));
    expect(again.code).toBe("CONFLICT");
    expect(again.message).toMatch(/^name: a dashboard called "Revenue" already exists/);
    const other = await me.dashboards.create({ name: "Growth" });
    const renamed = await rejects(me.dashboards.update({ id: other.id, name: "Revenue" }));
    expect(renamed.code).toBe("CONFLICT");

    const backwards = await rejects(
      me.dashboards.update({
        id: other.id,
        timeRange: { kind: "absolute", from: "2026-12-02T00:00:00Z", to: "2026-12-01T00:00:00Z" },
      }),
    );
    expect(backwards.code).toBe("BAD_REQUEST");
    expect(backwards.message).toMatch(/timeRange\.to: `from` must be before `to`/);
    const refresh = await rejects(me.dashboards.update({ id: other.id, refreshSeconds: 7 }));
    expect(refresh.message).toMatch(/refreshSeconds: refresh every 0 \(off\), 10, 30, 60 or 300 s/);
    await me.dashboards.delete({ id: first.id });
    await me.dashboards.delete({ id: other.id });
  });

  it("place added tiles where they fit and take a layout only inside the grid without overlaps", async () => {
    const me = await api();
    const board = await me.dashboards.create({ name: "Grid" });
    const queryId = await savedQuery("Grid query");
    const pipeline = await me.pipelines.create({ name: "Grid pipeline" });

    const a = await me.dashboards.addTile({ id: board.id, kind: "QUERY", savedQueryId: queryId });
    const b = await me.dashboards.addTile({ id: board.id, kind: "QUERY", savedQueryId: queryId, title: "Again" });
    const c = await me.dashboards.addTile({ id: board.id, kind: "PIPELINE_FIGURES", pipelineId: pipeline.id, w: 12 });
    expect([a, b, c].map(({ x, y, w, h }) => [x, y, w, h])).toEqual([
      [0, 0, 6, 3],
      [6, 0, 6, 3],
      [0, 3, 12, 3],
    ]);

    const opened = await me.dashboards.get({ id: board.id });
    expect(opened.tiles.map((t) => t.kind)).toEqual(["QUERY", "QUERY", "PIPELINE_FIGURES"]);
    expect(opened.tiles[1]).toMatchObject({ title: "Again", savedQuery: { id: queryId, name: "Grid query" } });
    expect(opened.tiles[2]).toMatchObject({ pipeline: { id: pipeline.id, name: "Grid pipeline" }, run: null });

    // Swap the two queries and stack the figures on top: all at once, so no step in between overlaps.
    const moved = await me.dashboards.layout({
      id: board.id,
      tiles: [
        { tileId: a.tileId, x: 6, y: 3, w: 6, h: 3 },
        { tileId: b.tileId, x: 0, y: 3, w: 6, h: 3 },
        { tileId: c.tileId, x: 0, y: 0, w: 12, h: 3 },
      ],
    });
    expect(moved.tiles.map((t) => [t.id, t.x, t.y])).toEqual([
      [c.tileId, 0, 0],
      [b.tileId, 0, 3],
      [a.tileId, 6, 3],
    ]);

    const overlap = await rejects(
      me.dashboards.layout({
        id: board.id,
        tiles: [
          { tileId: a.tileId, x: 0, y: 0, w: 6, h: 3 },
          { tileId: b.tileId, x: 5, y: 2, w: 6, h: 3 },
          { tileId: c.tileId, x: 0, y: 5, w: 12, h: 2 },
        ],
      }),
    );
    expect(overlap.code).toBe("BAD_REQUEST");
    expect(overlap.message).toBe('tiles: tiles "tiles.0" and "tiles.1" overlap; move one of them first');
    const outside = await rejects(
      me.dashboards.layout({
        id: board.id,
        tiles: [
          { tileId: a.tileId, x: 8, y: 0, w: 6, h: 3 },
          { tileId: b.tileId, x: 0, y: 3, w: 6, h: 3 },
          { tileId: c.tileId, x: 0, y: 6, w: 12, h: 2 },
        ],
      }),
    );
    expect(outside.message).toMatch(/^tiles: tile "tiles.0" reaches column 14, past the grid's 12 columns/);
    const partial = await rejects(
      me.dashboards.layout({ id: board.id, tiles: [{ tileId: a.tileId, x: 0, y: 0, w: 6, h: 3 }] }),
    );
    expect(partial.message).toMatch(/give every tile of the dashboard its place \(3\), not 1/);
    // Refused layouts changed nothing.
    expect((await me.dashboards.get({ id: board.id })).tiles.map((t) => [t.x, t.y])).toEqual([
      [0, 0],
      [0, 3],
      [6, 3],
    ]);

    await me.dashboards.renameTile({ id: board.id, tileId: c.tileId, title: "Live" });
    await me.dashboards.removeTile({ id: board.id, tileId: b.tileId });
    const after = await me.dashboards.get({ id: board.id });
    expect(after.tiles.map((t) => t.title)).toEqual(["Live", ""]);
    expect((await me.dashboards.list()).find((d) => d.id === board.id)?.tileCount).toBe(2);

    // Deleting the query takes its tile with it.
    await me.savedQueries.delete({ id: queryId });
    expect((await me.dashboards.get({ id: board.id })).tiles.map((t) => t.kind)).toEqual(["PIPELINE_FIGURES"]);
    await me.dashboards.delete({ id: board.id });
  });

  it("show a pipeline tile's newest run with its sources and sinks", async () => {
    const me = await api();
    const board = await me.dashboards.create({ name: "Runs" });
    const pipeline = await me.pipelines.create({ name: "Counted" });
    const version = await h.db.pipelineVersion.findFirstOrThrow({ where: { pipelineId: pipeline.id } });
    const userId = (await me.auth.me())!.user.id;
    const definition = {
      apiVersion: "sluice/v1",
      spec: {
        nodes: [
          { id: "gen", type: "source.generator" },
          { id: "out", type: "sink.console" },
        ],
        edges: [],
      },
    };
    await h.db.pipelineVersion.update({ where: { id: version.id }, data: { definition } });
    const at = Date.now();
    await h.db.run.create({
      data: {
        workspaceId,
        pipelineId: pipeline.id,
        versionId: version.id,
        startedById: userId,
        status: "COMPLETED",
        createdAt: new Date(at - 60_000),
        counters: { gen: { in: 0, out: 500, errors: 0 }, out: { in: 400, out: 0, errors: 0 } },
      },
    });
    const newest = await h.db.run.create({
      data: {
        workspaceId,
        pipelineId: pipeline.id,
        versionId: version.id,
        startedById: userId,
        status: "RUNNING",
        createdAt: new Date(at),
        startedAt: new Date(at),
      },
    });
    await me.dashboards.addTile({ id: board.id, kind: "PIPELINE_FIGURES", pipelineId: pipeline.id });
    const [tile] = (await me.dashboards.get({ id: board.id })).tiles;
    expect(tile).toMatchObject({
      kind: "PIPELINE_FIGURES",
      run: { id: newest.id, status: "running", sourceIds: ["gen"], sinkIds: ["out"], totalIn: 0, totalOut: 0 },
    });
    await me.dashboards.delete({ id: board.id });
  });

  it("are neither seen nor changed from another workspace, nor take its queries or pipelines", async () => {
    const me = await api();
    const mine = await me.dashboards.create({ name: "Private" });
    const { cookie: otherCookie } = await h.signUp("Other");
    const other = await api(otherCookie);
    expect(await other.dashboards.list()).toEqual([]);
    for (const call of [
      () => other.dashboards.get({ id: mine.id }),
      () => other.dashboards.update({ id: mine.id, name: "Mine now" }),
      () => other.dashboards.delete({ id: mine.id }),
      () => other.dashboards.layout({ id: mine.id, tiles: [] }),
    ]) {
      expect((await rejects(call())).code).toBe("NOT_FOUND");
    }
    const theirQuery = await other.savedQueries.create({ name: "Theirs", source: { kind: "files" }, sql: "select 1" });
    const theirPipeline = await other.pipelines.create({ name: "Theirs" });
    const foreignQuery = await rejects(
      me.dashboards.addTile({ id: mine.id, kind: "QUERY", savedQueryId: theirQuery.id }),
    );
    expect([foreignQuery.code, foreignQuery.message]).toEqual(["NOT_FOUND", "no such saved query in this workspace"]);
    const foreignPipeline = await rejects(
      me.dashboards.addTile({ id: mine.id, kind: "PIPELINE_FIGURES", pipelineId: theirPipeline.id }),
    );
    expect([foreignPipeline.code, foreignPipeline.message]).toEqual([
      "NOT_FOUND",
      "no such pipeline in this workspace",
    ]);
    expect((await me.dashboards.get({ id: mine.id })).tiles).toEqual([]);
    await me.dashboards.delete({ id: mine.id });
  });

  it("are read by viewers, who cannot change them", async () => {
    const me = await api();
    const board = await me.dashboards.create({ name: "Shared" });
    const queryId = await savedQuery("Shared query");
    const tile = await me.dashboards.addTile({ id: board.id, kind: "QUERY", savedQueryId: queryId });
    const { cookie: viewerCookie } = await h.signUp("Viewer");
    const viewerId = (await (await api(viewerCookie)).auth.me())!.user.id;
    await h.db.membership.create({ data: { userId: viewerId, workspaceId, role: "VIEWER" } });
    const viewer = await api(viewerCookie, workspaceId);
    expect((await viewer.dashboards.list()).map((d) => d.name)).toContain("Shared");
    expect((await viewer.dashboards.get({ id: board.id })).tiles).toHaveLength(1);
    for (const call of [
      () => viewer.dashboards.create({ name: "Mine" }),
      () => viewer.dashboards.update({ id: board.id, refreshSeconds: 0 }),
      () => viewer.dashboards.addTile({ id: board.id, kind: "QUERY", savedQueryId: queryId }),
      () => viewer.dashboards.removeTile({ id: board.id, tileId: tile.tileId }),
      () => viewer.dashboards.delete({ id: board.id }),
    ]) {
      expect((await rejects(call())).code).toBe("FORBIDDEN");
    }
    await me.dashboards.delete({ id: board.id });
    await me.savedQueries.delete({ id: queryId });
  });

  it("write their changes to the audit log", async () => {
    const me = await api();
    const board = await me.dashboards.create({ name: "Audited" });
    await me.dashboards.update({ id: board.id, refreshSeconds: 300 });
    const entries = await h.db.auditEntry.findMany({
      where: { workspaceId, action: { startsWith: "dashboards." }, targetId: board.id },
      orderBy: { id: "asc" },
      select: { action: true },
    });
    expect(entries.map((e) => e.action)).toEqual(["dashboards.create", "dashboards.update"]);
    await me.dashboards.delete({ id: board.id });
  });
});
