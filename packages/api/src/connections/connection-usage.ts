import type { Db } from "@sluice/db/client";
import { connectionRefs } from "@sluice/pipeline/connection-definition";
import type { NodeCatalog } from "@sluice/pipeline/node-definition";
import { bindParameters, type ParameterValue } from "@sluice/pipeline/parameters";
import type { ConnectionUse } from "./connection-router.types";

// Which pipelines name which connections: read off the latest version of every pipeline in the workspace (what the
// next run would use), with parameters at their defaults.

interface StoredDefinition {
  spec?: {
    nodes?: { id?: unknown; type?: unknown; config?: unknown }[];
    parameters?: { name?: unknown; default?: unknown }[];
  };
}

/** The connection names one definition's nodes refer to, node by node. */
function definitionConnectionRefs(definition: unknown, catalog: NodeCatalog): { nodeId: string; name: string }[] {
  const spec = (definition as StoredDefinition | null)?.spec;
  const defaults: Record<string, ParameterValue> = {};
  for (const p of Array.isArray(spec?.parameters) ? spec.parameters : []) {
    const v = p?.default;
    if (typeof p?.name === "string" && (typeof v === "string" || typeof v === "number" || typeof v === "boolean"))
      defaults[p.name] = v;
  }
  const refs: { nodeId: string; name: string }[] = [];
  for (const node of Array.isArray(spec?.nodes) ? spec.nodes : []) {
    if (typeof node?.id !== "string" || typeof node.type !== "string") continue;
    const def = catalog.get(node.type);
    if (!def) continue;
    for (const ref of connectionRefs(def, bindParameters(node.config, def, defaults))) {
      if (!ref.name.includes("{{")) refs.push({ nodeId: node.id, name: ref.name });
    }
  }
  return refs;
}

/** Connection name → the pipelines (and their nodes) whose latest version names it. */
export async function connectionUsage(
  db: Db,
  catalog: NodeCatalog,
  workspaceId: string,
): Promise<Map<string, ConnectionUse[]>> {
  const rows = await db.$queryRaw<{ id: string; name: string; definition: unknown }[]>`
    SELECT p.id, p.name, v.definition
    FROM "Pipeline" p
    JOIN "PipelineVersion" v ON v."pipelineId" = p.id AND v.number = p."latestVersion"
    WHERE p."workspaceId" = ${workspaceId}
    ORDER BY p.name`;
  const usage = new Map<string, ConnectionUse[]>();
  for (const row of rows) {
    const nodesByName = new Map<string, string[]>();
    for (const ref of definitionConnectionRefs(row.definition, catalog)) {
      const nodes = nodesByName.get(ref.name) ?? [];
      if (!nodes.includes(ref.nodeId)) nodes.push(ref.nodeId);
      nodesByName.set(ref.name, nodes);
    }
    for (const [name, nodes] of nodesByName) {
      const list = usage.get(name) ?? [];
      list.push({ pipelineId: row.id, pipelineName: row.name, nodes });
      usage.set(name, list);
    }
  }
  return usage;
}

export function describeUses(uses: readonly ConnectionUse[]): string {
  const names = uses.map((u) => `"${u.pipelineName}"`);
  return names.length <= 5 ? names.join(", ") : `${names.slice(0, 5).join(", ")} and ${names.length - 5} more`;
}
