"use client";

import type { HistoryView } from "@sluice/api/history/history-router.types";
import {
  alignLines,
  type EdgeMetric,
  edgeLines,
  type Line,
  type NodeMetric,
  nodeLines,
  sinceStart,
} from "@/charts/chart-data";
import { TimeChart } from "@/charts/time-chart";

// The charts a run page and a pipeline dashboard draw from history: one node's throughput, latency, lags (a source's
// offset lag in its own unit), errors and state keys (a node picker chooses it), and every shuffle edge's backlog.

interface ChartSpec {
  title: string;
  unit: string;
  /** Node metrics with their legend labels, of the picked node. */
  node?: readonly (readonly [NodeMetric, string])[];
  /** One line per edge. */
  edge?: EdgeMetric;
  /** The picked node's own unit when the views know it (a source's offset lag); else `unit`. */
  nodeUnit?: (views: readonly HistoryView[], nodeId: string) => string | undefined;
}

const SPECS: readonly ChartSpec[] = [
  {
    title: "Throughput",
    unit: "records/s",
    node: [
      ["inPerSec", "in/s"],
      ["outPerSec", "out/s"],
    ],
  },
  {
    title: "Batch latency",
    unit: "ms",
    node: [
      ["p50Ms", "p50"],
      ["p99Ms", "p99"],
    ],
  },
  { title: "Watermark lag", unit: "ms", node: [["watermarkLagMs", "watermark lag"]] },
  { title: "Input lag", unit: "records", node: [["inputLag", "input lag"]] },
  {
    title: "Source offset lag",
    unit: "source's unit",
    node: [["offsetLag", "offset lag"]],
    nodeUnit: (views, nodeId) => views.map((v) => v.offsetLagUnits[nodeId]).find((u) => u !== undefined),
  },
  { title: "Backlog per edge", unit: "records", edge: "backlog" },
  { title: "Errors", unit: "errors/s", node: [["errPerSec", "errors/s"]] },
  { title: "State keys", unit: "keys", node: [["stateKeys", "state keys"]] },
];

/** A series to draw: a history view, and (when runs are compared) where its run started and what to call it. */
export interface ChartSource {
  view: HistoryView;
  /** Set when compared: lines move to time since this start and their labels get `name`. */
  startedAt?: number;
  name?: string;
  /** Adds live seconds to a line of the picked node or an edge (the run page's live range). */
  extend?: (line: Line, key: { node: string; metric: NodeMetric } | { edge: string; metric: EdgeMetric }) => Line;
}

function linesOf(source: ChartSource, spec: ChartSpec, nodeId: string): Line[] {
  const lines: Line[] = [];
  if (spec.node) {
    const found = nodeLines(
      source.view,
      nodeId,
      spec.node.map(([m]) => m),
    );
    found.forEach((line, i) => {
      const [metric, label] = spec.node![i]!;
      const extended = source.extend ? source.extend(line, { node: nodeId, metric }) : line;
      lines.push({ ...extended, label });
    });
  }
  if (spec.edge) {
    const metric = spec.edge;
    for (const line of edgeLines(source.view, metric)) {
      lines.push(source.extend ? source.extend(line, { edge: line.label, metric }) : line);
    }
  }
  if (source.startedAt === undefined) return lines;
  const start = source.startedAt;
  return lines.map((l) => sinceStart(l, start, source.name ? `${source.name}: ${l.label}` : l.label));
}

export function HistoryCharts({
  sources,
  nodeIds,
  nodeId,
  onNode,
}: {
  sources: readonly ChartSource[];
  /** The nodes to pick from, in pipeline order. */
  nodeIds: readonly string[];
  nodeId: string;
  onNode: (id: string) => void;
}) {
  const compared = sources.some((s) => s.startedAt !== undefined);
  const views = sources.map((s) => s.view);
  return (
    <>
      <label className="history-node-picker">
        <span>Node</span>
        <select className="input" value={nodeId} onChange={(e) => onNode(e.target.value)}>
          {nodeIds.map((id) => (
            <option key={id} value={id}>
              {id}
            </option>
          ))}
        </select>
      </label>
      <div className="history-charts">
        {SPECS.map((spec) => {
          const lines = sources.flatMap((s) => linesOf(s, spec, nodeId));
          return (
            <TimeChart
              key={spec.title}
              title={spec.edge ? spec.title : `${spec.title} · ${nodeId}`}
              unit={spec.nodeUnit?.(views, nodeId) ?? spec.unit}
              labels={lines.map((l) => l.label)}
              data={alignLines(lines)}
              x={compared ? "elapsed" : "time"}
            />
          );
        })}
      </div>
    </>
  );
}

/** The pipeline's nodes in its order, then any others the history holds (nodes since removed or renamed). */
export function historyNodeIds(views: readonly HistoryView[], order: readonly string[] | undefined): string[] {
  const first = order ?? [];
  const others = new Set(views.flatMap((v) => Object.keys(v.nodes)).filter((id) => !first.includes(id)));
  return [...first, ...[...others].sort()];
}
