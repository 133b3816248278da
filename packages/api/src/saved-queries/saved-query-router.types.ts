import { z } from "zod";
import { QuerySource, RunQueryInput } from "../queries/query-router.types";

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
});

/** What is left out stays as it was. */
export const UpdateSavedQueryInput = z.strictObject({
  id: SavedQueryId,
  name: Name.optional(),
  description: Description.optional(),
  source: QuerySource.optional(),
  sql: RunQueryInput.shape.sql.optional(),
  chart: SavedChart.nullable().optional(),
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

export const SavedQueryView = SavedQueryListItem.extend({
  sql: z.string(),
  chart: SavedChart.nullable(),
  createdAt: z.date(),
});

export const CreatedSavedQuery = z.object({ id: z.string(), name: z.string() });
