import path from "node:path";
import type {
  ConnectionRuntime,
  ConnectionRuntimeRegistry,
  QueryOutcome,
  QueryRequest,
} from "@sluice/nodes/connection-runtime";
import { QueryError } from "@sluice/nodes/connection-runtime";
import type { DestinationPolicy } from "@sluice/nodes/destination-policy";
import type { Keys } from "@sluice/pipeline/control/keys";
import { type SecretScrubber, secretScrubber } from "@sluice/pipeline/control/secret-scrub";
import { TRPCError } from "@trpc/server";
import type { Redis } from "ioredis";
import type { z } from "zod";
import { openSecrets, parseConfig } from "../connections/connection-secrets";
import { type ConnectionDeps, findConnection, plainConfig } from "../connections/connection-service";
import { describeFiles, FilesBusyError, runFilesQuery, workspaceFilesRoot } from "./files-engine";
import {
  type BoundQuery,
  bindParameters,
  type ParameterDeclaration,
  ParameterError,
  type ParameterValue,
  type SqlDialect,
} from "./query-parameters";
import type {
  CancelQueryInput,
  QueryResult,
  QuerySchema,
  QuerySource,
  QuerySourceView,
  RunQueryInput,
  SchemaInput,
} from "./query-router.types";

// The query page's service: where a workspace's queries can go, running one read-only (on a connection through its
// runtime's `query`, on the workspace's files through the embedded DuckDB of files-engine.ts), cancelling one in
// flight, and the tables and columns a source holds. Every query is bounded by its timeout, its row limit and a
// byte cap; whatever a runtime or DuckDB says back is scrubbed of the connection's secrets before it leaves.

export interface QueryDeps extends ConnectionDeps {
  connectionRuntimes: ConnectionRuntimeRegistry;
  destinations: DestinationPolicy;
  redis: Redis;
  keys: Keys;
  /** The files directory (SLUICE_FILES_DIR, as the workers have it); `.sluice/files` in the working directory without. */
  filesDir?: string;
}

export interface QueryCaller {
  workspaceId: string;
  userId: string;
}

/** SQL dialects of the connection types that can answer queries. */
const DIALECTS: Readonly<Record<string, "postgresql" | "mysql">> = { postgres: "postgresql", mariadb: "mysql" };

/** How long past its own timeout a query may take before the request gives up on the runtime. */
const HARD_STOP_GRACE_MS = 10_000;
const SCHEMA_TIMEOUT_MS = 30_000;
/** How often a running query looks for a cancel sent to another web process. */
const CANCEL_POLL_MS = 250;
const CANCEL_FLAG_TTL_MS = 60_000;

function filesDirectory(deps: Pick<QueryDeps, "filesDir">): string {
  return path.resolve(deps.filesDir ?? ".sluice/files");
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message || err.name : String(err);
}

export async function listQuerySources(
  deps: QueryDeps,
  workspaceId: string,
): Promise<z.output<typeof QuerySourceView>[]> {
  const rows = await deps.db.connection.findMany({
    where: { workspaceId, type: { in: Object.keys(DIALECTS) } },
    orderBy: { name: "asc" },
    select: { id: true, name: true, type: true },
  });
  const connections = rows
    .filter((row) => deps.connectionRuntimes.get(row.type)?.query !== undefined)
    .map((row) => ({
      kind: "connection" as const,
      connectionId: row.id,
      name: row.name,
      type: row.type,
      dialect: DIALECTS[row.type]!,
    }));
  return [...connections, { kind: "files" as const, name: "Files", dialect: "duckdb" as const }];
}

interface OpenedConnection {
  runtime: ConnectionRuntime;
  dialect: SqlDialect;
  config: Record<string, unknown>;
  scrub: SecretScrubber;
  name: string;
}

/** A saved connection of the workspace with its secrets, ready for its runtime. */
async function openConnection(deps: QueryDeps, workspaceId: string, connectionId: string): Promise<OpenedConnection> {
  const row = await findConnection(deps.db, workspaceId, connectionId);
  const def = deps.connectionTypes.get(row.type);
  const runtime = deps.connectionRuntimes.get(row.type);
  if (!def || !runtime) {
    throw new TRPCError({
      code: "PRECONDITION_FAILED",
      message: `connection "${row.name}" is of type "${row.type}", which this installation does not know`,
    });
  }
  const stored = await openSecrets(deps.secretKey, row);
  const scrub = secretScrubber(stored);
  const config = parseConfig(def, { ...plainConfig(row), ...stored }, scrub);
  return { runtime, dialect: DIALECTS[row.type] ?? "postgresql", config, scrub, name: row.name };
}

// --- Queries in flight -------------------------------------------------------------------------------------------

/** Queries this process runs, by caller and query id: what `cancel` aborts. */
const inFlight = new Map<string, AbortController>();

function flightKey(caller: QueryCaller, queryId: string): string {
  return `${caller.workspaceId}:${caller.userId}:${queryId}`;
}

function cancelFlag(deps: Pick<QueryDeps, "keys">, caller: QueryCaller, queryId: string): string {
  return `${deps.keys.prefix}:query-cancel:${flightKey(caller, queryId)}`;
}

/**
 * Cancels the caller's query `queryId`: at once when this process runs it; otherwise through a flag in Redis that
 * the process running it (or about to) looks for. Says whether this process had it.
 */
export async function cancelQuery(
  deps: QueryDeps,
  caller: QueryCaller,
  input: z.output<typeof CancelQueryInput>,
): Promise<{ cancelled: boolean }> {
  const here = inFlight.get(flightKey(caller, input.queryId));
  if (here) {
    here.abort(new Error("cancelled"));
    return { cancelled: true };
  }
  await deps.redis.set(cancelFlag(deps, caller, input.queryId), "1", "PX", CANCEL_FLAG_TTL_MS);
  return { cancelled: false };
}

function refusalCode(err: QueryError): TRPCError["code"] {
  switch (err.reason) {
    case "refused":
      return "BAD_REQUEST";
    case "timeout":
      return "TIMEOUT";
    case "cancelled":
      return "CLIENT_CLOSED_REQUEST";
  }
}

/**
 * `from` and `to` are the time range by convention: timestamps unless declared otherwise, so a dashboard's or a
 * report's range fills them in a query that did not declare them.
 */
function withTimeRange(declarations: readonly ParameterDeclaration[]): ParameterDeclaration[] {
  const names = new Set(declarations.map((d) => d.name));
  const implicit = ["from", "to"]
    .filter((name) => !names.has(name))
    .map((name): ParameterDeclaration => ({ name, type: "timestamp" }));
  return [...declarations, ...implicit];
}

type Outcome = { kind: "done"; value: QueryOutcome } | { kind: "error"; error: unknown } | { kind: "hard-stop" };

/** One query to run: what queries.run, savedQueries.run and the downloads have in common. */
export interface QueryJob {
  source: QuerySource;
  sql: string;
  declarations: readonly ParameterDeclaration[];
  values: Readonly<Record<string, ParameterValue | undefined>>;
  limit: number;
  timeoutMs: number;
  queryId: string;
  /** JSON size of the rows at most; the runtimes' QUERY_MAX_BYTES without. */
  maxBytes?: number;
}

export async function runQuery(
  deps: QueryDeps,
  caller: QueryCaller,
  input: z.output<typeof RunQueryInput>,
): Promise<z.output<typeof QueryResult>> {
  return runQueryJob(deps, caller, { ...input, values: input.parameters });
}

/** The SQL with its `{{name}}` placeholders made the dialect's bind placeholders, and their values. */
function bound(job: QueryJob, dialect: SqlDialect): BoundQuery {
  try {
    return bindParameters(job.sql, dialect, withTimeRange(job.declarations), job.values);
  } catch (err) {
    if (err instanceof ParameterError)
      throw new TRPCError({ code: "BAD_REQUEST", message: `parameters: ${err.message}` });
    throw err;
  }
}

/** Runs one query read-only on its source, its parameters bound, within its limits; cancellable by its id. */
export async function runQueryJob(
  deps: QueryDeps,
  caller: QueryCaller,
  input: QueryJob,
): Promise<z.output<typeof QueryResult>> {
  const started = performance.now();
  const key = flightKey(caller, input.queryId);
  if (inFlight.has(key)) {
    throw new TRPCError({ code: "CONFLICT", message: `query ${input.queryId} is running already` });
  }
  const source = input.source;
  const opened =
    source.kind === "connection" ? await openConnection(deps, caller.workspaceId, source.connectionId) : null;
  const { sql, params } = bound(input, opened?.dialect ?? "duckdb");
  const where = opened ? `connection "${opened.name}"` : "files";
  const scrub = opened?.scrub ?? secretScrubber({});
  const run = opened?.runtime.query?.bind(opened.runtime);
  if (opened && !run) {
    throw new TRPCError({ code: "BAD_REQUEST", message: `${where}: this connection type cannot answer SQL queries` });
  }
  const root = source.kind === "files" ? await workspaceFilesRoot(filesDirectory(deps), caller.workspaceId) : "";

  const controller = new AbortController();
  inFlight.set(key, controller);
  const flag = cancelFlag(deps, caller, input.queryId);
  const poll = setInterval(() => {
    void deps.redis.getdel(flag).then(
      (hit) => {
        if (hit !== null) controller.abort(new Error("cancelled"));
      },
      () => {},
    );
  }, CANCEL_POLL_MS);
  let hardStop: NodeJS.Timeout | undefined;
  const request: QueryRequest = {
    sql,
    limit: input.limit,
    timeoutMs: input.timeoutMs,
    ...(params.length > 0 ? { params } : {}),
    ...(input.maxBytes !== undefined ? { maxBytes: input.maxBytes } : {}),
  };
  try {
    // A cancel sent before the query started counts too.
    if ((await deps.redis.getdel(flag)) !== null) controller.abort(new Error("cancelled"));
    const work = Promise.resolve()
      .then(() =>
        run
          ? run(opened!.config, request, controller.signal, deps.destinations.for(opened!.name))
          : runFilesQuery(root, request, controller.signal),
      )
      .then(
        (value): Outcome => ({ kind: "done", value }),
        (error: unknown): Outcome => ({ kind: "error", error }),
      );
    // The runtimes stop their statements themselves; this only keeps the request from outliving one that does not.
    const deadline = new Promise<Outcome>((resolve) => {
      hardStop = setTimeout(() => {
        controller.abort(new Error("timeout"));
        resolve({ kind: "hard-stop" });
      }, input.timeoutMs + HARD_STOP_GRACE_MS);
    });
    const outcome = await Promise.race([work, deadline]);
    if (outcome.kind === "hard-stop") {
      throw new TRPCError({
        code: "TIMEOUT",
        message: `${where}: the query ran longer than its timeout of ${input.timeoutMs} ms`,
      });
    }
    if (outcome.kind === "error") {
      const err = outcome.error;
      if (err instanceof TRPCError) throw err;
      if (err instanceof QueryError) {
        throw new TRPCError({ code: refusalCode(err), message: scrub.text(`${where}: ${err.message}`) });
      }
      if (err instanceof FilesBusyError) throw new TRPCError({ code: "TOO_MANY_REQUESTS", message: err.message });
      // Could not reach or open the system: its words, as discovery gives them.
      throw new TRPCError({
        code: "UNPROCESSABLE_CONTENT",
        message: scrub.text(`${where}: the query could not run: ${errorText(err)}`),
      });
    }
    const { columns, rows, truncated, engineMs } = outcome.value;
    return scrub.value({
      columns,
      rows,
      truncated,
      engineMs,
      elapsedMs: Math.round(performance.now() - started),
    });
  } finally {
    clearInterval(poll);
    clearTimeout(hardStop);
    inFlight.delete(key);
  }
}

export async function querySchema(
  deps: QueryDeps,
  workspaceId: string,
  input: z.output<typeof SchemaInput>,
): Promise<z.output<typeof QuerySchema>> {
  const signal = AbortSignal.timeout(SCHEMA_TIMEOUT_MS);
  const source: QuerySource = input.source;
  if (source.kind === "files") {
    const root = await workspaceFilesRoot(filesDirectory(deps), workspaceId);
    return { tables: await describeFiles(root, signal) };
  }
  const opened = await openConnection(deps, workspaceId, source.connectionId);
  const discover = opened.runtime.discover?.bind(opened.runtime);
  if (!discover) {
    throw new TRPCError({ code: "BAD_REQUEST", message: `connection "${opened.name}": its tables cannot be listed` });
  }
  try {
    const { objects } = await discover(opened.config, {}, signal, deps.destinations.for(opened.name));
    return opened.scrub.value({
      tables: objects.map((o) => ({
        name: o.name,
        kind: o.kind.includes("view") ? ("view" as const) : ("table" as const),
        columns: (o.fields ?? []).map((f) => ({ name: f.name, type: f.type })),
      })),
    });
  } catch (err) {
    throw new TRPCError({
      code: signal.aborted ? "TIMEOUT" : "UNPROCESSABLE_CONTENT",
      message: opened.scrub.text(`connection "${opened.name}": listing its tables failed: ${errorText(err)}`),
    });
  }
}
