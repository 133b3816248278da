import { defineNode, type InferIssue } from "@sluice/pipeline/node-definition";
import { emptySchema, type Field, findField, type RecordSchema, typeName } from "@sluice/pipeline/record-schema";
import { z } from "zod";
import { PostgresConnectionField } from "./postgres-source.def";
import { ColumnName, TableName } from "./sql-names";

// sink.postgres: writes records into a table — appended, upserted by key, or applied as change records — in one
// transaction per batch, with the batch's progress in the same transaction when exactly-once. Browser-safe.

const config = z
  .strictObject({
    connection: PostgresConnectionField,
    table: TableName.meta({
      label: "Table",
      help: "The table to write: name or schema.name.",
      placeholder: "orders",
      discover: "object",
    }),
    mode: z.enum(["insert", "upsert", "cdc"]).default("insert").meta({
      label: "Mode",
      help: "insert: append every record. upsert: insert, or update the row with the same key. cdc: apply change records (insert/update/delete) from source.postgres-cdc by key.",
      widget: "select",
    }),
    key: z
      .array(ColumnName)
      .max(32)
      .default([])
      .meta({
        label: "Key columns",
        help: "upsert and cdc: the columns that identify a row (a primary key or unique index on exactly these). With Create table: its primary key.",
        widget: "fields",
        examples: [["id"], ["user_id", "window_start"]],
      }),
    newerBy: ColumnName.optional().meta({
      label: "Keep the newest by",
      help: "upsert: a column that grows with each version of a row (updated_at, an event time, a version number). A row is updated only by a record whose value is greater (or when the stored one is NULL), so writers arriving in any order leave the newest row.",
      widget: "field",
      examples: ["updated_at", "version"],
    }),
    createTable: z.boolean().default(false).meta({
      label: "Create table",
      help: "Create the table from the input's schema if it does not exist, with the key columns as primary key.",
      widget: "switch",
    }),
    exactlyOnce: z.boolean().optional().meta({
      label: "Exactly once",
      help: "Record each written batch in sluice_sink_offsets in the same transaction and skip a batch written before (after a crash). Default: on for insert, off for upsert and cdc, which are idempotent by key anyway.",
      widget: "switch",
      advanced: true,
    }),
    copyThreshold: z.number().int().min(1).max(1_000_000).default(500).meta({
      label: "COPY from (rows)",
      help: "insert: batches of at least this many rows are written with COPY, smaller ones with multi-row INSERT.",
      advanced: true,
    }),
  })
  .superRefine((c, ctx) => {
    if ((c.mode === "upsert" || c.mode === "cdc") && c.key.length === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["key"],
        message: `${c.mode} needs the key columns that identify a row, e.g. [id]`,
      });
    }
    if (c.newerBy !== undefined && c.mode !== "upsert") {
      ctx.addIssue({
        code: "custom",
        path: ["newerBy"],
        message: "keeping the newest row applies to upsert mode only",
      });
    }
    if (c.newerBy !== undefined && c.key.includes(c.newerBy)) {
      ctx.addIssue({
        code: "custom",
        path: ["newerBy"],
        message: `"${c.newerBy}" is a key column; name another column`,
      });
    }
    const seen = new Set<string>();
    c.key.forEach((k, i) => {
      if (seen.has(k)) ctx.addIssue({ code: "custom", path: ["key", i], message: `"${k}" is listed twice` });
      seen.add(k);
    });
  });

export type PostgresSinkConfig = z.output<typeof config>;

export function sinkExactlyOnce(c: PostgresSinkConfig): boolean {
  return c.exactlyOnce ?? c.mode === "insert";
}

/**
 * The fields a row of the target has, from the input schema: the records' own fields, or in cdc mode the fields of
 * `after`. Undefined when the schema does not say (open, or `after` is json).
 */
export function rowFields(c: PostgresSinkConfig, input: RecordSchema): readonly Field[] | undefined {
  if (c.mode !== "cdc") return input.fields.length === 0 ? undefined : input.fields;
  const after = findField(input, "after");
  return after?.type.kind === "object" ? after.type.fields : undefined;
}

function inferIssues(c: PostgresSinkConfig, input: RecordSchema): InferIssue[] {
  const issues: InferIssue[] = [];
  if (c.mode === "cdc" && !input.open) {
    const op = findField(input, "op");
    if (!op || !findField(input, "after") || !findField(input, "before")) {
      issues.push({
        severity: "error",
        code: "cdc-input",
        message: `cdc mode applies change records (op, before, after) such as source.postgres-cdc emits; the input has no ${
          !op ? "op" : !findField(input, "after") ? "after" : "before"
        } field`,
        path: ["mode"],
      });
      return issues;
    }
  }
  const fields = rowFields(c, input);
  if (c.createTable && c.mode === "cdc" && fields === undefined) {
    issues.push({
      severity: "error",
      code: "create-table",
      message: "to create the table, the change records' columns must be known: declare columns on the CDC source",
      path: ["createTable"],
    });
  } else if (c.createTable && input.open) {
    issues.push({
      severity: "warning",
      code: "create-table",
      message:
        "the input's schema is open: a created table gets a column for each field the schema lists, and fields beyond those are not written",
      path: ["createTable"],
    });
  }
  if (fields !== undefined) {
    const names = new Set(fields.map((f) => f.name));
    const open = c.mode !== "cdc" && input.open;
    c.key.forEach((k, i) => {
      if (!names.has(k) && !open) {
        issues.push({
          severity: "error",
          code: "unknown-field",
          message: `key column "${k}" is not a field of the ${c.mode === "cdc" ? "change records' rows" : "input"}`,
          path: ["key", i],
        });
      }
    });
    if (c.newerBy !== undefined && c.mode === "upsert") {
      const f = fields.find((x) => x.name === c.newerBy);
      if (!f && !open) {
        issues.push({
          severity: "error",
          code: "unknown-field",
          message: `"${c.newerBy}" is not a field of the input, so records carry nothing to compare`,
          path: ["newerBy"],
        });
      } else if (f && !["int", "float", "timestamp", "string"].includes(f.type.kind)) {
        issues.push({
          severity: "error",
          code: "type",
          message: `"${c.newerBy}" is ${typeName(f.type)}; keep the newest by a timestamp, a number or a string`,
          path: ["newerBy"],
        });
      }
    }
    for (const k of c.key) {
      const f = fields.find((x) => x.name === k);
      if (f && (f.type.kind === "json" || f.type.kind === "array" || f.type.kind === "object")) {
        issues.push({
          severity: "warning",
          code: "type",
          message: `key column "${k}" is ${typeName(f.type)}; keys are usually scalars`,
          path: ["key"],
        });
      }
    }
  }
  return issues;
}

export const postgresSinkDef = defineNode({
  type: "sink.postgres",
  version: 1,
  kind: "sink",
  title: "PostgreSQL",
  category: "Sinks",
  icon: "database",
  summary: "Writes records into a PostgreSQL table: insert, upsert by key, or apply change records.",
  docs: `Writes each batch into a table in **one transaction**. A record's fields go to the columns of the same name;
fields the table has no column for are left out (the log says which, once). A column a record has no field for is
not written: it gets its default on insert and keeps its value on update. A field that is NULL writes NULL. Values
convert by the column's type: epoch milliseconds into timestamp columns, any value into json/jsonb as JSON, lists
into array columns.

**Modes.**
- *insert* appends every record: with COPY when the batch has at least *COPY from* rows (fast: well over 100,000
  rows/s), otherwise with multi-row INSERT.
- *upsert* inserts each record, or updates the row with the same **key** (\`INSERT … ON CONFLICT (key) DO UPDATE\`);
  the table needs a primary key or unique index on exactly the key columns. Within a batch the last record of a key
  wins.
- *upsert* with **Keep the newest by** a column (\`updated_at\`, an event time, a version) keeps the newest version of
  each row whatever order writes arrive in: a row is updated only when the record's value is greater than the stored
  one, or the stored one is NULL (\`ON CONFLICT (key) DO UPDATE … WHERE t.col IS NULL OR t.col < EXCLUDED.col\`),
  and within a batch the record with the greatest value per key wins, not the last. On a tie the stored row stays; a
  record without a value never replaces a row that has one. This lets a scheduled batch pipeline (a backfill) and a
  live one feed the same serving table — the lambda architecture — and replaying either changes nothing. The column
  must be a field of the input; compare timestamps or numbers (strings compare by the table's collation in
  PostgreSQL and by code point within a batch).
- *cdc* applies the change records of \`source.postgres-cdc\` (\`op\`, \`before\`, \`after\`): inserts and updates
  become upserts of \`after\`, deletes remove the row whose key is in \`before\`, a key change deletes the old key, a
  truncate deletes every row. The batch is reduced to the last change per key first, so the table ends exactly as the
  source table did, and applying a batch twice changes nothing.

**Exactly once.** A batch may be written again after a crash (the engine replays from its last commit). With
*Exactly once* the sink records each batch in a progress table \`sluice_sink_offsets\` (created in the table's
schema) in the same transaction as the rows, and a batch it finds there already is skipped: every row is written
once. That makes it *transactional*; it is on by default for insert. Upsert and cdc are *idempotent* (writing a
batch twice leaves the same rows), so they give exactly-once results without it. A run reset starts the progress
over.

**Create table.** With *Create table* a missing table is created from the input's schema — string → text, int →
bigint, float → double precision, boolean → boolean, timestamp → timestamptz, anything else → jsonb — with the key
columns as primary key.

**Errors.** A server that is down or a lost connection fails the write; the engine retries it with backoff and no
row is lost or doubled. A record the table refuses (a value of the wrong type, a NULL in a NOT NULL column, a
duplicate key in insert mode, a check that fails) is found by splitting the batch (each half tried under a
savepoint) and dead-lettered with its values and PostgreSQL's reason; the rest of the batch is written and the run
goes on. The dead letters are listed on the run's page, where they can be replayed once the table or the data is
fixed. A missing table (without *Create table*), missing key columns or refused credentials fail the run.`,
  inputs: [{ name: "in", multiple: true }],
  outputs: [],
  config,
  examples: [
    { title: "Append rows, exactly once", config: { connection: "warehouse", table: "clicks" } },
    {
      title: "Keep a report table fresh by key",
      config: {
        connection: "warehouse",
        table: "clicks_per_minute",
        mode: "upsert",
        key: ["user_id", "window_start"],
        createTable: true,
      },
    },
    {
      title: "A serving table fed by a batch and a live pipeline, newest row wins",
      config: {
        connection: "warehouse",
        table: "balances",
        mode: "upsert",
        key: ["account_id"],
        newerBy: "updated_at",
      },
    },
    {
      title: "Mirror a table from its change records",
      config: { connection: "replica", table: "orders_copy", mode: "cdc", key: ["id"] },
    },
  ],
  delivery: {
    idempotent: (c) => c.mode !== "insert",
    transactional: (c) => sinkExactlyOnce(c),
  },
  infer: ({ config: c, inputs }) => ({ outputs: {}, issues: inferIssues(c, inputs.in ?? emptySchema) }),
  summarize: (c) =>
    `${c.mode} into ${c.table}${c.key.length > 0 ? ` by ${c.key.join(", ")}` : ""}${c.newerBy !== undefined ? ` · newest by ${c.newerBy}` : ""}${sinkExactlyOnce(c) ? " · exactly once" : ""}`,
});
