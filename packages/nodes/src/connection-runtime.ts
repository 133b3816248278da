// What a connection type does on the server: tell a person whether the connection works, and discover what is
// behind it (tables and columns, streams, subjects, queues) with a few sample records. Server-only.

import type { ConnectionDestinations } from "./destination-policy";

export type ConnectionProblem =
  | "host-unreachable"
  | "timeout"
  | "auth-failed"
  | "not-found"
  | "tls"
  | "permission"
  | "misconfigured"
  | "other";

export type ConnectionTestResult =
  | { ok: true; message: string; details?: Record<string, unknown> }
  | { ok: false; problem: ConnectionProblem; message: string };

export interface DiscoveredField {
  name: string;
  /** Sluice type name: string, int, float, boolean, timestamp, json. */
  type: string;
  nullable: boolean;
}

export interface DiscoveredObject {
  /** What it is in the system's own words: table, stream, subject, queue, topic. */
  kind: string;
  name: string;
  fields?: DiscoveredField[];
  /** Approximate size, if the system says. */
  rows?: number;
}

export interface DiscoveryResult {
  objects: DiscoveredObject[];
  /** With `sample`: a few records of the named object. */
  sample?: Record<string, unknown>[];
}

export interface ConnectionRuntime<C = Record<string, unknown>> {
  type: string;
  /** `destinations` resolves and checks every host the runtime connects to (see destination-policy.ts). */
  test(config: C, signal: AbortSignal, destinations: ConnectionDestinations): Promise<ConnectionTestResult>;
  discover?(
    config: C,
    request: { object?: string; sample?: number },
    signal: AbortSignal,
    destinations: ConnectionDestinations,
  ): Promise<DiscoveryResult>;
}

export interface ConnectionRuntimeRegistry {
  get(type: string): ConnectionRuntime | undefined;
}

export function createConnectionRuntimeRegistry(
  runtimes: readonly ConnectionRuntime<never>[],
): ConnectionRuntimeRegistry {
  const byType = new Map<string, ConnectionRuntime>();
  for (const r of runtimes) {
    if (byType.has(r.type)) throw new Error(`connection runtime "${r.type}" is registered twice`);
    byType.set(r.type, r as unknown as ConnectionRuntime);
  }
  return { get: (type) => byType.get(type) };
}
