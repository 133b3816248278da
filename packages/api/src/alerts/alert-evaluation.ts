import { type AlertRule, DEFAULT_ALERT_WINDOW_MS } from "@sluice/pipeline/alert-rules";
import type { RunFigures } from "@sluice/pipeline/control/node-figures";
import type { RunStatus } from "@sluice/pipeline/control/run-status";
import { formatDuration, parseDuration } from "@sluice/pipeline/duration";

// Whether one alert rule holds for one run, from what the evaluator read: pure, so every kind is unit-tested over
// made-up figures. A rule that needs records to flow (noData, runStalled) measures from the later of the run's start
// and the last second anything moved, which the evaluator keeps on the alert's row between passes.

export interface RuleInputs {
  status: RunStatus;
  nowMs: number;
  /** When the run started; null while it has not. */
  startedAtMs: number | null;
  /** When the watched node (noData) or any node (runStalled) last moved records; null when never seen. */
  lastActiveMs: number | null;
  /** The run's error text, for runFailed. */
  error: string | null;
  /** Figures of the last few seconds, merged. */
  recent: RunFigures;
  /** Figures over the rule's window (errorRate), merged. */
  windowed: RunFigures;
  /** Nodes without outgoing edges: what "the pipeline's output" means for a noData rule without a node. */
  sinks: readonly string[];
  /** Incoming edge ids (fused-stage.ts's `from.port->to.port`) per node, for backlogAbove on a node. */
  edgesInto: (node: string) => string[];
}

export interface RuleVerdict {
  firing: boolean;
  /** The figure compared; null where there was nothing to compare. */
  value: number | null;
  /** A sentence about the pipeline, for the inbox and webhooks. */
  summary: string;
}

/** The error-rate window of a rule, ms. */
export function ruleWindowMs(rule: AlertRule): number {
  return rule.window !== undefined ? (parseDuration(rule.window) ?? DEFAULT_ALERT_WINDOW_MS) : DEFAULT_ALERT_WINDOW_MS;
}

const durationOf = (rule: AlertRule) => (rule.duration !== undefined ? (parseDuration(rule.duration) ?? 0) : 0);

/** The nodes a rule watches: its node, or `fallback` (all nodes seen, or the sinks). */
function watched(rule: AlertRule, fallback: readonly string[]): readonly string[] {
  return rule.node !== undefined ? [rule.node] : fallback;
}

const where = (rule: AlertRule, whole: string) => (rule.node !== undefined ? `node "${rule.node}"` : whole);

/** Records out (or, for a sink, in) that `nodes` moved in `figures`. */
function recordsMoved(figures: RunFigures, nodes: readonly string[]): number {
  let n = 0;
  for (const id of nodes) {
    const f = figures.nodes[id];
    if (f) n += Math.max(f.out, f.in);
  }
  return n;
}

/** Every node that reported figures. */
const allNodes = (figures: RunFigures) => Object.keys(figures.nodes);

export function evaluateRule(rule: AlertRule, x: RuleInputs): RuleVerdict {
  const running = x.status === "running";
  switch (rule.when) {
    case "runFailed":
      return x.status === "failed"
        ? {
            firing: true,
            value: null,
            summary: `The run failed${x.error ? `: ${x.error.replace(/[.\s]+$/, "")}` : ""}.`,
          }
        : { firing: false, value: null, summary: "The run is no longer failed." };
    case "noData":
    case "runStalled": {
      const span = durationOf(rule);
      const quietSince = Math.max(x.lastActiveMs ?? 0, x.startedAtMs ?? x.nowMs);
      const quietMs = Math.max(0, x.nowMs - quietSince);
      const firing = running && quietMs >= span;
      const quiet =
        rule.when === "runStalled"
          ? "No node has moved records"
          : `${capitalize(where(rule, "the pipeline's sinks"))} ${rule.node !== undefined ? "has" : "have"} not put out records`;
      return firing
        ? {
            firing,
            value: quietMs,
            summary: `${quiet} for ${shown(quietMs)} (the rule allows ${formatDuration(span)}).`,
          }
        : {
            firing,
            value: quietMs,
            summary: running ? `${capitalize(subjectAgain(rule))} moving records again.` : "The run is not running.",
          };
    }
    case "errorRate": {
      const seconds = Math.max(1, Math.round(ruleWindowMs(rule) / 1000));
      let errors = 0;
      for (const id of watched(rule, allNodes(x.windowed))) errors += x.windowed.nodes[id]?.err ?? 0;
      const rate = errors / seconds;
      const threshold = rule.threshold ?? 0;
      const firing = running && rate > threshold;
      return {
        firing,
        value: rate,
        summary: firing
          ? `${capitalize(where(rule, "the pipeline"))} had ${round(rate)} errors per second over the last ${formatDuration(seconds * 1000)} (the rule allows ${threshold}).`
          : `${capitalize(where(rule, "the pipeline"))} is at ${round(rate)} errors per second, within the rule's ${threshold}.`,
      };
    }
    case "lagAbove": {
      const limit = durationOf(rule);
      let worst: number | null = null;
      const endOfSecond = (x.recent.toSec + 1) * 1000;
      for (const id of watched(rule, allNodes(x.recent))) {
        const wm = x.recent.nodes[id]?.watermark;
        if (wm === null || wm === undefined) continue;
        const lag = Math.max(0, endOfSecond - wm);
        worst = worst === null ? lag : Math.max(worst, lag);
      }
      const firing = running && worst !== null && worst > limit;
      return {
        firing,
        value: worst,
        summary: firing
          ? `${capitalize(where(rule, "the pipeline"))}'s watermark trails by ${shown(worst!)} (the rule allows ${formatDuration(limit)}).`
          : `${capitalize(where(rule, "the pipeline"))}'s watermark is within ${formatDuration(limit)}.`,
      };
    }
    case "backlogAbove": {
      const edges = rule.node !== undefined ? x.edgesInto(rule.node) : Object.keys(x.recent.edges);
      let worst: number | null = null;
      for (const id of edges) {
        const b = x.recent.edges[id]?.backlog;
        if (b === null || b === undefined) continue;
        worst = worst === null ? b : Math.max(worst, b);
      }
      const threshold = rule.threshold ?? 0;
      const firing = running && worst !== null && worst > threshold;
      const subject = rule.node !== undefined ? `the edges into node "${rule.node}"` : "a shuffle edge";
      return {
        firing,
        value: worst,
        summary: firing
          ? `${capitalize(subject)} hold${rule.node !== undefined ? "" : "s"} a backlog of ${worst} entries (the rule allows ${threshold}).`
          : `${capitalize(subject)} ${rule.node !== undefined ? "are" : "is"} within the rule's backlog of ${threshold}.`,
      };
    }
  }
}

function subjectAgain(rule: AlertRule): string {
  if (rule.when === "runStalled") return "the run is";
  return rule.node !== undefined ? `node "${rule.node}" is` : "the pipeline's sinks are";
}

/** A measured span in whole seconds ("73s", not "73123ms"). */
const shown = (ms: number) => formatDuration(ms >= 1000 ? Math.floor(ms / 1000) * 1000 : Math.round(ms));
const capitalize = (s: string) => (s.length > 0 ? s[0]!.toUpperCase() + s.slice(1) : s);
const round = (n: number) => (n >= 10 ? Math.round(n) : Math.round(n * 100) / 100);

/**
 * The end (epoch ms) of the newest of `seconds` (each one second's figures) in which the nodes the rule watches moved
 * records: any node for runStalled, the rule's node or else the sinks for noData. Null when none did.
 */
export function lastActiveMs(rule: AlertRule, seconds: readonly RunFigures[], sinks: readonly string[]): number | null {
  let last: number | null = null;
  for (const second of seconds) {
    const nodes = rule.when === "runStalled" ? allNodes(second) : watched(rule, sinks);
    if (recordsMoved(second, nodes) > 0) last = Math.max(last ?? 0, (second.toSec + 1) * 1000);
  }
  return last;
}
