import type { DeliveryGuarantee, PipelineDefinition } from "./definition";
import { buildGraph, topologicalOrder } from "./graph";
import { type AnyNodeDefinition, capability, type NodeCatalog } from "./node-definition";

// definition -> physical plan. Chains of stateless operators are fused into one stage that runs as P partitioned
// tasks; a stage ends where records must be re-partitioned: before a keyed operator (its inputs are shuffled by
// its key expressions) and where streams from different stages meet (they are rebalanced into a new stage).

export interface StagePlan {
  index: number;
  partitions: number;
  /** Nodes of this stage in topological order. */
  nodes: string[];
  /** Shuffles that feed this stage (empty for the stage that holds the sources). */
  inputs: number[];
  /** Shuffles this stage feeds. */
  outputs: number[];
}

/** An edge that crosses stages: records leave `fromNode.fromPort` and are re-partitioned into the next stage. */
export interface Shuffle {
  id: number;
  fromStage: number;
  fromNode: string;
  fromPort: string;
  toStage: number;
  toNode: string;
  toPort: string;
  /**
   * SQL key expressions: equal keys go to the same partition. An empty list sends everything to partition 0 (a
   * global operator); null spreads records evenly (a rebalance where stages meet).
   */
  keys: readonly string[] | null;
}

/** A node that lowers the delivery guarantee, and why. */
export interface DeliveryReason {
  nodeId: string;
  nodeType: string;
  kind: "source" | "sink";
  /** What the node cannot do, as the end of a sentence about it: "cannot replay from a committed position". */
  why: string;
}

export interface DeliveryPlan {
  requested: DeliveryGuarantee;
  effective: DeliveryGuarantee;
  /** Why the effective guarantee is weaker than requested, one per node that lowers it. */
  reasons: DeliveryReason[];
}

export interface PhysicalPlan {
  stages: StagePlan[];
  shuffles: Shuffle[];
  delivery: DeliveryPlan;
}

export class PlanError extends Error {
  override name = "PlanError";
}

/** Plans a definition that has passed validation; `configs` are the parsed node configs validation produced. */
export function plan(def: PipelineDefinition, catalog: NodeCatalog, configs: Record<string, unknown>): PhysicalPlan {
  const graph = buildGraph(def.spec.nodes, def.spec.edges);
  const { order, cyclic } = topologicalOrder(graph);
  if (cyclic.length > 0) throw new PlanError(`cannot plan a pipeline with a cycle (${cyclic.join(", ")})`);
  const defs = new Map<string, AnyNodeDefinition>();
  for (const node of def.spec.nodes) {
    const nodeDef = catalog.get(node.type);
    if (!nodeDef) throw new PlanError(`node ${node.id}: unknown type ${node.type}`);
    defs.set(node.id, nodeDef);
  }
  const parallelism = def.spec.settings.parallelism;
  const stages: StagePlan[] = [];
  const shuffles: Shuffle[] = [];
  const stageOf = new Map<string, number>();
  const newStage = (partitions: number) => {
    stages.push({ index: stages.length, partitions, nodes: [], inputs: [], outputs: [] });
    return stages.length - 1;
  };
  let sourceStage: number | undefined;

  for (const id of order) {
    const nodeDef = defs.get(id)!;
    const incoming = graph.incoming.get(id) ?? [];
    const keyBy = nodeDef.keyBy?.(configs[id]);
    let stage: number;
    if (nodeDef.kind === "source") {
      sourceStage ??= newStage(parallelism);
      stage = sourceStage;
    } else if (keyBy) {
      const global = incoming.every((e) => (keyBy[e.toPort] ?? []).length === 0);
      stage = newStage(global ? 1 : parallelism);
      for (const e of incoming) addShuffle(e, stage, keyBy[e.toPort] ?? []);
    } else {
      const upstream = new Set(incoming.map((e) => stageOf.get(e.from)!));
      if (upstream.size === 1) stage = [...upstream][0]!;
      else {
        stage = newStage(parallelism);
        for (const e of incoming) addShuffle(e, stage, null);
      }
    }
    stageOf.set(id, stage);
    stages[stage]!.nodes.push(id);
  }

  function addShuffle(
    e: { from: string; fromPort: string; to: string; toPort: string },
    toStage: number,
    keys: readonly string[] | null,
  ) {
    const fromStage = stageOf.get(e.from)!;
    const shuffle: Shuffle = {
      id: shuffles.length,
      fromStage,
      fromNode: e.from,
      fromPort: e.fromPort,
      toStage,
      toNode: e.to,
      toPort: e.toPort,
      keys,
    };
    shuffles.push(shuffle);
    stages[fromStage]!.outputs.push(shuffle.id);
    stages[toStage]!.inputs.push(shuffle.id);
  }

  return { stages, shuffles, delivery: deliveryOf(def, defs, configs, order) };
}

/**
 * The delivery guarantee a definition gets, for a draft that may not plan yet (the editor shows it as the draft
 * changes): nodes of unknown types and nodes whose config does not parse yet (a capability is a function of the
 * config) are left out, and nodes on a cycle are considered in definition order.
 */
export function planDelivery(
  def: PipelineDefinition,
  catalog: NodeCatalog,
  configs: Record<string, unknown>,
): DeliveryPlan {
  const defs = new Map<string, AnyNodeDefinition>();
  for (const node of def.spec.nodes) {
    const nodeDef = catalog.get(node.type);
    if (nodeDef) defs.set(node.id, nodeDef);
  }
  const { order } = topologicalOrder(buildGraph(def.spec.nodes, def.spec.edges));
  const placed = new Set(order);
  const all = [...order, ...def.spec.nodes.map((n) => n.id).filter((id) => !placed.has(id))];
  return deliveryOf(
    def,
    defs,
    configs,
    all.filter((id) => defs.has(id) && configs[id] !== undefined),
  );
}

function deliveryOf(
  def: PipelineDefinition,
  defs: Map<string, AnyNodeDefinition>,
  configs: Record<string, unknown>,
  order: readonly string[],
): DeliveryPlan {
  const requested = def.spec.settings.delivery;
  const reasons: DeliveryReason[] = [];
  for (const id of order) {
    const nodeDef = defs.get(id)!;
    const config = configs[id];
    const lowers = (kind: DeliveryReason["kind"], why: string) =>
      reasons.push({ nodeId: id, nodeType: nodeDef.type, kind, why });
    if (nodeDef.kind === "source" && !capability(nodeDef.delivery.replayable, config)) {
      lowers("source", "cannot replay from a committed position");
    }
    if (
      nodeDef.kind === "sink" &&
      !capability(nodeDef.delivery.idempotent, config) &&
      !capability(nodeDef.delivery.transactional, config)
    ) {
      lowers("sink", "is neither idempotent nor transactional");
    }
  }
  const effective: DeliveryGuarantee = reasons.length > 0 ? "at-least-once" : requested;
  return { requested, effective, reasons: requested === "exactly-once" ? reasons : [] };
}

/** A reason as one clause: "sink out (sink.collect) is neither idempotent nor transactional". */
export function deliveryReasonText(r: DeliveryReason): string {
  return `${r.kind} ${r.nodeId} (${r.nodeType}) ${r.why}`;
}

export function formatPlan(p: PhysicalPlan): string {
  const lines: string[] = [];
  for (const s of p.stages) {
    lines.push(`stage ${s.index} × ${s.partitions} partition${s.partitions === 1 ? "" : "s"}: ${s.nodes.join(" → ")}`);
    for (const id of s.inputs) {
      const sh = p.shuffles[id]!;
      const how =
        sh.keys === null
          ? "rebalanced"
          : sh.keys.length === 0
            ? "gathered into one partition"
            : `by ${sh.keys.join(", ")}`;
      lines.push(`  ← ${sh.fromNode}.${sh.fromPort} (stage ${sh.fromStage}) into ${sh.toNode}.${sh.toPort}, ${how}`);
    }
  }
  lines.push(
    `delivery: ${p.delivery.effective}${p.delivery.requested !== p.delivery.effective ? ` (requested ${p.delivery.requested})` : ""}`,
  );
  for (const r of p.delivery.reasons) lines.push(`  because ${deliveryReasonText(r)}`);
  return lines.join("\n");
}
