import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type DuckDBAppender, DuckDBInstance, dateValue, timestampTZValue, timestampValue } from "@duckdb/node-api";
import type { QueryColumnKind } from "@sluice/nodes/connection-runtime";

// A query result as a file: CSV (RFC 4180) or Parquet. The one encoder of results for downloads from the query page
// and for scheduled reports. Parquet goes through an in-memory DuckDB: a table typed from the result's columns, the
// rows appended through an appender (values never pass through SQL text), then COPY … TO a file in a temporary
// folder of our own, read back. Server-only.

export type ResultFileFormat = "csv" | "parquet";

export interface ResultTable {
  columns: readonly { name: string; type: string; kind: QueryColumnKind }[];
  /** As QueryResult has them: JSON-safe values, ISO-8601 strings for times. */
  rows: readonly (readonly unknown[])[];
}

export const RESULT_CONTENT_TYPES: Readonly<Record<ResultFileFormat, string>> = {
  csv: "text/csv; charset=utf-8",
  parquet: "application/vnd.apache.parquet",
};

// --- CSV ---------------------------------------------------------------------------------------------------------

/** A field's text: null as an empty field, JSON values as compact JSON, everything else (ISO times too) as it reads. */
function fieldText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** Quoted when it holds a comma, a double quote or a line break; a double quote inside is doubled. */
function csvField(value: unknown): string {
  const text = fieldText(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A header line of column names, then one line per row; lines end with CRLF, as RFC 4180 says. */
export function toCsv(columns: readonly { name: string }[], rows: readonly (readonly unknown[])[]): string {
  const lines = [columns.map((c) => csvField(c.name)).join(",")];
  for (const row of rows) lines.push(columns.map((_, i) => csvField(row[i])).join(","));
  return `${lines.join("\r\n")}\r\n`;
}

// --- Parquet -----------------------------------------------------------------------------------------------------

type ColumnType = "BIGINT" | "DOUBLE" | "BOOLEAN" | "VARCHAR" | "TIMESTAMPTZ" | "TIMESTAMP" | "DATE";

const INTEGER_TYPE = /^(int[248]?|integer|bigint|smallint|tinyint|mediumint|year|oid|hugeint|u?(tiny|small|big)?int)$/i;
const INSTANT = /^(-?\d{4,}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;
const LOCAL_TIME = /^(-?\d{4,}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?$/;
const DAY = /^(\d{4}-\d\d-\d\d)$/;

function every(rows: readonly (readonly unknown[])[], i: number, test: (v: unknown) => boolean): boolean {
  return rows.every((row) => row[i] === null || row[i] === undefined || test(row[i]));
}

/** The Parquet column type for a result column: by its kind, and for times by what its values look like. */
function columnType(column: ResultTable["columns"][number], i: number, rows: ResultTable["rows"]): ColumnType {
  switch (column.kind) {
    case "number":
      if (INTEGER_TYPE.test(column.type.replace(/\(.*\)$/, "").trim())) {
        return every(rows, i, (v) => typeof v === "number" || (typeof v === "string" && /^-?\d+$/.test(v)))
          ? "BIGINT"
          : "VARCHAR";
      }
      // Decimals arrive as exact strings; Parquet readers get them as doubles.
      return every(rows, i, (v) => typeof v === "number" || (typeof v === "string" && Number.isFinite(Number(v))))
        ? "DOUBLE"
        : "VARCHAR";
    case "boolean":
      return every(rows, i, (v) => typeof v === "boolean") ? "BOOLEAN" : "VARCHAR";
    case "time": {
      const isText = (re: RegExp) => every(rows, i, (v) => typeof v === "string" && re.test(v));
      if (isText(INSTANT)) return "TIMESTAMPTZ";
      if (isText(LOCAL_TIME)) return "TIMESTAMP";
      if (isText(DAY)) return "DATE";
      return "VARCHAR"; // times of day, infinities, zero dates
    }
    default:
      return "VARCHAR";
  }
}

/** Microseconds since the epoch of an ISO time (an offset when it has one, else UTC), to the microsecond. */
function epochMicros(day: string, time: string, fraction: string | undefined, zone: string): bigint {
  const millis = Date.parse(`${day}T${time}${zone === "Z" ? "Z" : zone}`);
  const micros = (fraction ?? "").padEnd(6, "0").slice(0, 6);
  return BigInt(millis) * 1000n + BigInt(micros);
}

function append(appender: DuckDBAppender, type: ColumnType, value: unknown): void {
  if (value === null || value === undefined) {
    appender.appendNull();
    return;
  }
  switch (type) {
    case "BIGINT":
      appender.appendBigInt(BigInt(value as number | string));
      return;
    case "DOUBLE":
      appender.appendDouble(Number(value));
      return;
    case "BOOLEAN":
      appender.appendBoolean(value as boolean);
      return;
    case "TIMESTAMPTZ": {
      const m = INSTANT.exec(value as string)!;
      appender.appendTimestampTZ(timestampTZValue(epochMicros(m[1]!, m[2]!, m[3], m[4]!)));
      return;
    }
    case "TIMESTAMP": {
      const m = LOCAL_TIME.exec(value as string)!;
      appender.appendTimestamp(timestampValue(epochMicros(m[1]!, m[2]!, m[3], "Z")));
      return;
    }
    case "DATE":
      appender.appendDate(dateValue(Math.round(Date.parse(`${value as string}T00:00:00Z`) / 86_400_000)));
      return;
    case "VARCHAR":
      appender.appendVarchar(typeof value === "object" ? JSON.stringify(value) : String(value));
      return;
  }
}

function quoteName(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Column names as a table can hold them: two columns called alike (`select 1, 1`) get `_2`, `_3`, … */
function distinctNames(columns: readonly { name: string }[]): string[] {
  const used = new Set<string>();
  return columns.map((c) => {
    const base = c.name === "" ? "column" : c.name;
    let name = base;
    for (let n = 2; used.has(name.toLowerCase()); n++) name = `${base}_${n}`;
    used.add(name.toLowerCase());
    return name;
  });
}

async function toParquet(result: ResultTable): Promise<Buffer> {
  const dir = await mkdtemp(path.join(tmpdir(), "sluice-result-"));
  const instance = await DuckDBInstance.create(":memory:", { threads: "2", memory_limit: "512MB" });
  const connection = await instance.connect();
  try {
    const types = result.columns.map((c, i) => columnType(c, i, result.rows));
    const names = distinctNames(result.columns);
    const columns = names.map((name, i) => `${quoteName(name)} ${types[i]}`).join(", ");
    await connection.run(`CREATE TABLE result (${columns || '"empty" VARCHAR'})`);
    const appender = await connection.createAppender("result");
    try {
      for (const row of result.rows) {
        for (let i = 0; i < types.length; i++) append(appender, types[i]!, row[i]);
        appender.endRow();
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
    const file = path.join(dir, "result.parquet");
    // Our own temporary path, never a user's value.
    await connection.run(`COPY result TO '${file.replaceAll("'", "''")}' (FORMAT parquet, COMPRESSION zstd)`);
    return await readFile(file);
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The result as a file's bytes: CSV (RFC 4180, header row, times in ISO-8601) or Parquet. */
export async function encodeResult(result: ResultTable, format: ResultFileFormat): Promise<Buffer> {
  return format === "csv" ? Buffer.from(toCsv(result.columns, result.rows), "utf8") : toParquet(result);
}

/**
 * Writes the result to `absolutePath`: first to a temporary name beside it, then renamed, so nobody sees a
 * half-written file.
 */
export async function writeResultFile(
  result: ResultTable,
  format: ResultFileFormat,
  absolutePath: string,
): Promise<{ bytes: number }> {
  const bytes = await encodeResult(result, format);
  const temporary = path.join(
    path.dirname(absolutePath),
    `.${path.basename(absolutePath)}.${randomBytes(6).toString("hex")}.part`,
  );
  try {
    await writeFile(temporary, bytes, { flag: "wx" });
    await rename(temporary, absolutePath);
  } catch (err) {
    await rm(temporary, { force: true });
    throw err;
  }
  return { bytes: bytes.length };
}
