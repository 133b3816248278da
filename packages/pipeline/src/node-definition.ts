import type { z } from "zod";
import type { PipelineSettings } from "./definition";
import type { ParameterInfo } from "./expr/types";
import type { IssueSeverity, SourcePosition } from "./issues";
import type { RecordSchema } from "./record-schema";

// One declaration per node type. It drives the palette, the inspector form (zod -> JSON Schema), validation,
// schema inference, the generated reference docs and the runtime lookup. Browser-safe: no I/O here.

export type NodeKind = "source" | "transform" | "sink";

export type ConfigWidget =
  | "text"
  | "textarea"
  | "number"
  | "switch"
  | "select"
  | "expression"
  | "predicate"
  | "aggregate"
  | "field"
  | "fields"
  | "duration"
  | "connection"
  | "code"
  | "key-value";

/** UI hints carried on config fields through zod's `.meta()`; they reach the form via `z.toJSONSchema`. */
export interface ConfigFieldMeta {
  label?: string;
  help?: string;
  widget?: ConfigWidget;
  advanced?: boolean;
  placeholder?: string;
  examples?: unknown[];
  /** Connection configs: a secret (password, token). Write-only in the API, encrypted at rest, never shown. */
  secret?: boolean;
  /** Node configs with widget "connection": the connection type the field names a connection of. */
  connectionType?: string;
  /**
   * Source and sink configs: what the editor fills in from the connection's discovery. "object": the field naming
   * the table, stream, subject, queue or topic; "fields": the list declaring the records' fields with their types.
   */
  discover?: "object" | "fields";
}

declare module "zod" {
  interface GlobalMeta extends ConfigFieldMeta {}
}

export interface PortSpec {
  name: string;
  title?: string;
  doc?: string;
  /** Input ports only: whether several edges may end here (e.g. union). */
  multiple?: boolean;
}

export interface InferIssue {
  severity?: IssueSeverity;
  code?: string;
  message: string;
  /** Path inside the node's config. */
  path: (string | number)[];
  position?: SourcePosition;
  suggestion?: string;
}

export interface InferContext<C> {
  config: C;
  /** Schema arriving on each connected input port. A port with several edges gets their merged schema. */
  inputs: Readonly<Record<string, RecordSchema>>;
  settings: PipelineSettings;
  /** Declared pipeline parameters, for checks that need them. */
  parameters: Readonly<Record<string, ParameterInfo>>;
}

export interface InferResult {
  outputs: Record<string, RecordSchema>;
  issues?: InferIssue[];
}

export interface DeliveryCapability<C> {
  /** Sources: can re-read from a committed position (needed for exactly-once). */
  replayable?: boolean | ((config: C) => boolean);
  /** Sinks: writing the same batch twice leaves the same result. */
  idempotent?: boolean | ((config: C) => boolean);
  /** Sinks: commit output and source position in one transaction. */
  transactional?: boolean | ((config: C) => boolean);
}

export interface NodeExample<C> {
  title: string;
  config: z.input<z.ZodType<C>> | Record<string, unknown>;
}

export interface NodeDefinition<S extends z.ZodType = z.ZodType> {
  /** `source.x`, `transform.x`, `sink.x`. */
  type: string;
  version: number;
  kind: NodeKind;
  title: string;
  category: string;
  /** Icon name from the web app's icon set. */
  icon: string;
  /** One line for the palette. */
  summary: string;
  /** Markdown for the reference docs and the inspector's help. */
  docs: string;
  inputs: readonly PortSpec[];
  outputs: readonly PortSpec[];
  /** Ports that depend on the config (e.g. one output per route); when present it overrides inputs/outputs. */
  ports?(config: z.output<S>): { inputs?: readonly PortSpec[]; outputs?: readonly PortSpec[] };
  config: S;
  examples: readonly NodeExample<z.output<S>>[];
  delivery: DeliveryCapability<z.output<S>>;
  /** Output schema per port from input schemas and config; also reports config problems that need the schema. */
  infer(ctx: InferContext<z.output<S>>): InferResult;
  /**
   * Stateful, keyed operators: the SQL expressions each input port's records are partitioned by (records with
   * equal keys meet in one partition). An empty list sends every record to one partition (a global operator).
   * The planner starts a new stage before such a node and shuffles its inputs by these keys.
   */
  keyBy?(config: z.output<S>): Record<string, readonly string[]>;
  /**
   * Sources: whether the editor's data preview may read a sample (default: when replayable). False for sources
   * whose reads have effects, such as a CDC source that would create a replication slot.
   */
  previewable?: boolean | ((config: z.output<S>) => boolean);
  /** Sources: the record field that carries event time (epoch ms), from which watermarks are derived. */
  eventTimeField?(config: z.output<S>): string | undefined;
  /** One line shown on the canvas node. */
  summarize(config: z.output<S>): string;
}

export type AnyNodeDefinition = NodeDefinition<z.ZodType>;

export function defineNode<S extends z.ZodType>(def: NodeDefinition<S>): NodeDefinition<S> {
  if (!/^(source|transform|sink)\.[a-z][a-z0-9-]*$/.test(def.type) || !def.type.startsWith(`${def.kind}.`)) {
    throw new Error(`node type id "${def.type}" must be "${def.kind}.<name>" in lower-case kebab-case`);
  }
  return def;
}

/** The node's ports for a config (the static ones when the config is unknown or the type has fixed ports). */
export function portsOf(
  def: AnyNodeDefinition,
  config: unknown,
): { inputs: readonly PortSpec[]; outputs: readonly PortSpec[] } {
  if (!def.ports || config === undefined) return { inputs: def.inputs, outputs: def.outputs };
  const dynamic = def.ports(config);
  return { inputs: dynamic.inputs ?? def.inputs, outputs: dynamic.outputs ?? def.outputs };
}

export function capability<C>(value: boolean | ((config: C) => boolean) | undefined, config: C): boolean {
  return typeof value === "function" ? value(config) : (value ?? false);
}

/** The set of node types a deployment knows, looked up by type id. */
export interface NodeCatalog {
  get(type: string): AnyNodeDefinition | undefined;
  list(): readonly AnyNodeDefinition[];
}

export function createCatalog(defs: readonly AnyNodeDefinition[]): NodeCatalog {
  const byType = new Map<string, AnyNodeDefinition>();
  for (const def of defs) {
    if (byType.has(def.type)) throw new Error(`node type "${def.type}" is declared twice`);
    byType.set(def.type, def);
  }
  const sorted = [...byType.values()].sort((a, b) => a.type.localeCompare(b.type));
  return { get: (type) => byType.get(type), list: () => sorted };
}
