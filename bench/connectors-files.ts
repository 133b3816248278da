import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parquetMetadata } from "hyparquet";
import { type BenchCase, driveSource, openSource, runSink, uniqueName } from "./connectors-support";

// File cases of `npm run bench -- connectors`: sink.file and source.file in JSON Lines, CSV and Parquet, in a files
// directory of their own under the system's temporary directory (removed afterwards), handed to the runtimes as the
// engine would (ctx.services.files.root). The sink runs with its defaults, so each batch is synced to the disk
// before it counts as written; the source reads files the sink wrote beforehand (without syncing).

const FORMATS = ["jsonl", "csv", "parquet"] as const;
type Format = (typeof FORMATS)[number];

/** CSV has no types of its own: the source is told them, as a pipeline would (the editor fills them in). */
const CSV_FIELDS = [
  { name: "id", type: "int" },
  { name: "user_id", type: "int" },
  "country",
  { name: "status", type: "int" },
  { name: "amount", type: "float" },
  { name: "ts", type: "timestamp" },
  "note",
];

async function withRoot<T>(work: (root: string) => Promise<T>): Promise<T> {
  const root = await mkdtemp(path.join(tmpdir(), "sluice-bench-files-"));
  try {
    return await work(root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function folderBytes(folder: string): Promise<number> {
  let bytes = 0;
  for (const f of await readdir(folder)) bytes += (await stat(path.join(folder, f))).size;
  return bytes;
}

/** Records in the finished part files of `folder`: lines (less CSV headers), or Parquet's row counts. */
async function recordsIn(folder: string, format: Format): Promise<number> {
  let n = 0;
  for (const f of await readdir(folder)) {
    if (!f.endsWith(`.${format}`)) continue;
    const bytes = await readFile(path.join(folder, f));
    if (format === "parquet") {
      const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      n += Number(parquetMetadata(buffer).num_rows);
    } else {
      let lines = 0;
      for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, i + 1)) lines++;
      n += format === "csv" ? lines - 1 : lines;
    }
  }
  return n;
}

function sinkCase(format: Format): BenchCase {
  return {
    connector: `files-${format}`,
    direction: "sink",
    defaultRecords: format === "parquet" ? 300_000 : 500_000,
    what: `sink.file, ${format}, defaults (one append + fsync per batch, 128 MiB part files)`,
    run: (o) =>
      withRoot(async (root) => {
        const m = await runSink("sink.file", { path: "out", format }, o, { services: { files: { root } } });
        const written = await recordsIn(path.join(root, "out"), format);
        if (written !== o.records + o.warmup) throw new Error(`the files hold ${written} records`);
        const bytes = await folderBytes(path.join(root, "out"));
        return { ...m, notes: [`${((bytes / (o.records + o.warmup)) | 0).toString()} bytes per record on disk`] };
      }),
  };
}

function sourceCase(format: Format): BenchCase {
  return {
    connector: `files-${format}`,
    direction: "source",
    defaultRecords: format === "parquet" ? 300_000 : 500_000,
    what: `source.file, ${format}${format === "csv" ? " with declared field types" : ""}, one file written by sink.file`,
    run: (o) =>
      withRoot(async (root) => {
        const total = o.records + o.warmup;
        o.log(`writing ${total} records as ${format}`);
        await runSink(
          "sink.file",
          { path: "in", format, fsync: false },
          { ...o, records: total, warmup: 0, batch: 10_000, partitions: 1 },
          { services: { files: { root } } },
        );
        const config = { path: `in/*.${format}`, format, ...(format === "csv" ? { fields: CSV_FIELDS } : {}) };
        const reader = await openSource("source.file", config, uniqueName("bench-files"), {
          services: { files: { root } },
        });
        try {
          return await driveSource(reader, o, (r, i) => {
            if (Number(r.id) !== i) throw new Error(`record ${i} has id ${String(r.id)}`);
          });
        } finally {
          await reader.close();
        }
      }),
  };
}

export const FILE_CASES: BenchCase[] = FORMATS.flatMap((f) => [sourceCase(f), sinkCase(f)]);
