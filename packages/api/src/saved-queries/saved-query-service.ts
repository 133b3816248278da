import { Prisma } from "@sluice/db/generated/prisma/client";
import { TRPCError } from "@trpc/server";
import type { z } from "zod";
import { findConnection } from "../connections/connection-service";
import type { ParameterValue } from "../queries/query-parameters";
import { ParameterDeclarations, QUERY_LIMITS, type QueryResult, type QuerySource } from "../queries/query-router.types";
import { listQuerySources, type QueryCaller, type QueryDeps, runQueryJob } from "../queries/query-service";
import {
  type CreatedSavedQuery,
  type CreateSavedQueryInput,
  type RunSavedQueryInput,
  SavedChart,
  type SavedParameter,
  type SavedQueryListItem,
  type SavedQueryView,
  type UpdateSavedQueryInput,
} from "./saved-query-router.types";

// A workspace's saved queries: kept under a name unique in the workspace, each with its source, SQL and chart. A
// query's connection must be one of the workspace's that can answer SQL, as for queries.run; when that connection
// is deleted later the query stays (its connectionId is set null by the database) and says its source is gone.

/** What queries.run needs to tell a query-capable connection. */
export type SavedQueryDeps = QueryDeps;

export interface SavedQueryCaller {
  workspaceId: string;
  userId: string;
}

const SOURCE_GONE = "its connection was deleted: choose another source and save the query again";

const LIST_SELECT = {
  id: true,
  name: true,
  description: true,
  source: true,
  connectionId: true,
  connection: { select: { name: true } },
  createdBy: { select: { name: true } },
  updatedAt: true,
} satisfies Prisma.SavedQuerySelect;

const VIEW_SELECT = {
  ...LIST_SELECT,
  sql: true,
  chart: true,
  parameters: true,
  createdAt: true,
} satisfies Prisma.SavedQuerySelect;

type ListRow = Prisma.SavedQueryGetPayload<{ select: typeof LIST_SELECT }>;
type ViewRow = Prisma.SavedQueryGetPayload<{ select: typeof VIEW_SELECT }>;

function listItem(row: ListRow): z.output<typeof SavedQueryListItem> {
  const gone = row.source === "connection" && row.connectionId === null;
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    source:
      row.source === "files"
        ? { kind: "files" }
        : { kind: "connection", connectionId: row.connectionId, connectionName: row.connection?.name ?? null },
    sourceProblem: gone ? SOURCE_GONE : null,
    author: row.createdBy?.name ?? null,
    updatedAt: row.updatedAt,
  };
}

/** The stored declarations; a shape this version cannot read counts as none (a run then names the parameter). */
function declarations(stored: Prisma.JsonValue): z.output<typeof SavedParameter>[] {
  const parsed = ParameterDeclarations.safeParse(stored);
  return parsed.success ? parsed.data : [];
}

function view(row: ViewRow): z.output<typeof SavedQueryView> {
  // A chart stored by an older shape is dropped rather than failing the whole query.
  const chart = SavedChart.safeParse(row.chart);
  return {
    ...listItem(row),
    sql: row.sql,
    chart: chart.success ? chart.data : null,
    parameters: declarations(row.parameters),
    createdAt: row.createdAt,
  };
}

/** The columns a source sets: a connection must be the workspace's and able to answer SQL, as for queries.run. */
async function sourceColumns(
  deps: SavedQueryDeps,
  workspaceId: string,
  source: QuerySource,
): Promise<{ source: "connection" | "files"; connectionId: string | null }> {
  if (source.kind === "files") return { source: "files", connectionId: null };
  const row = await findConnection(deps.db, workspaceId, source.connectionId);
  const sources = await listQuerySources(deps, workspaceId);
  if (!sources.some((s) => s.kind === "connection" && s.connectionId === row.id)) {
    throw new TRPCError({
      code: "BAD_REQUEST",
      message: `source: connection "${row.name}" is of type "${row.type}", which cannot answer SQL queries`,
    });
  }
  return { source: "connection", connectionId: row.id };
}

function nameTaken(name: string): TRPCError {
  return new TRPCError({ code: "CONFLICT", message: `name: a saved query called "${name}" already exists` });
}

const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === "P2002";

const chartValue = (chart: z.output<typeof SavedChart> | null) => chart ?? Prisma.DbNull;

async function findSavedQuery(deps: SavedQueryDeps, workspaceId: string, id: string): Promise<ViewRow> {
  const row = await deps.db.savedQuery.findFirst({ where: { id, workspaceId }, select: VIEW_SELECT });
  if (!row) throw new TRPCError({ code: "NOT_FOUND", message: "no such saved query in this workspace" });
  return row;
}

export async function listSavedQueries(
  deps: SavedQueryDeps,
  workspaceId: string,
): Promise<z.output<typeof SavedQueryListItem>[]> {
  const rows = await deps.db.savedQuery.findMany({
    where: { workspaceId },
    orderBy: { name: "asc" },
    select: LIST_SELECT,
  });
  return rows.map(listItem);
}

export async function getSavedQuery(
  deps: SavedQueryDeps,
  workspaceId: string,
  id: string,
): Promise<z.output<typeof SavedQueryView>> {
  return view(await findSavedQuery(deps, workspaceId, id));
}

export async function createSavedQuery(
  deps: SavedQueryDeps,
  caller: SavedQueryCaller,
  input: z.output<typeof CreateSavedQueryInput>,
): Promise<z.output<typeof CreatedSavedQuery>> {
  const source = await sourceColumns(deps, caller.workspaceId, input.source);
  try {
    return await deps.db.savedQuery.create({
      data: {
        workspaceId: caller.workspaceId,
        name: input.name,
        description: input.description,
        ...source,
        sql: input.sql,
        chart: chartValue(input.chart),
        parameters: input.parameters,
        createdById: caller.userId,
      },
      select: { id: true, name: true },
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw nameTaken(input.name);
    throw err;
  }
}

export async function updateSavedQuery(
  deps: SavedQueryDeps,
  workspaceId: string,
  input: z.output<typeof UpdateSavedQueryInput>,
): Promise<z.output<typeof SavedQueryView>> {
  const row = await findSavedQuery(deps, workspaceId, input.id);
  const data: Prisma.SavedQueryUncheckedUpdateInput = {
    ...(input.name !== undefined ? { name: input.name } : {}),
    ...(input.description !== undefined ? { description: input.description } : {}),
    ...(input.sql !== undefined ? { sql: input.sql } : {}),
    ...(input.chart !== undefined ? { chart: chartValue(input.chart) } : {}),
    ...(input.parameters !== undefined ? { parameters: input.parameters } : {}),
    ...(input.source !== undefined ? await sourceColumns(deps, workspaceId, input.source) : {}),
  };
  if (Object.keys(data).length === 0) return view(row);
  try {
    await deps.db.savedQuery.update({ where: { id: row.id }, data });
  } catch (err) {
    if (isUniqueViolation(err)) throw nameTaken(input.name ?? row.name);
    throw err;
  }
  return getSavedQuery(deps, workspaceId, row.id);
}

export async function deleteSavedQuery(deps: SavedQueryDeps, workspaceId: string, id: string): Promise<void> {
  const row = await findSavedQuery(deps, workspaceId, id);
  await deps.db.savedQuery.delete({ where: { id: row.id } });
}

/** A saved query as it runs: its source (refused when its connection was deleted), SQL, declarations and chart. */
export async function savedQueryToRun(
  deps: SavedQueryDeps,
  workspaceId: string,
  id: string,
): Promise<{
  id: string;
  name: string;
  source: QuerySource;
  sql: string;
  declarations: z.output<typeof SavedParameter>[];
  chart: SavedChart | null;
}> {
  const row = await findSavedQuery(deps, workspaceId, id);
  if (row.source === "connection" && !row.connectionId) {
    throw new TRPCError({ code: "PRECONDITION_FAILED", message: `saved query "${row.name}": ${SOURCE_GONE}` });
  }
  const chart = SavedChart.safeParse(row.chart);
  return {
    id: row.id,
    name: row.name,
    source: row.connectionId ? { kind: "connection", connectionId: row.connectionId } : { kind: "files" },
    sql: row.sql,
    declarations: declarations(row.parameters),
    chart: chart.success ? chart.data : null,
  };
}

/** Values of a saved run: the time range's ends as `from` and `to`, then the values given over them. */
export function savedRunValues(
  input: Pick<z.input<typeof RunSavedQueryInput>, "values" | "timeRange">,
): Record<string, ParameterValue | undefined> {
  return { ...(input.timeRange ? { from: input.timeRange.from, to: input.timeRange.to } : {}), ...input.values };
}

/**
 * Runs a saved query on its source as saved, with its declared defaults overridden by the time range (`from`, `to`)
 * and then by `values`. Its SQL is fixed, so any member may run it. The dashboards run their tiles through it, and
 * scheduled reports run it from a worker.
 */
export async function runSavedQuery(
  deps: QueryDeps,
  caller: QueryCaller,
  input: z.input<typeof RunSavedQueryInput>,
): Promise<z.output<typeof QueryResult> & { savedQuery: { id: string; name: string; chart: SavedChart | null } }> {
  const saved = await savedQueryToRun(deps, caller.workspaceId, input.id);
  const result = await runQueryJob(deps, caller, {
    source: saved.source,
    sql: saved.sql,
    declarations: saved.declarations,
    values: savedRunValues(input),
    limit: input.limit ?? QUERY_LIMITS.defaultRows,
    timeoutMs: input.timeoutMs ?? QUERY_LIMITS.defaultTimeoutMs,
    queryId: input.queryId,
  });
  return { ...result, savedQuery: { id: saved.id, name: saved.name, chart: saved.chart } };
}
