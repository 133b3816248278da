import pg from "pg";
import {
  QUERY_MAX_BYTES,
  type QueryColumnKind,
  QueryError,
  type QueryOutcome,
  type QueryParam,
  type QueryRequest,
} from "../../connection-runtime";
import type { ConnectionDestinations } from "../../destination-policy";
import { connect, type Session } from "./pg-client";
import { OID } from "./pg-types";
import type { PostgresConnectionConfig } from "./postgres-connection.def";

// The query page's ad-hoc queries on a PostgreSQL connection. Read-only by construction: the statement runs in
// `BEGIN READ ONLY` (every write, DDL included, is refused by the server), through the extended protocol (a
// prepared statement, its parameters sent as bind values, which the server refuses to hold more than one command — no `COMMIT; INSERT`),
// and the transaction is always rolled back. Rows are fetched from the portal in pages, never more than `limit + 1`
// and never much past the byte cap. The server cancels the statement itself (`SET LOCAL statement_timeout`); a
// watchdog and the caller's cancel send `pg_cancel_backend` from a second session. Server-only.

/** Rows fetched per round trip. */
const PAGE_ROWS = 500;
/** How long past the statement timeout the watchdog waits for the server to cancel it by itself. */
const WATCHDOG_GRACE_MS = 1000;
/** How long a cancelled statement may take to end before the session is closed under it. */
const CANCEL_GRACE_MS = 3000;

/** The wire connection node-postgres hands a submitted query (not in its types). */
interface Wire {
  execute(message: { portal: string; rows: number }): void;
  flush(): void;
  sync(): void;
}

interface Field {
  name: string;
  dataTypeID: number;
}

const KIND_BY_OID = new Map<number, QueryColumnKind>([
  [OID.int2, "number"],
  [OID.int4, "number"],
  [OID.int8, "number"],
  [OID.oid, "number"],
  [OID.float4, "number"],
  [OID.float8, "number"],
  [OID.numeric, "number"],
  [OID.bool, "boolean"],
  [OID.text, "string"],
  [OID.varchar, "string"],
  [OID.bpchar, "string"],
  [OID.name, "string"],
  [OID.char, "string"],
  [OID.uuid, "string"],
  [OID.json, "json"],
  [OID.jsonb, "json"],
  [OID.date, "time"],
  [OID.time, "time"],
  [OID.timestamp, "time"],
  [OID.timestamptz, "time"],
  [1266, "time"], // timetz
]);

const TIMESTAMP_TEXT = /^(\d{4,}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)(\+00)?$/;

/** A value as PostgreSQL prints it (sessions run in UTC with ISO dates), JSON-safe for the query page. */
function jsonSafe(oid: number, text: string | null): unknown {
  if (text === null) return null;
  switch (oid) {
    case OID.bool:
      return text === "t";
    case OID.int2:
    case OID.int4:
    case OID.oid:
      return Number(text);
    case OID.int8: {
      const n = Number(text);
      return Number.isSafeInteger(n) ? n : text;
    }
    case OID.float4:
    case OID.float8: {
      const n = Number(text);
      return Number.isFinite(n) ? n : text; // NaN and ±Infinity have no JSON number
    }
    case OID.json:
    case OID.jsonb:
      return JSON.parse(text);
    case OID.timestamp:
    case OID.timestamptz: {
      const m = TIMESTAMP_TEXT.exec(text);
      return m ? `${m[1]}T${m[2]}${m[3] ? "Z" : ""}` : text; // BC dates and ±infinity stay as printed
    }
    default:
      return text; // numeric (exact), text, uuid, arrays, intervals, …
  }
}

/** Every value arrives as its text: the conversion above is by the column's type. */
const AS_TEXT = { getTypeParser: () => (text: string) => text };

/**
 * The user's statement, run through the extended protocol with its rows fetched page by page from the portal until
 * `limit + 1` rows or `maxBytes` are in; then the portal is left (the transaction's rollback closes it).
 */
class PagedQuery extends pg.Query {
  /** Not `rows`: node-postgres keeps the page size under that name. */
  readonly collected: unknown[][] = [];
  fields: Field[] = [];
  truncated = false;
  private bytes = 0;

  constructor(
    text: string,
    params: readonly QueryParam[],
    private readonly limit: number,
    private readonly maxBytes: number,
  ) {
    // rowMode, queryMode and rows are node-postgres options its types do not list. Bind values go in the Bind
    // message (a Date as an ISO instant with its offset), never into the text.
    super({
      text,
      values: [...params],
      rowMode: "array",
      types: AS_TEXT,
      queryMode: "extended",
      rows: Math.min(PAGE_ROWS, limit + 1),
    } as pg.QueryConfig);
    this.on("row", (row: (string | null)[], meta?: unknown) => {
      const result = meta as { fields: Field[] };
      if (this.truncated) return;
      if (this.collected.length === 0) this.fields = result.fields;
      if (this.collected.length >= this.limit || this.bytes >= this.maxBytes) {
        this.truncated = true;
        return;
      }
      const values = row.map((v, i) => jsonSafe(result.fields[i]?.dataTypeID ?? 0, v));
      this.bytes += JSON.stringify(values).length + 1;
      this.collected.push(values);
    });
  }

  /** The portal has more rows: fetch the next page, or stop here. */
  handlePortalSuspended(wire: Wire): void {
    if (this.truncated || this.collected.length >= this.limit || this.bytes >= this.maxBytes) {
      this.truncated = true;
      wire.sync();
      return;
    }
    wire.execute({ portal: "", rows: Math.min(PAGE_ROWS, this.limit + 1 - this.collected.length) });
    wire.flush();
  }
}

/** Runs the query on `client`, settling when the server has answered. */
function submit(client: pg.Client, query: PagedQuery): Promise<{ fields: Field[] }> {
  return new Promise((resolve, reject) => {
    query.once("end", (result: { fields?: Field[] }) => resolve({ fields: result.fields ?? query.fields }));
    query.once("error", reject);
    void client.query(query);
  });
}

interface ServerError {
  code?: string;
  message?: string;
  position?: string;
  detail?: string;
  hint?: string;
}

/** "line 2, column 7" for a 1-based character position in `sql`. */
function lineAndColumn(sql: string, position: number): string {
  const before = sql.slice(0, Math.max(0, position - 1)).split("\n");
  return `line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
}

/** The server's words for a refused statement, with where in the query it went wrong. */
function refusal(err: ServerError, sql: string): string {
  const at = err.position !== undefined ? ` (at ${lineAndColumn(sql, Number(err.position))})` : "";
  const hint = err.hint ? `; ${err.hint}` : "";
  if (err.code === "42601" && /multiple commands/.test(err.message ?? "")) {
    return "a query is one statement: the server refused more than one (cannot insert multiple commands into a prepared statement)";
  }
  return `${err.message ?? "the server refused the statement"}${at}${hint}`;
}

/** Asks the server to cancel what `pid` runs, from a session of its own (the same checked destination). */
async function cancelOnServer(
  c: PostgresConnectionConfig,
  destinations: ConnectionDestinations,
  pid: number,
): Promise<void> {
  const second = await connect(c, destinations, { applicationSuffix: " (query cancel)" });
  try {
    await second.client.query("SELECT pg_cancel_backend($1)", [pid]);
  } finally {
    await second.end();
  }
}

/** The statement's first word, past whitespace and comments (block comments nest in PostgreSQL). */
function firstKeyword(sql: string): string {
  let i = 0;
  while (i < sql.length) {
    if (/\s/.test(sql[i]!)) i++;
    else if (sql.startsWith("--", i)) i = sql.indexOf("\n", i) < 0 ? sql.length : sql.indexOf("\n", i) + 1;
    else if (sql.startsWith("/*", i)) {
      let depth = 0;
      do {
        if (sql.startsWith("/*", i)) {
          depth++;
          i += 2;
        } else if (sql.startsWith("*/", i)) {
          depth--;
          i += 2;
        } else i++;
      } while (depth > 0 && i < sql.length);
    } else break;
  }
  return /^[A-Za-z]+/.exec(sql.slice(i))?.[0].toUpperCase() ?? "";
}

/**
 * Statements a read-only transaction lets through that reach beyond the database: COPY writes server files or runs
 * programs (for a role allowed to), DO runs any of that from a block. The query page reads with SELECT.
 */
const REFUSED_FIRST = new Set(["COPY", "DO"]);

async function typeNames(client: pg.Client, oids: number[]): Promise<Map<number, string>> {
  if (oids.length === 0) return new Map();
  const { rows } = await client.query<{ oid: number; name: string }>(
    "SELECT oid::int AS oid, typname AS name FROM pg_type WHERE oid = ANY($1::oid[])",
    [oids],
  );
  return new Map(rows.map((r) => [r.oid, r.name]));
}

export async function runPostgresQuery(
  c: PostgresConnectionConfig,
  request: QueryRequest,
  signal: AbortSignal,
  destinations: ConnectionDestinations,
): Promise<QueryOutcome> {
  if (signal.aborted) throw new QueryError("cancelled", "the query was cancelled");
  const first = firstKeyword(request.sql);
  if (REFUSED_FIRST.has(first)) {
    throw new QueryError("refused", `${first} statements are refused: the query page only reads (SELECT, WITH, …)`);
  }
  const session: Session = await connect(c, destinations, { applicationSuffix: " (query)" });
  const pid = (session.client as unknown as { processID: number }).processID;
  let stopped: "timeout" | "cancelled" | undefined;
  let closer: NodeJS.Timeout | undefined;
  const stop = (why: "timeout" | "cancelled") => {
    if (stopped) return;
    stopped = why;
    void cancelOnServer(c, destinations, pid).catch(() => {});
    // A server that does not stop the statement loses the session; the rollback never happens, and it needs none.
    closer = setTimeout(() => void session.end(), CANCEL_GRACE_MS);
  };
  const onAbort = () => stop("cancelled");
  signal.addEventListener("abort", onAbort, { once: true });
  const watchdog = setTimeout(() => stop("timeout"), request.timeoutMs + WATCHDOG_GRACE_MS);
  const { client } = session;
  try {
    await client.query("BEGIN READ ONLY");
    await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.round(request.timeoutMs))}`);
    // A cancel that came while the session opened finds no statement to cancel on the server: send none.
    if (stopped) throw new Error(`stopped before the statement was sent (${stopped})`);
    const query = new PagedQuery(request.sql, request.params ?? [], request.limit, request.maxBytes ?? QUERY_MAX_BYTES);
    const started = performance.now();
    const { fields } = await submit(client, query);
    const engineMs = Math.round(performance.now() - started);
    const names = await typeNames(client, [...new Set(fields.map((f) => f.dataTypeID))]);
    await client.query("ROLLBACK");
    return {
      columns: fields.map((f) => ({
        name: f.name,
        type: names.get(f.dataTypeID) ?? String(f.dataTypeID),
        kind: KIND_BY_OID.get(f.dataTypeID) ?? "other",
      })),
      rows: query.collected,
      truncated: query.truncated,
      engineMs,
    };
  } catch (err) {
    const e = (err ?? {}) as ServerError;
    if (stopped === "cancelled" || signal.aborted) {
      throw new QueryError("cancelled", "the query was cancelled", { cause: err });
    }
    if (e.code === "57014" || stopped === "timeout") {
      throw new QueryError(
        "timeout",
        `the query ran longer than its timeout of ${request.timeoutMs} ms and was cancelled on the server`,
        { cause: err },
      );
    }
    if (typeof e.code === "string" && e.code.length === 5) {
      throw new QueryError("refused", refusal(e, request.sql), { cause: err });
    }
    throw err;
  } finally {
    clearTimeout(watchdog);
    clearTimeout(closer);
    signal.removeEventListener("abort", onAbort);
    await session.end();
  }
}
