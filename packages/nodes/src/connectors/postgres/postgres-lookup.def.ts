import { Duration, formatDuration } from "@sluice/pipeline/duration";
import { defineNode, type InferIssue } from "@sluice/pipeline/node-definition";
import { emptySchema, type Field, field, type RecordSchema, t } from "@sluice/pipeline/record-schema";
import { z } from "zod";
import { checkKeys, KeyExpression } from "../../stateful/key-expressions";
import { declaredFieldList, normaliseDeclared } from "../files/declared-fields";
import { PostgresConnectionField } from "./postgres-source.def";
import { ColumnName, TableName } from "./sql-names";

// transform.lookup: adds columns of a PostgreSQL table row to each record, found by key, with an in-memory cache.
// Browser-safe.

const PREFIX = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

const config = z
  .strictObject({
    connection: PostgresConnectionField,
    table: TableName.meta({
      label: "Table",
      help: "The table to look rows up in.",
      placeholder: "customers",
      discover: "object",
    }),
    key: z
      .record(ColumnName, KeyExpression)
      .refine(
        (key) => Object.keys(key).length > 0,
        "map at least one key column to an expression, e.g. id: customer_id",
      )
      .refine((key) => Object.keys(key).length <= 16, "at most 16 key columns")
      .meta({
        label: "Key",
        help: "Table column → SQL expression over the record; a row matches when every column equals its expression. The table should have a unique index on these columns; a NULL key matches nothing.",
        widget: "key-value",
      }),
    fields: declaredFieldList(
      "The table's columns to add to each record, with their types (a bare name is JSON: any value).",
      [["name", { name: "country", type: "string" }]],
    ).meta({ discover: "fields" }),
    prefix: z.string().regex(PREFIX, "a prefix is a word such as customer_").optional().meta({
      label: "Prefix",
      help: "Put before the added fields' names, e.g. customer_ gives customer_name.",
    }),
    onMissing: z.enum(["null", "drop", "error"]).default("null").meta({
      label: "When no row matches",
      help: "null: add the fields as NULL. drop: leave the record out. error: send it to the dead-letter queue.",
      widget: "select",
    }),
    cache: z
      .strictObject({
        size: z.number().int().min(0).max(10_000_000).default(10_000).meta({
          label: "Entries",
          help: "Rows (and misses) kept in memory per partition; 0 turns the cache off.",
        }),
        ttl: Duration.prefault("5m").meta({
          label: "Time to live",
          help: "How long a cached row (or miss) is trusted before it is read again.",
          widget: "duration",
        }),
      })
      .prefault({})
      .meta({ label: "Cache", advanced: true }),
    batchKeys: z.number().int().min(1).max(10_000).default(1000).meta({
      label: "Keys per query",
      advanced: true,
    }),
  })
  .superRefine((c, ctx) => {
    for (const [i, f] of c.fields.entries()) {
      const name = typeof f === "string" ? f : f.name;
      if (Object.hasOwn(c.key, name)) {
        ctx.addIssue({
          code: "custom",
          path: ["fields", i],
          message: `"${name}" is a key column: its value is the key expression's, so add it with Map if you need it`,
        });
      }
    }
  });

export type PostgresLookupConfig = z.output<typeof config>;

/** The added fields: (column, output name, declared type, nullable). */
function lookupFields(c: PostgresLookupConfig): { column: string; as: string; field: Field }[] {
  const declared = normaliseDeclared(c.fields, "json") ?? [];
  return declared.map((d) => {
    const as = `${c.prefix ?? ""}${d.name}`;
    return { column: d.name, as, field: field(as, t[d.type], d.nullable || c.onMissing === "null") };
  });
}

export const postgresLookupDef = defineNode({
  type: "transform.lookup",
  version: 1,
  kind: "transform",
  title: "Lookup (PostgreSQL)",
  category: "Enrich",
  icon: "key",
  summary: "Adds columns of a PostgreSQL table row to each record, found by key, with a cache.",
  docs: `Enriches each record with columns of the row of a PostgreSQL table whose key columns equal the record's key
expressions — a customer's name and country by \`customer_id\`, a product's price by SKU.

**How it reads.** The records of a batch are looked up together: their distinct keys that are not in the cache go to
the server in one query per *Keys per query* keys (\`JOIN unnest(keys)\`, so an index on the key columns makes it a
few index probes), and the answers fill the cache. Each record then leaves in its original order with the added
fields at the end (named with *Prefix*; an input field of the same name is replaced). With several matching rows one of them is used: the
key should be unique.

**Cache.** Rows and misses are kept per partition, least recently used first out, for *Time to live*; so a changed
row is seen within that time. The cache is memory only — after a restart it fills again — so it holds nothing that
exactly-once depends on: the output is the table's content at lookup time.

**Missing rows and errors.** When no row matches (or the key is NULL), *When no row matches* decides: NULL fields,
leave the record out, or dead-letter it with the key. A key expression that fails on a record dead-letters that
record. When the server cannot be reached the batch fails and is retried from the last commit, so nothing is lost
while the database is down.`,
  inputs: [{ name: "in" }],
  outputs: [{ name: "out" }],
  config,
  examples: [
    {
      title: "Add the customer's name and country",
      config: {
        connection: "warehouse",
        table: "customers",
        key: { id: "customer_id" },
        fields: ["name", { name: "country", type: "string" }],
        prefix: "customer_",
      },
    },
    {
      title: "Price by SKU and region, dropping unknown products",
      config: {
        connection: "catalog",
        table: "prices",
        key: { sku: "upper(sku)", region: "region" },
        fields: [{ name: "price", type: "float", nullable: false }],
        onMissing: "drop",
        cache: { size: 100_000, ttl: "1m" },
      },
    },
  ],
  delivery: {},
  infer: ({ config: c, inputs, parameters }) => {
    const input: RecordSchema = inputs.in ?? emptySchema;
    const issues: InferIssue[] = [];
    const columns = Object.keys(c.key);
    checkKeys(
      columns.map((col) => c.key[col]!),
      input,
      parameters,
      (i) => ["key", columns[i]!],
      issues,
    );
    const added = lookupFields(c);
    const names = new Set(added.map((a) => a.as));
    const fields: Field[] = [...input.fields.filter((f) => !names.has(f.name)), ...added.map((a) => a.field)];
    const kept = input.eventTime !== undefined && !names.has(input.eventTime) ? input.eventTime : undefined;
    return {
      outputs: {
        out: kept !== undefined ? { fields, open: input.open, eventTime: kept } : { fields, open: input.open },
      },
      issues,
    };
  },
  summarize: (c) =>
    `${c.table} by ${Object.keys(c.key).join(", ")} · cache ${c.cache.size.toLocaleString("en-US")} for ${formatDuration(c.cache.ttl)}`,
});
