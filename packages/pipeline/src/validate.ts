import type { z } from "zod";
import { configJsonSchema } from "./config-schema";
import { connectionRefs } from "./connection-definition";
import {
  DEFAULT_IN_PORT,
  DEFAULT_OUT_PORT,
  edgeKey,
  type PipelineDefinition,
  PipelineDefinition as PipelineDefinitionSchema,
  type PipelineParameter,
} from "./definition";
import { upgradeDefinition } from "./definition-upgrades";
import { EXPR_LIMITS, withFoldAllowance } from "./expr/limits";
import { buildGraph, findCycle, reachable, topologicalOrder } from "./graph";
import { DEFINITION_SUBJECTS, type IssueSentence, parseOptions, zodIssueSentences } from "./issue-sentences";
import type { ValidationIssue } from "./issues";
import { type AnyNodeDefinition, type InferResult, type NodeCatalog, portsOf } from "./node-definition";
import {
  bindParameters,
  expressionParameters,
  type ParameterValue,
  parameterDeclarationProblems,
  parameterRefs,
} from "./parameters";
import type { RecordSchema } from "./record-schema";
import { mergeSchemas } from "./schema-merge";
import { closestName } from "./suggest";

// validate() never throws, whatever it is given: every problem becomes an issue with a code, a message and,
// where it can, the node, edge and path it concerns.

export interface ValidationResult {
  issues: ValidationIssue[];
  /** The parsed definition (defaults applied) when its structure is sound. */
  definition?: PipelineDefinition;
  /** Inferred record schema per node and output port. */
  schemas: Record<string, Record<string, RecordSchema>>;
  /** Each node's parsed config (zod output) where it is valid. */
  configs: Record<string, unknown>;
}

type Path = (string | number)[];

// The file format's own schema, so structural problems name their place as the settings form does.
const pipelineSchema = { config: PipelineDefinitionSchema };

function structureIssues(error: z.ZodError, input: unknown): ValidationIssue[] {
  const root = configJsonSchema(pipelineSchema);
  const spec = (root.properties?.spec ?? {}) as typeof root;
  const inSpec = error.issues.filter((i) => i.path[0] === "spec");
  const outside = error.issues.filter((i) => i.path[0] !== "spec");
  const specInput = (input as { spec?: unknown } | null)?.spec;
  return [
    ...zodIssueSentences(outside, root, input, DEFINITION_SUBJECTS.pipeline, DEFINITION_SUBJECTS),
    ...zodIssueSentences(
      inSpec.map((i) => ({ ...i, path: i.path.slice(1) })),
      { ...spec, $defs: root.$defs },
      specInput,
      DEFINITION_SUBJECTS.spec,
    ).map((i) => ({ ...i, path: ["spec", ...i.path] })),
  ].map((i) => attribute({ severity: "error", code: "schema", message: i.message, path: i.path }, input));
}

/** Attributes structural errors under spec.nodes[i] / spec.edges[i] to the node or edge they concern. */
function attribute(issue: ValidationIssue, input: unknown): ValidationIssue {
  const [a, b, index] = issue.path ?? [];
  if (a !== "spec" || typeof index !== "number") return issue;
  if (b === "edges") return { ...issue, edgeIndex: index };
  if (b !== "nodes") return issue;
  const nodes = (input as { spec?: { nodes?: unknown } })?.spec?.nodes;
  const node = Array.isArray(nodes) ? (nodes[index] as { id?: unknown } | undefined) : undefined;
  return typeof node?.id === "string" ? { ...issue, nodeId: node.id } : issue;
}

export interface ValidateOptions {
  /** Parameter values of a run; declared defaults fill the rest. Without them, defaults only. */
  parameters?: Readonly<Record<string, ParameterValue>>;
  /**
   * The connections a run could use, name → connection type. When given, every connection a node names must be
   * one of them and of the type its field asks for. Without it, connection names are not checked.
   */
  connections?: Readonly<Record<string, string>>;
}

export type Validator = (input: unknown, options?: ValidateOptions) => ValidationResult;

/** A small LRU map: the validator's memory stays bounded however long an editor session runs. */
class Lru<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly max: number) {}
  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as K);
  }
}

type ParsedConfig = { ok: true; data: unknown } | { ok: false; issues: IssueSentence[] };

/**
 * A validator that remembers per-node work between calls: a node whose config and input schemas did not change
 * is not parsed or inferred again, so editing one node re-checks that node and what lies downstream of it.
 */
export function createValidator(catalog: NodeCatalog, cacheSize = 20_000): Validator {
  const configs = new Lru<string, ParsedConfig>(cacheSize);
  const inferred = new Lru<string, InferResult>(cacheSize);
  const merged = new Lru<string, RecordSchema>(cacheSize);
  const ids = new WeakMap<RecordSchema, number>();
  let nextId = 1;
  const schemaId = (schema: RecordSchema) => {
    let id = ids.get(schema);
    if (id === undefined) {
      id = nextId++;
      ids.set(schema, id);
    }
    return id;
  };
  const memo: Memo = {
    parse(def, config) {
      const key = `${def.type}@${def.version}|${JSON.stringify(config)}`;
      let hit = configs.get(key);
      if (!hit) {
        const r = def.config.safeParse(config, parseOptions);
        hit = r.success
          ? { ok: true, data: r.data }
          : { ok: false, issues: zodIssueSentences(r.error.issues, configJsonSchema(def), config, def.title) };
        configs.set(key, hit);
      }
      return { key, parsed: hit };
    },
    merge(list) {
      if (list.length === 1) return list[0]!;
      const key = list.map(schemaId).join(",");
      let hit = merged.get(key);
      if (!hit) {
        hit = mergeSchemas(list);
        merged.set(key, hit);
      }
      return hit;
    },
    infer(configKey, context, inputs, run) {
      const key = `${configKey}|${context}|${Object.entries(inputs)
        .map(([port, schema]) => `${port}:${schemaId(schema)}`)
        .sort()
        .join(",")}`;
      let hit = inferred.get(key);
      if (!hit) {
        hit = run();
        inferred.set(key, hit);
      }
      return hit;
    },
  };
  return (input, options = {}) => {
    const result: ValidationResult = { issues: [], schemas: {}, configs: {} };
    try {
      // Folding constants runs expressions in the caller's process (the web app's, when the API validates).
      withFoldAllowance(EXPR_LIMITS.maxFoldWorkPerValidation, () => check(input, catalog, result, memo, options));
    } catch (err) {
      // A node's own infer() threw: a bug in that node type, reported rather than crashing the caller.
      result.issues.push({
        severity: "error",
        code: "internal",
        message: `validation failed unexpectedly: ${err instanceof Error ? err.message : String(err)}`,
      });
    }
    return result;
  };
}

interface Memo {
  parse(def: AnyNodeDefinition, config: unknown): { key: string; parsed: ParsedConfig };
  merge(list: RecordSchema[]): RecordSchema;
  infer(configKey: string, context: string, inputs: Record<string, RecordSchema>, run: () => InferResult): InferResult;
}

/** One-off validation (no memory between calls). Editors should keep a createValidator() instance instead. */
export function validate(input: unknown, catalog: NodeCatalog, options?: ValidateOptions): ValidationResult {
  return createValidator(catalog, 1000)(input, options);
}

const WHOLE_REF = /^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/;

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let v = value;
  for (const key of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

/** The connections a node names exist, with the type each field asks for. */
function checkConnections(
  nodeId: string,
  nodeDef: AnyNodeDefinition,
  config: unknown,
  connections: Readonly<Record<string, string>>,
  issues: ValidationIssue[],
): void {
  for (const ref of connectionRefs(nodeDef, config)) {
    // A {{parameter}} without a value yet names its connection when the run starts.
    if (ref.name.includes("{{")) continue;
    const path = ["config", ...ref.path];
    const type = Object.hasOwn(connections, ref.name) ? connections[ref.name] : undefined;
    if (type === undefined) {
      const suggestion = closestName(ref.name, Object.keys(connections));
      issues.push({
        severity: "error",
        code: "unknown-connection",
        message: `there is no connection named "${ref.name}"`,
        nodeId,
        path,
        ...(suggestion ? { suggestion } : {}),
      });
    } else if (ref.type !== undefined && type !== ref.type) {
      const suggestion = closestName(
        ref.name,
        Object.keys(connections).filter((name) => connections[name] === ref.type),
      );
      issues.push({
        severity: "error",
        code: "connection-type",
        message: `connection "${ref.name}" is a ${type} connection; ${nodeDef.title} needs a ${ref.type} connection`,
        nodeId,
        path,
        ...(suggestion ? { suggestion } : {}),
      });
    }
  }
}

/** Each alert rule's webhook connection exists and is a webhook connection. */
function checkAlertConnections(
  rules: readonly { id: string; connection?: string | undefined }[],
  connections: Readonly<Record<string, string>>,
  issues: ValidationIssue[],
): void {
  rules.forEach((rule, index) => {
    if (rule.connection === undefined) return;
    const path: Path = ["spec", "alerts", index, "connection"];
    const type = Object.hasOwn(connections, rule.connection) ? connections[rule.connection] : undefined;
    if (type === "webhook") return;
    const suggestion = closestName(
      rule.connection,
      Object.keys(connections).filter((name) => connections[name] === "webhook"),
    );
    issues.push({
      severity: "error",
      code: type === undefined ? "unknown-connection" : "connection-type",
      message:
        type === undefined
          ? `alert rule "${rule.id}": there is no connection named "${rule.connection}"`
          : `alert rule "${rule.id}": connection "${rule.connection}" is a ${type} connection; a rule needs a webhook connection`,
      path,
      ...(suggestion ? { suggestion } : {}),
    });
  });
}

const knownConnectorTypes = new WeakMap<NodeCatalog, Set<string>>();

/** The connector types some node type's connection field takes: what a connection slot may ask for. */
function connectorTypes(catalog: NodeCatalog): Set<string> {
  let types = knownConnectorTypes.get(catalog);
  if (!types) {
    types = new Set();
    for (const def of catalog.list()) {
      for (const field of Object.values(configJsonSchema(def).properties ?? {})) {
        if (field.widget === "connection" && typeof field.connectionType === "string") types.add(field.connectionType);
      }
    }
    knownConnectorTypes.set(catalog, types);
  }
  return types;
}

/** Each declaration on its own, then names used twice and connection slots of connector types nobody takes. */
function checkParameterDeclarations(
  parameters: readonly PipelineParameter[],
  catalog: NodeCatalog,
  issues: ValidationIssue[],
): void {
  const names = new Set<string>();
  parameters.forEach((p, index) => {
    const at = (field: string): Path => ["spec", "parameters", index, field];
    if (names.has(p.name)) {
      issues.push({
        severity: "error",
        code: "duplicate-parameter",
        message: `parameter "${p.name}" is declared more than once`,
        path: at("name"),
      });
    }
    names.add(p.name);
    for (const problem of parameterDeclarationProblems(p)) {
      issues.push({
        severity: "error",
        code: "parameter-invalid",
        message: `parameter "${p.name}": ${problem.message}`,
        path: ["spec", "parameters", index, ...problem.path],
      });
    }
    if (p.type === "connection" && p.connectorType !== undefined) {
      const known = connectorTypes(catalog);
      if (!known.has(p.connectorType)) {
        const suggestion = closestName(p.connectorType, known);
        issues.push({
          severity: "error",
          code: "unknown-connector-type",
          message: `parameter "${p.name}": no node takes a connection of type "${p.connectorType}"`,
          path: at("connectorType"),
          ...(suggestion ? { suggestion } : {}),
        });
      }
    }
  });
}

/**
 * Parameters of the kinds that belong in one sort of field only: a connection slot fills a connection field whose
 * connector type is the slot's, and an expression parameter fills an expression field (checked by the compiler).
 */
function checkParameterPlaces(
  nodeId: string,
  nodeDef: AnyNodeDefinition,
  config: unknown,
  declared: ReadonlyMap<string, PipelineParameter>,
  issues: ValidationIssue[],
): void {
  const connectionFields = new Map(connectionRefs(nodeDef, config).map((ref) => [ref.path.join("."), ref]));
  for (const ref of parameterRefs(config, nodeDef)) {
    const p = declared.get(ref.name);
    if (p === undefined) continue;
    const path = ["config", ...ref.path];
    const field = ref.path.join(".");
    if (p.type === "expression") {
      issues.push({
        severity: "error",
        code: "parameter-place",
        message: `${nodeDef.title} (${nodeId}): field "${field}" is not an expression field, so expression parameter "${p.name}" cannot fill it`,
        nodeId,
        path,
      });
    } else if (p.type === "connection") {
      const slot = connectionFields.get(field);
      if (slot === undefined || !WHOLE_REF.test(slot.name)) {
        issues.push({
          severity: "error",
          code: "parameter-place",
          message: `${nodeDef.title} (${nodeId}): connection slot "${p.name}" can only fill a connection field on its own, not field "${field}"`,
          nodeId,
          path,
        });
      } else if (slot.type !== undefined && p.connectorType !== undefined && slot.type !== p.connectorType) {
        issues.push({
          severity: "error",
          code: "connection-slot-type",
          message: `${nodeDef.title} (${nodeId}): field "${field}" needs a ${slot.type} connection, but parameter "${p.name}" is a slot for ${p.connectorType} connections`,
          nodeId,
          path,
        });
      }
    }
  }
}

function check(
  raw: unknown,
  catalog: NodeCatalog,
  result: ValidationResult,
  memo: Memo,
  options: ValidateOptions,
): void {
  const issues = result.issues;
  const upgraded = upgradeDefinition(raw);
  if (!upgraded.ok) {
    issues.push({ severity: "error", code: "unknown-api-version", message: upgraded.message, path: ["apiVersion"] });
    return;
  }
  const input = upgraded.value;
  const parsed = PipelineDefinitionSchema.safeParse(input, parseOptions);
  if (!parsed.success) {
    issues.push(...structureIssues(parsed.error, input));
    return;
  }
  const def = parsed.data;
  result.definition = def;
  const { nodes, edges } = def.spec;

  const defs = new Map<string, AnyNodeDefinition>();
  const seen = new Set<string>();
  const configKeys = new Map<string, string>();
  const declared = new Map(def.spec.parameters.map((p) => [p.name, p]));
  checkParameterDeclarations(def.spec.parameters, catalog, issues);
  const parameterValues: Record<string, ParameterValue> = {};
  for (const p of def.spec.parameters) if (p.default !== undefined) parameterValues[p.name] = p.default;
  Object.assign(parameterValues, options.parameters ?? {});
  const expressionNames = new Set(def.spec.parameters.filter((p) => p.type === "expression").map((p) => p.name));
  nodes.forEach((node, index) => {
    if (seen.has(node.id)) {
      issues.push({
        severity: "error",
        code: "duplicate-node",
        message: `node id "${node.id}" is used more than once`,
        nodeId: node.id,
        path: ["spec", "nodes", index, "id"],
      });
      return;
    }
    seen.add(node.id);
    const nodeDef = catalog.get(node.type);
    if (!nodeDef) {
      const suggestion = closestName(
        node.type,
        catalog.list().map((d) => d.type),
      );
      issues.push({
        severity: "error",
        code: "unknown-node-type",
        message: `unknown node type "${node.type}"`,
        nodeId: node.id,
        path: ["spec", "nodes", index, "type"],
        ...(suggestion ? { suggestion } : {}),
      });
      return;
    }
    if (node.version !== undefined && node.version > nodeDef.version) {
      issues.push({
        severity: "error",
        code: "unknown-node-version",
        message: `${node.type} version ${node.version} is newer than this installation knows (${nodeDef.version})`,
        nodeId: node.id,
        path: ["spec", "nodes", index, "version"],
      });
      return;
    }
    defs.set(node.id, nodeDef);
    for (const ref of parameterRefs(node.config, nodeDef)) {
      if (declared.has(ref.name)) continue;
      const suggestion = closestName(ref.name, declared.keys());
      issues.push({
        severity: "error",
        code: "undeclared-parameter",
        message: `parameter "${ref.name}" is not declared in spec.parameters`,
        nodeId: node.id,
        path: ["config", ...ref.path],
        ...(suggestion ? { suggestion } : {}),
      });
    }
    checkParameterPlaces(node.id, nodeDef, node.config, declared, issues);
    const bound = bindParameters(node.config, nodeDef, parameterValues, expressionNames);
    const { key, parsed: config } = memo.parse(nodeDef, bound);
    if (options.connections) checkConnections(node.id, nodeDef, bound, options.connections, issues);
    if (config.ok) {
      result.configs[node.id] = config.data;
      configKeys.set(node.id, key);
    } else {
      // A field that is exactly {{name}} for a declared parameter without a value is filled in when the run starts.
      const real = config.issues.filter((i) => {
        const ref = WHOLE_REF.exec(String(valueAt(bound, i.path)));
        return !(ref && declared.has(ref[1]!));
      });
      issues.push(
        ...real.map((i) => ({
          severity: "error" as const,
          code: "config-invalid",
          message: i.message,
          nodeId: node.id,
          path: ["config", ...i.path],
        })),
      );
    }
  });
  const used = new Set<string>();
  for (const node of nodes)
    for (const m of JSON.stringify(node.config).matchAll(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g)) used.add(m[1]!);
  def.spec.parameters.forEach((p, index) => {
    if (!used.has(p.name)) {
      issues.push({
        severity: "warning",
        code: "unused-parameter",
        message: `parameter "${p.name}" is declared but no node uses it`,
        path: ["spec", "parameters", index, "name"],
      });
    }
  });

  if (options.connections) checkAlertConnections(def.spec.alerts ?? [], options.connections, issues);

  const edgeKeys = new Set<string>();
  edges.forEach((e, index) => {
    const at = (field: string): Path => ["spec", "edges", index, field];
    for (const [end, id] of [
      ["from", e.from],
      ["to", e.to],
    ] as const) {
      if (!seen.has(id)) {
        const suggestion = closestName(id, seen);
        issues.push({
          severity: "error",
          code: "dangling-edge",
          message: `edge ${end} "${id}", which is not a node of this pipeline`,
          edgeIndex: index,
          path: at(end),
          ...(suggestion ? { suggestion } : {}),
        });
      }
    }
    if (e.from === e.to) {
      issues.push({
        severity: "error",
        code: "self-loop",
        message: `node "${e.from}" is connected to itself`,
        edgeIndex: index,
      });
    }
    const key = edgeKey(e);
    if (edgeKeys.has(key)) {
      issues.push({
        severity: "error",
        code: "duplicate-edge",
        message: `edge ${key} appears twice`,
        edgeIndex: index,
      });
    }
    edgeKeys.add(key);
    const fromDef = defs.get(e.from);
    const fromPort = e.fromPort ?? DEFAULT_OUT_PORT;
    const outputs = fromDef ? portsOf(fromDef, result.configs[e.from]).outputs : [];
    if (fromDef && !outputs.some((p) => p.name === fromPort)) {
      issues.push({
        severity: "error",
        code: "unknown-port",
        message:
          outputs.length === 0
            ? `${fromDef.title} (${e.from}) has no outputs`
            : `${fromDef.title} (${e.from}) has no output "${fromPort}"; it has ${outputs.map((p) => `"${p.name}"`).join(", ")}`,
        edgeIndex: index,
        path: at("fromPort"),
      });
    }
    const toDef = defs.get(e.to);
    const toPort = e.toPort ?? DEFAULT_IN_PORT;
    const inputs = toDef ? portsOf(toDef, result.configs[e.to]).inputs : [];
    if (toDef && !inputs.some((p) => p.name === toPort)) {
      issues.push({
        severity: "error",
        code: "unknown-port",
        message:
          inputs.length === 0
            ? `${toDef.title} (${e.to}) takes no input`
            : `${toDef.title} (${e.to}) has no input "${toPort}"; it has ${inputs.map((p) => `"${p.name}"`).join(", ")}`,
        edgeIndex: index,
        path: at("toPort"),
      });
    }
  });

  const graph = buildGraph(nodes, edges);
  for (const [id, nodeDef] of defs) {
    const incoming = graph.incoming.get(id) ?? [];
    for (const port of portsOf(nodeDef, result.configs[id]).inputs) {
      const into = incoming.filter((e) => e.toPort === port.name);
      if (into.length === 0) {
        issues.push({
          severity: "error",
          code: "unconnected-input",
          message: `${nodeDef.title} (${id}) needs an input on "${port.name}"`,
          nodeId: id,
        });
      } else if (into.length > 1 && !port.multiple) {
        issues.push({
          severity: "error",
          code: "too-many-inputs",
          message: `${nodeDef.title} (${id}) takes one edge on "${port.name}" but has ${into.length}; put a Union in front`,
          nodeId: id,
        });
      }
    }
  }

  const { order, cyclic } = topologicalOrder(graph);
  if (cyclic.length > 0) {
    const cycle = findCycle(graph, cyclic) ?? cyclic;
    issues.push({
      severity: "error",
      code: "cycle",
      message: `the pipeline has a cycle: ${cycle.join(" → ")}`,
      nodeId: cycle[0],
    });
  }

  // A node of an unknown type still counts by its prefix, so a misspelt sink does not also read as "no sink".
  const kindOf = (n: { id: string; type: string }) => defs.get(n.id)?.kind ?? n.type.split(".")[0];
  const sources = nodes.filter((n) => kindOf(n) === "source").map((n) => n.id);
  const sinks = nodes.filter((n) => kindOf(n) === "sink").map((n) => n.id);
  if (nodes.length > 0 && sources.length === 0) {
    issues.push({ severity: "error", code: "no-source", message: "the pipeline has no source: add one to read data" });
  }
  if (nodes.length > 0 && sinks.length === 0) {
    issues.push({ severity: "error", code: "no-sink", message: "the pipeline has no sink: add one to write data" });
  }
  if (nodes.length === 0) {
    issues.push({ severity: "error", code: "empty", message: "the pipeline has no nodes" });
  }
  const fromSources = reachable(graph, sources);
  const toSinks = reachable(graph, sinks, true);
  for (const [id, nodeDef] of defs) {
    if (nodeDef.kind !== "source" && !fromSources.has(id)) {
      issues.push({
        severity: "warning",
        code: "unreachable",
        message: `no source feeds ${nodeDef.title} (${id})`,
        nodeId: id,
      });
    } else if (nodeDef.kind !== "sink" && !toSinks.has(id)) {
      issues.push({
        severity: "warning",
        code: "dead-end",
        message: `what ${nodeDef.title} (${id}) produces reaches no sink`,
        nodeId: id,
      });
    }
  }

  // Schema inference, in topological order so every input schema is known before its consumer.
  const parameters = expressionParameters(def.spec.parameters);
  const inferContext = JSON.stringify([def.spec.settings, parameters]);
  const timeField = def.spec.settings.timeField;
  for (const id of order) {
    const nodeDef = defs.get(id);
    if (!nodeDef || !(id in result.configs)) continue;
    const byPort = new Map<string, RecordSchema[]>();
    let inputsKnown = true;
    for (const e of graph.incoming.get(id) ?? []) {
      const upstream = result.schemas[e.from]?.[e.fromPort];
      if (!upstream) {
        inputsKnown = false;
        continue;
      }
      byPort.set(e.toPort, [...(byPort.get(e.toPort) ?? []), upstream]);
    }
    if (!inputsKnown) continue; // upstream is broken; its own issue says why
    const inputs = Object.fromEntries([...byPort].map(([port, list]) => [port, memo.merge(list)]));
    const inferred = memo.infer(configKeys.get(id)!, inferContext, inputs, () =>
      nodeDef.infer({ config: result.configs[id], inputs, settings: def.spec.settings, parameters }),
    );
    result.schemas[id] = inferred.outputs;
    if (timeField !== undefined && nodeDef.kind === "source") {
      for (const [port, schema] of Object.entries(inferred.outputs)) {
        const f = schema.fields.find((x) => x.name === timeField);
        const ok = f ? ["timestamp", "int", "float", "any"].includes(f.type.kind) : schema.open;
        if (!ok) {
          const suggestion = closestName(
            timeField,
            schema.fields.map((x) => x.name),
          );
          issues.push({
            severity: "error",
            code: f ? "time-field-type" : "unknown-field",
            message: f
              ? `the event-time field "${timeField}" of ${id}.${port} is a ${f.type.kind}, not a timestamp`
              : `${nodeDef.title} (${id}) emits no field "${timeField}" on "${port}" for settings.timeField`,
            path: ["spec", "settings", "timeField"],
            nodeId: id,
            ...(suggestion ? { suggestion } : {}),
          });
        }
      }
    }
    for (const i of inferred.issues ?? []) {
      issues.push({
        severity: i.severity ?? "error",
        code: i.code ?? "config-invalid",
        message: i.message,
        nodeId: id,
        path: ["config", ...i.path],
        ...(i.position ? { position: i.position } : {}),
        ...(i.suggestion ? { suggestion: i.suggestion } : {}),
      });
    }
  }
}
