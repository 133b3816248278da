import type { Connection, RowDataPacket } from "mysql2/promise";
import type { ConnectionRuntime, DiscoveredField, DiscoveredObject, DiscoveryResult } from "../../connection-runtime";
import type { ConnectionDestinations } from "../../destination-policy";
import { describeMariaDbError, openSession, quoteTable, recordValue } from "./mariadb-client";
import type { MariaDbConnectionConfig } from "./mariadb-connection.def";
import { runMariaDbQuery } from "./mariadb-query";

// Test, discovery and the query page's read-only queries (mariadb-query.ts) for MariaDB connections: one short
// session each, abandoned when the caller gives up.

/** Sluice's type for a column's DATA_TYPE (information_schema). */
function sluiceType(dataType: string, columnType: string): string {
  const t = dataType.toLowerCase();
  if (columnType.toLowerCase() === "tinyint(1)" || t === "bit" || t === "bool" || t === "boolean") return "boolean";
  if (["tinyint", "smallint", "mediumint", "int", "integer", "bigint", "year"].includes(t)) return "int";
  if (["decimal", "numeric", "float", "double", "real"].includes(t)) return "float";
  if (["date", "datetime", "timestamp"].includes(t)) return "timestamp";
  if (t === "json") return "json";
  return "string";
}

async function withSession<T>(
  config: MariaDbConnectionConfig,
  signal: AbortSignal,
  destinations: ConnectionDestinations,
  work: (conn: Connection) => Promise<T>,
): Promise<T> {
  const conn = await openSession(config, destinations);
  const abort = () => conn.destroy();
  signal.addEventListener("abort", abort, { once: true });
  try {
    return await work(conn);
  } finally {
    signal.removeEventListener("abort", abort);
    await conn.end().catch(() => conn.destroy());
  }
}

async function columnsOf(conn: Connection, database: string, table?: string): Promise<Map<string, DiscoveredField[]>> {
  const [rows] = await conn.query<RowDataPacket[]>(
    `SELECT TABLE_NAME AS t, COLUMN_NAME AS c, DATA_TYPE AS d, COLUMN_TYPE AS ct, IS_NULLABLE AS n
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ${table !== undefined ? "AND TABLE_NAME = ?" : ""}
       ORDER BY TABLE_NAME, ORDINAL_POSITION`,
    table !== undefined ? [database, table] : [database],
  );
  const byTable = new Map<string, DiscoveredField[]>();
  for (const r of rows) {
    const list = byTable.get(r.t) ?? [];
    list.push({ name: r.c, type: sluiceType(r.d, r.ct), nullable: r.n === "YES" });
    byTable.set(r.t, list);
  }
  return byTable;
}

export const mariadbConnectionRuntime: ConnectionRuntime<MariaDbConnectionConfig> = {
  type: "mariadb",
  async test(config, signal, destinations) {
    try {
      return await withSession(config, signal, destinations, async (conn) => {
        const [rows] = await conn.query<RowDataPacket[]>("SELECT VERSION() AS v, CURRENT_USER() AS u");
        const version = String(rows[0]?.v ?? "?");
        return {
          ok: true as const,
          message: `connected to ${version.includes("MariaDB") ? "MariaDB" : "MySQL"} ${version} as ${rows[0]?.u ?? config.user}, database "${config.database}"`,
          details: { version },
        };
      });
    } catch (err) {
      return { ok: false, ...describeMariaDbError(err, config) };
    }
  },
  async discover(config, request, signal, destinations): Promise<DiscoveryResult> {
    return withSession(config, signal, destinations, async (conn) => {
      const [tables] = await conn.query<RowDataPacket[]>(
        `SELECT TABLE_NAME AS t, TABLE_TYPE AS k, TABLE_ROWS AS n FROM information_schema.TABLES
          WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME`,
        [config.database],
      );
      const columns = await columnsOf(conn, config.database, request.object);
      const objects: DiscoveredObject[] = tables
        .filter((t) => request.object === undefined || t.t === request.object)
        .map((t) => ({
          kind: t.k === "VIEW" ? "view" : "table",
          name: String(t.t),
          fields: columns.get(t.t) ?? [],
          ...(t.n !== null && t.n !== undefined ? { rows: Number(t.n) } : {}),
        }));
      if (request.object === undefined || request.sample === undefined || request.sample <= 0) return { objects };
      if (objects.length === 0) throw new Error(`there is no table "${request.object}" in "${config.database}"`);
      const [rows] = await conn.query<RowDataPacket[]>(`SELECT * FROM ${quoteTable(request.object)} LIMIT ?`, [
        Math.min(request.sample, 100),
      ]);
      const sample = rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, recordValue(v)])));
      return { objects, sample };
    });
  },
  query: runMariaDbQuery,
};
