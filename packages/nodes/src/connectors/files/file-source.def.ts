import { defineNode } from "@sluice/pipeline/node-definition";
import { field, t } from "@sluice/pipeline/record-schema";
import { z } from "zod";
import { NewFieldName } from "../../record-fields";
import { declaredFieldList, declaredSchemaFields, normaliseDeclared } from "./declared-fields";

// Reads CSV, JSON Lines and Parquet files from the files directory. Browser-safe declaration.

export const FilePath = z
  .string()
  .trim()
  .min(1, "give a path inside the files directory, e.g. uploads/orders.csv")
  .max(1024)
  .refine((p) => !p.includes("\0"), "a path cannot contain NUL");

const SingleChar = (what: string) =>
  z
    .string()
    .length(1, `the ${what} is one character`)
    .refine((c) => c !== "\n" && c !== "\r", `the ${what} cannot be a line break`);

const Instant = z.union([
  z.number().int().min(0),
  z.iso.datetime({ offset: true, message: "give epoch ms or an ISO date-time such as 2026-05-01T00:00:00Z" }),
]);

export const FILE_FORMATS = ["csv", "jsonl", "parquet"] as const;
export type FileFormat = (typeof FILE_FORMATS)[number];

const config = z
  .strictObject({
    path: FilePath.meta({
      label: "Path",
      help: "A file or a pattern inside the files directory (SLUICE_FILES_DIR): * and ? match within a folder, ** across folders.",
      placeholder: "uploads/orders-*.csv",
      examples: ["uploads/orders.csv", "exports/2024-*/*.jsonl", "lake/**/*.parquet"],
    }),
    format: z
      .enum(["auto", ...FILE_FORMATS])
      .default("auto")
      .meta({
        label: "Format",
        help: '"auto" goes by each file\'s extension: .csv/.tsv, .jsonl/.ndjson/.json, .parquet.',
        widget: "select",
      }),
    fields: declaredFieldList(
      "The fields to read, with their types (string, int, float, boolean, timestamp, json). CSV: by header name (or, without a header, every column in order). JSON Lines and Parquet: the keys to take. Leave empty to take every field as it is (an open schema).",
      [["id", { name: "amount", type: "float" }, { name: "ts", type: "timestamp", nullable: false }]],
    ).optional(),
    header: z.boolean().default(true).meta({
      label: "Header row",
      help: "CSV: the first line names the columns.",
    }),
    delimiter: SingleChar("delimiter").default(",").meta({
      label: "Delimiter",
      help: 'CSV: the character between values, e.g. "," ";" or a tab. .tsv files default to a tab.',
      advanced: true,
    }),
    quote: SingleChar("quote").default('"').meta({ label: "Quote", help: "CSV: the quote character.", advanced: true }),
    fileField: NewFieldName.optional().meta({
      label: "File name field",
      help: "Add each record's file name (relative to the files directory) in this field.",
      advanced: true,
    }),
    timeField: NewFieldName.optional().meta({
      label: "Event-time field",
      help: "A declared timestamp field that carries each record's event time.",
      advanced: true,
    }),
    nameFrom: z.string().min(1).max(1024).optional().meta({
      label: "Names from",
      help: "Read only the matching files whose name (relative to the files directory) sorts at or after this one.",
      placeholder: "exports/2026-05-01.jsonl",
      advanced: true,
    }),
    nameTo: z.string().min(1).max(1024).optional().meta({
      label: "Names up to",
      help: "Read only the matching files whose name sorts at or before this one.",
      advanced: true,
    }),
    modifiedFrom: Instant.optional().meta({
      label: "Modified from",
      help: "Read only the matching files last modified at or after this time (epoch ms or an ISO date-time).",
      advanced: true,
    }),
    modifiedTo: Instant.optional().meta({
      label: "Modified up to",
      help: "Read only the matching files last modified at or before this time.",
      advanced: true,
    }),
  })
  .superRefine((c, ctx) => {
    if (c.format === "csv" && !c.header && c.fields === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["fields"],
        message: "without a header row, name the CSV columns, in order",
      });
    }
    if (c.delimiter === c.quote) {
      ctx.addIssue({ code: "custom", path: ["quote"], message: "the quote and the delimiter must differ" });
    }
    const declared = normaliseDeclared(c.fields, "string");
    if (c.fileField !== undefined && declared?.some((d) => d.name === c.fileField)) {
      ctx.addIssue({ code: "custom", path: ["fileField"], message: `"${c.fileField}" is also a declared field` });
    }
    if (c.timeField !== undefined) {
      const d = declared?.find((x) => x.name === c.timeField);
      if (!d || (d.type !== "timestamp" && d.type !== "int")) {
        ctx.addIssue({
          code: "custom",
          path: ["timeField"],
          message: `declare "${c.timeField}" in Fields with type timestamp to use it as event time`,
        });
      }
    }
  });

export type FileSourceConfig = z.output<typeof config>;

export const fileSourceDef = defineNode({
  type: "source.file",
  version: 1,
  kind: "source",
  title: "Files",
  category: "Files",
  icon: "file-text",
  summary: "Reads CSV, JSON Lines or Parquet files from the files directory, with progress.",
  docs: `Reads every file that matches *Path* inside the **files directory** — the directory the workers are given in
\`SLUICE_FILES_DIR\` (default \`.sluice/files\` in their working directory). Each workspace has its own folder in it,
\`<files directory>/<workspace id>\`, and its runs and previews see only that folder (\`sluice run\` sees the whole
directory). Paths are relative to it; a path or pattern that leads outside it (\`..\`, an absolute path elsewhere, a
symbolic link pointing out, also into another workspace's folder) is refused when the run starts. With several
workers on several machines the files directory must be the same shared directory on each. The source is bounded:
it ends when every file is read, and the run shows its progress (bytes read of the matched files' total).

**Formats.** *CSV* (RFC 4180: values with the delimiter, quotes or line breaks are quoted, quotes doubled; an
empty unquoted value is NULL, \`""\` the empty string; a UTF-8 byte-order mark is skipped); *JSON Lines* (one JSON
object per line, blank lines skipped); *Parquet* (every row group, columns as typed in the file: INT64 as numbers
— exact text beyond 2^53 —, timestamps and dates as epoch milliseconds, binary as base64, nested values as JSON).
Files being written by a file sink (\`*.inprogress\`) never match.

**Fields.** Declared *Fields* give a closed, typed schema: CSV columns are taken by header name, JSON and Parquet
keys by name, and each value is converted to its type exactly as the Parse transform does (\`"42"\` → 42, ISO
text or epoch milliseconds → timestamp). Without them every column or key is taken as it is (CSV values as text)
and the schema is open.

**Ranges (replay).** *Names from* / *Names up to* keep the matching files whose name sorts within the range, and
*Modified from* / *Modified up to* those last modified within it (all bounds included): a backfill replays a stretch
of a folder of exports this way. A range no file falls in reads nothing and ends.

**Bad records.** A line that is not valid CSV or JSON, has the wrong number of columns, or holds a value that
does not fit its declared type is refused with the file, the line number (in a split file past its first range: the
byte offset) and the reason; the other records are read on. (Until the engine takes dead letters from sources, refused records are written to the worker's log.)
A file that cannot be read at all — an unreadable Parquet footer, a CSV header that lacks a declared column — is
refused as a whole the same way.

**Position and partitions.** The position is the file and the byte offset (Parquet: the row) of the next record,
committed with each batch, so the source is replayable and a run resumes exactly where its last commit left it.
Files under 4 MiB are spread over the run's partitions by a hash of their name (each is read whole by one
partition, in name order), so the split does not change when files are added. A larger file is shared by all the
partitions, so that parallelism helps one big file as it helps many: JSON Lines and CSV are cut into even byte
ranges, and each partition reads the records that start in its range (every partition reads a CSV header first);
Parquet is shared by row groups, each going to the partition whose range it starts in. A CSV file that holds the
quote character anywhere is read whole by one partition instead, since a quoted line break makes a cut ambiguous.
Progress and lag count each partition's own share. A run started before files were split keeps reading each file
whole to the end.`,
  inputs: [],
  outputs: [{ name: "out" }],
  config,
  examples: [
    {
      title: "An uploaded CSV with typed columns",
      config: {
        path: "uploads/orders.csv",
        fields: ["order_id", { name: "amount", type: "float" }, { name: "ordered_at", type: "timestamp" }],
        timeField: "ordered_at",
      },
    },
    { title: "Every JSON Lines export of 2024", config: { path: "exports/2024-*/*.jsonl", fileField: "source_file" } },
    { title: "A folder of Parquet files", config: { path: "lake/events/**/*.parquet" } },
  ],
  delivery: { replayable: true },
  eventTimeField: (c) => c.timeField,
  infer: ({ config: c }) => {
    const declared = normaliseDeclared(c.fields, c.format === "csv" ? "string" : "json");
    const extra = c.fileField !== undefined ? [field(c.fileField, t.string, false, "file name")] : [];
    if (!declared) return { outputs: { out: { fields: extra, open: true } } };
    const fields = declaredSchemaFields(declared).map((f) =>
      f.name === c.timeField ? field(f.name, t.timestamp, f.nullable, "event time") : f,
    );
    return {
      outputs: {
        out: {
          fields: [...fields, ...extra],
          open: false,
          ...(c.timeField !== undefined ? { eventTime: c.timeField } : {}),
        },
      },
    };
  },
  summarize: (c) => `${c.format === "auto" ? "" : `${c.format.toUpperCase()} `}${c.path}`,
});
