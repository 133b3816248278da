import type { JsonSchema } from "@sluice/pipeline/config-schema";
import type { PipelineDefinition } from "@sluice/pipeline/definition";
import type { parseDuration } from "@sluice/pipeline/duration";
import type { FunctionInfo } from "@sluice/pipeline/expr/compile";
import type { buildGraph, topologicalOrder } from "@sluice/pipeline/graph";
import type { AnyNodeDefinition, NodeCatalog } from "@sluice/pipeline/node-definition";
import type { planDelivery } from "@sluice/pipeline/plan";
import type { createValidator } from "@sluice/pipeline/validate";

/**
 * What the lazily loaded part of the editor provides (editor-runtime.ts). Only types are imported here, so modules
 * of the first-load bundle can name it without pulling zod or the node catalog in.
 */
export interface EditorRuntime {
  catalog: NodeCatalog;
  createValidator: typeof createValidator;
  configJsonSchema: (def: AnyNodeDefinition) => JsonSchema;
  /** Every expression function, for autocomplete. */
  functions: readonly FunctionInfo[];
  /** What a node id must look like. */
  nodeIdPattern: RegExp;
  buildGraph: typeof buildGraph;
  topologicalOrder: typeof topologicalOrder;
  /** The value as a pipeline definition (checked against the file format), or null when it is not one. */
  parseDefinition: (value: unknown) => PipelineDefinition | null;
  /** The delivery guarantee the plan gives a definition, and the nodes that lower it (as `sluice explain` says). */
  planDelivery: typeof planDelivery;
  /** The JSON Schema of `spec.settings`, for the settings form. */
  settingsSchema: JsonSchema;
  /** Milliseconds of a duration setting such as `maxOutOfOrder` ("5s"), undefined when it is not one. */
  parseDuration: typeof parseDuration;
}
