// What a connection type does on the server: tell a person whether the connection works, and discover what is
// behind it (tables and columns, streams, subjects, queues) with a few sample records, and, for SQL systems, run an
// ad-hoc read-only query for the query page. Server-only.

import type { ConnectionDestinations } from "./destination-policy";

export type ConnectionProblem =
  | "host-unreachable"
  | "timeout"
  | "auth-failed"
  | "not-found"
  | "tls"
  | "permission"
  | "misconfigured"
  | "other";

export type ConnectionTestResult =
  | { ok: true; message: string; details?: Record<string, unknown> }
  | { ok: false; problem: ConnectionProblem; message: string };

export interface DiscoveredField {
  name: string;
  /** Sluice type name: string, int, float, boolean, timestamp, json. */
  type: string;
  nullable: boolean;
}

export interface DiscoveredObject {
  /** What it is in the system's own words: table, stream, subject, queue, topic. */
  kind: string;
  name: string;
  fields?: DiscoveredField[];
  /** Approximate size, if the system says. */
  rows?: number;
}

export interface DiscoveryResult {
  objects: DiscoveredObject[];
  /** With `sample`: a few records of the named object. */
  sample?: Record<string, unknown>[];
}

/** How the query page shows a column: numbers right-aligned, times on a time axis, JSON as a tree. */
export type QueryColumnKind = "number" | "string" | "boolean" | "time" | "json" | "other";

export interface QueryRequest {
  /** One statement; the runtime runs it in a read-only transaction and refuses more than one. */
  sql: string;
  /** Rows returned at most; the runtime reads one more to tell whether there were more (`truncated`). */
  limit: number;
  /** The statement is cancelled on the server after this long. */
  timeoutMs: number;
  /** Size of the rows as JSON at most (default QUERY_MAX_BYTES); beyond it the result is cut and `truncated`. */
  maxBytes?: number;
  /**
   * Bind values for the statement's placeholders ($1, $2, … in PostgreSQL and DuckDB; each `?` in MariaDB), sent
   * through the engine's bind protocol, never written into the SQL. A Date is bound as an instant.
   */
  params?: readonly QueryParam[];
}

/** A bind value: text, a number, an instant, or NULL. */
export type QueryParam = string | number | Date | null;

export interface QueryOutcome {
  columns: { name: string; type: string; kind: QueryColumnKind }[];
  /** JSON-safe: integers beyond 2^53 and decimals as strings, times as ISO-8601 strings, JSON values parsed. */
  rows: unknown[][];
  truncated: boolean;
  /** The server's time for the statement, as near as the client can tell. */
  engineMs: number;
}

/** The JSON size of a query's rows at most, whatever the row limit says. */
export const QUERY_MAX_BYTES = 32 * 1024 * 1024;

/**
 * Why a query did not give a result: `refused` — the server refused the statement (syntax, a write in the read-only
 * transaction, more than one statement, a missing table); `timeout` — it ran past its time and was cancelled on the
 * server; `cancelled` — the caller cancelled it (the signal was aborted). The message is the server's own words.
 */
export class QueryError extends Error {
  override name = "QueryError";
  constructor(
    readonly reason: "refused" | "timeout" | "cancelled",
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface ConnectionRuntime<C = Record<string, unknown>> {
  type: string;
  /** `destinations` resolves and checks every host the runtime connects to (see destination-policy.ts). */
  test(config: C, signal: AbortSignal, destinations: ConnectionDestinations): Promise<ConnectionTestResult>;
  discover?(
    config: C,
    request: { object?: string; sample?: number },
    signal: AbortSignal,
    destinations: ConnectionDestinations,
  ): Promise<DiscoveryResult>;
  /**
   * Runs one statement read-only and returns at most `limit` rows. Aborting `signal` cancels the statement on the
   * server and fails with QueryError("cancelled"); past `timeoutMs` it fails with QueryError("timeout").
   */
  query?(
    config: C,
    request: QueryRequest,
    signal: AbortSignal,
    destinations: ConnectionDestinations,
  ): Promise<QueryOutcome>;
}

export interface ConnectionRuntimeRegistry {
  get(type: string): ConnectionRuntime | undefined;
}

export function createConnectionRuntimeRegistry(
  runtimes: readonly ConnectionRuntime<never>[],
): ConnectionRuntimeRegistry {
  const byType = new Map<string, ConnectionRuntime>();
  for (const r of runtimes) {
    if (byType.has(r.type)) throw new Error(`connection runtime "${r.type}" is registered twice`);
    byType.set(r.type, r as unknown as ConnectionRuntime);
  }
  return { get: (type) => byType.get(type) };
}
