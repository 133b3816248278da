import type { Db } from "@sluice/db/client";
import type { Prisma } from "@sluice/db/generated/prisma/client";
import { fromDbStatus } from "@sluice/pipeline/control/run-status";
import { TRPCError } from "@trpc/server";
import type { z } from "zod";
import { SavedChart } from "../saved-queries/saved-query-router.types";
import { firstFreePlace, layoutProblem } from "./dashboard-layout";
import {
  type AddedTile,
  type AddTileInput,
  type CreateDashboardInput,
  type CreatedDashboard,
  type DashboardListItem,
  type DashboardView,
  type LayoutInput,
  MAX_TILES,
  type RemoveTileInput,
  type RenameTileInput,
  type TileView,
  TimeRange,
  type UpdateDashboardInput,
} from "./dashboard-router.types";

// A workspace's dashboards, each a grid of tiles kept under a name unique in the workspace. Every id a call names —
// the dashboard, a tile, the saved query or pipeline a tile shows — must be the workspace's: anything else is "not
// found", never a hint that it exists elsewhere. A tile goes with its query or pipeline (the database cascades).

export interface DashboardDeps {
  db: Db;
}

export interface DashboardCaller {
  workspaceId: string;
  userId: string;
}

const SOURCE_GONE = "its connection was deleted: open the query, choose another source and save it again";

const LIST_SELECT = {
  id: true,
  name: true,
  description: true,
  updatedAt: true,
  createdBy: { select: { name: true } },
  _count: { select: { tiles: true } },
} satisfies Prisma.DashboardSelect;

const VIEW_SELECT = {
  ...LIST_SELECT,
  timeRange: true,
  refreshSeconds: true,
  createdAt: true,
  tiles: {
    orderBy: [{ y: "asc" }, { x: "asc" }],
    select: {
      id: true,
      kind: true,
      title: true,
      x: true,
      y: true,
      w: true,
      h: true,
      savedQuery: { select: { id: true, name: true, chart: true, source: true, connectionId: true } },
      pipeline: {
        select: {
          id: true,
          name: true,
          runs: {
            orderBy: { createdAt: "desc" },
            take: 1,
            select: {
              id: true,
              status: true,
              startedAt: true,
              finishedAt: true,
              counters: true,
              version: { select: { definition: true } },
            },
          },
        },
      },
    },
  },
} satisfies Prisma.DashboardSelect;

type ListRow = Prisma.DashboardGetPayload<{ select: typeof LIST_SELECT }>;
type ViewRow = Prisma.DashboardGetPayload<{ select: typeof VIEW_SELECT }>;
type TileRow = ViewRow["tiles"][number];
type RunRow = NonNullable<TileRow["pipeline"]>["runs"][number];

function listItem(row: ListRow): z.output<typeof DashboardListItem> {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    tileCount: row._count.tiles,
    author: row.createdBy?.name ?? null,
    updatedAt: row.updatedAt,
  };
}

/** Source and sink node ids of a stored definition, read loosely: a definition that does not parse has none. */
function endpoints(definition: unknown): { sourceIds: string[]; sinkIds: string[] } {
  const nodes = (definition as { spec?: { nodes?: unknown } } | null)?.spec?.nodes;
  const sourceIds: string[] = [];
  const sinkIds: string[] = [];
  if (Array.isArray(nodes)) {
    for (const n of nodes as { id?: unknown; type?: unknown }[]) {
      if (typeof n?.id !== "string" || typeof n.type !== "string") continue;
      if (n.type.startsWith("source.")) sourceIds.push(n.id);
      else if (n.type.startsWith("sink.")) sinkIds.push(n.id);
    }
  }
  return { sourceIds, sinkIds };
}

function runView(run: RunRow) {
  const { sourceIds, sinkIds } = endpoints(run.version.definition);
  const counters = (run.counters ?? {}) as Record<string, { in?: number; out?: number } | undefined>;
  const sum = (ids: string[], key: "in" | "out") => ids.reduce((s, id) => s + (counters[id]?.[key] ?? 0), 0);
  return {
    id: run.id,
    status: fromDbStatus(run.status),
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    sourceIds,
    sinkIds,
    totalIn: sum(sourceIds, "out"),
    totalOut: sum(sinkIds, "in"),
  };
}

function tileView(tile: TileRow): TileView | null {
  const place = { id: tile.id, x: tile.x, y: tile.y, w: tile.w, h: tile.h, title: tile.title };
  if (tile.kind === "QUERY" && tile.savedQuery) {
    const q = tile.savedQuery;
    const chart = SavedChart.safeParse(q.chart);
    return {
      ...place,
      kind: "QUERY",
      savedQuery: {
        id: q.id,
        name: q.name,
        chart: chart.success ? chart.data : null,
        sourceProblem: q.source === "connection" && q.connectionId === null ? SOURCE_GONE : null,
      },
    };
  }
  if (tile.kind === "PIPELINE_FIGURES" && tile.pipeline) {
    const run = tile.pipeline.runs[0];
    return {
      ...place,
      kind: "PIPELINE_FIGURES",
      pipeline: { id: tile.pipeline.id, name: tile.pipeline.name },
      run: run ? runView(run) : null,
    };
  }
  return null; // the database removes a tile with its query or pipeline; nothing else is left without one
}

function view(row: ViewRow): z.output<typeof DashboardView> {
  // A range stored by an older shape falls back to the default rather than failing the whole dashboard.
  const range = TimeRange.safeParse(row.timeRange);
  return {
    ...listItem(row),
    timeRange: range.success ? range.data : { kind: "relative", last: "1h" },
    refreshSeconds: row.refreshSeconds,
    tiles: row.tiles.flatMap((t) => tileView(t) ?? []),
    createdAt: row.createdAt,
  };
}

const notFound = (what: string) => new TRPCError({ code: "NOT_FOUND", message: `no such ${what} in this workspace` });

function nameTaken(name: string): TRPCError {
  return new TRPCError({ code: "CONFLICT", message: `name: a dashboard called "${name}" already exists` });
}

const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === "P2002";

async function findDashboard(db: Db, workspaceId: string, id: string) {
  const row = await db.dashboard.findFirst({
    where: { id, workspaceId },
    select: { id: true, name: true, tiles: { select: { id: true, x: true, y: true, w: true, h: true } } },
  });
  if (!row) throw notFound("dashboard");
  return row;
}

/** Marks the dashboard changed (a tile's change is the dashboard's). */
const touch = (db: Db, id: string) => db.dashboard.update({ where: { id }, data: { updatedAt: new Date() } });

export async function listDashboards(
  deps: DashboardDeps,
  workspaceId: string,
): Promise<z.output<typeof DashboardListItem>[]> {
  const rows = await deps.db.dashboard.findMany({
    where: { workspaceId },
    orderBy: { name: "asc" },
    select: LIST_SELECT,
  });
  return rows.map(listItem);
}

export async function getDashboard(
  deps: DashboardDeps,
  workspaceId: string,
  id: string,
): Promise<z.output<typeof DashboardView>> {
  const row = await deps.db.dashboard.findFirst({ where: { id, workspaceId }, select: VIEW_SELECT });
  if (!row) throw notFound("dashboard");
  return view(row);
}

export async function createDashboard(
  deps: DashboardDeps,
  caller: DashboardCaller,
  input: z.output<typeof CreateDashboardInput>,
): Promise<z.output<typeof CreatedDashboard>> {
  try {
    return await deps.db.dashboard.create({
      data: {
        workspaceId: caller.workspaceId,
        name: input.name,
        description: input.description,
        timeRange: input.timeRange,
        refreshSeconds: input.refreshSeconds,
        createdById: caller.userId,
      },
      select: { id: true, name: true },
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw nameTaken(input.name);
    throw err;
  }
}

export async function updateDashboard(
  deps: DashboardDeps,
  workspaceId: string,
  input: z.output<typeof UpdateDashboardInput>,
): Promise<z.output<typeof DashboardView>> {
  const row = await findDashboard(deps.db, workspaceId, input.id);
  const data: Prisma.DashboardUpdateInput = {
    ...(input.name !== undefined ? { name: input.name } : {}),
    ...(input.description !== undefined ? { description: input.description } : {}),
    ...(input.timeRange !== undefined ? { timeRange: input.timeRange } : {}),
    ...(input.refreshSeconds !== undefined ? { refreshSeconds: input.refreshSeconds } : {}),
  };
  if (Object.keys(data).length > 0) {
    try {
      await deps.db.dashboard.update({ where: { id: row.id }, data });
    } catch (err) {
      if (isUniqueViolation(err)) throw nameTaken(input.name ?? row.name);
      throw err;
    }
  }
  return getDashboard(deps, workspaceId, row.id);
}

export async function deleteDashboard(deps: DashboardDeps, workspaceId: string, id: string): Promise<void> {
  const row = await findDashboard(deps.db, workspaceId, id);
  await deps.db.dashboard.delete({ where: { id: row.id } });
}

export async function addTile(
  deps: DashboardDeps,
  workspaceId: string,
  input: z.output<typeof AddTileInput>,
): Promise<z.output<typeof AddedTile>> {
  const dashboard = await findDashboard(deps.db, workspaceId, input.id);
  if (dashboard.tiles.length >= MAX_TILES) {
    throw new TRPCError({
      code: "BAD_REQUEST",
      message: `a dashboard holds at most ${MAX_TILES} tiles; remove one or make another dashboard`,
    });
  }
  let target: Pick<Prisma.DashboardTileUncheckedCreateInput, "savedQueryId" | "pipelineId">;
  if (input.kind === "QUERY") {
    const q = await deps.db.savedQuery.findFirst({
      where: { id: input.savedQueryId, workspaceId },
      select: { id: true },
    });
    if (!q) throw notFound("saved query");
    target = { savedQueryId: q.id };
  } else {
    const p = await deps.db.pipeline.findFirst({ where: { id: input.pipelineId, workspaceId }, select: { id: true } });
    if (!p) throw notFound("pipeline");
    target = { pipelineId: p.id };
  }
  const place = firstFreePlace(dashboard.tiles, input.w ?? 6, input.h ?? 3);
  const [tile] = await deps.db.$transaction([
    deps.db.dashboardTile.create({
      data: { dashboardId: dashboard.id, kind: input.kind, title: input.title, ...target, ...place },
      select: { id: true },
    }),
    touch(deps.db, dashboard.id),
  ]);
  return { tileId: tile.id, ...place };
}

export async function setLayout(
  deps: DashboardDeps,
  workspaceId: string,
  input: z.output<typeof LayoutInput>,
): Promise<z.output<typeof DashboardView>> {
  const dashboard = await findDashboard(deps.db, workspaceId, input.id);
  const known = new Set(dashboard.tiles.map((t) => t.id));
  const given = new Set<string>();
  for (const [i, t] of input.tiles.entries()) {
    if (!known.has(t.tileId)) {
      throw new TRPCError({ code: "NOT_FOUND", message: `tiles.${i}.tileId: no such tile on this dashboard` });
    }
    if (given.has(t.tileId)) {
      throw new TRPCError({ code: "BAD_REQUEST", message: `tiles.${i}.tileId: the tile is placed twice` });
    }
    given.add(t.tileId);
  }
  if (given.size !== known.size) {
    throw new TRPCError({
      code: "BAD_REQUEST",
      message: `tiles: give every tile of the dashboard its place (${known.size}), not ${given.size}`,
    });
  }
  const problem = layoutProblem(input.tiles.map((t, i) => ({ ...t, label: `tiles.${i}` })));
  if (problem) throw new TRPCError({ code: "BAD_REQUEST", message: `tiles: ${problem}` });
  await deps.db.$transaction([
    ...input.tiles.map((t) =>
      deps.db.dashboardTile.update({ where: { id: t.tileId }, data: { x: t.x, y: t.y, w: t.w, h: t.h } }),
    ),
    touch(deps.db, dashboard.id),
  ]);
  return getDashboard(deps, workspaceId, dashboard.id);
}

export async function renameTile(
  deps: DashboardDeps,
  workspaceId: string,
  input: z.output<typeof RenameTileInput>,
): Promise<void> {
  const dashboard = await findDashboard(deps.db, workspaceId, input.id);
  if (!dashboard.tiles.some((t) => t.id === input.tileId)) throw notFound("tile on this dashboard");
  await deps.db.$transaction([
    deps.db.dashboardTile.update({ where: { id: input.tileId }, data: { title: input.title } }),
    touch(deps.db, dashboard.id),
  ]);
}

export async function removeTile(
  deps: DashboardDeps,
  workspaceId: string,
  input: z.output<typeof RemoveTileInput>,
): Promise<void> {
  const dashboard = await findDashboard(deps.db, workspaceId, input.id);
  if (!dashboard.tiles.some((t) => t.id === input.tileId)) throw notFound("tile on this dashboard");
  await deps.db.$transaction([
    deps.db.dashboardTile.delete({ where: { id: input.tileId } }),
    touch(deps.db, dashboard.id),
  ]);
}
