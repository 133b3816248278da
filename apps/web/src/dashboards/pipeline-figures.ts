import type { RunFiguresView } from "@sluice/pipeline/control/node-figures";
import type { ChartColumns } from "@/charts/chart-data";

// What a PIPELINE_FIGURES tile shows of a run's live seconds (runs.figures): records a second in (what its sources
// put out) and out (what its sinks took in), how far behind it is, and the last minutes as a two-line sparkline.

export interface PipelineEndpoints {
  sourceIds: readonly string[];
  sinkIds: readonly string[];
}

export interface PipelineSecond {
  inPerSec: number;
  outPerSec: number;
  /** The largest event-time lag of any node, ms; null when no node keeps a watermark. */
  lagMs: number | null;
  /** Records waiting on the shuffle edges plus what the sources are behind, where they say; null when none says. */
  backlog: number | null;
}

const sum = (values: readonly number[]) => values.reduce((s, v) => s + v, 0);

export function pipelineSecond(view: RunFiguresView, ends: PipelineEndpoints): PipelineSecond {
  const node = (id: string) => view.nodes[id];
  const lags = Object.values(view.nodes).flatMap((n) => (n.watermarkLagMs === null ? [] : [n.watermarkLagMs]));
  const waiting = [
    ...Object.values(view.edges).flatMap((e) => (e.backlog === null ? [] : [e.backlog])),
    ...ends.sourceIds.flatMap((id) => {
      const n = node(id);
      return n?.inputLag != null ? [n.inputLag] : [];
    }),
  ];
  return {
    inPerSec: sum(ends.sourceIds.map((id) => node(id)?.outPerSec ?? 0)),
    outPerSec: sum(ends.sinkIds.map((id) => node(id)?.inPerSec ?? 0)),
    lagMs: lags.length > 0 ? Math.max(...lags) : null,
    backlog: waiting.length > 0 ? sum(waiting) : null,
  };
}

/** The sparkline's columns: epoch seconds, records in a second, records out a second. */
export function sparkline(seconds: readonly RunFiguresView[], ends: PipelineEndpoints): ChartColumns {
  const t: number[] = [];
  const ins: (number | null)[] = [];
  const outs: (number | null)[] = [];
  for (const view of seconds) {
    const s = pipelineSecond(view, ends);
    t.push(view.sec);
    ins.push(s.inPerSec);
    outs.push(s.outPerSec);
  }
  return [t, ins, outs];
}
