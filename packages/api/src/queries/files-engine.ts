import { lstat, readdir, realpath } from "node:fs/promises";
import path from "node:path";
import {
  type DuckDBConnection,
  DuckDBInstance,
  type Json as DuckDBJson,
  type DuckDBPreparedStatement,
  DuckDBTimestampTZValue,
  DuckDBTypeId,
  type DuckDBValueConverter,
  JsonDuckDBValueConverter,
  StatementType,
  timestampTZValue,
} from "@duckdb/node-api";
import {
  QUERY_MAX_BYTES,
  type QueryColumnKind,
  QueryError,
  type QueryOutcome,
  type QueryParam,
  type QueryRequest,
} from "@sluice/nodes/connection-runtime";

// The query page over a workspace's files (Parquet, CSV, JSON Lines that File sinks wrote), through an embedded
// DuckDB: a fresh in-memory instance per query, confined by DuckDB's own settings to the workspace's folder
// (`allowed_directories` with external access off — symbolic links are followed before the check — and the
// configuration locked so the query cannot undo it), no extensions installed or loaded, memory and threads bounded.
// Only one SELECT statement runs: anything else (COPY … TO, CREATE, ATTACH, INSTALL, LOAD, SET, …) is refused before
// it is prepared, and again by the prepared statement's type. Relative paths in the query are rewritten to the
// workspace's folder (DuckDB would resolve them against the web process's working directory); one that climbs out
// is refused by name. Server-only.

const MEMORY_LIMIT = "512MB";
const THREADS = 2;
/**
 * Queries on files at once in this process, so memory stays bounded; up to MAX_WAITING more wait their turn in order
 * (a dashboard's tiles arrive together), each for at most its own timeout, and beyond that they are refused.
 */
const MAX_CONCURRENT = 4;
const MAX_WAITING = 32;
/** `queries.schema` lists this many data files at most, newest first, and walks this many directory entries. */
const MAX_SCHEMA_FILES = 500;
const MAX_WALK_ENTRIES = 20_000;
const DATA_FILE = /\.(parquet|csv|jsonl|ndjson|json)$/i;

/** Table functions whose first argument names files (or a list of them, or a glob). */
const FILE_FUNCTIONS = new Set([
  "read_parquet",
  "parquet_scan",
  "parquet_metadata",
  "parquet_schema",
  "parquet_file_metadata",
  "parquet_kv_metadata",
  "read_csv",
  "read_csv_auto",
  "sniff_csv",
  "read_json",
  "read_json_auto",
  "read_ndjson",
  "read_ndjson_auto",
  "read_json_objects",
  "read_json_objects_auto",
  "read_ndjson_objects",
  "read_text",
  "read_blob",
  "glob",
]);

export class FilesBusyError extends Error {
  override name = "FilesBusyError";
}

let running = 0;
/** Queries waiting for one of the MAX_CONCURRENT places, first come first served. */
const waiting: (() => void)[] = [];

/**
 * Takes a place among the queries that run, waiting in line while all are taken. Rejects when the line is full, when
 * `signal` aborts or after `timeoutMs` in line (a query's timeout counts from its request, not from its turn).
 */
function takePlace(signal: AbortSignal, timeoutMs: number): Promise<void> {
  if (running < MAX_CONCURRENT && waiting.length === 0) {
    running++;
    return Promise.resolve();
  }
  if (waiting.length >= MAX_WAITING) {
    return Promise.reject(
      new FilesBusyError(
        `${MAX_CONCURRENT} queries on files are running and ${MAX_WAITING} are waiting already; try again in a moment`,
      ),
    );
  }
  return new Promise<void>((resolve, reject) => {
    const leave = (error: Error) => {
      const i = waiting.indexOf(turn);
      if (i >= 0) waiting.splice(i, 1);
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      reject(error);
    };
    const turn = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      running++;
      resolve();
    };
    const onAbort = () => leave(new QueryError("cancelled", "the query was cancelled while it waited for its turn"));
    const timer = setTimeout(
      () =>
        leave(
          new QueryError(
            "timeout",
            `the query waited its whole timeout of ${timeoutMs} ms for one of the ${MAX_CONCURRENT} places queries on files share`,
          ),
        ),
      timeoutMs,
    );
    signal.addEventListener("abort", onAbort, { once: true });
    waiting.push(turn);
  });
}

/** Gives a place back, to the first query in line if one waits. */
function leavePlace(): void {
  running--;
  waiting.shift()?.();
}

/**
 * The workspace's folder in the files directory as its real path (links resolved). Queries only read, so a folder
 * no File sink has made yet is not made here: it is simply empty.
 */
export async function workspaceFilesRoot(filesDir: string, workspaceId: string): Promise<string> {
  // Workspace ids are one path segment; anything else must never name a folder.
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(workspaceId)) throw new Error(`"${workspaceId}" is not a workspace id`);
  const own = path.join(path.resolve(filesDir), workspaceId);
  const real = await realpath(own).catch(() => undefined);
  if (real !== undefined) return real;
  const base = await realpath(path.resolve(filesDir)).catch(() => path.resolve(filesDir));
  return path.join(base, workspaceId);
}

function quote(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** An in-memory DuckDB that can read `root` and nothing else, its settings locked. */
async function confinedConnection(root: string): Promise<{ connection: DuckDBConnection; close(): void }> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  const close = () => {
    connection.closeSync();
    instance.closeSync();
  };
  try {
    for (const setting of [
      // No spilling: the temporary directory would be allowed too, and it is writable.
      "SET temp_directory = ''",
      `SET allowed_directories = [${quote(`${root}/`)}]`,
      "SET enable_external_access = false",
      "SET autoinstall_known_extensions = false",
      "SET autoload_known_extensions = false",
      "SET allow_community_extensions = false",
      `SET file_search_path = ${quote(root)}`,
      `SET memory_limit = '${MEMORY_LIMIT}'`,
      `SET threads = ${THREADS}`,
      "SET enable_progress_bar = false",
      "SET lock_configuration = true",
    ]) {
      await connection.run(setting);
    }
  } catch (err) {
    close();
    throw err;
  }
  return { connection, close };
}

/** DuckDB's words, without the server's own directories. */
function cleaned(message: string, root: string): string {
  const text = message
    .replace(/^Failed to extract statements: /, "")
    .split(`${root}/`)
    .join("");
  const denied =
    /^Permission Error: Cannot access (?:file|directory) "([^"]*)" - file system operations are disabled by configuration/.exec(
      text,
    );
  if (denied) {
    return `"${denied[1]}" is outside this workspace's files (or a link leading out of them): queries read only the workspace's own files`;
  }
  return text;
}

function outside(written: string): QueryError {
  return new QueryError(
    "refused",
    `"${written}" is outside this workspace's files: use a path inside them, e.g. "orders/*.parquet"`,
  );
}

/** A path as written in the query, made absolute inside `root`; a path that leaves it is refused. */
function inRoot(root: string, written: string): string {
  if (written.includes("://") || path.isAbsolute(written) || written.startsWith("~")) return written; // DuckDB checks
  const resolved = path.resolve(root, written);
  const rel = path.relative(root, resolved);
  if (rel.startsWith("..") || path.isAbsolute(rel)) throw outside(written);
  return resolved;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function rewriteConstant(root: string, node: Json): boolean {
  if (node === null || typeof node !== "object" || Array.isArray(node)) return false;
  if (node.class === "CONSTANT") {
    const value = node.value as { type?: { id?: string }; is_null?: boolean; value?: Json } | null;
    if (value?.type?.id === "VARCHAR" && !value.is_null && typeof value.value === "string") {
      const next = inRoot(root, value.value);
      if (next === value.value) return false;
      value.value = next;
      return true;
    }
    return false;
  }
  if (node.class === "FUNCTION" && node.function_name === "list_value" && Array.isArray(node.children)) {
    return node.children.map((child) => rewriteConstant(root, child)).some(Boolean);
  }
  return false;
}

/** Rewrites the file paths in a parsed SELECT (DuckDB's json_serialize_sql tree); true when it changed any. */
function rewritePaths(root: string, node: Json): boolean {
  if (node === null || typeof node !== "object") return false;
  if (Array.isArray(node)) return node.map((child) => rewritePaths(root, child)).some(Boolean);
  let changed = false;
  if (node.type === "BASE_TABLE" && typeof node.table_name === "string" && !node.schema_name && !node.catalog_name) {
    // `FROM 'orders.parquet'`: a name that looks like a path (a CTE or view name does not) is a file.
    if (/[./*?]/.test(node.table_name)) {
      const next = inRoot(root, node.table_name);
      changed = next !== node.table_name;
      node.table_name = next;
    }
  }
  if (node.type === "TABLE_FUNCTION" && node.function && typeof node.function === "object") {
    const fn = node.function as { function_name?: Json; children?: Json };
    if (typeof fn.function_name === "string" && FILE_FUNCTIONS.has(fn.function_name.toLowerCase())) {
      const first = Array.isArray(fn.children) ? fn.children[0] : undefined;
      if (first !== undefined && rewriteConstant(root, first)) changed = true;
    }
  }
  for (const value of Object.values(node)) if (rewritePaths(root, value)) changed = true;
  return changed;
}

// The parse tree holds 64-bit integers (a missing query location is 2^64 - 1, and constants can be as big) that a JS
// number would round: they travel through JSON.parse and back as marked strings.
/** Written into the JSON text as an escape: the parsed string starts with a NUL, which no real value in it does. */
const BIG_MARK = "\\u0000big:";

function exactNumbers(json: string): string {
  return json.replace(/"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g, (token) =>
    /^-?\d{16,}$/.test(token) ? `"${BIG_MARK}${token}"` : token,
  );
}

function numbersBack(json: string): string {
  return json.replace(/"\\u0000big:(-?\d+)"/g, "$1");
}

async function single(connection: DuckDBConnection, sql: string, value: string): Promise<string> {
  const reader = await connection.runAndReadAll(sql, [value]);
  return String(reader.getRowsJson()[0]?.[0] ?? "");
}

/** The first word of the statement, for a refusal ("COPY statements …"). */
function keyword(sql: string): string {
  const m = /^(?:\s|--[^\n]*\n|\/\*[\s\S]*?\*\/)*([A-Za-z]+)/.exec(sql);
  return m ? m[1]!.toUpperCase() : "this";
}

/** The one statement in `sql`, checked to be a SELECT, with its file paths made absolute inside `root`. */
async function readOnlySelect(connection: DuckDBConnection, root: string, sql: string): Promise<string> {
  let count: number;
  try {
    count = (await connection.extractStatements(sql)).count;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/native callback/.test(message)) throw new QueryError("refused", "the query holds no statement");
    throw new QueryError("refused", cleaned(message, root), { cause: err });
  }
  if (count !== 1) {
    throw new QueryError("refused", `a query is one statement; this one holds ${count}`);
  }
  const tree = JSON.parse(exactNumbers(await single(connection, "SELECT json_serialize_sql($1::VARCHAR)", sql))) as {
    error: boolean;
    error_message?: string;
    statements?: Json[];
  };
  if (tree.error) {
    if (/Only SELECT statements/.test(tree.error_message ?? "")) {
      throw new QueryError(
        "refused",
        `${keyword(sql)} statements are refused: queries on files only read (SELECT, WITH, FROM, DESCRIBE, SUMMARIZE)`,
      );
    }
    throw new QueryError("refused", cleaned(tree.error_message ?? "the query could not be read", root));
  }
  if (!rewritePaths(root, tree as unknown as Json)) return sql;
  return single(connection, "SELECT json_deserialize_sql($1::JSON)", numbersBack(JSON.stringify(tree)));
}

const INTEGER_TYPES = new Set<number>([
  DuckDBTypeId.TINYINT,
  DuckDBTypeId.SMALLINT,
  DuckDBTypeId.INTEGER,
  DuckDBTypeId.BIGINT,
  DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UTINYINT,
  DuckDBTypeId.USMALLINT,
  DuckDBTypeId.UINTEGER,
  DuckDBTypeId.UBIGINT,
  DuckDBTypeId.UHUGEINT,
]);

function kindOf(id: DuckDBTypeId): QueryColumnKind {
  if (INTEGER_TYPES.has(id) || id === DuckDBTypeId.FLOAT || id === DuckDBTypeId.DOUBLE) return "number";
  if (id === DuckDBTypeId.DECIMAL) return "number";
  if (id === DuckDBTypeId.BOOLEAN) return "boolean";
  if (id === DuckDBTypeId.VARCHAR || id === DuckDBTypeId.UUID || id === DuckDBTypeId.ENUM) return "string";
  if (
    id === DuckDBTypeId.TIMESTAMP ||
    id === DuckDBTypeId.TIMESTAMP_TZ ||
    id === DuckDBTypeId.TIMESTAMP_S ||
    id === DuckDBTypeId.TIMESTAMP_MS ||
    id === DuckDBTypeId.TIMESTAMP_NS ||
    id === DuckDBTypeId.DATE ||
    id === DuckDBTypeId.TIME ||
    id === DuckDBTypeId.TIME_TZ
  ) {
    return "time";
  }
  if (id === DuckDBTypeId.LIST || id === DuckDBTypeId.STRUCT || id === DuckDBTypeId.MAP || id === DuckDBTypeId.ARRAY) {
    return "json";
  }
  return "other";
}

const TIMESTAMP_TEXT = /^(-?\d{4,}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)(\+00)?$/;

/** DuckDB's JSON form of a value, as the contract has it: safe integers as numbers, times in ISO-8601. */
function jsonSafe(id: DuckDBTypeId, value: unknown): unknown {
  if (value === null) return null;
  if (INTEGER_TYPES.has(id) && typeof value === "string") {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : value;
  }
  if (typeof value === "string" && kindOf(id) === "time") {
    const m = TIMESTAMP_TEXT.exec(value);
    return m ? `${m[1]}T${m[2]}${m[3] ? "Z" : ""}` : value;
  }
  return value;
}

/** An instant as ISO-8601 in UTC, to the microsecond (as PostgreSQL's are given); ±infinity as DuckDB prints it. */
function isoInstant(value: DuckDBTimestampTZValue): string {
  if (!value.isFinite) return value.micros > 0n ? "infinity" : "-infinity";
  const micros = ((value.micros % 1_000_000n) + 1_000_000n) % 1_000_000n;
  const seconds = new Date(Number((value.micros - micros) / 1000n)).toISOString().replace(/\.\d{3}Z$/, "");
  const fraction = micros === 0n ? "" : `.${String(micros).padStart(6, "0").replace(/0+$/, "")}`;
  return `${seconds}${fraction}Z`;
}

/**
 * DuckDB's JSON conversion, with instants in UTC: its own prints them in the web process's time zone (a setting of
 * the library, shared by the whole process).
 */
const toJson: DuckDBValueConverter<DuckDBJson> = (value, type, converter) =>
  value instanceof DuckDBTimestampTZValue ? isoInstant(value) : JsonDuckDBValueConverter(value, type, converter);

/**
 * Binds `$1`, `$2`, … by type: an instant as TIMESTAMP WITH TIME ZONE (so it compares with TIMESTAMP and TIMESTAMPTZ
 * columns as the instant it is, not as text), a whole number as BIGINT, another as DOUBLE, text as VARCHAR.
 */
function bindAll(prepared: DuckDBPreparedStatement, params: readonly QueryParam[]): void {
  if (prepared.parameterCount !== params.length) {
    throw new QueryError(
      "refused",
      `the query has ${prepared.parameterCount} bind placeholders ($1, $2, …) but ${params.length} values were given`,
    );
  }
  params.forEach((value, i) => {
    const index = i + 1;
    if (value === null) prepared.bindNull(index);
    else if (value instanceof Date) prepared.bindTimestampTZ(index, timestampTZValue(BigInt(value.getTime()) * 1000n));
    else if (typeof value === "number") {
      if (Number.isSafeInteger(value)) prepared.bindBigInt(index, BigInt(value));
      else prepared.bindDouble(index, value);
    } else prepared.bindVarchar(index, value);
  });
}

/** Runs one read-only SELECT over the files in `root` (the workspace's real folder). */
export async function runFilesQuery(root: string, request: QueryRequest, signal: AbortSignal): Promise<QueryOutcome> {
  if (signal.aborted) throw new QueryError("cancelled", "the query was cancelled");
  const queued = performance.now();
  await takePlace(signal, request.timeoutMs);
  const left = Math.max(1, request.timeoutMs - Math.round(performance.now() - queued));
  let box: Awaited<ReturnType<typeof confinedConnection>> | undefined;
  let stopped: "timeout" | "cancelled" | undefined;
  const stop = (why: "timeout" | "cancelled") => {
    stopped ??= why;
    box?.connection.interrupt();
  };
  const onAbort = () => stop("cancelled");
  signal.addEventListener("abort", onAbort, { once: true });
  const timer = setTimeout(() => stop("timeout"), left);
  try {
    // An interrupt only stops what runs at that moment: between steps, a stop is checked here.
    const go = () => {
      if (stopped) throw new Error("stopped");
    };
    box = await confinedConnection(root);
    const { connection } = box;
    go();
    const sql = await readOnlySelect(connection, root, request.sql);
    go();
    const started = performance.now();
    const prepared = await connection.prepare(sql);
    if (prepared.statementType !== StatementType.SELECT) {
      throw new QueryError("refused", `${keyword(request.sql)} statements are refused: queries on files only read`);
    }
    bindAll(prepared, request.params ?? []);
    go();
    const result = await prepared.stream();
    const ids = Array.from({ length: result.columnCount }, (_, i) => result.columnTypeId(i));
    const columns = ids.map((id, i) => ({
      name: result.columnName(i),
      type: result.columnType(i).toString(),
      kind: kindOf(id),
    }));
    const rows: unknown[][] = [];
    const maxBytes = request.maxBytes ?? QUERY_MAX_BYTES;
    let bytes = 0;
    let truncated = false;
    while (!truncated) {
      go();
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      for (const raw of chunk.convertRows(toJson)) {
        if (rows.length >= request.limit || bytes >= maxBytes) {
          truncated = true;
          break;
        }
        const row = raw.map((v, i) => jsonSafe(ids[i]!, v));
        bytes += JSON.stringify(row).length + 1;
        rows.push(row);
      }
    }
    return { columns, rows, truncated, engineMs: Math.round(performance.now() - started) };
  } catch (err) {
    if (stopped === "cancelled") throw new QueryError("cancelled", "the query was cancelled", { cause: err });
    if (stopped === "timeout") {
      throw new QueryError(
        "timeout",
        `the query ran longer than its timeout of ${request.timeoutMs} ms and was interrupted`,
        { cause: err },
      );
    }
    if (err instanceof QueryError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new QueryError("refused", cleaned(message, root), { cause: err });
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
    box?.close();
    leavePlace();
  }
}

interface DataFile {
  name: string;
  absolute: string;
  modified: number;
}

/** The data files under `root`, newest first, at most MAX_SCHEMA_FILES; links are not followed. */
async function dataFiles(root: string): Promise<DataFile[]> {
  const found: DataFile[] = [];
  const pending = [root];
  let seen = 0;
  while (pending.length > 0 && seen < MAX_WALK_ENTRIES) {
    const dir = pending.pop()!;
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (++seen > MAX_WALK_ENTRIES) break;
      const absolute = path.join(dir, entry.name);
      if (entry.isDirectory()) pending.push(absolute);
      else if (entry.isFile() && DATA_FILE.test(entry.name)) {
        const info = await lstat(absolute).catch(() => undefined);
        if (!info) continue;
        const name = path.relative(root, absolute).split(path.sep).join("/");
        found.push({ name, absolute, modified: info.mtimeMs });
      }
    }
  }
  return found.sort((a, b) => b.modified - a.modified || a.name.localeCompare(b.name)).slice(0, MAX_SCHEMA_FILES);
}

export interface FileTable {
  name: string;
  kind: "file";
  columns: { name: string; type: string }[];
}

/** Each data file under `root` with its columns (DuckDB's DESCRIBE); a file DuckDB cannot read has none. */
export async function describeFiles(root: string, signal: AbortSignal): Promise<FileTable[]> {
  const files = await dataFiles(root);
  if (files.length === 0) return [];
  const box = await confinedConnection(root);
  const onAbort = () => box.connection.interrupt();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    const tables: FileTable[] = [];
    for (const file of files) {
      if (signal.aborted) {
        tables.push({ name: file.name, kind: "file", columns: [] });
        continue;
      }
      const columns = await box.connection
        .runAndReadAll(`DESCRIBE SELECT * FROM ${quote(file.absolute)}`)
        .then((reader) =>
          reader.getRowObjectsJson().map((r) => ({ name: String(r.column_name), type: String(r.column_type) })),
        )
        .catch(() => []);
      tables.push({ name: file.name, kind: "file", columns });
    }
    return tables;
  } finally {
    signal.removeEventListener("abort", onAbort);
    box.close();
  }
}
