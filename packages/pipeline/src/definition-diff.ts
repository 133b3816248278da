import { edgeKey, PipelineDefinition } from "./definition";

// What changes between two versions of a pipeline, by meaning: node ids added, removed or changed (with the config
// keys that changed), edges added or removed, and the settings, parameters, alert rules and metadata that changed.
// `ui` blocks (positions, labels, notes) never change what a pipeline does, so they are not compared; defaults count
// as written (a file that leaves out `parallelism: 4` says the same as one that writes it).

export interface NodeChange {
  id: string;
  /** "type", "version", or `config.<key>` for each top-level config key that differs. */
  keys: string[];
}

export interface DefinitionDiff {
  nodes: { added: string[]; removed: string[]; changed: NodeChange[] };
  edges: { added: string[]; removed: string[] };
  /** Setting names whose values differ. */
  settings: string[];
  /** Parameter names added, removed or changed. */
  parameters: string[];
  /** Alert rule ids added, removed or changed. */
  alerts: string[];
  /** metadata keys that differ (name, title, description, labels). */
  metadata: string[];
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === "object" && v !== null && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, (v as Record<string, unknown>)[k]]),
        )
      : v,
  );
}

const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);

/** Keys of two maps whose values differ (present in one only counts), sorted. */
function changedKeys(a: Record<string, unknown> | undefined, b: Record<string, unknown> | undefined): string[] {
  const left = a ?? {};
  const right = b ?? {};
  return [...new Set([...Object.keys(left), ...Object.keys(right)])].filter((k) => !same(left[k], right[k])).sort();
}

/** Entries of two lists matched by key: which were added, removed, or differ. */
function byKey<T>(before: readonly T[], after: readonly T[], key: (item: T) => string) {
  const old = new Map(before.map((item) => [key(item), item]));
  const now = new Map(after.map((item) => [key(item), item]));
  return {
    added: [...now.keys()].filter((k) => !old.has(k)),
    removed: [...old.keys()].filter((k) => !now.has(k)),
    both: [...now.keys()].filter((k) => old.has(k)).map((k) => [k, old.get(k) as T, now.get(k) as T] as const),
  };
}

function edgeText(e: PipelineDefinition["spec"]["edges"][number]): string {
  const from = e.fromPort ? `${e.from}.${e.fromPort}` : e.from;
  const to = e.toPort ? `${e.to}.${e.toPort}` : e.to;
  return `${from} → ${to}`;
}

export function diffDefinitions(before: PipelineDefinition, after: PipelineDefinition): DefinitionDiff {
  const a = PipelineDefinition.parse(before);
  const b = PipelineDefinition.parse(after);
  const nodes = byKey(a.spec.nodes, b.spec.nodes, (n) => n.id);
  const changed: NodeChange[] = [];
  for (const [id, old, now] of nodes.both) {
    const keys = [
      ...(old.type !== now.type ? ["type"] : []),
      ...(old.version !== now.version ? ["version"] : []),
      ...changedKeys(old.config, now.config).map((k) => `config.${k}`),
    ];
    if (keys.length > 0) changed.push({ id, keys });
  }
  const edges = byKey(a.spec.edges, b.spec.edges, edgeKey);
  const edgeByKey = new Map([...a.spec.edges, ...b.spec.edges].map((e) => [edgeKey(e), e]));
  const parameters = byKey(a.spec.parameters, b.spec.parameters, (p) => p.name);
  const alerts = byKey(a.spec.alerts ?? [], b.spec.alerts ?? [], (r) => r.id);
  const { labels: labelsA, ...metaA } = a.metadata;
  const { labels: labelsB, ...metaB } = b.metadata;
  return {
    nodes: { added: nodes.added, removed: nodes.removed, changed },
    edges: {
      added: edges.added.map((k) => edgeText(edgeByKey.get(k) as (typeof b.spec.edges)[number])),
      removed: edges.removed.map((k) => edgeText(edgeByKey.get(k) as (typeof a.spec.edges)[number])),
    },
    settings: changedKeys(a.spec.settings, b.spec.settings),
    parameters: [
      ...parameters.added,
      ...parameters.removed,
      ...parameters.both.filter(([, x, y]) => !same(x, y)).map(([k]) => k),
    ].sort(),
    alerts: [
      ...alerts.added,
      ...alerts.removed,
      ...alerts.both.filter(([, x, y]) => !same(x, y)).map(([k]) => k),
    ].sort(),
    metadata: [...changedKeys(metaA, metaB), ...(same(labelsA ?? {}, labelsB ?? {}) ? [] : ["labels"])].sort(),
  };
}

export function isEmptyDiff(diff: DefinitionDiff): boolean {
  return (
    diff.nodes.added.length +
      diff.nodes.removed.length +
      diff.nodes.changed.length +
      diff.edges.added.length +
      diff.edges.removed.length +
      diff.settings.length +
      diff.parameters.length +
      diff.alerts.length +
      diff.metadata.length ===
    0
  );
}

/** One line per change, `+` added, `-` removed, `~` changed, as `sluice plan` prints them. */
export function diffLines(diff: DefinitionDiff, before: PipelineDefinition, after: PipelineDefinition): string[] {
  const typeOf = (def: PipelineDefinition, id: string) => def.spec.nodes.find((n) => n.id === id)?.type ?? "?";
  return [
    ...diff.nodes.added.map((id) => `+ node ${id} (${typeOf(after, id)})`),
    ...diff.nodes.removed.map((id) => `- node ${id} (${typeOf(before, id)})`),
    ...diff.nodes.changed.map((c) => `~ node ${c.id}: ${c.keys.join(", ")}`),
    ...diff.edges.added.map((e) => `+ edge ${e}`),
    ...diff.edges.removed.map((e) => `- edge ${e}`),
    ...(diff.settings.length > 0 ? [`~ settings: ${diff.settings.join(", ")}`] : []),
    ...(diff.parameters.length > 0 ? [`~ parameters: ${diff.parameters.join(", ")}`] : []),
    ...(diff.alerts.length > 0 ? [`~ alerts: ${diff.alerts.join(", ")}`] : []),
    ...(diff.metadata.length > 0 ? [`~ metadata: ${diff.metadata.join(", ")}`] : []),
  ];
}
