import { z } from "zod";

// The query page's contract: ad-hoc, read-only SQL over a workspace's PostgreSQL and MariaDB connections, and over
// its files (Parquet, CSV, JSON Lines written by File sinks) through embedded DuckDB.

/** What a query reads: one of the workspace's connections, or the workspace's files. */
export const QuerySource = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("connection"), connectionId: z.string().min(1).max(64) }),
  z.strictObject({ kind: z.literal("files") }),
]);
export type QuerySource = z.infer<typeof QuerySource>;

/** The client's name for a query in flight, so it can cancel it while the request still waits. */
export const QueryId = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, "a query id is 8 to 64 letters, digits, '-' or '_'");

/** Rows a query may return, and how long it may run, at most. */
export const QUERY_LIMITS = { maxRows: 100_000, defaultRows: 1000, maxTimeoutMs: 300_000, defaultTimeoutMs: 30_000 };

export const RunQueryInput = z.strictObject({
  source: QuerySource,
  sql: z.string().trim().min(1, "write a query").max(100_000, "a query is at most 100,000 characters"),
  /** Rows returned at most; more make the result `truncated`. */
  limit: z.int().min(1).max(QUERY_LIMITS.maxRows).default(QUERY_LIMITS.defaultRows),
  /** The statement is cancelled on the server after this long. */
  timeoutMs: z.int().min(100).max(QUERY_LIMITS.maxTimeoutMs).default(QUERY_LIMITS.defaultTimeoutMs),
  queryId: QueryId,
});

/** How the grid shows a column and the chart picker offers it. */
export const ColumnKind = z.enum(["number", "string", "boolean", "time", "json", "other"]);

export const QueryColumn = z.object({
  name: z.string(),
  /** The engine's own type name: int8, varchar, TIMESTAMP WITH TIME ZONE, DOUBLE, … */
  type: z.string(),
  kind: ColumnKind,
});

export const QueryResult = z.object({
  columns: z.array(QueryColumn),
  /**
   * One array per row, in column order, JSON-safe: numbers (integers beyond 2^53 and decimals as strings), strings,
   * booleans, null, ISO-8601 strings for times, JSON values as they are.
   */
  rows: z.array(z.array(z.unknown())),
  /** More rows than `limit` were there; only `limit` are returned. */
  truncated: z.boolean(),
  /** The whole request, in the web process. */
  elapsedMs: z.number(),
  /** The engine's own time for the statement, as near as it can be measured. */
  engineMs: z.number(),
});

export const CancelQueryInput = z.strictObject({ queryId: QueryId });

/** Where queries can go in this workspace: its query-capable connections, and its files. */
export const QuerySourceView = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("connection"),
    connectionId: z.string(),
    name: z.string(),
    /** postgres or mariadb. */
    type: z.string(),
    dialect: z.enum(["postgresql", "mysql"]),
  }),
  z.object({ kind: z.literal("files"), name: z.string(), dialect: z.literal("duckdb") }),
]);

export const SchemaInput = z.strictObject({ source: QuerySource });

/** Tables (or files) and their columns, for the editor's completion and the schema browser. */
export const QuerySchema = z.object({
  tables: z.array(
    z.object({
      /** As written in a query: `public.orders`, or for files the path inside the workspace's files directory. */
      name: z.string(),
      kind: z.enum(["table", "view", "file"]),
      columns: z.array(z.object({ name: z.string(), type: z.string() })),
    }),
  ),
});
