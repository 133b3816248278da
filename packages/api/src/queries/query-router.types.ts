import { z } from "zod";
import { PARAMETER_NAME, PARAMETER_TYPES, parseInstant } from "./query-parameters";

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

const ParameterName = z
  .string()
  .regex(PARAMETER_NAME, 'a parameter\'s name is lower-case letters, digits and "_", not starting with a digit');

/**
 * A parameter the SQL names as `{{name}}`: its type (how its value is bound), a label for its input, and the value
 * used when a run gives none. A timestamp's default may be relative ("now", "now-1h", "now-7d"); `from` and `to`
 * take the time range of whatever runs the query.
 */
export const ParameterDeclaration = z
  .strictObject({
    name: ParameterName,
    type: z.enum(PARAMETER_TYPES),
    label: z.string().trim().max(100, "a parameter's label is at most 100 characters").default(""),
    default: z
      .union([z.string().max(1000), z.number()])
      .nullable()
      .default(null),
  })
  .superRefine((d, ctx) => {
    if (d.default === null) return;
    if (d.type === "timestamp" && (typeof d.default !== "string" || !parseInstant(d.default))) {
      ctx.addIssue({
        code: "custom",
        path: ["default"],
        message: `parameter "${d.name}": the default is an ISO instant with its zone or a relative time (now, now-1h)`,
      });
    }
    if (d.type === "number" && !Number.isFinite(typeof d.default === "number" ? d.default : Number(d.default))) {
      ctx.addIssue({
        code: "custom",
        path: ["default"],
        message: `parameter "${d.name}": the default is not a number`,
      });
    }
  });

export const ParameterDeclarations = z
  .array(ParameterDeclaration)
  .max(50, "a query has at most 50 parameters")
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((d, i) => {
      if (seen.has(d.name)) {
        ctx.addIssue({ code: "custom", path: [i, "name"], message: `parameter "${d.name}" is declared twice` });
      }
      seen.add(d.name);
    });
  });

/** A run's values by parameter name; absent or null takes the declared default. */
export const ParameterValues = z
  .record(ParameterName, z.union([z.string().max(10_000), z.number(), z.null()]))
  .refine((values) => Object.keys(values).length <= 50, "at most 50 parameter values");

export const RunQueryInput = z.strictObject({
  source: QuerySource,
  sql: z.string().trim().min(1, "write a query").max(100_000, "a query is at most 100,000 characters"),
  /** Rows returned at most; more make the result `truncated`. */
  limit: z.int().min(1).max(QUERY_LIMITS.maxRows).default(QUERY_LIMITS.defaultRows),
  /** The statement is cancelled on the server after this long. */
  timeoutMs: z.int().min(100).max(QUERY_LIMITS.maxTimeoutMs).default(QUERY_LIMITS.defaultTimeoutMs),
  queryId: QueryId,
  /** Values of the parameters the SQL names as `{{name}}`, bound by the declarations' types. */
  parameters: ParameterValues.default({}),
  declarations: ParameterDeclarations.default([]),
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

/**
 * A download (POST /api/queries/export) holds this many rows at most, and this much row data as JSON: the web
 * process holds the result whole while it encodes the file.
 */
export const EXPORT_LIMITS = { maxRows: 1_000_000, maxBytes: 256 * 1024 * 1024 };

export const ExportFormat = z.enum(["csv", "parquet"]);

/** A download of ad-hoc SQL: as queries.run takes it, with a format and the download's own row limit. */
export const ExportQueryInput = RunQueryInput.omit({ limit: true, queryId: true }).extend({
  format: ExportFormat,
  limit: z.int().min(1).max(EXPORT_LIMITS.maxRows).default(EXPORT_LIMITS.maxRows),
  queryId: QueryId.optional(),
});
