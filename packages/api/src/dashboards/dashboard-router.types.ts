import { RUN_STATUSES } from "@sluice/pipeline/control/run-status";
import { z } from "zod";
import { SavedChart } from "../saved-queries/saved-query-router.types";

// Dashboards: a workspace's grids of tiles under one time range and one refresh period. A tile draws a saved query's
// chart over the dashboard's range, or the live figures of a pipeline's newest run.

/** The grid is 12 columns wide; a tile's y grows downwards without end (rows are the page's to size). */
export const GRID_COLUMNS = 12;
/** Tiles a dashboard holds at most: each QUERY tile is one query per refresh. */
export const MAX_TILES = 24;
/** A tile is at most this many rows tall. */
export const MAX_TILE_ROWS = 12;

/** The relative ranges a dashboard offers: the span ending now, at every refresh. */
export const RELATIVE_RANGES = ["15m", "1h", "6h", "24h", "7d"] as const;
export type RelativeRange = (typeof RELATIVE_RANGES)[number];

/** Refresh periods offered, in seconds; 0 is off. */
export const REFRESH_SECONDS = [0, 10, 30, 60, 300] as const;

const Id = z.string().min(1).max(64);
const Instant = z.iso.datetime({ offset: true, message: "give an ISO-8601 instant, e.g. 2026-12-07T10:00:00Z" });

export const TimeRange = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("relative"), last: z.enum(RELATIVE_RANGES) }),
  z
    .strictObject({ kind: z.literal("absolute"), from: Instant, to: Instant })
    .refine((r) => Date.parse(r.from) < Date.parse(r.to), { message: "`from` must be before `to`", path: ["to"] }),
]);
export type TimeRange = z.infer<typeof TimeRange>;

const RefreshSeconds = z
  .int()
  .refine((s) => (REFRESH_SECONDS as readonly number[]).includes(s), "refresh every 0 (off), 10, 30, 60 or 300 s");

const Name = z
  .string()
  .trim()
  .min(1, "give the dashboard a name")
  .max(100, "a dashboard's name is at most 100 characters");
const Description = z.string().trim().max(2000, "a description is at most 2,000 characters");
const Title = z.string().trim().max(100, "a tile's title is at most 100 characters");

export const CreateDashboardInput = z.strictObject({
  name: Name,
  description: Description.default(""),
  timeRange: TimeRange.default({ kind: "relative", last: "1h" }),
  refreshSeconds: RefreshSeconds.default(60),
});

/** What is left out stays as it was. */
export const UpdateDashboardInput = z.strictObject({
  id: Id,
  name: Name.optional(),
  description: Description.optional(),
  timeRange: TimeRange.optional(),
  refreshSeconds: RefreshSeconds.optional(),
});

export const DashboardIdInput = z.strictObject({ id: Id });

const TileSize = {
  /** Columns wide; defaults to 6 (half the grid). */
  w: z.int().min(1).max(GRID_COLUMNS).optional(),
  /** Rows tall; defaults to 3. */
  h: z.int().min(1).max(MAX_TILE_ROWS).optional(),
  title: Title.default(""),
};

/** A tile is added at the first free place from the top left (row by row) where its size fits. */
export const AddTileInput = z.discriminatedUnion("kind", [
  z.strictObject({ id: Id, kind: z.literal("QUERY"), savedQueryId: Id, ...TileSize }),
  z.strictObject({ id: Id, kind: z.literal("PIPELINE_FIGURES"), pipelineId: Id, ...TileSize }),
]);

export const TilePlace = z.strictObject({
  tileId: Id,
  x: z
    .int()
    .min(0)
    .max(GRID_COLUMNS - 1),
  y: z.int().min(0).max(10_000),
  w: z.int().min(1).max(GRID_COLUMNS),
  h: z.int().min(1).max(MAX_TILE_ROWS),
});
export type TilePlace = z.infer<typeof TilePlace>;

/**
 * Every tile of the dashboard at its new place, at once (a move can swap two tiles). Tiles must stay inside the 12
 * columns and must not overlap: an overlapping layout is refused, naming the two tiles, never rearranged.
 */
export const LayoutInput = z.strictObject({
  id: Id,
  tiles: z.array(TilePlace).max(MAX_TILES),
});

export const RemoveTileInput = z.strictObject({ id: Id, tileId: Id });

export const RenameTileInput = z.strictObject({ id: Id, tileId: Id, title: Title });

export const DashboardListItem = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  tileCount: z.number(),
  author: z.string().nullable(),
  updatedAt: z.date(),
});

const Place = { id: z.string(), x: z.number(), y: z.number(), w: z.number(), h: z.number(), title: z.string() };

export const QueryTileView = z.object({
  ...Place,
  kind: z.literal("QUERY"),
  savedQuery: z.object({
    id: z.string(),
    name: z.string(),
    chart: SavedChart.nullable(),
    /** Why it cannot run as saved (its connection was deleted); null when it can. */
    sourceProblem: z.string().nullable(),
  }),
});

export const PipelineTileView = z.object({
  ...Place,
  kind: z.literal("PIPELINE_FIGURES"),
  pipeline: z.object({ id: z.string(), name: z.string() }),
  /** The pipeline's newest run; null when it has never run. */
  run: z
    .object({
      id: z.string(),
      status: z.enum(RUN_STATUSES),
      startedAt: z.date().nullable(),
      finishedAt: z.date().nullable(),
      /** Source nodes (their output is the records in) and sink nodes (their input is the records out). */
      sourceIds: z.array(z.string()),
      sinkIds: z.array(z.string()),
      /** Stored totals (in of the sources' out, out of the sinks' in): what a finished run shows. */
      totalIn: z.number(),
      totalOut: z.number(),
    })
    .nullable(),
});

export const TileView = z.discriminatedUnion("kind", [QueryTileView, PipelineTileView]);
export type TileView = z.infer<typeof TileView>;

export const DashboardView = DashboardListItem.extend({
  timeRange: TimeRange,
  refreshSeconds: z.number(),
  tiles: z.array(TileView),
  createdAt: z.date(),
});

export const CreatedDashboard = z.object({ id: z.string(), name: z.string() });
export const AddedTile = z.object({ tileId: z.string(), x: z.number(), y: z.number(), w: z.number(), h: z.number() });
