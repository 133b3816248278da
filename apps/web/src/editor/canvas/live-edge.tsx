"use client";

import { BaseEdge, EdgeLabelRenderer, type EdgeProps, getBezierPath } from "@xyflow/react";
import { memo } from "react";
import { formatCompact, formatRate } from "@/lib/format";
import { formatCount } from "@/runs/run-format";
import { useRun } from "../editor-context";
import type { PipelineFlowEdge } from "../store/flow-model";
import { edgeFlow, edgeWidth } from "./live-overlay";

// Every edge of the canvas: the usual curve, and while a run goes its throughput as a label and a stroke that thickens
// with the rate. A shuffle edge has figures of its own (rate, backlog, backpressure); an edge inside a fused stage
// carries exactly what its upstream node gives out, so it shows that node's out/s.

function LiveEdgeView({
  id,
  source,
  sourceX,
  sourceY,
  targetX,
  targetY,
  sourcePosition,
  targetPosition,
  markerEnd,
  style,
  interactionWidth,
}: EdgeProps<PipelineFlowEdge>) {
  const [path, labelX, labelY] = getBezierPath({
    sourceX,
    sourceY,
    targetX,
    targetY,
    sourcePosition,
    targetPosition,
  });
  const shuffle = useRun((s) => s.figures?.edges[id]);
  const upstreamOut = useRun((s) => (s.figures ? (s.figures.nodes[source]?.outPerSec ?? 0) : null));
  const rate = shuffle ? shuffle.perSec : upstreamOut;
  if (rate === null) {
    return <BaseEdge id={id} path={path} markerEnd={markerEnd} style={style} interactionWidth={interactionWidth} />;
  }
  const flow = edgeFlow(shuffle);
  const backlog = shuffle?.backlog ?? null;
  const title = shuffle
    ? `${formatCount(Math.round(shuffle.perSec))} records/s over the shuffle from ${source}` +
      (backlog !== null ? `; ${formatCount(backlog)} entries not yet consumed` : "") +
      (shuffle.backpressured ? `; ${source} waited on the next stage` : "")
    : `${formatCount(Math.round(rate))} records/s out of ${source}`;
  return (
    <>
      <BaseEdge
        id={id}
        path={path}
        markerEnd={markerEnd}
        className={`edge-flow-${flow}`}
        style={{ ...style, strokeWidth: edgeWidth(rate) }}
        interactionWidth={interactionWidth}
      />
      <EdgeLabelRenderer>
        <div
          className={`edge-live edge-live-${flow} nodrag nopan`}
          style={{ transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)` }}
          title={title}
          data-testid={`edge-rate-${id}`}
        >
          <span className="edge-live-rate">{formatRate(rate)}</span>
          {/* Not by colour alone: a waiting edge names its backlog, a backpressured one says so. */}
          {backlog !== null && backlog > 0 ? <span> · {formatCompact(backlog)} queued</span> : null}
          {flow === "backpressured" ? <span className="edge-live-word"> · backpressured</span> : null}
        </div>
      </EdgeLabelRenderer>
    </>
  );
}

/** React Flow edge types: a module-level constant. Replaces the default curve, so every edge gets the overlay. */
export const edgeTypes = { default: memo(LiveEdgeView) };
