import { defineNode } from "@sluice/pipeline/node-definition";
import { t } from "@sluice/pipeline/record-schema";
import { z } from "zod";
import { declaredFieldList, declaredSchemaFields, normaliseDeclared } from "../files/declared-fields";
import { CHANGE_TIME_FIELD, changeSchema } from "./change-record";
import { PostgresConnectionField } from "./postgres-source.def";
import { ReplicationName, TableName } from "./sql-names";

// source.postgres-cdc: every insert, update and delete of some tables, in commit order, through logical replication
// (the pgoutput plugin) with a publication and a replication slot that Sluice manages. Browser-safe.

const config = z
  .strictObject({
    connection: PostgresConnectionField,
    tables: z
      .array(TableName)
      .max(1000)
      .default([])
      .meta({
        label: "Tables",
        discover: "object",
        help: "The tables whose changes to capture (name or schema.name). Empty: those of an existing publication.",
        widget: "fields",
        examples: [["orders"], ["public.orders", "public.order_items"]],
      }),
    publication: ReplicationName.optional().meta({
      label: "Publication",
      help: "The publication to read; created for the tables if it does not exist. Default: sluice_ and a hash of the run and node.",
      advanced: true,
    }),
    slot: ReplicationName.optional().meta({
      label: "Replication slot",
      help: "The slot that keeps the position on the server; created if it does not exist. Name one to carry the position over to a new run. Default: sluice_ and a hash of the run and node.",
      advanced: true,
    }),
    dropSlotOnReset: z.boolean().default(false).meta({
      label: "Drop the slot on reset",
      help: "When the run starts without a position (a reset, or a new run naming an existing slot) and the slot exists, drop it and start from the present: changes since the slot's position are skipped. Off: continue from the slot's position.",
      widget: "switch",
      advanced: true,
    }),
    columns: declaredFieldList(
      "With one table: its columns and types, which type before and after (the editor fills them from discovery). Empty: before and after are JSON.",
      [["id", { name: "status", type: "string" }]],
    )
      .meta({ discover: "fields" })
      .optional(),
  })
  .superRefine((c, ctx) => {
    if (c.tables.length === 0 && c.publication === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["tables"],
        message: "list the tables to capture, or name an existing publication",
      });
    }
    if (c.columns !== undefined && c.tables.length !== 1) {
      ctx.addIssue({
        code: "custom",
        path: ["columns"],
        message: "columns describe one table: capture exactly one table to declare them",
      });
    }
    const seen = new Set<string>();
    c.tables.forEach((table, i) => {
      if (seen.has(table)) ctx.addIssue({ code: "custom", path: ["tables", i], message: `${table} is listed twice` });
      seen.add(table);
    });
  });

export type PostgresCdcConfig = z.output<typeof config>;

export const postgresCdcDef = defineNode({
  type: "source.postgres-cdc",
  version: 1,
  kind: "source",
  title: "PostgreSQL CDC",
  category: "Sources",
  icon: "database",
  summary: "Captures every insert, update and delete of PostgreSQL tables through logical replication.",
  docs: `Emits one record per row change of the captured tables, in commit order, read from the server's write-ahead log
through logical replication with the built-in \`pgoutput\` plugin — nothing is polled and no change is missed, however
quickly rows change or are deleted.

**Records.**

\`\`\`
{ op: "insert" | "update" | "delete" | "truncate", schema, table,
  before: row | null, after: row | null, lsn, seq, xid, commit_time }
\`\`\`

- *insert*: \`after\` is the new row. *update*: \`after\` is the new row, where a column that is missing kept its
  value (a large TOASTed value the update did not touch); \`before\` holds the old key when the key changed, the whole
  old row with \`REPLICA IDENTITY FULL\`, null otherwise. *delete*: \`before\` holds the old key (the whole row with
  REPLICA IDENTITY FULL). *truncate*: the table was truncated.
- \`lsn\` is the commit position of the transaction and \`seq\` the change's place in it: together they order every
  change. \`commit_time\` (epoch ms) is the event time. Values convert as in \`source.postgres\`.
- With one table and its *Columns* declared, \`before\` and \`after\` are typed objects (\`after.amount\`); otherwise
  JSON.

\`sink.postgres\` in mode *cdc* applies these records to another table, which then ends identical.

**Server set-up.** The server needs \`wal_level = logical\` (\`ALTER SYSTEM SET wal_level = logical\` and a restart),
a free replication slot and WAL sender (\`max_replication_slots\`, \`max_wal_senders\`), and a user with the
\`REPLICATION\` attribute and \`SELECT\` on the tables. A run on a server that is not set up fails and says what to set.
Each captured table needs a primary key (or a replica identity): once a table is in a publication, PostgreSQL refuses
UPDATE and DELETE on a table without one, so the source checks this before adding a table and refuses instead.

**Publication and slot.** At start the source creates the publication for *Tables* if it does not exist (and adds
listed tables it lacks; both need ownership of the tables), then the logical replication slot if it does not exist —
creating a slot waits for transactions running at that moment to end. The slot starts at the moment it is created.
Neither is ever dropped by Sluice: a slot keeps the WAL the source has not yet confirmed, so it survives stops,
crashes and restarts of the run. **Drop the slot yourself when you retire the pipeline**
(\`SELECT pg_drop_replication_slot('…')\`): an abandoned slot makes the server keep WAL for ever (consider
\`max_slot_wal_keep_size\`). The default names (\`sluice_\` and a hash of the run and node) belong to one run; name a
*Replication slot* to continue from its position in a new run.

**Position and exactly-once.** The position (the transaction's commit LSN and how many of its changes were read) is
committed with each batch, and only after that commit does the source confirm it to the server (the slot's
\`confirmed_flush_lsn\`). After a crash the server sends everything after the last confirmed position again, and the
source skips what the committed position says was read: no change is lost or repeated, and the source is
*replayable*. When the captured tables are quiet and everything read is committed, the source confirms the server's
current position, so other databases' activity does not pile WAL up behind the slot.

**Reset.** A reset run (or a new run naming an existing slot) starts with no position: it continues from the slot's
position, or — with *Drop the slot on reset* — drops the slot and starts from the present. (A run that crashed before
its first commit is not a reset: the source notes in its state that it has made or adopted the slot.)

**Partitions.** One replication stream serves the table set: partition 0 reads it; the stage's other partitions end
at once. Key-based work downstream is spread by the shuffle as usual.`,
  inputs: [],
  outputs: [{ name: "out" }],
  config,
  examples: [
    { title: "Capture the orders table", config: { connection: "warehouse", tables: ["orders"] } },
    {
      title: "Two tables, with a named slot that outlives runs",
      config: {
        connection: "warehouse",
        tables: ["public.orders", "public.order_items"],
        slot: "sluice_orders",
        publication: "sluice_orders",
      },
    },
    {
      title: "One table with typed rows",
      config: {
        connection: "warehouse",
        tables: ["customers"],
        columns: [{ name: "id", type: "int", nullable: false }, "name", { name: "updated_at", type: "timestamp" }],
      },
    },
  ],
  delivery: { replayable: true },
  previewable: false,
  eventTimeField: () => CHANGE_TIME_FIELD,
  infer: ({ config: c }) => {
    const declared = normaliseDeclared(c.columns, "string");
    const row = declared ? t.object(declaredSchemaFields(declared)) : t.json;
    return { outputs: { out: changeSchema(row) } };
  },
  summarize: (c) => `changes of ${c.tables.length > 0 ? c.tables.join(", ") : `publication ${c.publication}`}`,
});
