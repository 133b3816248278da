import { catalog as standardCatalog } from "@sluice/nodes/catalog";
import { createRuntimeRegistry, type RuntimeRegistry } from "@sluice/nodes/runtime-contract";
import { runtimes as standardRuntimes } from "@sluice/nodes/runtimes";
import { createCatalog } from "@sluice/pipeline/node-definition";
import {
  asyncEnrichDef,
  asyncEnrichRuntime,
  collectDef,
  collectRuntime,
  keyCountDef,
  keyCountRuntime,
} from "./test-nodes";

// The standard node types and the engine's test ones as one module, for the preview threads of in-process test
// workers: a thread imports its node types by module (see PreviewSandboxOptions.nodes).

export const catalog = createCatalog([...standardCatalog.list(), keyCountDef, collectDef, asyncEnrichDef]);
const testRuntimes = createRuntimeRegistry([keyCountRuntime, collectRuntime, asyncEnrichRuntime]);
export const runtimes: RuntimeRegistry = { get: (type) => testRuntimes.get(type) ?? standardRuntimes.get(type) };

export const PREVIEW_TEST_NODES = import.meta.url;
