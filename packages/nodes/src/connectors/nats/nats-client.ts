import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { type ConnectionOptions, connect, credsAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import { type ConnectionDestinations, formatAddress } from "../../destination-policy";
import { type Diagnosis, errorText, networkProblem, refusedDestination } from "../messaging/connection-problems";
import { type NatsConnectionConfig, natsConnectionDef, natsServers } from "./nats-connection.def";

// NATS connections for a NATS connection config, and what their errors mean to a person. Server-only.

export function natsConfig(raw: unknown): NatsConnectionConfig {
  return natsConnectionDef.config.parse(raw);
}

export function natsWhere(c: NatsConnectionConfig): string {
  const servers = natsServers(c).map((s) => s.replace(/^(nats|tls):\/\//, ""));
  return `nats ${servers.join(",")}`;
}

/**
 * A connection. `probe`: one attempt, no reconnect (Test connection, discovery); `run`: reconnects for as long as it
 * takes (publishes while disconnected wait in the client's buffer; a source notices lost deliveries itself).
 */
export async function connectNats(
  c: NatsConnectionConfig,
  name: string,
  mode: "probe" | "run",
  destinations: ConnectionDestinations,
): Promise<NatsConnection> {
  // Each server's host resolved and checked once; the client connects to those addresses only (the servers a cluster
  // gossips are ignored: they were never checked). TLS keeps the first host name as the server name.
  const servers: string[] = [];
  let servername: string | undefined;
  for (const server of natsServers(c)) {
    const m = /^(?:(nats|tls):\/\/)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(server);
    if (!m) throw new Error(`"${server}" is not a server URL`);
    const to = await destinations.resolve(m[2]!, m[3] !== undefined ? Number(m[3]) : 4222);
    servername ??= to.servername;
    servers.push(`${m[1] ?? "nats"}://${formatAddress(to.address)}:${to.port}`);
  }
  const tlsOptions = {
    ...(c.ca !== undefined ? { ca: c.ca } : {}),
    ...(servername !== undefined ? { servername } : {}),
  };
  const options: ConnectionOptions = {
    servers,
    ignoreClusterUpdates: true,
    resolve: false,
    name: `sluice:${name}`,
    timeout: 5000,
    ...(mode === "probe"
      ? { reconnect: false, maxReconnectAttempts: 0 }
      : // No stack trace captured up front for every request (each publish is one): a third of the sink's CPU.
        { maxReconnectAttempts: -1, reconnectTimeWait: 500, pingInterval: 10_000, noAsyncTraces: true }),
    ...(c.user !== undefined ? { user: c.user, pass: c.password ?? "" } : {}),
    ...(c.token !== undefined ? { token: c.token } : {}),
    ...(c.creds !== undefined ? { authenticator: credsAuthenticator(new TextEncoder().encode(c.creds)) } : {}),
    ...(c.tls || c.ca !== undefined || servers.some((s) => s.startsWith("tls:")) ? { tls: tlsOptions } : {}),
  };
  return connect(options);
}

export function isApiError(err: unknown, code: number): boolean {
  return err instanceof JetStreamApiError && err.code === code;
}

/** What a NATS or JetStream error means: refused credentials, no JetStream, the server away, … */
export function diagnoseNats(err: unknown, where: string): Diagnosis {
  const refused = refusedDestination(err);
  if (refused) return refused;
  const text = errorText(err);
  const name = err instanceof Error ? err.name : "";
  if (name === "AuthorizationError" || /authorization violation/i.test(text)) {
    return { problem: "auth-failed", message: `${where} refused the credentials (Authorization Violation)` };
  }
  if (name === "UserAuthenticationExpiredError" || /expired/i.test(text)) {
    return { problem: "auth-failed", message: `${where}: the user's credentials have expired` };
  }
  if (name === "PermissionViolationError" || /permissions violation/i.test(text)) {
    return { problem: "permission", message: `the user may not do this on ${where}: ${text}` };
  }
  if (
    name === "JetStreamNotEnabled" ||
    isApiError(err, JetStreamApiCodes.JetStreamNotEnabledForAccount) ||
    /jetstream not enabled|no responders/i.test(text)
  ) {
    return { problem: "misconfigured", message: `JetStream is not enabled on ${where} for this account` };
  }
  const cause = (err as { cause?: unknown } | null)?.cause;
  const net = networkProblem(cause ?? err, where) ?? networkProblem(err, where);
  if (net) return net;
  if (/timeout/i.test(text)) return { problem: "timeout", message: `${where} did not answer in time` };
  if (/connection refused/i.test(text)) {
    return { problem: "host-unreachable", message: `nothing accepts connections at ${where} (connection refused)` };
  }
  return { problem: "other", message: `${where}: ${text}` };
}

/** Consumer names may not hold `.`, `*`, `>` or white space. */
export function consumerName(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 200);
}
