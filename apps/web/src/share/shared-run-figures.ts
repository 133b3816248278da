import type { NodeFigureView, RunFiguresView } from "@sluice/pipeline/control/node-figures";
import type { NodeCounters } from "@sluice/pipeline/control/protocol";
import { formatCompact, formatLag, formatOffsetLag, formatRate } from "../lib/format";

// What a shared live view draws on each node and lists in its totals, from one second of the run's figures
// (shares.figures, the same view as runs.figures) or, before the first second or after the run, its stored counters.

/** A node's badges for one second: records in and out a second, errors, and how far behind it is where it says. */
export function nodeFigureBadges(figure: NodeFigureView): string[] {
  const badges = [`${formatRate(figure.inPerSec)} in`, `${formatRate(figure.outPerSec)} out`];
  if (figure.errPerSec > 0) badges.push(`${formatRate(figure.errPerSec)} errors`);
  else if (figure.totalErr > 0) badges.push(`${formatCompact(figure.totalErr)} errors`);
  if (figure.watermarkLagMs !== null && figure.watermark !== null)
    badges.push(`${formatLag(figure.watermarkLagMs)} lag`);
  if (figure.offsetLag !== null && figure.offsetLagUnit !== null) {
    badges.push(`${formatOffsetLag(figure.offsetLag, figure.offsetLagUnit)} behind`);
  } else if (figure.inputLag !== null && figure.inputLag > 0) {
    badges.push(`${formatCompact(figure.inputLag)} behind`);
  }
  return badges;
}

/** Badges for every node: from the newest second when there is one, else the run's counted totals. */
export function runBadges(
  view: RunFiguresView | null,
  counters: Readonly<Record<string, NodeCounters>> | null,
): Record<string, string[]> {
  if (view) return Object.fromEntries(Object.entries(view.nodes).map(([id, f]) => [id, nodeFigureBadges(f)]));
  const badges: Record<string, string[]> = {};
  for (const [id, c] of Object.entries(counters ?? {})) {
    const node = [`${formatCompact(c.in)} in`, `${formatCompact(c.out)} out`];
    if (c.errors > 0) node.push(`${formatCompact(c.errors)} errors`);
    badges[id] = node;
  }
  return badges;
}

/** Totals per node for the table: the newest second's running totals, else the run's stored counters. */
export function runTotals(
  view: RunFiguresView | null,
  counters: Readonly<Record<string, NodeCounters>> | null,
): Record<string, NodeCounters> {
  if (!view) return { ...counters };
  return Object.fromEntries(
    Object.entries(view.nodes).map(([id, f]) => [id, { in: f.totalIn, out: f.totalOut, errors: f.totalErr }]),
  );
}
