import { Duration } from "@sluice/pipeline/duration";
import { defineNode, type InferIssue } from "@sluice/pipeline/node-definition";
import { emptySchema } from "@sluice/pipeline/record-schema";
import { z } from "zod";
import { FieldRef, unknownFieldIssue } from "../../record-fields";
import { FILE_FORMATS, FilePath } from "./file-source.def";

// Writes CSV, JSON Lines or Parquet part files into the files directory, exactly once. Browser-safe declaration.

const config = z
  .strictObject({
    path: FilePath.meta({
      label: "Folder",
      help: "The folder inside the files directory (SLUICE_FILES_DIR) the part files go to; created if missing.",
      placeholder: "exports/orders",
    }),
    format: z.enum(FILE_FORMATS).default("jsonl").meta({ label: "Format", widget: "select" }),
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, "letters, digits, '_', '.' and '-' only")
      .default("part")
      .meta({ label: "File name prefix", help: "Files are named <prefix>-<run>-p<partition>-<number>.<format>." }),
    rollBytes: z
      .number()
      .int()
      .min(1024)
      .max(64 * 1024 ** 3)
      .default(128 * 1024 ** 2)
      .meta({ label: "Roll after (bytes)", help: "Start a new file once the current one reaches this size." }),
    rollRecords: z.number().int().min(1).max(1e12).optional().meta({
      label: "Roll after (records)",
      help: "Start a new file once the current one holds this many records.",
      advanced: true,
    }),
    rollInterval: Duration.optional().meta({
      label: "Roll after (time)",
      help: "Start a new file once the current one has been open this long (e.g. 15m); checked when a batch arrives.",
      widget: "duration",
    }),
    columns: z.array(FieldRef).min(1).max(10_000).optional().meta({
      label: "Columns",
      help: "The fields to write, in order. Default: the input schema's fields (CSV and Parquet need them known).",
      widget: "fields",
      advanced: true,
    }),
    timestamps: z.enum(["epoch-ms", "iso"]).default("epoch-ms").meta({
      label: "Timestamps as",
      help: 'CSV and JSON Lines: timestamp fields as epoch milliseconds or as ISO 8601 text in UTC ("iso"). Parquet stores them as TIMESTAMP (milliseconds).',
      advanced: true,
    }),
    delimiter: z.string().length(1).default(",").meta({ label: "Delimiter", help: "CSV only.", advanced: true }),
    header: z.boolean().default(true).meta({ label: "Header row", help: "CSV only.", advanced: true }),
    fsync: z.boolean().default(true).meta({
      label: "Sync to disk",
      help: "Flush each batch to the disk before it is committed (off: faster, but a machine crash may lose committed data).",
      advanced: true,
    }),
  })
  .superRefine((c, ctx) => {
    if (c.delimiter === '"' || c.delimiter === "\n" || c.delimiter === "\r") {
      ctx.addIssue({ code: "custom", path: ["delimiter"], message: "the delimiter cannot be a quote or a line break" });
    }
  });

export type FileSinkConfig = z.output<typeof config>;

export const fileSinkDef = defineNode({
  type: "sink.file",
  version: 1,
  kind: "sink",
  title: "Files",
  category: "Files",
  icon: "file-text",
  summary: "Writes CSV, JSON Lines or Parquet files into the files directory, rolling by size or time, exactly once.",
  docs: `Writes the records into **part files** in a folder of the files directory (\`SLUICE_FILES_DIR\`, default
\`.sluice/files\`): of the workspace's own folder in it, \`<files directory>/<workspace id>\` (\`sluice run\`: of the
directory itself). A folder outside it, or a link leading out of it, is refused. Each partition of the run writes
its own sequence of files, \`<prefix>-<run>-p<partition>-<number>.<format>\`, one at a time.

**Atomic completion.** A file being written is named \`….inprogress\`; it is renamed to its final name once it is
complete — when it reaches *Roll after* (bytes, records or time) and at the end of the run. Readers that ignore
\`*.inprogress\` (the Files source does) therefore only ever see whole files. A Parquet file gets its footer just
before it is renamed.

**Exactly once.** The length of the file being written, its record count and the files waiting to be renamed are
kept in the node's state, which the engine commits atomically with the source positions of each batch. A batch is
appended (and, with *Sync to disk*, flushed to the disk) before it is committed. If the worker dies after writing
and before committing, the partition's next owner finds the file longer than its committed length and **truncates
it back** before writing the replayed batch — so no record is in a file twice and none is missing. A file is
renamed only once the batch that completed it is committed; a rename interrupted by a crash is done by the next
owner. So, with a replayable source, every record appears in exactly one completed file. (Until the engine tells
sinks that a batch was committed, a file is renamed when the next batch arrives, when the run ends, or by the next
owner — and at the end of the run it is renamed as soon as the last write succeeded, so a commit that then fails
could leave that last batch in a completed file and again in the next one.)

The guarantee needs the files directory to be one directory for all workers (the same disk, or a shared file
system) and each partition to be written by one worker at a time, which the engine's leases ensure.

**Formats.** *JSON Lines*: one JSON object per line. *CSV*: RFC 4180 with a header row; values with the
delimiter, quotes or line breaks are quoted, NULL is an empty value, objects and arrays are JSON text. *Parquet*:
one row group per batch, typed from the input schema (string → STRING, int → INT64, float → DOUBLE, boolean,
timestamp → TIMESTAMP millis, everything else JSON), Snappy-compressed. CSV and Parquet need the fields known
(from the input schema or *Columns*); a value that does not fit its Parquet column type is written as NULL where the
column allows it.`,
  inputs: [{ name: "in" }],
  outputs: [],
  config,
  examples: [
    { title: "JSON Lines, a new file every 15 minutes", config: { path: "exports/clicks", rollInterval: "15m" } },
    {
      title: "Parquet files of about 256 MB",
      config: {
        path: "lake/orders",
        format: "parquet",
        rollBytes: 256 * 1024 ** 2,
        columns: ["order_id", "customer_id", "amount", "placed_at"],
      },
    },
    {
      title: "CSV with ISO timestamps",
      config: { path: "reports/daily", format: "csv", timestamps: "iso", columns: ["day", "orders", "revenue"] },
    },
  ],
  delivery: { transactional: true },
  infer: (ctx) => {
    const input = ctx.inputs.in ?? emptySchema;
    const c = ctx.config;
    const issues: InferIssue[] = [];
    for (const [i, col] of (c.columns ?? []).entries()) {
      const issue = unknownFieldIssue(input, col, ["columns", i]);
      if (issue) issues.push(issue);
    }
    if (c.format !== "jsonl" && c.columns === undefined && input.fields.length === 0) {
      issues.push({
        severity: "error",
        code: "schema",
        message: `${c.format === "csv" ? "CSV" : "Parquet"} needs the fields to write: declare them upstream or name the Columns`,
        path: ["columns"],
      });
    }
    return { outputs: {}, issues };
  },
  summarize: (c) =>
    `${c.format.toUpperCase()} → ${c.path} · roll ${Math.round(c.rollBytes / 1024 ** 2)} MB${c.rollInterval ? " or time" : ""}`,
});
