import type { ConnectionProblem } from "../../connection-runtime";

// What a PostgreSQL or network error means, in words a person can act on, and whether trying again can help.
// "Permanent" problems (credentials refused, a database that does not exist, TLS set up wrong) fail a run; the
// others (server down, connection cut, too many connections, a deadlock) are retried.

export interface PgProblem {
  problem: ConnectionProblem;
  message: string;
  /** No retry can fix it: the configuration must change. */
  permanent: boolean;
}

interface Where {
  host: string;
  port: number;
  user: string;
  database: string;
  connectTimeout?: number;
}

interface ErrorFields {
  code?: string;
  message?: string;
  detail?: string;
  hint?: string;
}

function fields(err: unknown): ErrorFields {
  if (err === null || typeof err !== "object") return { message: String(err) };
  return err as ErrorFields;
}

const TLS_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "ERR_SSL_WRONG_VERSION_NUMBER",
]);

/** Describes a failure to connect (or a query on a fresh connection) to the server at `where`. */
export function describeConnectError(err: unknown, where: Where): PgProblem {
  const { code = "", message = "" } = fields(err);
  const at = `${where.host}:${where.port}`;
  switch (code) {
    case "ECONNREFUSED":
      return {
        problem: "host-unreachable",
        message: `cannot reach ${at} (connection refused) — is the server running and the port open?`,
        permanent: false,
      };
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "EAI_NONAME":
      return {
        problem: "host-unreachable",
        message: `cannot find the host ${where.host} (DNS lookup failed) — check the host name`,
        permanent: false,
      };
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return {
        problem: "host-unreachable",
        message: `cannot reach ${at} (no route to the host) — check the host and the network between`,
        permanent: false,
      };
    case "ECONNRESET":
    case "EPIPE":
      return {
        problem: "host-unreachable",
        message: `${at} closed the connection — the server may be restarting, or a proxy or firewall cut it`,
        permanent: false,
      };
    case "ETIMEDOUT":
      return timeout(at, where.connectTimeout);
    case "28P01":
      return {
        problem: "auth-failed",
        message: `password authentication failed for user "${where.user}" — check the user and password`,
        permanent: true,
      };
    case "28000":
      return {
        problem: "auth-failed",
        message: `the server refused user "${where.user}": ${message}${
          /SSL off|no encryption/i.test(message) ? ' — the server wants TLS: set sslmode to "require"' : ""
        }`,
        permanent: true,
      };
    case "3D000":
      return {
        problem: "not-found",
        message: `database "${where.database}" does not exist on ${at}`,
        permanent: true,
      };
    case "42501":
      return { problem: "permission", message: `permission denied: ${message}`, permanent: true };
    case "53300":
      return {
        problem: "other",
        message: `${at} has no free connection slots (too many clients) — close idle sessions or raise max_connections`,
        permanent: false,
      };
    case "57P03":
      return { problem: "other", message: `${at} is starting up or shutting down; try again`, permanent: false };
  }
  if (TLS_CODES.has(code) || /certificate|ssl|tls/i.test(message)) {
    return {
      problem: "tls",
      message: `TLS with ${at} failed: ${message}${
        /does not support SSL/i.test(message) ? ' — set sslmode to "disable", or enable TLS on the server' : ""
      }`,
      permanent: true,
    };
  }
  if (/timeout|timed out/i.test(message)) return timeout(at, where.connectTimeout);
  if (/Connection terminated|ended unexpectedly/i.test(message)) {
    return {
      problem: "host-unreachable",
      message: `${at} closed the connection — the server may be restarting, or a proxy or firewall cut it`,
      permanent: false,
    };
  }
  return { problem: "other", message: message || String(err), permanent: false };
}

function timeout(at: string, seconds: number | undefined): PgProblem {
  return {
    problem: "timeout",
    message: `no answer from ${at}${seconds ? ` within ${seconds} s` : ""} — the host may be down, or a firewall drops the connection`,
    permanent: false,
  };
}

/** SQLSTATE classes that say the record or its values are at fault, not the server or the connection. */
export function isRecordError(err: unknown): boolean {
  const { code } = fields(err);
  if (typeof code !== "string" || code.length !== 5) return false;
  const cls = code.slice(0, 2);
  // 22 data exception, 23 integrity constraint, 42804 datatype mismatch, 54000 program limit (index row too big)
  return cls === "22" || cls === "23" || code === "42804" || code === "54000" || code === "21000";
}

/** Connection-level failures: the session is gone and must be replaced. */
export function isConnectionError(err: unknown): boolean {
  const { code = "", message = "" } = fields(err);
  if (code.startsWith("08") || code === "57P01" || code === "57P02" || code === "57P03") return true;
  if (/^E[A-Z]+$/.test(code)) return true;
  return /Connection terminated|connection is closed|not queryable|ended unexpectedly|Client has encountered a connection error/i.test(
    message,
  );
}

/** A server error as one line: message, detail and hint. */
export function pgErrorText(err: unknown): string {
  const { message = String(err), detail, hint } = fields(err);
  return [message, detail, hint ? `hint: ${hint}` : undefined].filter(Boolean).join(" — ");
}
