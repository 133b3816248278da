import { randomBytes } from "node:crypto";
import { type Connection, createConnection } from "mysql2/promise";
import type { MariaDbConnectionConfig } from "./mariadb-connection.def";

// Integration-test support: a database of its own per test file on the local MariaDB (root, no password, see
// notes/stack.md; SLUICE_TEST_MARIADB_HOST/PORT/USER/PASSWORD override), dropped afterwards.

export interface TestMariaDb {
  name: string;
  config: MariaDbConnectionConfig;
  /** A session as the admin user, in the test database. */
  admin: Connection;
  query<T = unknown>(sql: string, params?: unknown[]): Promise<T>;
  drop(): Promise<void>;
}

export function testMariaDbServer() {
  return {
    host: process.env.SLUICE_TEST_MARIADB_HOST ?? "127.0.0.1",
    port: Number(process.env.SLUICE_TEST_MARIADB_PORT ?? 3306),
    user: process.env.SLUICE_TEST_MARIADB_USER ?? "root",
    password: process.env.SLUICE_TEST_MARIADB_PASSWORD,
  };
}

export async function createTestMariaDb(): Promise<TestMariaDb> {
  const server = testMariaDbServer();
  const name = `sluice_t_${randomBytes(5).toString("hex")}`;
  const admin = await createConnection({
    host: server.host,
    port: server.port,
    user: server.user,
    ...(server.password !== undefined ? { password: server.password } : {}),
    timezone: "Z",
    supportBigNumbers: true,
    decimalNumbers: true,
  });
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  await admin.query(`USE \`${name}\``);
  await admin.query("SET time_zone = '+00:00'");
  return {
    name,
    config: {
      host: server.host,
      port: server.port,
      database: name,
      user: server.user,
      ...(server.password !== undefined ? { password: server.password } : {}),
      tls: "off",
      timezone: "Z",
    },
    admin,
    async query<T>(sql: string, params: unknown[] = []) {
      const [rows] = await admin.query(sql, params);
      return rows as T;
    },
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await admin.end();
    },
  };
}
