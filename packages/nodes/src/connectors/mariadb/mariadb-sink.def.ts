import { defineNode, type InferIssue } from "@sluice/pipeline/node-definition";
import { emptySchema, findField } from "@sluice/pipeline/record-schema";
import { z } from "zod";
import { unknownFieldIssue } from "../../record-fields";
import { ColumnName, TableName } from "./mariadb-source.def";

// Writes records into a MariaDB/MySQL table, exactly once. Browser-safe declaration.

const config = z
  .strictObject({
    connection: z.string().min(1, "choose a MariaDB connection").meta({
      label: "Connection",
      widget: "connection",
      connectionType: "mariadb",
    }),
    table: TableName.meta({ label: "Table", placeholder: "orders", discover: "object" }),
    mode: z.enum(["insert", "upsert"]).default("insert").meta({
      label: "Mode",
      help: '"insert" adds every record as a row; "upsert" inserts, or updates the row with the same key (INSERT … ON DUPLICATE KEY UPDATE).',
      widget: "select",
    }),
    key: z.array(ColumnName).min(1).max(16).optional().meta({
      label: "Key columns",
      help: "Upsert: the columns of the table's primary key or a unique index. With Create table: its primary key.",
      widget: "fields",
    }),
    newerBy: ColumnName.optional().meta({
      label: "Keep the newest by",
      help: "upsert: a column that grows with each version of a row (updated_at, a version). A row is updated only by a record whose value is greater (or when the stored one is NULL), so writers arriving in any order leave the newest row.",
      widget: "field",
    }),
    columns: z.array(ColumnName).min(1).max(1000).optional().meta({
      label: "Columns",
      help: "The record fields to write, each into the column of the same name. Default: every field of the input schema.",
      widget: "fields",
      advanced: true,
    }),
    createTable: z.boolean().default(false).meta({
      label: "Create the table",
      help: "Create the table from the input schema when it does not exist (strings become VARCHAR(255) in keys and MEDIUMTEXT elsewhere, int BIGINT, float DOUBLE, boolean BOOLEAN, timestamp DATETIME(3), JSON values JSON).",
    }),
  })
  .superRefine((c, ctx) => {
    if (c.mode === "upsert" && c.key === undefined) {
      ctx.addIssue({ code: "custom", path: ["key"], message: "an upsert needs the key columns" });
    }
    if (c.newerBy !== undefined && c.mode !== "upsert") {
      ctx.addIssue({
        code: "custom",
        path: ["newerBy"],
        message: "keeping the newest row applies to upsert mode only",
      });
    }
    if (c.newerBy !== undefined && c.key?.includes(c.newerBy)) {
      ctx.addIssue({
        code: "custom",
        path: ["newerBy"],
        message: `"${c.newerBy}" is a key column; name another column`,
      });
    }
    if (c.newerBy !== undefined && c.columns !== undefined && !c.columns.includes(c.newerBy)) {
      ctx.addIssue({ code: "custom", path: ["newerBy"], message: `"${c.newerBy}" is not among the columns written` });
    }
    if (c.columns !== undefined && c.key !== undefined) {
      for (const [i, k] of c.key.entries()) {
        if (!c.columns.includes(k)) {
          ctx.addIssue({ code: "custom", path: ["key", i], message: `"${k}" is a key but not among the columns` });
        }
      }
    }
  });

export type MariaDbSinkConfig = z.output<typeof config>;

export const mariadbSinkDef = defineNode({
  type: "sink.mariadb",
  version: 1,
  kind: "sink",
  title: "MariaDB / MySQL",
  category: "Databases",
  icon: "database",
  summary: "Inserts or upserts records into a MariaDB or MySQL table, exactly once.",
  docs: `Writes each batch into a table with multi-row \`INSERT\` statements. In *upsert* mode a row whose key already
exists is updated instead (\`INSERT … ON DUPLICATE KEY UPDATE\`, every written column but the key); the key must be
the table's primary key or a unique index, which the sink checks when it starts.

**Keep the newest by.** In upsert mode with *Keep the newest by* a column (\`updated_at\`, a version), a row is
updated only when the record's value of that column is greater than the stored one, or the stored one is NULL
(every assignment of \`ON DUPLICATE KEY UPDATE\` is conditional on it, the column itself last); records of one batch
are applied in order the same way, so the greatest value per key wins, not the last. On a tie the stored row stays.
A batch pipeline and a live one can so feed the same serving table in any order.

**Exactly once.** Each batch is written in one transaction together with a row of the table
\`sluice_sink_offsets\` (created in the connection's database if missing) that records the run, partition and
batch sequence the sink has written up to. A batch that is written again after a crash — the engine replays
every batch it did not commit — finds its sequence there and only writes the records it did not write before;
so with a replayable source every record lands exactly once, in insert mode too. Upserts are idempotent anyway.

\`\`\`sql
CREATE TABLE sluice_sink_offsets (
  sink_id VARCHAR(255), \`partition\` INT,  -- primary key: <run>/<node> and the run's partition
  run_started_at BIGINT,  -- a run started over from scratch starts afresh
  sequence BIGINT,        -- the last batch written
  batch_id VARCHAR(255),
  records INT,            -- how many of its records were handled
  rejected MEDIUMTEXT,    -- which of them the table refused, and why
  written_at DATETIME(3)
)
\`\`\`

**Columns and types.** Each record field goes into the column of the same name; fields the table lacks stop the
run when it starts, with the names. A field missing from a record gets the column's default. Timestamps (epoch
ms) are written as DATETIME/TIMESTAMP in the connection's time zone, objects and arrays as JSON text. The session
runs in strict mode: a value the column cannot hold (too long, out of range, NULL in a NOT NULL column, a
duplicate key in insert mode, invalid JSON) is an error for that record, never a silent truncation. The other
records of the batch are written; the refused one is handed to the engine's dead-letter queue with the server's
message, once the batch is committed.

**Create the table.** With *Create the table* on, a missing table is created from the input schema (the key, if
given, as its primary key). It needs every input field to be known.

**Failures.** A refused password, a missing database or table, or a missing privilege stops the run with the
reason. While the server is unreachable the batch is retried with backoff and nothing is committed; the run
continues where it was when the server is back.`,
  inputs: [{ name: "in" }],
  outputs: [],
  config,
  examples: [
    { title: "Append orders", config: { connection: "shop-db", table: "orders_copy" } },
    {
      title: "Keep a per-customer summary up to date",
      config: {
        connection: "warehouse",
        table: "customer_totals",
        mode: "upsert",
        key: ["customer_id"],
      },
    },
  ],
  delivery: { transactional: true, idempotent: (c) => c.mode === "upsert" },
  infer: (ctx) => {
    const input = ctx.inputs.in ?? emptySchema;
    const c = ctx.config;
    const issues: InferIssue[] = [];
    for (const [i, k] of (c.key ?? []).entries()) {
      const issue = unknownFieldIssue(input, k, ["key", i]);
      if (issue) issues.push(issue);
    }
    for (const [i, col] of (c.columns ?? []).entries()) {
      const issue = unknownFieldIssue(input, col, ["columns", i]);
      if (issue) issues.push(issue);
    }
    if (c.newerBy !== undefined) {
      const issue = unknownFieldIssue(input, c.newerBy, ["newerBy"]);
      if (issue) issues.push(issue);
    }
    if (c.createTable) {
      const written = c.columns ?? input.fields.map((f) => f.name);
      if (written.length === 0) {
        issues.push({
          severity: "error",
          code: "schema",
          message: "the input's fields are not known, so the table cannot be created from them; name the Columns",
          path: ["createTable"],
        });
      }
      for (const [i, col] of (c.columns ?? []).entries()) {
        const f = findField(input, col);
        if (f === undefined && input.open) {
          issues.push({
            severity: "error",
            code: "schema",
            message: `the type of "${col}" is not known, so the table cannot be created with it`,
            path: ["columns", i],
          });
        }
      }
    }
    return { outputs: {}, issues };
  },
  summarize: (c) =>
    `${c.mode} into ${c.table}${c.key ? ` by ${c.key.join(", ")}` : ""}${c.newerBy !== undefined ? ` · newest by ${c.newerBy}` : ""}`,
});
