import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createMetricsRegistry, type MetricsDeps } from "./fleet-metrics";

// docs/grafana/sluice-dashboard.json charts what GET /api/metrics serves: every metric and label its PromQL names
// must be one the endpoint's registry has, so renaming or dropping a metric fails here instead of leaving a blank
// panel on someone's wall.

interface Target {
  expr?: string;
}
interface Panel {
  title?: string;
  type: string;
  targets?: Target[];
  panels?: Panel[];
}
interface Variable {
  name: string;
  type: string;
  query?: string | { query?: string };
  definition?: string;
}
interface Dashboard {
  panels: Panel[];
  templating: { list: Variable[] };
}

const dashboard = JSON.parse(
  readFileSync(new URL("../../../../docs/grafana/sluice-dashboard.json", import.meta.url), "utf8"),
) as Dashboard;

// Collectors read only when scraped: the registry lists its metrics without touching these dependencies.
const registry = createMetricsRegistry({} as MetricsDeps);
// prom-client keeps each metric's label names on the metric object; its type does not declare them.
const registered = new Map(
  registry
    .getMetricsAsArray()
    .map((m) => [m.name, new Set<string>((m as { labelNames?: readonly string[] }).labelNames ?? [])]),
);

const KEYWORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "bool",
  "and",
  "or",
  "unless",
  "offset",
]);

interface Reference {
  metric: string;
  labels: string[];
}

/** The metrics a PromQL expression reads, each with the label names its selector matches on. */
function references(expr: string): { metrics: Reference[]; grouping: string[] } {
  const metrics: Reference[] = [];
  const grouping: string[] = [];
  // String literals first: they may hold anything, braces included.
  let rest = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  rest = rest.replace(/([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^}]*)\}/g, (_, name: string | undefined, matchers: string) => {
    const labels = matchers
      .split(",")
      .map((m) => m.trim().match(/^([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)/)?.[1])
      .filter((l): l is string => l !== undefined);
    if (name && !KEYWORDS.has(name)) metrics.push({ metric: name, labels });
    return " ";
  });
  rest = rest.replace(/\[[^\]]*\]/g, " ");
  rest = rest.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g, (_, _k, names: string) => {
    grouping.push(
      ...names
        .split(",")
        .map((n) => n.trim())
        .filter(Boolean),
    );
    return " ";
  });
  for (const m of rest.matchAll(/\$?[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?/g)) {
    const [token, call] = [m[0].replace(/\s*\($/, ""), m[1]];
    if (call || token.startsWith("$") || KEYWORDS.has(token)) continue;
    metrics.push({ metric: token, labels: [] });
  }
  return { metrics, grouping };
}

function panelsOf(panels: readonly Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...panelsOf(p.panels ?? [])]);
}

const expressions = panelsOf(dashboard.panels).flatMap((p) =>
  (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr ?? "" })),
);

/** A query variable's label_values(<selector>, <label>): the selector is PromQL, the label must be one of its. */
const variables = dashboard.templating.list
  .filter((v) => v.type === "query")
  .map((v) => {
    const query = typeof v.query === "string" ? v.query : (v.query?.query ?? v.definition ?? "");
    const m = query.match(/^label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$/);
    return { name: v.name, query, selector: m?.[1], label: m?.[2] };
  });

describe("docs/grafana/sluice-dashboard.json", () => {
  it("has PromQL to check, and the registry has metrics to check it against", () => {
    expect(expressions.length).toBeGreaterThan(10);
    expect(expressions.every((e) => e.expr.trim() !== "")).toBe(true);
    expect(registered.size).toBeGreaterThan(5);
  });

  it.each(expressions)("$where reads only metrics and labels /api/metrics registers", ({ expr }) => {
    const { metrics, grouping } = references(expr);
    expect(metrics.length).toBeGreaterThan(0);
    const labelsOfExpr = new Set<string>();
    for (const { metric, labels } of metrics) {
      expect(registered.has(metric), `${metric} is not a metric of /api/metrics`).toBe(true);
      const known = registered.get(metric)!;
      for (const l of known) labelsOfExpr.add(l);
      for (const l of labels) expect(known.has(l), `${metric} has no label ${l}`).toBe(true);
    }
    for (const l of grouping) expect(labelsOfExpr.has(l), `no metric of the expression has the label ${l}`).toBe(true);
  });

  it("offers pipeline and run as variables whose values come from registered labels", () => {
    expect(variables.map((v) => v.name)).toEqual(expect.arrayContaining(["pipeline", "run"]));
    for (const v of variables) {
      expect(v.selector, `variable ${v.name} is not label_values(…): ${v.query}`).toBeDefined();
      const { metrics } = references(v.selector!);
      expect(metrics.length).toBe(1);
      const known = registered.get(metrics[0]!.metric);
      expect(known, `variable ${v.name}: ${metrics[0]!.metric} is not a metric of /api/metrics`).toBeDefined();
      expect(known!.has(v.label!), `variable ${v.name}: ${metrics[0]!.metric} has no label ${v.label}`).toBe(true);
    }
  });

  it("catches a metric that does not exist (the check itself can fail)", () => {
    const { metrics } = references('sum by (node) (rate(sluice_no_such_total{node="a"}[5m])) + up');
    expect(metrics.map((m) => m.metric)).toEqual(["sluice_no_such_total", "up"]);
    expect(metrics.some((m) => registered.has(m.metric))).toBe(false);
  });
});
