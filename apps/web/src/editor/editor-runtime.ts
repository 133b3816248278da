import { catalog } from "@sluice/nodes/catalog";
import { configJsonSchema } from "@sluice/pipeline/config-schema";
import {
  DEFAULT_IN_PORT,
  DEFAULT_OUT_PORT,
  NODE_ID_RE,
  PipelineDefinition,
  PipelineSettings,
} from "@sluice/pipeline/definition";
import { parseDuration } from "@sluice/pipeline/duration";
import { FUNCTIONS } from "@sluice/pipeline/expr/compile";
import { buildGraph, topologicalOrder } from "@sluice/pipeline/graph";
import { planDelivery } from "@sluice/pipeline/plan";
import { createValidator } from "@sluice/pipeline/validate";
import type { EditorRuntime } from "./runtime-types";
import { IN_PORT, OUT_PORT } from "./store/flow-model";

// Everything of the editor that needs zod, the node catalog or the validator. Loaded with import() (see
// use-editor-runtime.ts) in parallel with the pipeline's data: the catalog grows with every connector, and keeping
// it out of the route's first-load bundle keeps that bundle the same size however many node types there are.

if (DEFAULT_IN_PORT !== IN_PORT || DEFAULT_OUT_PORT !== OUT_PORT) {
  throw new Error("flow-model's default port names no longer match @sluice/pipeline/definition");
}

export const runtime: EditorRuntime = {
  catalog,
  createValidator,
  configJsonSchema,
  functions: FUNCTIONS,
  nodeIdPattern: NODE_ID_RE,
  buildGraph,
  topologicalOrder,
  parseDefinition: (value) => {
    const parsed = PipelineDefinition.safeParse(value);
    return parsed.success ? parsed.data : null;
  },
  planDelivery,
  settingsSchema: configJsonSchema({ config: PipelineSettings }),
  parseDuration,
};
