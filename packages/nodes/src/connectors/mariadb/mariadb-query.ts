import type { Connection as CoreConnection, TypeCastField } from "mysql2";
import type { Connection, FieldPacket } from "mysql2/promise";
import {
  QUERY_MAX_BYTES,
  type QueryColumnKind,
  QueryError,
  type QueryOutcome,
  type QueryRequest,
} from "../../connection-runtime";
import type { ConnectionDestinations } from "../../destination-policy";
import { openSession } from "./mariadb-client";
import type { MariaDbConnectionConfig } from "./mariadb-connection.def";

// The query page's ad-hoc queries on a MariaDB/MySQL connection. Read-only by construction: the session is made
// read-only (`SET SESSION TRANSACTION READ ONLY`, so not even a DDL statement's implicit commit leaves a writable
// transaction behind) and the statement runs in `START TRANSACTION READ ONLY`, rolled back afterwards; the client
// refuses more than one statement (multipleStatements: false, so `COMMIT; INSERT …` is a syntax error; PREPARE takes
// one statement only). Rows are
// streamed and the statement stopped (KILL QUERY) once `limit + 1` rows or the byte cap are in. The server stops a
// statement past `max_statement_time` itself; a watchdog and the caller's cancel send `KILL QUERY` from a second
// session. Server-only.

/** How long past the statement timeout the watchdog waits for the server to stop the statement by itself. */
const WATCHDOG_GRACE_MS = 1000;
/** How long a killed statement may take to end before the session is destroyed under it. */
const KILL_GRACE_MS = 3000;

const BINARY_CHARSET = 63;

/** mysql2's column type codes (its constants/types.js), as the query page names and shows them. */
const TYPES: Readonly<Record<number, { name: string; kind: QueryColumnKind }>> = {
  0: { name: "DECIMAL", kind: "number" },
  1: { name: "TINYINT", kind: "number" },
  2: { name: "SMALLINT", kind: "number" },
  3: { name: "INT", kind: "number" },
  4: { name: "FLOAT", kind: "number" },
  5: { name: "DOUBLE", kind: "number" },
  6: { name: "NULL", kind: "other" },
  7: { name: "TIMESTAMP", kind: "time" },
  8: { name: "BIGINT", kind: "number" },
  9: { name: "MEDIUMINT", kind: "number" },
  10: { name: "DATE", kind: "time" },
  11: { name: "TIME", kind: "time" },
  12: { name: "DATETIME", kind: "time" },
  13: { name: "YEAR", kind: "number" },
  14: { name: "DATE", kind: "time" },
  15: { name: "VARCHAR", kind: "string" },
  16: { name: "BIT", kind: "number" },
  245: { name: "JSON", kind: "json" },
  246: { name: "DECIMAL", kind: "number" },
  247: { name: "ENUM", kind: "string" },
  248: { name: "SET", kind: "string" },
  249: { name: "TINYTEXT", kind: "string" },
  250: { name: "MEDIUMTEXT", kind: "string" },
  251: { name: "LONGTEXT", kind: "string" },
  252: { name: "TEXT", kind: "string" },
  253: { name: "VARCHAR", kind: "string" },
  254: { name: "CHAR", kind: "string" },
  255: { name: "GEOMETRY", kind: "other" },
};

const BLOBS: Readonly<Record<number, string>> = {
  249: "TINYBLOB",
  250: "MEDIUMBLOB",
  251: "LONGBLOB",
  252: "BLOB",
  253: "VARBINARY",
  254: "BINARY",
};

interface Column {
  name: string;
  type: string;
  kind: QueryColumnKind;
  code: number;
  binary: boolean;
  /** TIMESTAMP values are in the session's offset: it is written after them. */
  zone: string | undefined;
}

function columnOf(f: FieldPacket, zone: string): Column {
  const code = f.columnType ?? f.type ?? 0xfd;
  const binary = f.characterSet === BINARY_CHARSET && BLOBS[code] !== undefined;
  const json = code === 0xf5 || f.extendedFormat === "json";
  const known = TYPES[code] ?? { name: `type ${code}`, kind: "other" as const };
  const bool = code === 0x01 && f.columnLength === 1;
  return {
    name: f.name,
    type: json ? "JSON" : binary ? BLOBS[code]! : bool ? "TINYINT(1)" : known.name,
    kind: json ? "json" : binary ? "other" : bool ? "boolean" : known.kind,
    code: json ? 0xf5 : code,
    binary,
    zone: code === 0x07 ? (zone === "+00:00" ? "Z" : zone) : undefined,
  };
}

const DATETIME_TEXT = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)$/;

/** A value in its text-protocol bytes, JSON-safe by its column's type. */
function jsonSafe(column: Column, raw: Buffer | null): unknown {
  if (raw === null) return null;
  if (column.binary || column.code === 0xff) return raw.toString("base64");
  if (column.code === 0x10) return raw.reduce((n, byte) => n * 256 + byte, 0);
  const text = raw.toString("utf8");
  switch (column.code) {
    case 0x01:
      return column.kind === "boolean" ? text !== "0" : Number(text);
    case 0x02:
    case 0x03:
    case 0x09:
    case 0x0d:
      return Number(text);
    case 0x08: {
      const n = Number(text);
      return Number.isSafeInteger(n) ? n : text;
    }
    case 0x04:
    case 0x05: {
      const n = Number(text);
      return Number.isFinite(n) ? n : text;
    }
    case 0x07:
    case 0x0c: {
      const m = DATETIME_TEXT.exec(text);
      return m ? `${m[1]}T${m[2]}${column.zone ?? ""}` : text; // zero dates stay as printed
    }
    case 0xf5:
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    default:
      return text; // DECIMAL (exact), strings, dates, times, enums
  }
}

/**
 * The statement with its string literals, quoted names and comments blanked out — except MariaDB's executable
 * comments (`/*! … *\/`, `/*M! … *\/`), which the server runs as code.
 */
function codeOnly(sql: string): string {
  let out = "";
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i]!;
    if (ch === "'" || ch === '"' || ch === "`") {
      let j = i + 1;
      while (j < sql.length && sql[j] !== ch) j += sql[j] === "\\" && ch !== "`" ? 2 : 1;
      out += " ";
      i = j + 1;
    } else if (sql.startsWith("/*!", i) || sql.startsWith("/*M!", i)) {
      i += sql.startsWith("/*!", i) ? 3 : 4;
      out += " ";
    } else if (sql.startsWith("/*", i)) {
      const end = sql.indexOf("*/", i + 2);
      i = end < 0 ? sql.length : end + 2;
      out += " ";
    } else if (sql.startsWith("*/", i)) {
      i += 2; // the end of an executable comment
      out += " ";
    } else if (ch === "#" || sql.startsWith("-- ", i) || sql.startsWith("--\t", i) || sql.startsWith("--\n", i)) {
      const end = sql.indexOf("\n", i);
      i = end < 0 ? sql.length : end + 1;
      out += " ";
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}

/** `SELECT … INTO OUTFILE/DUMPFILE` writes a file on the database server, read-only transaction or not. */
const SERVER_FILE = /\bINTO\s+(OUTFILE|DUMPFILE)\b/i;

interface SqlError {
  errno?: number;
  code?: string;
  sqlMessage?: string;
  sqlState?: string;
  fatal?: boolean;
}

/** Stops what `threadId` runs, from a session of its own (the same checked destination). */
async function killQuery(
  c: MariaDbConnectionConfig,
  destinations: ConnectionDestinations,
  threadId: number,
): Promise<void> {
  const second = await openSession(c, destinations);
  try {
    await second.query(`KILL QUERY ${Number(threadId)}`);
  } finally {
    await second.end().catch(() => second.destroy());
  }
}

interface Streamed {
  columns: Column[];
  rows: unknown[][];
  truncated: boolean;
}

/** Streams the statement's rows until it ends or `limit + 1` rows or `maxBytes` are in. */
function stream(conn: Connection, sql: string, zone: string, limit: number, maxBytes: number): Promise<Streamed> {
  return new Promise((resolve, reject) => {
    const out: Streamed = { columns: [], rows: [], truncated: false };
    let bytes = 0;
    let settled = false;
    // The callback connection under the promise wrapper streams rows as events (mysql2 keeps it as `connection`).
    const core = (conn as unknown as { connection: CoreConnection }).connection;
    const query = core.query({
      sql,
      rowsAsArray: true,
      // Every value as its raw bytes: the conversion is by the column's type (jsonSafe).
      typeCast: (field: TypeCastField) => field.buffer(),
    });
    query.on("fields", (fields: FieldPacket[]) => {
      out.columns = fields.map((f) => columnOf(f, zone));
    });
    query.on("result", (row: unknown) => {
      if (settled || !Array.isArray(row)) return; // an OK packet (a statement without rows) is no row
      if (out.rows.length >= limit || bytes >= maxBytes) {
        out.truncated = true;
        settled = true;
        core.pause(); // read no further; the caller kills the statement
        resolve(out);
        return;
      }
      const values = out.columns.map((col, i) => jsonSafe(col, (row[i] as Buffer | null) ?? null));
      bytes += JSON.stringify(values).length + 1;
      out.rows.push(values);
    });
    query.on("error", (err: unknown) => {
      if (settled) return;
      settled = true;
      reject(err);
    });
    query.on("end", () => {
      if (settled) return;
      settled = true;
      resolve(out);
    });
  });
}

/**
 * With bind values, the statement is prepared on the server and run with `EXECUTE … USING` user variables that the
 * binary protocol set (a Date as a DATETIME in the session's offset, so it compares with TIMESTAMP and DATETIME
 * columns as the instant it is): nothing is spliced into the SQL, and the rows still come in the text protocol that
 * `stream` reads. Without, the statement as written.
 */
async function prepared(conn: Connection, request: QueryRequest): Promise<string> {
  const params = request.params ?? [];
  if (params.length === 0) return request.sql;
  const names = params.map((_, i) => `@sluice_p${i + 1}`);
  await conn.execute(`SET ${names.map((n) => `${n} = ?`).join(", ")}`, [...params]);
  await conn.execute("SET @sluice_sql = ?", [request.sql]);
  await conn.query("PREPARE sluice_query FROM @sluice_sql");
  return `EXECUTE sluice_query USING ${names.join(", ")}`;
}

export async function runMariaDbQuery(
  c: MariaDbConnectionConfig,
  request: QueryRequest,
  signal: AbortSignal,
  destinations: ConnectionDestinations,
): Promise<QueryOutcome> {
  if (signal.aborted) throw new QueryError("cancelled", "the query was cancelled");
  const file = SERVER_FILE.exec(codeOnly(request.sql));
  if (file) {
    throw new QueryError(
      "refused",
      `INTO ${file[1]!.toUpperCase()} is refused: it writes a file on the database server, and the query page only reads`,
    );
  }
  const conn = await openSession(c, destinations);
  const threadId = conn.threadId;
  let stopped: "timeout" | "cancelled" | undefined;
  let closer: NodeJS.Timeout | undefined;
  const stop = (why: "timeout" | "cancelled") => {
    if (stopped) return;
    stopped = why;
    void killQuery(c, destinations, threadId).catch(() => {});
    closer = setTimeout(() => conn.destroy(), KILL_GRACE_MS);
  };
  const onAbort = () => stop("cancelled");
  signal.addEventListener("abort", onAbort, { once: true });
  const watchdog = setTimeout(() => stop("timeout"), request.timeoutMs + WATCHDOG_GRACE_MS);
  let open = true;
  try {
    await conn.query(`SET SESSION max_statement_time = ${(Math.max(1, request.timeoutMs) / 1000).toFixed(3)}`);
    await conn.query("SET SESSION TRANSACTION READ ONLY");
    await conn.query("START TRANSACTION READ ONLY");
    const statement = await prepared(conn, request);
    // A cancel that came while the session opened finds no statement to kill on the server: send none.
    if (stopped) throw new Error(`stopped before the statement was sent (${stopped})`);
    const started = performance.now();
    const zone = c.timezone === "Z" ? "+00:00" : c.timezone;
    const result = await stream(conn, statement, zone, request.limit, request.maxBytes ?? QUERY_MAX_BYTES);
    const engineMs = Math.round(performance.now() - started);
    if (result.truncated) {
      // The server is still sending rows: stop the statement, and drop the session rather than drain it.
      await killQuery(c, destinations, threadId).catch(() => {});
      conn.destroy();
      open = false;
    } else {
      await conn.query("ROLLBACK");
    }
    return {
      columns: result.columns.map(({ name, type, kind }) => ({ name, type, kind })),
      rows: result.rows,
      truncated: result.truncated,
      engineMs,
    };
  } catch (err) {
    const e = (err ?? {}) as SqlError;
    if (stopped === "cancelled" || signal.aborted) {
      throw new QueryError("cancelled", "the query was cancelled", { cause: err });
    }
    if (e.errno === 1969 || stopped === "timeout") {
      throw new QueryError(
        "timeout",
        `the query ran longer than its timeout of ${request.timeoutMs} ms and was stopped on the server`,
        { cause: err },
      );
    }
    if (e.errno !== undefined && e.sqlMessage !== undefined && e.fatal !== true) {
      const message =
        e.errno === 1792
          ? `${e.sqlMessage}: the query page only reads (the statement would write)`
          : e.errno === 1064 && /near '.*' at line/s.test(e.sqlMessage) && /;/.test(request.sql)
            ? `${e.sqlMessage} (a query is one statement)`
            : e.sqlMessage;
      throw new QueryError("refused", message, { cause: err });
    }
    throw err;
  } finally {
    clearTimeout(watchdog);
    clearTimeout(closer);
    signal.removeEventListener("abort", onAbort);
    if (open) await conn.end().catch(() => conn.destroy());
  }
}
