import { type FileHandle, open } from "node:fs/promises";
import type { DataRecord } from "@sluice/pipeline/record-schema";
import { type FileMetaData, parquetMetadataAsync, parquetReadObjects, parquetSchema } from "hyparquet";
import type { RejectedRecord, SourceBatch, SourceOffset, SourceReader, SourceRuntime } from "../../runtime-contract";
import { NodeConfigError } from "../../runtime-expressions";
import { parseCsvRecord, parseJsonText } from "../../transforms/parse-text";
import { convertDeclared, type Declared, normaliseDeclared, pickDeclared } from "./declared-fields";
import { expandGlob, type MatchedFile } from "./file-glob";
import type { FileFormat, FileSourceConfig } from "./file-source.def";
import { FilePathError, filesRoot } from "./files-root";
import { fileAsyncBuffer, plainValue } from "./parquet-values";
import { fileHoldsByte, lineStartFrom, TextCursor } from "./text-cursor";

// Reads the partition's share of the matched files in name order. The position is (file, byte offset or row, line):
// every file before it is done, and reading resumes at exactly that record.
//
// A file of SPLIT_MIN_BYTES or more is shared by every partition, so that parallelism helps one big file as it helps
// many: it is cut into P even byte ranges, and partition p owns the records whose first byte lies in its range
// [S·p/P, S·(p+1)/P) — text records from the first line start in the range, the last one running past its end if it
// must; Parquet row groups by the byte where the group starts. A smaller file is read whole by one partition chosen
// by a hash of its name, so many small files still spread, and the split does not change when files are added.

export interface FileSourceOffset {
  /** The file being read (null: none of this partition's files started). */
  file: string | null;
  /** Byte offset (CSV, JSON Lines) or row (Parquet) of the next record in it. */
  at: number;
  /** Line number of the next record (text formats). */
  line: number;
  /** Records read so far, bytes of the files finished before `file`. */
  read: number;
  finished: number;
  /** Every file of the partition is read. */
  done?: boolean;
  /**
   * The offset was committed under the split layout (big files cut into ranges). Without it the offset is from a
   * run that gave every file whole to one partition, and that run keeps that assignment.
   */
  split?: 1;
}

/** Files at least this large are cut into byte ranges over the partitions; smaller ones are not worth it. */
export const SPLIT_MIN_BYTES = 4 << 20;

function readFileOffset(from: SourceOffset | null): FileSourceOffset | null {
  if (from === null || typeof from !== "object" || Array.isArray(from)) return null;
  const o = from as Record<string, unknown>;
  const num = (v: unknown, d: number) => (typeof v === "number" && Number.isFinite(v) ? v : d);
  return {
    file: typeof o.file === "string" ? o.file : null,
    at: num(o.at, 0),
    line: num(o.line, 1),
    read: num(o.read, 0),
    finished: num(o.finished, 0),
    ...(o.done === true ? { done: true } : {}),
    ...(o.split === 1 ? { split: 1 as const } : {}),
  };
}

/** FNV-1a of the file name: a file's partition does not depend on which other files exist. */
function filePartition(name: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % partitions;
}

const instantMs = (v: number | string | undefined) => (typeof v === "string" ? Date.parse(v) : v);

/** The file lies in the configured name and modification-time ranges (all inclusive; a bound left out is open). */
function inRange(f: MatchedFile, c: FileSourceConfig): boolean {
  if (c.nameFrom !== undefined && f.name < c.nameFrom) return false;
  if (c.nameTo !== undefined && f.name > c.nameTo) return false;
  const from = instantMs(c.modifiedFrom);
  const to = instantMs(c.modifiedTo);
  if (from !== undefined && f.mtimeMs < from) return false;
  if (to !== undefined && f.mtimeMs > to) return false;
  return true;
}

function formatOf(name: string, configured: FileSourceConfig["format"]): FileFormat | undefined {
  if (configured !== "auto") return configured;
  const lower = name.toLowerCase();
  if (lower.endsWith(".csv") || lower.endsWith(".tsv")) return "csv";
  if (lower.endsWith(".jsonl") || lower.endsWith(".ndjson") || lower.endsWith(".json")) return "jsonl";
  if (lower.endsWith(".parquet")) return "parquet";
  return undefined;
}

/** This partition's share of one file: the records (Parquet: row groups) whose first byte lies in [lo, hi). */
interface FileShare {
  file: MatchedFile;
  format: FileFormat;
  /** Cut into byte ranges over the partitions; otherwise the whole file, [0, size). */
  split: boolean;
  lo: number;
  hi: number;
}

const shareBytes = (s: FileShare) => s.hi - s.lo;

/**
 * Whether a file is cut into byte ranges. JSON Lines always can be: a JSON string cannot hold a raw line feed, so
 * every line feed ends a record. CSV can hold line feeds inside quoted values, and whether a given line feed is
 * quoted depends on every quote before it, which a partition starting mid-file cannot know; so a CSV file is split
 * only when it holds no quote character at all (one memchr pass over it per partition, far cheaper than parsing it).
 * A CSV file with quotes anywhere is read whole by one partition, as a small file is.
 */
async function splittable(file: MatchedFile, format: FileFormat, c: FileSourceConfig): Promise<boolean> {
  if (file.size < SPLIT_MIN_BYTES) return false;
  if (format !== "csv") return true;
  const quote = Buffer.from(c.quote, "utf8");
  if (quote.length !== 1) return false;
  try {
    return !(await fileHoldsByte(file.path, quote[0]!));
  } catch (err) {
    // Gone since it was listed: the partition it hashes to reports it.
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
}

interface Decoded {
  records: DataRecord[];
  rejected: RejectedRecord[];
}

/** One open file: yields decoded records and says where it is. */
interface FileReading {
  take(max: number, out: Decoded): Promise<void>;
  readonly done: boolean;
  /** Position to commit: byte offset or row, and line. */
  readonly at: number;
  readonly line: number;
  /** Bytes of the partition's share of the file read so far (Parquet: in proportion to rows). */
  readonly bytesRead: number;
  close(): Promise<void>;
}

function withFile(record: Record<string, unknown>, c: FileSourceConfig, file: string): DataRecord {
  if (c.fileField !== undefined) record[c.fileField] = file;
  return record;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function openText(
  share: FileShare,
  c: FileSourceConfig,
  declared: Declared[] | undefined,
  at: number,
  line: number,
): Promise<FileReading> {
  const { file } = share;
  const format = share.format as "csv" | "jsonl";
  const delimiter = c.delimiter === "," && file.name.toLowerCase().endsWith(".tsv") ? "\t" : c.delimiter;
  // A position at or before the range start means the range is not started: its first record is at the first line
  // start in it. Past the start, the position is a committed record start.
  let start = at;
  if (share.split && share.lo > 0 && at <= share.lo) {
    start = await lineStartFrom(file.path, share.lo);
    line = 1;
  }
  // Lines are counted from the file's start only; a range further in reports byte offsets instead.
  const exactLines = !share.split || share.lo === 0;
  const quote = format === "csv" ? c.quote.charCodeAt(0) : -1;
  const cursor = new TextCursor(file.path, start, line, quote, share.split ? share.hi : Number.POSITIVE_INFINITY);
  let columns: string[] | undefined;
  let picks: { d: Declared; index: number }[] | undefined;
  if (format === "csv") {
    if (c.header) {
      // The header is read again on a resume and by every range but the first: the position is after it.
      const headerCursor = start === 0 ? cursor : new TextCursor(file.path, 0, 1, quote);
      const [first] = await headerCursor.take(1);
      if (headerCursor !== cursor) await headerCursor.close();
      columns = first ? parseCsvRecord(first.text, delimiter, c.quote).map((h, i) => h ?? `column_${i + 1}`) : [];
    }
    if (declared) {
      picks = declared.map((d, i) => ({ d, index: columns ? columns.indexOf(d.name) : i }));
      const missing = picks.filter((p) => p.index < 0).map((p) => p.d.name);
      if (missing.length > 0) {
        await cursor.close();
        throw new FileRefusal(
          `the header of ${file.name} lacks the declared column${missing.length > 1 ? "s" : ""} ${missing.join(", ")}; it has ${(columns ?? []).join(", ")}`,
        );
      }
    }
  }
  const decode = (text: string): DataRecord => {
    if (format === "jsonl") {
      const value = parseJsonText(text);
      if (value === null || typeof value !== "object" || Array.isArray(value)) {
        throw new Error(
          `a JSON object was expected, found ${Array.isArray(value) ? "an array" : JSON.stringify(value)}`,
        );
      }
      return withFile(
        declared ? pickDeclared(value as Record<string, unknown>, declared, false) : (value as DataRecord),
        c,
        file.name,
      );
    }
    const cells = parseCsvRecord(text, delimiter, c.quote);
    const width = columns?.length ?? declared?.length ?? cells.length;
    if (cells.length !== width) throw new Error(`expected ${width} columns but found ${cells.length}`);
    const record: Record<string, unknown> = {};
    if (picks) for (const { d, index } of picks) record[d.name] = convertDeclared(d, cells[index] ?? null, true);
    else if (columns) for (let i = 0; i < columns.length; i++) record[columns[i]!] = cells[i] ?? null;
    return withFile(record, c, file.name);
  };
  return {
    async take(max, out) {
      for (const r of await cursor.take(max)) {
        try {
          out.records.push(decode(r.text));
        } catch (err) {
          const text = r.text.length > 4096 ? `${r.text.slice(0, 4096)}…` : r.text;
          out.rejected.push(
            exactLines
              ? {
                  record: { file: file.name, line: r.line, text },
                  error: `${file.name} line ${r.line}: ${errorText(err)}`,
                }
              : { record: { file: file.name, at: r.at, text }, error: `${file.name} byte ${r.at}: ${errorText(err)}` },
          );
        }
      }
    },
    get done() {
      return cursor.done;
    },
    get at() {
      return cursor.pos;
    },
    get line() {
      return cursor.line;
    },
    get bytesRead() {
      // The last record of a range may run past its end, and the skip to the first line start is part of the share.
      return Math.min(shareBytes(share), Math.max(0, cursor.pos - share.lo));
    },
    close: () => cursor.close(),
  };
}

async function openParquet(
  share: FileShare,
  c: FileSourceConfig,
  declared: Declared[] | undefined,
  row: number,
): Promise<FileReading> {
  const { file } = share;
  let handle: FileHandle | undefined = await open(file.path, "r");
  const buffer = fileAsyncBuffer(handle, file.size);
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(buffer);
  } catch (err) {
    await handle.close();
    throw new FileRefusal(`${file.name} is not a readable Parquet file: ${errorText(err)}`);
  }
  const names = parquetSchema(metadata).children.map((ch) => ch.element.name);
  const missing = (declared ?? []).filter((d) => !names.includes(d.name)).map((d) => d.name);
  if (missing.length > 0) {
    await handle.close();
    throw new FileRefusal(`${file.name} has no column ${missing.join(", ")}; it has ${names.join(", ")}`);
  }
  const numRows = Number(metadata.num_rows);
  // Row groups are decoded whole, so one is kept while the batches take its rows. A split file's partition owns the
  // groups that start (first page) in its byte range: groups lie one after another, so this balances by bytes.
  const groups: [number, number][] = [];
  let start = 0;
  for (const g of metadata.row_groups) {
    const n = Number(g.num_rows);
    const firstByte = g.columns.reduce(
      (min, col) =>
        Math.min(min, Number(col.meta_data?.dictionary_page_offset ?? col.meta_data?.data_page_offset ?? 0)),
      g.columns.length > 0 ? Number.POSITIVE_INFINITY : 0,
    );
    if (!share.split || (firstByte >= share.lo && firstByte < share.hi)) groups.push([start, start + n]);
    start += n;
  }
  const ownedRows = groups.reduce((n, [s, e]) => n + e - s, 0);
  /** The next row this partition owns at or after `r`; numRows when none. */
  const owned = (r: number) => {
    for (const [s, e] of groups) if (r < e) return Math.max(r, s);
    return numRows;
  };
  let cache: { start: number; rows: Record<string, unknown>[] } | undefined;
  let pos = share.split ? owned(row) : row;
  return {
    async take(max, out) {
      while (max > 0 && pos < numRows) {
        if (!cache || pos < cache.start || pos >= cache.start + cache.rows.length) {
          const [gs, ge] = groups.find(([s, e]) => pos >= s && pos < e) ?? [pos, numRows];
          const rows = await parquetReadObjects({
            file: buffer,
            metadata,
            rowStart: gs,
            rowEnd: ge,
            ...(declared ? { columns: declared.map((d) => d.name) } : {}),
          });
          cache = { start: gs, rows };
        }
        const from = pos - cache.start;
        const n = Math.min(max, cache.rows.length - from);
        for (let i = 0; i < n; i++) {
          const plain = plainValue(cache.rows[from + i]) as Record<string, unknown>;
          try {
            out.records.push(withFile(declared ? pickDeclared(plain, declared, false) : plain, c, file.name));
          } catch (err) {
            out.rejected.push({
              record: { file: file.name, row: pos + i, value: plain },
              error: `${file.name} row ${pos + i + 1}: ${errorText(err)}`,
            });
          }
        }
        pos += n;
        max -= n;
        if (share.split) pos = owned(pos);
        if (n === 0) break;
      }
    },
    get done() {
      return pos >= numRows;
    },
    get at() {
      return pos;
    },
    get line() {
      return 0;
    },
    get bytesRead() {
      if (ownedRows === 0 || pos >= numRows) return shareBytes(share);
      let done = 0;
      for (const [s, e] of groups) done += Math.min(e, Math.max(s, pos)) - s;
      return Math.floor((shareBytes(share) * done) / ownedRows);
    },
    async close() {
      cache = undefined;
      await handle?.close();
      handle = undefined;
    },
  };
}

/** A file that cannot be read at all: refused whole, the others are read. */
class FileRefusal extends Error {
  override name = "FileRefusal";
}

export const fileSourceRuntime: SourceRuntime<FileSourceConfig> = {
  kind: "source",
  type: "source.file",
  async open(ctx, from): Promise<SourceReader> {
    const c = ctx.config;
    let root: string;
    let files: MatchedFile[];
    try {
      root = await filesRoot(ctx);
      files = await expandGlob(root, c.path);
    } catch (err) {
      if (err instanceof FilePathError) throw new NodeConfigError(ctx.nodeId, "path", err.message);
      throw err;
    }
    if (files.length === 0) {
      throw new NodeConfigError(ctx.nodeId, "path", `no file in the files directory ${root} matches "${c.path}"`);
    }
    for (const f of files) {
      if (!formatOf(f.name, c.format)) {
        throw new NodeConfigError(
          ctx.nodeId,
          "format",
          `cannot tell the format of ${f.name} from its extension; choose CSV, JSON Lines or Parquet`,
        );
      }
    }
    const committed = readFileOffset(from);
    // A run that committed offsets before files were split keeps giving each file whole to one partition: its
    // positions mean that assignment. The edge left: a partition of such a run that had committed nothing opens
    // with no offset and takes the split layout while the others keep the old one; over a big file it then reads its
    // byte range while the file's old partition reads it whole (those records twice), and a big file that hashed to it
    // is read only in part (the rest lost). Nothing in a fresh partition tells the two cases apart, so an upgrade
    // should come between runs, or after every partition has committed once.
    const legacy = committed !== null && committed.split !== 1;
    const mine: FileShare[] = [];
    for (const f of files) {
      if (!inRange(f, c)) continue;
      const format = formatOf(f.name, c.format)!;
      if (!legacy && ctx.partitions > 1 && (await splittable(f, format, c))) {
        const lo = Math.floor((f.size * ctx.partition) / ctx.partitions);
        const hi = Math.floor((f.size * (ctx.partition + 1)) / ctx.partitions);
        mine.push({ file: f, format, split: true, lo, hi });
      } else if (filePartition(f.name, ctx.partitions) === ctx.partition) {
        mine.push({ file: f, format, split: false, lo: 0, hi: f.size });
      }
    }
    const total = mine.reduce((n, s) => n + shareBytes(s), 0);
    const declared = normaliseDeclared(c.fields, "json");

    let offset: FileSourceOffset = committed ?? {
      file: mine[0]?.file.name ?? null,
      at: 0,
      line: 1,
      read: 0,
      finished: 0,
    };
    if (!legacy) offset = { ...offset, split: 1 };
    // Files before the position's file are done; a file that vanished meanwhile is skipped.
    let index = offset.done ? mine.length : mine.findIndex((s) => offset.file === null || s.file.name >= offset.file);
    if (index < 0) index = mine.length;
    if (index < mine.length && mine[index]!.file.name !== offset.file)
      offset = { ...offset, file: mine[index]!.file.name, at: 0, line: 1 };
    let reading: FileReading | undefined;

    const next = (finishedBytes: number) => {
      index++;
      const share = mine[index];
      offset = share
        ? { ...offset, file: share.file.name, at: 0, line: 1, finished: offset.finished + finishedBytes }
        : { ...offset, at: 0, line: 1, finished: offset.finished + finishedBytes, done: true };
    };

    return {
      readAhead: true,
      async read(max): Promise<SourceBatch> {
        const out: Decoded = { records: [], rejected: [] };
        while (out.records.length + out.rejected.length < max && index < mine.length) {
          const share = mine[index]!;
          const { file } = share;
          if (!reading) {
            try {
              reading =
                share.format === "parquet"
                  ? await openParquet(share, c, declared, offset.at)
                  : await openText(share, c, declared, offset.at, offset.line);
            } catch (err) {
              if (!(err instanceof FileRefusal) && (err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
              const error = err instanceof FileRefusal ? err.message : `${file.name} disappeared before it was read`;
              // A split file refused whole is reported once, by the partition whose range starts it.
              if (!share.split || share.lo === 0) out.rejected.push({ record: { file: file.name }, error });
              next(shareBytes(share));
              continue;
            }
          }
          await reading.take(max - out.records.length - out.rejected.length, out);
          offset = { ...offset, at: reading.at, line: reading.line };
          if (reading.done) {
            await reading.close();
            reading = undefined;
            next(shareBytes(share));
          }
        }
        offset = { ...offset, read: offset.read + out.records.length };
        for (const r of out.rejected) ctx.log.warn("record refused", { error: r.error });
        const current = reading?.bytesRead ?? 0;
        return {
          records: out.records,
          offset: offset as unknown as SourceOffset,
          end: index >= mine.length,
          progress: { done: Math.min(total, offset.finished + current), total },
          ...(out.rejected.length > 0 ? { rejected: out.rejected } : {}),
        };
      },
      /** Bytes of this partition's shares not read yet (Parquet: in proportion to rows), as of the last read. */
      async offsetLag() {
        // Before the current file is opened again, a text file's position is a byte offset; a Parquet file's is a
        // row, so that file counts whole until it is open.
        const share = mine[index];
        const atBytes =
          share && share.format !== "parquet" ? Math.min(shareBytes(share), Math.max(0, offset.at - share.lo)) : 0;
        const read = index >= mine.length ? total : offset.finished + (reading?.bytesRead ?? atBytes);
        return { value: Math.max(0, total - read), unit: "bytes" as const };
      },
      async close() {
        await reading?.close();
        reading = undefined;
      },
    };
  },
};
