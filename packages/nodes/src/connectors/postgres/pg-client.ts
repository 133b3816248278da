import pg from "pg";
import { type ConnectionDestinations, type Destination, DestinationRefusedError } from "../../destination-policy";
import type { RuntimeContext } from "../../runtime-contract";
import { NodeConfigError } from "../../runtime-expressions";
import { describeConnectError, type PgProblem } from "./pg-errors";
import { sluiceTypes } from "./pg-types";
import { type PostgresConnectionConfig, postgresConnection } from "./postgres-connection.def";

// Sessions with a PostgreSQL connection: the node-postgres config a connection's settings make, connecting with
// errors described in words, and the split every node makes when it opens — a problem no retry can fix fails the
// run (NodeConfigError), anything else is thrown as is so the engine tries again later. Server-only.

/** UTC and ISO dates in every session, so timestamps convert exactly (see pg-types.ts). */
const SESSION_OPTIONS = "-c TimeZone=UTC -c DateStyle=ISO,MDY -c IntervalStyle=postgres -c extra_float_digits=3";

/** Where the connection's host may be reached (see destination-policy.ts): its checked address. */
export function pgDestination(c: PostgresConnectionConfig, destinations: ConnectionDestinations): Promise<Destination> {
  return destinations.resolve(c.host, c.port, { protocol: "postgres", database: c.database });
}

/** The client config for a checked destination: the socket goes to its address, TLS names the host. */
export function clientConfig(
  c: PostgresConnectionConfig,
  destination: Destination,
  extra: { replication?: boolean; applicationSuffix?: string } = {},
): pg.ClientConfig & { replication?: string } {
  const servername = destination.servername !== undefined ? { servername: destination.servername } : {};
  const ssl =
    c.sslmode === "disable"
      ? false
      : c.sslmode === "require"
        ? { rejectUnauthorized: false, ...servername }
        : { rejectUnauthorized: true, ...servername, ...(c.ca !== undefined ? { ca: c.ca } : {}) };
  return {
    host: destination.address,
    port: c.port,
    database: c.database,
    user: c.user,
    ...(c.password !== undefined ? { password: c.password } : {}),
    ssl,
    application_name: `${c.applicationName}${extra.applicationSuffix ?? ""}`.slice(0, 63),
    connectionTimeoutMillis: c.connectTimeout * 1000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    options: SESSION_OPTIONS,
    types: sluiceTypes as unknown as pg.CustomTypesConfig,
    ...(extra.replication ? { replication: "database" } : {}),
  };
}

/** A connection failure, described (see pg-errors.ts). */
export class PostgresConnectError extends Error {
  override name = "PostgresConnectError";
  constructor(
    readonly problem: PgProblem,
    options?: ErrorOptions,
  ) {
    super(problem.message, options);
  }
}

/**
 * A connected client. Errors the server sends while it sits idle (it went away) are kept, not thrown into the
 * process; `broken` says the session can no longer be used.
 */
export interface Session {
  client: pg.Client;
  /** The checked address this session went to (other sessions of the same node may reuse it). */
  destination: Destination;
  readonly broken: Error | undefined;
  end(): Promise<void>;
}

/** Connects to the checked address of the host; a refused destination is thrown as DestinationRefusedError. */
export async function connect(
  c: PostgresConnectionConfig,
  destinations: ConnectionDestinations,
  extra: { replication?: boolean; applicationSuffix?: string } = {},
): Promise<Session> {
  let destination: Destination;
  try {
    destination = await pgDestination(c, destinations);
  } catch (err) {
    if (err instanceof DestinationRefusedError) throw err;
    throw new PostgresConnectError(describeConnectError(err, c), { cause: err });
  }
  const client = new pg.Client(clientConfig(c, destination, extra));
  let broken: Error | undefined;
  client.on("error", (err) => {
    broken ??= err;
  });
  client.on("end", () => {
    broken ??= new Error("the connection to PostgreSQL ended");
  });
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => {});
    throw new PostgresConnectError(describeConnectError(err, { ...c, connectTimeout: c.connectTimeout }), {
      cause: err,
    });
  }
  return {
    client,
    destination,
    get broken() {
      return broken;
    },
    async end() {
      broken ??= new Error("closed");
      await client.end().catch(() => {});
    },
  };
}

/** The run's connection for a node's `connection` field, checked and with its defaults (as a form would save it). */
export function nodeConnection(ctx: RuntimeContext<{ connection: string }>): PostgresConnectionConfig {
  const raw = ctx.services.connections.get<unknown>(ctx.config.connection, "postgres");
  const parsed = postgresConnection.config.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "config"}: ${i.message}`).join("; ");
    throw new NodeConfigError(
      ctx.nodeId,
      "connection",
      `connection "${ctx.config.connection}" is not a valid PostgreSQL connection (${problems})`,
    );
  }
  return parsed.data;
}

/** The destinations checker for a node's connection. */
export function nodeDestinations(ctx: RuntimeContext<{ connection: string }>): ConnectionDestinations {
  return ctx.services.destinations.for(ctx.config.connection);
}

/**
 * Connects for a node: a problem no retry can fix (a refused destination too) becomes a NodeConfigError on `connection` (the run fails with
 * it); the server being down or unreachable is thrown as it is (the task is tried again).
 */
export async function connectForNode(
  ctx: RuntimeContext<{ connection: string }>,
  extra: { replication?: boolean; applicationSuffix?: string } = {},
): Promise<Session> {
  const c = nodeConnection(ctx);
  try {
    return await connect(c, nodeDestinations(ctx), extra);
  } catch (err) {
    if (err instanceof DestinationRefusedError) throw new NodeConfigError(ctx.nodeId, "connection", err.message);
    if (err instanceof PostgresConnectError && err.problem.permanent) {
      throw new NodeConfigError(ctx.nodeId, "connection", `connection "${ctx.config.connection}": ${err.message}`);
    }
    throw err;
  }
}

/** Fails the run with `message` when `err` is one of the SQLSTATEs in `codes`; otherwise rethrows `err`. */
export function configErrorFor(
  ctx: RuntimeContext<unknown>,
  err: unknown,
  codes: Readonly<Record<string, { path: string; message: string }>>,
): never {
  const code = (err as { code?: string } | null)?.code;
  const hit = typeof code === "string" ? codes[code] : undefined;
  if (hit) throw new NodeConfigError(ctx.nodeId, hit.path, hit.message);
  throw err;
}
