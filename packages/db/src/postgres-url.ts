// Connection settings from a postgres:// URL as discrete fields. adapter-pg's shadow-database handling
// spreads `{ ...config, database }`, which a connectionString would silently override.

export interface PostgresFields {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

class DatabaseUrlError extends Error {
  override name = "DatabaseUrlError";
}

export function parsePostgresUrl(url: string): PostgresFields {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new DatabaseUrlError(`DATABASE_URL is not a URL: write postgresql://user:password@host:5432/database`);
  }
  if (u.protocol !== "postgresql:" && u.protocol !== "postgres:") {
    throw new DatabaseUrlError(`DATABASE_URL must start with postgresql:// (got ${u.protocol}//)`);
  }
  const database = decodeURIComponent(u.pathname.replace(/^\//, ""));
  if (!database) throw new DatabaseUrlError("DATABASE_URL names no database: add /<database> after the host");
  return {
    host: u.hostname || "127.0.0.1",
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username || "postgres"),
    password: decodeURIComponent(u.password),
    database,
  };
}
