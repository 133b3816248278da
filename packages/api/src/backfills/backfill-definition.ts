import { type ReplayBound, replayConfig, replayRefusal, replaySupport } from "@sluice/nodes/replay";
import type { PipelineDefinition } from "@sluice/pipeline/definition";
import type { NodeCatalog } from "@sluice/pipeline/node-definition";

// The definition a backfill runs, derived from a saved version: only the chosen sink and the nodes that feed it
// (other sinks must not receive the replayed records), each replayed source bounded to [from, to], and the sink
// pointed at the shadow table. Pure: the service checks the result like any run's definition.

interface ReplayRange {
  from: ReplayBound;
  to?: ReplayBound;
}

/** A refusal of the caller's choice, naming the node; the service turns it into a 400. */
export class BackfillInputError extends Error {
  override name = "BackfillInputError";
}

/** The ids of `nodeId` and every node upstream of it. */
export function upstreamOf(def: PipelineDefinition, nodeId: string): Set<string> {
  const seen = new Set<string>([nodeId]);
  const queue = [nodeId];
  while (queue.length > 0) {
    const id = queue.pop()!;
    for (const e of def.spec.edges) {
      if (e.to === id && !seen.has(e.from)) {
        seen.add(e.from);
        queue.push(e.from);
      }
    }
  }
  return seen;
}

/**
 * Whether a source reads a bounded stretch and ends by itself as configured (a bounded table read, files, a
 * generator with a count, a stream read with an end): a backfill may run it unchanged.
 */
export function endsByItself(type: string, config: Readonly<Record<string, unknown>>): boolean {
  switch (type) {
    case "source.postgres":
    case "source.mariadb":
      return (config.mode ?? "bounded") === "bounded";
    case "source.file":
      return true;
    case "source.generator":
    case "source.nexmark":
      return typeof config.count === "number";
    case "source.redis-stream":
    case "source.nats-jetstream":
      return config.until !== undefined;
    default:
      return false;
  }
}

interface SourceChoice {
  nodeId: string;
  type: string;
  replayable: boolean;
  endsByItself: boolean;
  refusal: string | null;
}

/** The sources upstream of `sinkNodeId`, with how each can take part in a backfill. */
export function upstreamSources(
  def: PipelineDefinition,
  configs: Readonly<Record<string, unknown>>,
  catalog: NodeCatalog,
  sinkNodeId: string,
): SourceChoice[] {
  const upstream = upstreamOf(def, sinkNodeId);
  return def.spec.nodes
    .filter((n) => upstream.has(n.id) && catalog.get(n.type)?.kind === "source")
    .map((n) => {
      const config = (configs[n.id] ?? n.config) as Record<string, unknown>;
      const replayable = replaySupport(n.type) !== undefined;
      const ends = endsByItself(n.type, config);
      return {
        nodeId: n.id,
        type: n.type,
        replayable,
        endsByItself: ends,
        refusal: replayable || ends ? null : replayRefusal(n.type),
      };
    });
}

/**
 * The backfill's definition: the sink and what feeds it, the replayed sources' configs bounded, the sink writing
 * `shadowTable`. `configs` are the version's parsed configs with its parameters bound (validate's `configs`).
 */
export function backfillDefinition(
  def: PipelineDefinition,
  configs: Readonly<Record<string, unknown>>,
  catalog: NodeCatalog,
  sinkNodeId: string,
  replay: Readonly<Record<string, ReplayRange>>,
  shadowTable: string,
): PipelineDefinition {
  const upstream = upstreamOf(def, sinkNodeId);
  const sources = upstreamSources(def, configs, catalog, sinkNodeId);
  for (const nodeId of Object.keys(replay)) {
    if (!sources.some((s) => s.nodeId === nodeId)) {
      const node = def.spec.nodes.find((n) => n.id === nodeId);
      throw new BackfillInputError(
        node
          ? `replay.${nodeId}: node "${nodeId}" is not a source that feeds sink "${sinkNodeId}"`
          : `replay.${nodeId}: the pipeline has no node "${nodeId}"`,
      );
    }
  }
  const nodes = def.spec.nodes
    .filter((n) => upstream.has(n.id))
    .map((n) => {
      const config = (configs[n.id] ?? n.config) as Record<string, unknown>;
      if (n.id === sinkNodeId) return { ...n, config: { ...config, table: shadowTable } };
      const range = replay[n.id];
      const source = sources.find((s) => s.nodeId === n.id);
      if (!source) return n;
      if (range) {
        if (!source.replayable) {
          throw new BackfillInputError(`replay.${n.id}: ${n.type} cannot be replayed: ${replayRefusal(n.type)}`);
        }
        try {
          return { ...n, config: replayConfig(n.type, config, range.from, range.to) };
        } catch (err) {
          throw new BackfillInputError(`replay.${n.id}: ${(err as Error).message}`);
        }
      }
      if (!source.endsByItself) {
        throw new BackfillInputError(
          source.replayable
            ? `replay.${n.id}: source "${n.id}" (${n.type}) does not end by itself: choose where its replay starts`
            : `replay.${n.id}: source "${n.id}" (${n.type}) neither ends by itself nor can be replayed: ${source.refusal}`,
        );
      }
      return n;
    });
  // The live pipeline's alert rules watch the live run; a backfill's run raises none.
  const { alerts: _alerts, ...spec } = def.spec;
  return {
    ...def,
    spec: {
      ...spec,
      nodes,
      edges: def.spec.edges.filter((e) => upstream.has(e.from) && upstream.has(e.to)),
    },
  };
}
