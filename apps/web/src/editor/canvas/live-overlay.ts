import type { EdgeFigureView, NodeFigureView, RunFiguresView } from "@sluice/pipeline/control/node-figures";

// What the canvas makes of a running pipeline's per-second figures (runs.figures): which nodes stand out as stalled,
// lagging or failing, and how thick and in which state each edge is drawn. Pure functions over the figures, a few
// seconds of memory per node and the pipeline's graph, so the rules are tested without a browser.

export type NodeCondition = "stalled" | "lagging" | "failing";

/** No records in or out for this long, while upstream has some to give, is a stall. */
export const STALL_AFTER_S = 10;
/** A node with errors in the last this many seconds is failing. */
const FAILING_FOR_S = 5;
/** Seconds of input lag kept to tell whether it grows. */
const LAG_TREND_S = 5;
/** A watermark may trail the pipeline's out-of-orderness by this much before the node counts as lagging. */
const WATERMARK_SLACK_MS = 30_000;

/** What the overlay remembers of a node between seconds. */
export interface NodeTrack {
  /** The last second the node took in or gave out records (or the first second seen). */
  activeSec: number;
  /** The last second it had errors, null when none since the overlay started. */
  errorSec: number | null;
  /** Its input lag over the last seconds that reported one, oldest first. */
  inputLags: readonly number[];
  /** A source's offset lag over the last seconds that reported one, oldest first. */
  offsetLags: readonly number[];
}

export function trackNode(prev: NodeTrack | undefined, figure: NodeFigureView, sec: number): NodeTrack {
  const active = figure.inPerSec > 0 || figure.outPerSec > 0;
  const inputLags =
    figure.inputLag === null
      ? (prev?.inputLags ?? [])
      : [...(prev?.inputLags ?? []), figure.inputLag].slice(-LAG_TREND_S);
  const offsetLags =
    figure.offsetLag === null
      ? (prev?.offsetLags ?? [])
      : [...(prev?.offsetLags ?? []), figure.offsetLag].slice(-LAG_TREND_S);
  return {
    activeSec: active || !prev ? sec : prev.activeSec,
    errorSec: figure.errPerSec > 0 ? sec : (prev?.errorSec ?? null),
    inputLags,
    offsetLags,
  };
}

/** A full window of lag that never shrinks and ends higher than it began. */
function lagGrowing(lags: readonly number[]): boolean {
  if (lags.length < LAG_TREND_S) return false;
  for (let i = 1; i < lags.length; i++) if (lags[i]! < lags[i - 1]!) return false;
  return lags[lags.length - 1]! > lags[0]!;
}

export interface ConditionContext {
  sec: number;
  /** The run is running (a paused or stopping run stalls on purpose). */
  running: boolean;
  /** The node has inputs: a source, bounded or not, never waits on anyone. */
  hasInput: boolean;
  /** An upstream node gave out records, or an incoming shuffle edge holds a backlog, this second. */
  upstreamBusy: boolean;
  /** The pipeline's out-of-orderness plus WATERMARK_SLACK_MS. */
  lagAllowanceMs: number;
}

/** Failing outranks stalled outranks lagging: the word shown is the one to act on first. */
export function nodeCondition(figure: NodeFigureView, track: NodeTrack, ctx: ConditionContext): NodeCondition | null {
  if (track.errorSec !== null && ctx.sec - track.errorSec < FAILING_FOR_S) return "failing";
  if (ctx.running && ctx.hasInput && ctx.upstreamBusy && ctx.sec - track.activeSec >= STALL_AFTER_S) {
    return "stalled";
  }
  if (figure.watermarkLagMs !== null && figure.watermarkLagMs > ctx.lagAllowanceMs) return "lagging";
  if (lagGrowing(track.inputLags) || offsetLagGrowing(track)) return "lagging";
  return null;
}

/** A source falls further behind its system second after second: the overlay colours its offset lag. */
export function offsetLagGrowing(track: NodeTrack | undefined): boolean {
  return track !== undefined && lagGrowing(track.offsetLags);
}

/** The graph the classification needs, taken from the draft when figures arrive. */
export interface OverlayGraph {
  /** Per node, the edges into it: the upstream node and the edge's id (`from.port->to.port`). */
  incoming: Readonly<Record<string, readonly { from: string; edge: string }[]>>;
  lagAllowanceMs: number;
}

export function overlayGraph(
  edges: readonly { id: string; source: string; target: string }[],
  maxOutOfOrderMs: number,
): OverlayGraph {
  const incoming: Record<string, { from: string; edge: string }[]> = {};
  for (const e of edges) {
    const into = incoming[e.target] ?? [];
    into.push({ from: e.source, edge: e.id });
    incoming[e.target] = into;
  }
  return { incoming, lagAllowanceMs: maxOutOfOrderMs + WATERMARK_SLACK_MS };
}

export interface NodeOverlay {
  tracks: Record<string, NodeTrack>;
  conditions: Record<string, NodeCondition>;
}

/** One more second of figures: every node's memory moves on, and the nodes that stand out are named. */
export function nextOverlay(
  prev: Readonly<Record<string, NodeTrack>>,
  view: Omit<RunFiguresView, "runId">,
  graph: OverlayGraph,
  running: boolean,
): NodeOverlay {
  const tracks: Record<string, NodeTrack> = {};
  const conditions: Record<string, NodeCondition> = {};
  for (const [id, figure] of Object.entries(view.nodes)) {
    const track = trackNode(prev[id], figure, view.sec);
    tracks[id] = track;
    const inputs = graph.incoming[id] ?? [];
    const upstreamBusy = inputs.some(
      ({ from, edge }) => (view.nodes[from]?.outPerSec ?? 0) > 0 || (view.edges[edge]?.backlog ?? 0) > 0,
    );
    const condition = nodeCondition(figure, track, {
      sec: view.sec,
      running,
      hasInput: inputs.length > 0,
      upstreamBusy,
      lagAllowanceMs: graph.lagAllowanceMs,
    });
    if (condition) conditions[id] = condition;
  }
  return { tracks, conditions };
}

const MIN_EDGE_WIDTH = 1.5;
const MAX_EDGE_WIDTH = 7;

/** An edge's stroke width for a rate: one more step per tenfold, from 1.5 px when idle to at most 7 px. */
export function edgeWidth(perSec: number): number {
  if (!(perSec > 0)) return MIN_EDGE_WIDTH;
  return Math.min(MAX_EDGE_WIDTH, MIN_EDGE_WIDTH + 1.1 * Math.log10(1 + perSec));
}

export type EdgeFlow = "normal" | "waiting" | "backpressured";

/** A shuffle edge whose producers waited is backpressured; one holding entries not yet consumed is waiting. */
export function edgeFlow(figure: EdgeFigureView | undefined): EdgeFlow {
  if (!figure) return "normal";
  if (figure.backpressured) return "backpressured";
  return (figure.backlog ?? 0) > 0 ? "waiting" : "normal";
}
