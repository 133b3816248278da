import net from "node:net";
import { type Connection, type ConnectionOptions, createConnection } from "mysql2/promise";
import type { ConnectionProblem } from "../../connection-runtime";
import type { ConnectionDestinations } from "../../destination-policy";
import { refusedDestination } from "../messaging/connection-problems";
import type { MariaDbConnectionConfig } from "./mariadb-connection.def";

// Opening a MariaDB/MySQL session the way every Sluice component wants it (UTC or the configured offset on both
// sides, exact big integers, strict SQL mode), and telling a person what went wrong. Server-only.

const CONNECT_TIMEOUT_MS = 10_000;

function sessionZone(c: MariaDbConnectionConfig): string {
  return c.timezone === "Z" ? "+00:00" : c.timezone;
}

function connectionOptions(c: MariaDbConnectionConfig): ConnectionOptions {
  return {
    host: c.host,
    port: c.port,
    user: c.user,
    ...(c.password !== undefined ? { password: c.password } : {}),
    database: c.database,
    ...(c.tls === "off"
      ? {}
      : { ssl: { rejectUnauthorized: c.tls === "verify", ...(c.ca !== undefined ? { ca: c.ca } : {}) } }),
    // mysql2 reads and writes DATETIME values in this offset; the session's time_zone below makes TIMESTAMP agree.
    timezone: c.timezone === "Z" ? "Z" : c.timezone,
    connectTimeout: CONNECT_TIMEOUT_MS,
    supportBigNumbers: true,
    decimalNumbers: true,
    multipleStatements: false,
    charset: "utf8mb4_general_ci",
  };
}

/**
 * A session with TIMESTAMP values in the configured offset and strict SQL mode, so a value a column cannot hold is an
 * error naming the column, never a silent truncation.
 */
export async function openSession(
  c: MariaDbConnectionConfig,
  destinations: ConnectionDestinations,
  options: { readCommitted?: boolean } = {},
): Promise<Connection> {
  // The socket goes to the checked address; mysql2 keeps the host's name for TLS.
  const to = await destinations.resolve(c.host, c.port);
  const conn = await createConnection({
    ...connectionOptions(c),
    stream: () => {
      const socket = net.connect({ host: to.address, port: to.port });
      socket.setNoDelay(true);
      return socket;
    },
  });
  conn.on("error", () => {}); // a dropped connection surfaces on the next query; no unhandled 'error' event
  try {
    await conn.query("SET time_zone = ?, sql_mode = CONCAT(@@sql_mode, ',STRICT_ALL_TABLES')", [sessionZone(c)]);
    // Writers: no gap locks, so partitions writing their own progress rows never deadlock each other.
    if (options.readCommitted) await conn.query("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
  } catch (err) {
    conn.destroy();
    throw err;
  }
  return conn;
}

interface SqlError {
  code?: string;
  errno?: number;
  sqlMessage?: string;
  message?: string;
  fatal?: boolean;
}

function asSqlError(err: unknown): SqlError {
  return err !== null && typeof err === "object" ? (err as SqlError) : { message: String(err) };
}

const UNREACHABLE = new Set(["ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "ECONNRESET"]);
const TLS_CODES = /^(HANDSHAKE_|ERR_TLS_|ERR_SSL_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|CERT_)/;

export interface DescribedError {
  problem: ConnectionProblem;
  message: string;
}

/** What went wrong, in words a person understands, and which kind of problem it is. Never includes the password. */
export function describeMariaDbError(
  err: unknown,
  c: Pick<MariaDbConnectionConfig, "host" | "port" | "database">,
): DescribedError {
  const refused = refusedDestination(err);
  if (refused) return refused;
  const e = asSqlError(err);
  const where = `${c.host}:${c.port}`;
  const detail = e.sqlMessage ?? e.message ?? String(err);
  if (e.code !== undefined && UNREACHABLE.has(e.code)) {
    return { problem: "host-unreachable", message: `cannot reach the MariaDB server at ${where} (${e.code})` };
  }
  if (e.code === "ETIMEDOUT" || /timed? ?out/i.test(detail)) {
    return { problem: "timeout", message: `the MariaDB server at ${where} did not answer in time` };
  }
  if (e.code !== undefined && TLS_CODES.test(e.code)) {
    return { problem: "tls", message: `TLS with ${where} failed: ${detail}` };
  }
  switch (e.errno) {
    case 1045:
      return { problem: "auth-failed", message: `the server at ${where} refused the user name or password: ${detail}` };
    case 1044:
    case 1142:
    case 1143:
      return { problem: "permission", message: `the user may not do this: ${detail}` };
    case 1049:
      return { problem: "not-found", message: `the database "${c.database}" does not exist on ${where}` };
    case 1146:
      return { problem: "not-found", message: detail };
  }
  if (/ssl|tls|certificate/i.test(detail)) return { problem: "tls", message: `TLS with ${where} failed: ${detail}` };
  return { problem: "other", message: `MariaDB at ${where}: ${detail}` };
}

/** Problems no retry fixes: the run should fail with the message instead of waiting for the server. */
export function isPermanentProblem(problem: ConnectionProblem): boolean {
  return (
    problem === "auth-failed" ||
    problem === "permission" ||
    problem === "not-found" ||
    problem === "tls" ||
    problem === "misconfigured"
  );
}

/**
 * Errors about one row's values (NULL in a NOT NULL column, text too long, a number out of range, a duplicate key, a
 * CHECK such as JSON_VALID, a missing foreign key): the row is refused, the others can be written.
 */
const ROW_ERRNOS = new Set([1048, 1062, 1264, 1265, 1292, 1364, 1366, 1367, 1406, 1452, 1690, 3140, 4025, 4078]);

export function isRowError(err: unknown): boolean {
  const errno = asSqlError(err).errno;
  return errno !== undefined && ROW_ERRNOS.has(errno);
}

/** The server refused a statement (as opposed to the session breaking); lock waits and deadlocks excepted. */
export function isStatementError(err: unknown): boolean {
  const e = asSqlError(err);
  return (
    e.errno !== undefined && e.sqlMessage !== undefined && e.fatal !== true && e.errno !== 1205 && e.errno !== 1213
  );
}

export function sqlErrorText(err: unknown): string {
  const e = asSqlError(err);
  return e.sqlMessage ?? e.message ?? String(err);
}

/** `name` quoted as a MariaDB identifier. */
export function quoteId(name: string): string {
  return `\`${name.replace(/`/g, "``")}\``;
}

/** A table name, optionally `schema.table`, quoted part by part. */
export function quoteTable(name: string): string {
  const dot = name.indexOf(".");
  return dot < 0 ? quoteId(name) : `${quoteId(name.slice(0, dot))}.${quoteId(name.slice(dot + 1))}`;
}

/** A value read from MariaDB as a record value: dates as epoch ms, binary as base64, big integers exact as text. */
export function recordValue(v: unknown): unknown {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.getTime();
  if (Buffer.isBuffer(v)) return v.toString("base64");
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  return v;
}
