import type {
  ConnectionRuntime,
  ConnectionTestResult,
  DiscoveredObject,
  DiscoveryResult,
} from "../../connection-runtime";
import type { ConnectionDestinations } from "../../destination-policy";
import { failed, refusedDestination } from "../messaging/connection-problems";
import { connect, PostgresConnectError, type Session } from "./pg-client";
import { describeConnectError, pgErrorText } from "./pg-errors";
import { sluiceType } from "./pg-types";
import type { PostgresConnectionConfig } from "./postgres-connection.def";
import { runPostgresQuery } from "./postgres-query";
import { parseTableName, quoteTable } from "./sql-names";

// "Test connection", discovery and the query page's read-only queries (postgres-query.ts) for PostgreSQL connections.
// Server-only.

const MAX_OBJECTS = 2000;
const MAX_SAMPLE = 100;

const KIND: Readonly<Record<string, string>> = {
  r: "table",
  p: "table",
  v: "view",
  m: "materialized view",
  f: "foreign table",
};

async function withSession<T>(
  c: PostgresConnectionConfig,
  signal: AbortSignal,
  destinations: ConnectionDestinations,
  work: (session: Session) => Promise<T>,
): Promise<T> {
  const session = await connect(c, destinations, { applicationSuffix: " (test)" });
  const abort = () => void session.end();
  signal.addEventListener("abort", abort, { once: true });
  try {
    return await work(session);
  } finally {
    signal.removeEventListener("abort", abort);
    await session.end();
  }
}

async function test(
  c: PostgresConnectionConfig,
  signal: AbortSignal,
  destinations: ConnectionDestinations,
): Promise<ConnectionTestResult> {
  try {
    return await withSession(c, signal, destinations, async ({ client }) => {
      const { rows } = await client.query<{
        version: string;
        num: string;
        wal_level: string;
        replication: boolean;
        recovery: boolean;
        tls: boolean | null;
      }>(
        `SELECT current_setting('server_version') AS version, current_setting('server_version_num') AS num,
                current_setting('wal_level') AS wal_level,
                (SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user) AS replication,
                pg_is_in_recovery() AS recovery,
                (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()) AS tls`,
      );
      const r = rows[0]!;
      const cdc =
        r.wal_level !== "logical"
          ? `not ready for CDC (wal_level is ${r.wal_level}; set wal_level = logical and restart the server)`
          : r.replication
            ? "ready for CDC"
            : `not ready for CDC (user "${c.user}" lacks the REPLICATION attribute)`;
      return {
        ok: true,
        message: `connected to PostgreSQL ${r.version} as "${c.user}" on database "${c.database}"${
          r.tls ? " over TLS" : ""
        }${r.recovery ? " (a read-only standby)" : ""}; ${cdc}`,
        details: {
          version: r.version,
          versionNum: Number(r.num),
          tls: r.tls === true,
          readOnly: r.recovery,
          walLevel: r.wal_level,
          replication: r.replication,
        },
      };
    });
  } catch (err) {
    const refused = refusedDestination(err);
    if (refused) return failed(refused);
    if (err instanceof PostgresConnectError) return { ok: false, problem: err.problem.problem, message: err.message };
    const described = describeConnectError(err, c);
    return { ok: false, problem: described.problem, message: described.message || pgErrorText(err) };
  }
}

interface ColumnRow {
  schema: string;
  name: string;
  kind: string;
  rows: number | null;
  column: string | null;
  type_oid: number | null;
  base_oid: number | null;
  not_null: boolean | null;
}

async function discover(
  c: PostgresConnectionConfig,
  request: { object?: string; sample?: number },
  signal: AbortSignal,
  destinations: ConnectionDestinations,
): Promise<DiscoveryResult> {
  const target = request.object !== undefined ? parseTableName(request.object) : undefined;
  if (request.object !== undefined && !target) throw new Error(`"${request.object}" is not a table name`);
  return withSession(c, signal, destinations, async ({ client }) => {
    // Domains are typed by their base type; the schema defaults to the search path's first match.
    const { rows } = await client.query<ColumnRow>(
      `SELECT n.nspname AS schema, cl.relname AS name, cl.relkind AS kind,
              CASE WHEN cl.reltuples >= 0 THEN cl.reltuples::bigint END AS rows,
              a.attname AS column, a.atttypid::int AS type_oid,
              CASE WHEN ty.typtype = 'd' THEN ty.typbasetype::int END AS base_oid, a.attnotnull AS not_null
         FROM pg_class cl
         JOIN pg_namespace n ON n.oid = cl.relnamespace
         LEFT JOIN pg_attribute a ON a.attrelid = cl.oid AND a.attnum > 0 AND NOT a.attisdropped
         LEFT JOIN pg_type ty ON ty.oid = a.atttypid
        WHERE cl.relkind IN ('r', 'p', 'v', 'm', 'f')
          AND NOT cl.relispartition
          AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
          AND n.nspname NOT LIKE 'pg\\_temp\\_%'
          AND has_table_privilege(cl.oid, 'SELECT')
          AND ($1::text IS NULL OR cl.oid = to_regclass($1))
        ORDER BY n.nspname, cl.relname, a.attnum`,
      [target ? quoteTable(target) : null],
    );
    const objects: DiscoveredObject[] = [];
    let current: DiscoveredObject | undefined;
    let currentKey = "";
    for (const row of rows) {
      const key = `${row.schema}.${row.name}`;
      if (key !== currentKey) {
        if (objects.length >= MAX_OBJECTS) break;
        currentKey = key;
        current = {
          kind: KIND[row.kind] ?? "table",
          name: row.schema === "public" ? row.name : `${row.schema}.${row.name}`,
          fields: [],
          ...(row.rows !== null ? { rows: Number(row.rows) } : {}),
        };
        objects.push(current);
      }
      if (row.column !== null && current) {
        const type = sluiceType(row.base_oid ?? row.type_oid ?? 0);
        current.fields!.push({
          name: row.column,
          type: type.kind === "array" ? "json" : type.kind,
          nullable: row.not_null !== true,
        });
      }
    }
    if (target && objects.length === 0) {
      throw new Error(
        `table ${request.object} does not exist in database "${c.database}" (or this user may not read it)`,
      );
    }
    if (!target || request.sample === undefined || request.sample <= 0) return { objects };
    const limit = Math.min(request.sample, MAX_SAMPLE);
    const sample = await client.query(`SELECT * FROM ${quoteTable(target)} LIMIT ${limit}`);
    return { objects, sample: sample.rows as Record<string, unknown>[] };
  });
}

export const postgresConnectionRuntime: ConnectionRuntime<PostgresConnectionConfig> = {
  type: "postgres",
  test,
  discover,
  query: runPostgresQuery,
};
