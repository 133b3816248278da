import { Duration } from "@sluice/pipeline/duration";
import { defineNode, type InferIssue } from "@sluice/pipeline/node-definition";
import { field, t } from "@sluice/pipeline/record-schema";
import { z } from "zod";
import { declaredFieldList, declaredSchemaFields, normaliseDeclared } from "../files/declared-fields";

// Reads a MariaDB/MySQL table incrementally by a cursor column. Browser-safe declaration.

export const ColumnName = z
  .string()
  .min(1, "name a column")
  .max(64, "MariaDB column names are at most 64 characters")
  .regex(/^[^\0]*$/, "a column name cannot contain NUL");

export const TableName = z
  .string()
  .trim()
  .min(1, "name the table")
  .max(129)
  .regex(/^[^.\0]{1,64}(\.[^.\0]{1,64})?$/, "a table name, or database.table");

const config = z
  .strictObject({
    connection: z.string().min(1, "choose a MariaDB connection").meta({
      label: "Connection",
      widget: "connection",
      connectionType: "mariadb",
    }),
    table: TableName.meta({ label: "Table", placeholder: "orders", discover: "object" }),
    cursor: ColumnName.meta({
      label: "Cursor column",
      help: "A column whose value only grows as rows are added (an AUTO_INCREMENT id, or a created/updated time). Rows are read in its order; the last value read is the source's position.",
      placeholder: "id",
    }),
    tiebreaker: ColumnName.optional().meta({
      label: "Tie-breaker column",
      help: "A unique column (usually the primary key) that orders rows with the same cursor value. Needed when the cursor is not unique, e.g. updated_at.",
      placeholder: "id",
    }),
    columns: declaredFieldList(
      "The columns to read, with their Sluice types (string, int, float, boolean, timestamp, json). Leave empty to read every column as the server returns it (an open schema).",
      [["id", { name: "amount", type: "float" }, { name: "created_at", type: "timestamp", nullable: false }]],
    )
      .meta({ discover: "fields" })
      .optional(),
    mode: z.enum(["bounded", "polling"]).default("bounded").meta({
      label: "Mode",
      help: '"bounded" reads the rows present when the run starts, then ends; "polling" keeps reading new rows until the run is stopped.',
      widget: "select",
    }),
    pollInterval: Duration.prefault("1s").meta({
      label: "Poll interval",
      help: "Polling mode: how long to wait before asking again when no new rows were found.",
      widget: "duration",
    }),
    where: z.string().max(10_000).optional().meta({
      label: "Extra condition (MariaDB SQL)",
      help: "Only rows matching this MariaDB condition are read, e.g. status <> 'draft'. It is MariaDB's SQL, sent as written.",
      widget: "code",
      advanced: true,
    }),
    partitionColumn: ColumnName.optional().meta({
      label: "Split partitions by",
      help: "A column whose hash spreads rows over the run's partitions (each reads the rows with CRC32(column) mod P = its number). Without it the first partition reads every row and the others have none.",
      advanced: true,
    }),
    timeField: ColumnName.optional().meta({
      label: "Event-time column",
      help: "A declared timestamp column that carries each row's event time.",
      advanced: true,
    }),
  })
  .superRefine((c, ctx) => {
    if (c.tiebreaker && c.tiebreaker === c.cursor) {
      ctx.addIssue({ code: "custom", path: ["tiebreaker"], message: "the tie-breaker must be another column" });
    }
    if (c.timeField !== undefined) {
      const declared = normaliseDeclared(c.columns, "json")?.find((d) => d.name === c.timeField);
      if (!declared) {
        ctx.addIssue({
          code: "custom",
          path: ["timeField"],
          message: `declare "${c.timeField}" in Columns (type timestamp) to use it as event time`,
        });
      } else if (declared.type !== "timestamp" && declared.type !== "int") {
        ctx.addIssue({ code: "custom", path: ["timeField"], message: `"${c.timeField}" is declared ${declared.type}` });
      }
    }
  });

export type MariaDbSourceConfig = z.output<typeof config>;

export const mariadbSourceDef = defineNode({
  type: "source.mariadb",
  version: 1,
  kind: "source",
  title: "MariaDB / MySQL",
  category: "Databases",
  icon: "database",
  summary: "Reads a MariaDB or MySQL table incrementally by a cursor column, once or continuously.",
  docs: `Reads the rows of a table in the order of a **cursor column** — a value that only grows as rows are added, such
as an \`AUTO_INCREMENT\` id or a \`created_at\`/\`updated_at\` time — and remembers the last cursor value read as the
source's position. Each query asks for the next rows after it:

\`\`\`sql
SELECT … FROM orders WHERE id > :last ORDER BY id LIMIT :batch
\`\`\`

When the cursor is not unique (several rows share an \`updated_at\`), name a unique **tie-breaker** column (the primary
key): rows are then ordered by both and the position is the pair, so no row is skipped or read twice at the seams.
An index on the cursor (and tie-breaker) keeps each query cheap.

**Modes.** *bounded* notes the highest cursor value when the run starts, reads up to it and ends — a snapshot or
a backfill. *polling* keeps asking for new rows every *Poll interval* until the run is stopped: a table used as a
change feed. Polling sees inserts (and, with an \`updated_at\` cursor, updates); it cannot see deletes.

**Delivery.** The position is committed with each batch, and re-reading from it returns the same rows, so the
source is replayable: with an idempotent or transactional sink the run is exactly-once. The bounded mode's upper
bound is part of the position, so a replay after a crash reads the same snapshot. The cursor value is kept as the
server's exact text (microseconds of a \`DATETIME(6)\`, integers beyond 2^53).

**Caveat (polling).** A row becomes visible when its transaction commits, not when its cursor value is assigned:
with many concurrent writers a row with a smaller id can commit after one with a larger id was already read, and
would then be missed. Poll a cursor that is assigned in commit order, or read from a view that lags a little
(\`WHERE created_at < NOW() - INTERVAL 5 SECOND\` as the extra condition).

**Partitions.** Without *Split partitions by*, the run's first partition reads the table and the others have
nothing to do (the downstream stages are still parallel after a keyed operator). With it, each of the run's P
partitions reads the rows where \`CRC32(column) MOD P\` is its number, each with its own position.

**Values.** Without declared *Columns* every column is read as the server returns it: integers as numbers (exact
text beyond 2^53), DECIMAL as numbers, DATE/DATETIME/TIMESTAMP as epoch milliseconds (DATETIME in the connection's
time zone), binary columns as base64 text, JSON columns as text. Declared columns are converted to their types
(a JSON column declared \`json\` is parsed); a row whose value does not fit is refused with the column named.
A row whose cursor is NULL is never read.`,
  inputs: [],
  outputs: [{ name: "out" }],
  config,
  examples: [
    {
      title: "New orders as they arrive",
      config: {
        connection: "shop-db",
        table: "orders",
        cursor: "id",
        mode: "polling",
        columns: ["id", "customer_id", { name: "total", type: "float" }, { name: "created_at", type: "timestamp" }],
        timeField: "created_at",
      },
    },
    {
      title: "Backfill of changed rows, split over the partitions",
      config: {
        connection: "shop-db",
        table: "customers",
        cursor: "updated_at",
        tiebreaker: "id",
        partitionColumn: "id",
      },
    },
  ],
  delivery: { replayable: true },
  eventTimeField: (c) => c.timeField,
  infer: ({ config: c }) => {
    const issues: InferIssue[] = [];
    const declared = normaliseDeclared(c.columns, "json");
    if (!declared) return { outputs: { out: { fields: [], open: true } }, issues };
    const fields = declaredSchemaFields(declared).map((f) =>
      f.name === c.timeField ? field(f.name, t.timestamp, f.nullable, "event time") : f,
    );
    return {
      outputs: {
        out: { fields, open: false, ...(c.timeField !== undefined ? { eventTime: c.timeField } : {}) },
      },
      issues,
    };
  },
  summarize: (c) => `${c.table} by ${c.cursor}${c.tiebreaker ? `, ${c.tiebreaker}` : ""} · ${c.mode}`,
});
