import type { ConnectionProblem, ConnectionTestResult } from "../../connection-runtime";
import { DestinationRefusedError } from "../../destination-policy";
import type { RuntimeContext } from "../../runtime-contract";
import { NodeConfigError } from "../../runtime-expressions";

// Turning what client libraries throw into what a person can act on: "Test connection" answers, and the decision a
// source or sink makes when it cannot open — fail the run (wrong password, missing queue: no retry fixes it) or
// throw so the engine retries later (the server is away). Server-only.

export interface Diagnosis {
  problem: ConnectionProblem;
  message: string;
}

const TLS_CODES =
  /^(ERR_SSL_|ERR_TLS_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH|ERR_OSSL)/;

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

export function errorText(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return errorText(err.errors[0]);
  return err instanceof Error ? err.message || err.name : String(err);
}

/** The network-level reading of an error (refused, unknown host, timeout, TLS), if it is one. */
export function networkProblem(err: unknown, where: string): Diagnosis | undefined {
  const inner = err instanceof AggregateError && err.errors.length > 0 ? err.errors[0] : err;
  const code = errorCode(inner) ?? errorCode((inner as { cause?: unknown } | null)?.cause);
  const text = errorText(inner);
  switch (code) {
    case "ECONNREFUSED":
      return { problem: "host-unreachable", message: `nothing accepts connections at ${where} (connection refused)` };
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return { problem: "host-unreachable", message: `the host name of ${where} does not resolve (${code})` };
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return { problem: "host-unreachable", message: `${where} cannot be reached from here (${code})` };
    case "ECONNRESET":
    case "EPIPE":
      return {
        problem: "host-unreachable",
        message: `${where} closed the connection at once (${code}): is it the right port and protocol, or does it require TLS?`,
      };
    case "ETIMEDOUT":
      return { problem: "timeout", message: `${where} did not answer in time (a firewall may drop the connection)` };
  }
  if ((code !== undefined && TLS_CODES.test(code)) || /wrong version number|ssl|tls|certificate/i.test(text)) {
    return { problem: "tls", message: `TLS with ${where} failed: ${text}` };
  }
  return undefined;
}

/** A destination the policy refused (see destination-policy.ts): the connection's settings must change. */
export function refusedDestination(err: unknown): Diagnosis | undefined {
  return err instanceof DestinationRefusedError ? { problem: "misconfigured", message: err.message } : undefined;
}

export function failed(d: Diagnosis): ConnectionTestResult {
  return { ok: false, problem: d.problem, message: d.message };
}

/** Problems no retry can fix: the run fails with the message instead of retrying forever. */
const PERMANENT = new Set<ConnectionProblem>(["auth-failed", "permission", "not-found", "misconfigured", "tls"]);

/**
 * The error a source or sink throws when it cannot open or work: a NodeConfigError (the run fails, saying why)
 * for a permanent problem, else an Error the engine retries with backoff.
 */
export function openError(ctx: RuntimeContext<unknown>, connection: string, d: Diagnosis): Error {
  if (PERMANENT.has(d.problem)) return new NodeConfigError(ctx.nodeId, "connection", `"${connection}": ${d.message}`);
  return new Error(`node ${ctx.nodeId}: connection "${connection}": ${d.message}`);
}

/** `work`'s outcome, or a rejection with the signal's reason when it aborts first. */
export function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason ?? new Error("aborted"));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason ?? new Error("aborted"));
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}
