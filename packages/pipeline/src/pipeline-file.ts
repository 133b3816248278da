import { edgeKey, PipelineDefinition } from "./definition";

// Pipelines as code: the file `sluice export` writes and `sluice apply` reads. It is the definition with its keys in
// one fixed order (so the same pipeline is always the same bytes and a git diff shows only what changed), defaults
// written out, and one line the stored definition does not have: `metadata.version`, the version of the pipeline on
// the server the file was last in step with (its base). Nothing volatile (ids, timestamps, authors) is written.

/** The file's base version sits beside the definition's metadata; it is never stored in a definition. */
const FILE_VERSION_KEY = "version";

export type SplitFile = { ok: true; value: unknown; baseVersion: number | undefined } | { ok: false; message: string };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Takes `metadata.version` out of a parsed pipeline file: the rest is a definition to validate, the version is the
 * base `sluice apply` checks the server against. A file without one has no base (a pipeline new to the server).
 */
export function splitFileVersion(value: unknown): SplitFile {
  if (!isRecord(value) || !isRecord(value.metadata) || !(FILE_VERSION_KEY in value.metadata)) {
    return { ok: true, value, baseVersion: undefined };
  }
  const { [FILE_VERSION_KEY]: version, ...metadata } = value.metadata;
  if (typeof version !== "number" || !Number.isInteger(version) || version < 1) {
    return {
      ok: false,
      message: `metadata.version: the server version this file was exported from, a whole number from 1 (got ${JSON.stringify(version)})`,
    };
  }
  return { ok: true, value: { ...value, metadata }, baseVersion: version };
}

/** A JSON value with the keys of every object sorted: config, labels and ui blocks are free-form maps. */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (!isRecord(value)) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .filter((k) => value[k] !== undefined)
      .map((k) => [k, sortedKeys(value[k])]),
  );
}

/** The keys of `value` in the order given, then any others sorted; undefined ones left out. */
function ordered(value: Record<string, unknown>, order: readonly string[]): Record<string, unknown> {
  const rest = Object.keys(value)
    .filter((k) => !order.includes(k))
    .sort();
  return Object.fromEntries([...order, ...rest].filter((k) => value[k] !== undefined).map((k) => [k, value[k]]));
}

const SETTINGS_ORDER = [
  "parallelism",
  "delivery",
  "timeField",
  "maxOutOfOrder",
  "idleTimeout",
  "batchSize",
  "batchBytes",
  "deadLetterLimit",
] as const;

/**
 * The definition in the file's key order, with defaults written out: apiVersion, kind, metadata (name, title,
 * description, labels, version), spec (settings, parameters, nodes, edges, alerts), ui. Node and edge order is the
 * author's and kept. Config, labels and ui maps are sorted by key.
 */
export function canonicalFileValue(definition: PipelineDefinition, baseVersion?: number): Record<string, unknown> {
  const def = PipelineDefinition.parse(definition);
  const metadata = ordered(
    { ...def.metadata, labels: def.metadata.labels && sortedKeys(def.metadata.labels), version: baseVersion },
    ["name", "title", "description", "labels", FILE_VERSION_KEY],
  );
  const spec = ordered(
    {
      settings: ordered(def.spec.settings, SETTINGS_ORDER),
      parameters: def.spec.parameters.map((p) => ordered(p, ["name", "type", "default", "description"])),
      nodes: def.spec.nodes.map((n) =>
        ordered({ ...n, config: sortedKeys(n.config), ui: n.ui && sortedKeys(n.ui) }, [
          "id",
          "type",
          "version",
          "config",
          "ui",
        ]),
      ),
      edges: def.spec.edges.map((e) =>
        ordered({ ...e, ui: e.ui && sortedKeys(e.ui) }, ["from", "fromPort", "to", "toPort", "ui"]),
      ),
      alerts: def.spec.alerts && sortedKeys(def.spec.alerts),
    },
    ["settings", "parameters", "nodes", "edges", "alerts"],
  );
  return ordered({ ...def, metadata, spec, ui: def.ui && sortedKeys(def.ui) }, [
    "apiVersion",
    "kind",
    "metadata",
    "spec",
    "ui",
  ]);
}

/**
 * What `sluice apply` saves: the file's definition, with the server's `ui` blocks kept wherever the file has none, so
 * a file kept without positions does not throw away the layout people made in the editor.
 */
export function withServerUi(file: PipelineDefinition, server: PipelineDefinition): PipelineDefinition {
  const nodeUi = new Map(server.spec.nodes.map((n) => [n.id, n.ui]));
  const edgeUi = new Map(server.spec.edges.map((e) => [edgeKey(e), e.ui]));
  const ui = file.ui ?? server.ui;
  return {
    ...file,
    ...(ui ? { ui } : {}),
    spec: {
      ...file.spec,
      nodes: file.spec.nodes.map((n) => {
        const kept = n.ui ?? nodeUi.get(n.id);
        return kept ? { ...n, ui: kept } : n;
      }),
      edges: file.spec.edges.map((e) => {
        const kept = e.ui ?? edgeUi.get(edgeKey(e));
        return kept ? { ...e, ui: kept } : e;
      }),
    },
  };
}
