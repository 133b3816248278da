import type { RunFiguresView } from "@sluice/pipeline/control/node-figures";
import type { Line } from "@/charts/chart-data";

// The live range of a run's charts: history (rolled-up buckets) and the live seconds of runs.figures after it. When
// the SSE connection drops, the client subscribes again naming the last second it got (trpc/subscription-retry.ts),
// and the server sends the missed seconds it still keeps (5 min) before the live ones; the history is read again. What
// neither has is drawn as a hole, never bridged by a straight line.

/** The seconds kept, newest last, each once: `view` put in its place, and seconds older than `keep` before it dropped. */
export function addSecond(seconds: readonly RunFiguresView[], view: RunFiguresView, keep: number): RunFiguresView[] {
  const newest = Math.max(view.sec, seconds.at(-1)?.sec ?? view.sec);
  const out = seconds.filter((s) => s.sec !== view.sec && s.sec > newest - keep);
  if (view.sec <= newest - keep) return out;
  let at = out.length;
  while (at > 0 && out[at - 1]!.sec > view.sec) at--;
  out.splice(at, 0, view);
  return out;
}

/**
 * A history line with the live seconds later than its last bucket appended (the history's buckets are `bucketMs`
 * wide, so the seconds inside its last bucket are left to it). Where seconds are missing — between the history's
 * end and the first live second, or between two live seconds — a null point one second after the last known one
 * makes the chart show a gap.
 */
export function withLiveSeconds(
  line: Line,
  seconds: readonly { t: number; value: number | null }[],
  bucketMs: number,
): Line {
  const historyEnd = line.t.length > 0 ? line.t[line.t.length - 1]! + bucketMs - 1000 : undefined;
  const later = historyEnd === undefined ? seconds : seconds.filter((s) => s.t > historyEnd);
  if (later.length === 0) return line;
  const t = [...line.t];
  const values = [...line.values];
  let known = historyEnd;
  for (const s of later) {
    if (known !== undefined && s.t - known > 1000) {
      t.push(known + 1000);
      values.push(null);
    }
    t.push(s.t);
    values.push(s.value);
    known = s.t;
  }
  return { label: line.label, t, values };
}
