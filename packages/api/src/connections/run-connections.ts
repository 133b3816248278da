import type { Db } from "@sluice/db/client";
import {
  type DestinationPolicy,
  type ProtectedEndpoint,
  runConnectionsPayload,
} from "@sluice/nodes/destination-policy";
import type { ConnectionBundle } from "@sluice/nodes/runtime-contract";
import { type ConnectionCatalog, connectionRefs } from "@sluice/pipeline/connection-definition";
import { RunStartJob } from "@sluice/pipeline/control/protocol";
import { type SecretKeys, sealJson } from "@sluice/pipeline/control/secret-box";
import { secretScrubber } from "@sluice/pipeline/control/secret-scrub";
import type { PipelineDefinition } from "@sluice/pipeline/definition";
import type { NodeCatalog } from "@sluice/pipeline/node-definition";
import { TRPCError } from "@trpc/server";
import { openSecrets, parseConfig, requireKey } from "./connection-secrets";
import { plainConfig } from "./connection-service";

// The connections a run (or a preview) takes with it: the ones its nodes name (parameters bound), read from the
// workspace with their secrets, checked against their types and sealed for that one job (`run:<id>`), so the start
// job and the run's state in Redis hold them only encrypted.

export interface RunConnectionDeps {
  db: Db;
  secretKey: SecretKeys | undefined;
  connectionTypes: ConnectionCatalog;
  /** Where connections may go; its own endpoints (Sluice's database, its Redis) travel sealed with the bundle. */
  destinations: DestinationPolicy;
}

/** name → type of every connection in the workspace, for validate()'s `connections` option. */
export async function workspaceConnectionTypes(db: Db, workspaceId: string): Promise<Record<string, string>> {
  const rows = await db.connection.findMany({ where: { workspaceId }, select: { name: true, type: true } });
  return Object.fromEntries(rows.map((r) => [r.name, r.type]));
}

/** Connection name → the nodes naming it, from a validated definition's parsed configs. */
export function runConnectionNames(
  definition: PipelineDefinition,
  configs: Readonly<Record<string, unknown>>,
  catalog: NodeCatalog,
): Map<string, string[]> {
  const names = new Map<string, string[]>();
  for (const node of definition.spec.nodes) {
    const def = catalog.get(node.type);
    if (!def) continue;
    for (const ref of connectionRefs(def, configs[node.id])) {
      names.set(ref.name, [...(names.get(ref.name) ?? []), node.id]);
    }
  }
  return names;
}

/** A run's connections, ready to seal once the run has its id. */
export interface RunConnections {
  key: SecretKeys;
  bundle: ConnectionBundle;
  /**
   * Sluice's own endpoints as this process knows them (workers know no DATABASE_URL): sealed with the bundle, so a
   * worker refuses them too and nobody can take them out of the job on the way.
   */
  protectedEndpoints: ProtectedEndpoint[];
}

/**
 * The bundle for the connections named (node ids for the messages), or undefined when there are none. Throws
 * BAD_REQUEST when one is missing, of a type this installation does not know, no longer valid for its type, or
 * its secrets cannot be opened, and when there is no key to seal the bundle with.
 */
export async function runConnectionBundle(
  deps: RunConnectionDeps,
  workspaceId: string,
  names: ReadonlyMap<string, readonly string[]>,
): Promise<RunConnections | undefined> {
  if (names.size === 0) return undefined;
  const used = [...names.keys()];
  const key = requireKey(
    deps.secretKey,
    `this pipeline uses connection${used.length === 1 ? "" : "s"} ${used.map((n) => `"${n}"`).join(", ")}, which the workers receive encrypted`,
  );
  const rows = await deps.db.connection.findMany({ where: { workspaceId, name: { in: used } } });
  const bundle: ConnectionBundle = {};
  for (const [name, nodes] of names) {
    const by = `node${nodes.length === 1 ? "" : "s"} ${nodes.join(", ")}`;
    const row = rows.find((r) => r.name === name);
    if (!row) throw new TRPCError({ code: "BAD_REQUEST", message: `${by}: there is no connection named "${name}"` });
    const def = deps.connectionTypes.get(row.type);
    if (!def) {
      throw new TRPCError({
        code: "BAD_REQUEST",
        message: `${by}: connection "${name}" is of type "${row.type}", which this installation does not know`,
      });
    }
    const secrets = await openSecrets(deps.secretKey, row);
    try {
      bundle[name] = {
        type: row.type,
        config: parseConfig(def, { ...plainConfig(row), ...secrets }, secretScrubber(secrets)),
        // The workers scrub these values from every error and log line they write.
        secrets: Object.keys(secrets),
      };
    } catch (err) {
      throw new TRPCError({
        code: "BAD_REQUEST",
        message: `${by}: connection "${name}" is not valid any more, edit it: ${(err as Error).message}`,
      });
    }
  }
  return { key, bundle, protectedEndpoints: await deps.destinations.resolvedEndpoints() };
}

/**
 * Seals the bundle for the job that carries it: `connectionsContext(runId)` for a run's start job,
 * `previewConnectionsContext(jobId)` for a preview. BAD_REQUEST when it is larger than a job may carry.
 */
export async function sealConnections(connections: RunConnections, context: string): Promise<string> {
  const sealed = await sealJson(
    connections.key,
    runConnectionsPayload(connections.bundle, connections.protectedEndpoints),
    context,
  );
  if (!RunStartJob.shape.connections.safeParse(sealed).success) {
    throw new TRPCError({ code: "BAD_REQUEST", message: "the connections are too large to hand to the workers" });
  }
  return sealed;
}
