import { Duration, formatDuration } from "@sluice/pipeline/duration";
import { defineNode, type InferIssue } from "@sluice/pipeline/node-definition";
import { openSchema, type RecordSchema } from "@sluice/pipeline/record-schema";
import { z } from "zod";
import { FieldRef } from "../../record-fields";
import { declaredFieldList, declaredSchemaFields, normaliseDeclared } from "../files/declared-fields";
import { ColumnName, TableName } from "./sql-names";

// source.postgres: reads a table (or a query) in the order of a cursor column, remembering the last cursor value it
// committed, so a run continues — or replays after a crash — exactly where it was. Browser-safe.

export const PostgresConnectionField = z
  .string()
  .min(1, "choose a PostgreSQL connection")
  .max(200)
  .meta({ label: "Connection", widget: "connection", connectionType: "postgres" });

const config = z
  .strictObject({
    connection: PostgresConnectionField,
    table: TableName.optional().meta({
      label: "Table",
      discover: "object",
      help: "The table or view to read: name or schema.name.",
      placeholder: "orders",
    }),
    query: z.string().trim().min(1).max(65_536).optional().meta({
      label: "Query",
      help: "Instead of a table: a SELECT whose rows are read (it is wrapped as a subquery, so it may not end in ;). Parameters in it are substituted as text.",
      widget: "code",
      advanced: true,
      placeholder: "SELECT o.*, c.country FROM orders o JOIN customers c USING (customer_id)",
    }),
    cursor: ColumnName.meta({
      label: "Cursor column",
      help: "A column that only grows as rows are added or changed: an id from a sequence, or updated_at. Rows are read in its order; rows where it is NULL are never read.",
      placeholder: "id",
    }),
    tieBreaker: ColumnName.optional().meta({
      label: "Tie-breaker column",
      help: "When several rows may share a cursor value (timestamps): a unique, non-NULL column (the primary key) that orders them.",
      advanced: true,
    }),
    mode: z.enum(["bounded", "polling"]).default("bounded").meta({
      label: "Mode",
      help: "bounded: read the rows that exist when the run starts, then end. polling: keep reading new rows as they appear.",
      widget: "select",
    }),
    cursorFrom: z.string().min(1).max(1000).optional().meta({
      label: "From cursor value",
      help: "Read only rows whose cursor is at least this value (as PostgreSQL reads it: 1042, 2026-05-01T00:00:00Z). Empty: from the first row.",
      advanced: true,
    }),
    cursorTo: z.string().min(1).max(1000).optional().meta({
      label: "To cursor value",
      help: "bounded: read only rows whose cursor is at most this value (included). Empty: up to the last row when the run starts.",
      advanced: true,
    }),
    pollInterval: Duration.prefault("1s").meta({
      label: "Poll interval",
      help: "polling: how long to wait before asking again when there were no new rows.",
      widget: "duration",
    }),
    settle: Duration.prefault("0s").meta({
      label: "Settle time",
      help: "polling: read only up to the highest cursor value seen at least this long ago, so rows of transactions that took a cursor value earlier but commit later are not skipped (e.g. 5s).",
      widget: "duration",
      advanced: true,
    }),
    batchSize: z.number().int().min(1).max(100_000).default(1000).meta({
      label: "Rows per query",
      advanced: true,
    }),
    partitionBy: ColumnName.optional().meta({
      label: "Spread over partitions by",
      help: "A column (e.g. the primary key) whose hash assigns each row to one of the stage's partitions, so they read in parallel. Empty: partition 0 reads everything.",
      advanced: true,
    }),
    columns: declaredFieldList(
      "The columns to read, with their Sluice types; the editor fills them from discovery. Empty: every column, with an open schema.",
      [["id", { name: "amount", type: "float" }]],
    )
      .meta({ discover: "fields" })
      .optional(),
    timeField: FieldRef.optional().meta({
      label: "Event-time field",
      help: "A timestamp column that carries the row's event time, for windows.",
      widget: "field",
      advanced: true,
    }),
  })
  .superRefine((c, ctx) => {
    if (c.table === undefined && c.query === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["table"],
        message: "name the table to read, or write a query under Advanced",
      });
    } else if (c.table !== undefined && c.query !== undefined) {
      ctx.addIssue({ code: "custom", path: ["query"], message: "give a table or a query, not both" });
    }
    if (c.query !== undefined && /;\s*$/.test(c.query)) {
      ctx.addIssue({
        code: "custom",
        path: ["query"],
        message: "remove the trailing ; (the query is used as a subquery)",
      });
    }
    if (c.cursorTo !== undefined && c.mode !== "bounded") {
      ctx.addIssue({ code: "custom", path: ["cursorTo"], message: "an end value needs mode bounded" });
    }
    if (c.tieBreaker && c.tieBreaker === c.cursor) {
      ctx.addIssue({ code: "custom", path: ["tieBreaker"], message: "the tie-breaker must be another column" });
    }
  });

export type PostgresSourceConfig = z.output<typeof config>;

function postgresSourceSchema(c: PostgresSourceConfig): { schema: RecordSchema; issues: InferIssue[] } {
  const declared = normaliseDeclared(c.columns, "string");
  const issues: InferIssue[] = [];
  if (!declared) {
    return { schema: c.timeField ? { ...openSchema, eventTime: c.timeField } : openSchema, issues };
  }
  const fields = declaredSchemaFields(declared);
  if (c.timeField !== undefined) {
    const f = declared.find((d) => d.name === c.timeField);
    if (!f) {
      issues.push({
        severity: "error",
        code: "unknown-field",
        message: `"${c.timeField}" is not one of the declared columns`,
        path: ["timeField"],
      });
    } else if (f.type !== "timestamp" && f.type !== "int") {
      issues.push({
        severity: "error",
        code: "type",
        message: `"${c.timeField}" is declared ${f.type}; event time must be a timestamp`,
        path: ["timeField"],
      });
    }
  }
  const schema: RecordSchema =
    c.timeField !== undefined && issues.length === 0
      ? { fields, open: false, eventTime: c.timeField }
      : { fields, open: false };
  return { schema, issues };
}

export const postgresSourceDef = defineNode({
  type: "source.postgres",
  version: 1,
  kind: "source",
  title: "PostgreSQL",
  category: "Sources",
  icon: "database",
  summary: "Reads rows of a PostgreSQL table or query in the order of a cursor column, once or continuously.",
  docs: `Reads the rows of a table (or of a query) in the order of a **cursor column** — a column that only grows as
rows are added or changed, such as an id from a sequence or an \`updated_at\` timestamp — in queries of
*Rows per query* rows: \`WHERE cursor > last ORDER BY cursor LIMIT n\`. An index on the cursor column (with the
tie-breaker: on both) keeps every query cheap however large the table.

**Position and replay.** The position is the last cursor value (and tie-breaker value) of the rows a batch held,
kept in the exact text PostgreSQL prints, so it loses nothing to rounding. It is committed with the batch; after a
crash the run continues after the last committed row and reads the rest again, so the source is *replayable* and
pipelines from it can be exactly-once.

**Ties.** Without a tie-breaker, a batch never ends inside a group of rows that share a cursor value: the group
is left for the next query (a group larger than a whole batch is read at once). With a tie-breaker (a unique,
non-NULL column), rows are ordered by both and a batch may end anywhere.

**Modes.** *bounded* notes the highest cursor value when the run starts (kept in the position, so a replay ends at
the same row), reads up to it, shows progress (rows read of rows counted at the start), then ends. *polling* keeps
going: when a query finds no new rows it waits *Poll interval* and asks again. A row updated later is read again
when its cursor is an \`updated_at\` column; deleted rows are not seen — use the CDC source for those.

**Cursor range (replay).** *From cursor value* and *To cursor value* (both included, written as PostgreSQL reads a
value of the cursor column: \`1042\`, \`2026-05-01T00:00:00Z\`) limit the read to a stretch of the cursor: a
backfill replays an hour of an \`updated_at\` table this way. The end value needs mode *bounded*; without it the
read ends at the last row when the run starts. A value the column cannot hold fails the run at start, naming the
field.

**Rows that commit out of order.** A transaction may take cursor value 100, another 101 and commit first; a poll
between the two commits reads 101 and moves past 100 for good. *Settle time* guards against that: only rows up to
the highest cursor value seen at least that long ago are read, so a transaction has that long to commit. With
\`updated_at = now()\` the value is the transaction's start, so the settle time must exceed your longest writing
transaction. For exact capture of every change use \`source.postgres-cdc\`.

**Partitions.** By default partition 0 of the stage reads everything and the others end at once (the rows stay in
cursor order). With *Spread over partitions by* a column, partition p of P reads the rows whose
\`md5(column::text)\` (its first 32 bits, NULL as '') modulo P is p, each with its own position; every row belongs
to exactly one partition, and md5 gives the same answer on every server version. Each partition then scans the
cursor index and skips the others' rows.

**Schema.** Give *Columns* (the editor fills them from discovery) to read just those columns with their types —
values that do not fit are converted or, when they cannot be, logged and skipped; otherwise every column is read and
the output schema is open. Values convert by column type: integers and floats to numbers (bigints beyond 2^53 and
numerics stay exact only as text), json/jsonb parsed, timestamps to epoch milliseconds (a timestamp without time
zone is read as UTC, dates as midnight UTC), arrays to lists, everything else as text.`,
  inputs: [],
  outputs: [{ name: "out" }],
  config,
  examples: [
    {
      title: "Copy a table once, by id",
      config: { connection: "warehouse", table: "orders", cursor: "id" },
    },
    {
      title: "Follow changes by updated_at, every 5 seconds",
      config: {
        connection: "warehouse",
        table: "public.customers",
        cursor: "updated_at",
        tieBreaker: "customer_id",
        mode: "polling",
        pollInterval: "5s",
        settle: "10s",
        columns: [
          { name: "customer_id", type: "int", nullable: false },
          "name",
          { name: "updated_at", type: "timestamp" },
        ],
        timeField: "updated_at",
      },
    },
    {
      title: "A query, read in parallel by key",
      config: {
        connection: "warehouse",
        query: "SELECT o.id, o.amount, c.country FROM orders o JOIN customers c USING (customer_id)",
        cursor: "id",
        partitionBy: "id",
      },
    },
  ],
  delivery: { replayable: true },
  eventTimeField: (c) => c.timeField,
  infer: ({ config: c }) => {
    const { schema, issues } = postgresSourceSchema(c);
    return { outputs: { out: schema }, issues };
  },
  summarize: (c) =>
    `${c.table ?? "query"} by ${c.cursor} · ${c.mode === "bounded" ? "once" : `polling every ${formatDuration(c.pollInterval)}`}`,
});
