import { z } from "zod";
import {
  ExportFormat,
  ExportQueryInput,
  ParameterDeclarations,
  ParameterValues,
  QueryId,
  QueryResult,
  QuerySource,
  RunQueryInput,
} from "../queries/query-router.types";

// Saved queries of the query page: a workspace's queries kept under a name, with their source, their SQL and the
// chart drawn from their result.

const SavedQueryId = z.string().min(1).max(64);

const ColumnName = z.string().min(1, "a chart column needs a name").max(1000);

/**
 * The chart of a saved query: its kind and its columns by name, not position, so it still fits when the query's
 * columns come back in another order. A column the result no longer has is left out when the chart is drawn.
 */
export const SavedChart = z.strictObject({
  kind: z.enum(["line", "area", "bar", "scatter", "number"]),
  x: ColumnName,
  y: z.array(ColumnName).max(100, "a chart draws at most 100 columns"),
});
export type SavedChart = z.infer<typeof SavedChart>;

const Name = z.string().trim().min(1, "give the query a name").max(100, "a query's name is at most 100 characters");
const Description = z.string().trim().max(2000, "a description is at most 2,000 characters");

export const CreateSavedQueryInput = z.strictObject({
  name: Name,
  description: Description.default(""),
  source: QuerySource,
  sql: RunQueryInput.shape.sql,
  /** Null: the result is shown as a table. */
  chart: SavedChart.nullable().default(null),
  /** The parameters its SQL names as `{{name}}`. */
  parameters: ParameterDeclarations.default([]),
});

/** What is left out stays as it was. */
export const UpdateSavedQueryInput = z.strictObject({
  id: SavedQueryId,
  name: Name.optional(),
  description: Description.optional(),
  source: QuerySource.optional(),
  sql: RunQueryInput.shape.sql.optional(),
  chart: SavedChart.nullable().optional(),
  parameters: ParameterDeclarations.optional(),
});

export const SavedQueryIdInput = z.strictObject({ id: SavedQueryId });

/** Where a saved query reads. A connection source whose connection was deleted has `connectionId` null. */
const SavedQuerySourceView = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("files") }),
  z.object({
    kind: z.literal("connection"),
    connectionId: z.string().nullable(),
    connectionName: z.string().nullable(),
  }),
]);

export const SavedQueryListItem = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  source: SavedQuerySourceView,
  /** Why it cannot run as saved (its connection was deleted); null when it can. */
  sourceProblem: z.string().nullable(),
  author: z.string().nullable(),
  updatedAt: z.date(),
});

/** A declaration as stored and shown: every field present. */
export const SavedParameter = z.object({
  name: z.string(),
  type: z.enum(["timestamp", "number", "text"]),
  label: z.string(),
  default: z.union([z.string(), z.number()]).nullable(),
});

export const SavedQueryView = SavedQueryListItem.extend({
  sql: z.string(),
  chart: SavedChart.nullable(),
  parameters: z.array(SavedParameter),
  createdAt: z.date(),
});

export const CreatedSavedQuery = z.object({ id: z.string(), name: z.string() });

/** An instant with its zone, as a time range's ends are given. */
const Instant = z.iso.datetime({
  offset: true,
  message: "an ISO-8601 instant with its zone, e.g. 2026-01-01T00:00:00Z",
});

/**
 * Runs a saved query as saved (its SQL and source are fixed: viewers may run it) with its declared defaults, overridden
 * by the time range (its `from` and `to`) and then by `values`.
 */
export const RunSavedQueryInput = z.strictObject({
  id: SavedQueryId,
  values: ParameterValues.optional(),
  timeRange: z.strictObject({ from: Instant, to: Instant }).optional(),
  limit: RunQueryInput.shape.limit,
  timeoutMs: RunQueryInput.shape.timeoutMs,
  queryId: QueryId,
});

export const SavedQueryResult = QueryResult.extend({
  savedQuery: z.object({ id: z.string(), name: z.string(), chart: SavedChart.nullable() }),
});

/** A download of a saved query's result as saved, with its values and time range (POST /api/queries/export). */
export const ExportSavedQueryInput = RunSavedQueryInput.omit({ limit: true, queryId: true }).extend({
  format: ExportFormat,
  limit: ExportQueryInput.shape.limit,
  queryId: QueryId.optional(),
});
