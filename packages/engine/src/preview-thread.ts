import { parentPort, workerData } from "node:worker_threads";
import {
  type ConnectionDestinations,
  type Destination,
  type DestinationPolicy,
  DestinationRefusedError,
  type DestinationTarget,
} from "@sluice/nodes/destination-policy";
import type { ConnectionBundle, FilesService, RuntimeRegistry } from "@sluice/nodes/runtime-contract";
import type { PreviewResult } from "@sluice/pipeline/control/protocol";
import type { NodeCatalog } from "@sluice/pipeline/node-definition";
import type { ParameterValue } from "@sluice/pipeline/parameters";
import { errorMessage } from "./engine-logger";
import { previewPipeline } from "./preview";

// The inside of a preview thread (see preview-sandbox.ts): loads the node types (the standard ones, or those of the
// module named in workerData.nodes), says it is ready, runs one preview and answers with its result. The thread is terminated afterwards and never runs a second preview.
// Where connections may go is decided by the parent's DestinationPolicy: each host a connector resolves is asked
// of the parent, so the policy and Sluice's own endpoints never need to exist in here.

export interface PreviewThreadData {
  /** A module exporting `catalog` and `runtimes`, for a worker with node types of its own. */
  nodes: string | undefined;
}

export interface PreviewThreadRequest {
  definition: unknown;
  parameters: Record<string, ParameterValue>;
  connections: ConnectionBundle;
  limit: number;
  timeoutMs: number;
  maxResultBytes?: number;
  files?: FilesService;
}

export type ToPreviewThread =
  | { type: "preview"; request: PreviewThreadRequest }
  | { type: "resolved"; id: number; destination: Destination }
  | { type: "refused"; id: number; message: string; permanent: boolean; code?: string };

export type FromPreviewThread =
  | { type: "ready" }
  | { type: "result"; result: PreviewResult }
  | { type: "failed"; message: string }
  | {
      type: "resolve";
      id: number;
      connection: string | undefined;
      host: string;
      port: number;
      target: DestinationTarget | undefined;
    };

const port = parentPort;
if (!port) throw new Error("preview-thread.ts runs in a worker thread only");

async function nodeTypes(module: string | undefined): Promise<{ catalog: NodeCatalog; runtimes: RuntimeRegistry }> {
  if (module === undefined) {
    const [{ catalog }, { runtimes }] = await Promise.all([
      import("@sluice/nodes/catalog"),
      import("@sluice/nodes/runtimes"),
    ]);
    return { catalog, runtimes };
  }
  const set = (await import(module)) as Partial<{ catalog: NodeCatalog; runtimes: RuntimeRegistry }>;
  if (!set.catalog || !set.runtimes) throw new Error(`${module} exports no \`catalog\` and \`runtimes\``);
  return { catalog: set.catalog, runtimes: set.runtimes };
}

const { catalog, runtimes } = await nodeTypes((workerData as PreviewThreadData).nodes);
const send = (message: FromPreviewThread) => port.postMessage(message);

const pending = new Map<number, { resolve: (d: Destination) => void; reject: (e: Error) => void }>();
let nextId = 0;

function ask(connection: string | undefined, host: string, p: number, target?: DestinationTarget) {
  const id = nextId++;
  return new Promise<Destination>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    send({ type: "resolve", id, connection, host, port: p, target });
  });
}

// Runtimes only ever call `for(connection).resolve(…)`; the rest of the policy stays in the parent.
const destinations = {
  for: (connection: string | undefined): ConnectionDestinations => ({
    resolve: (host, p, target) => ask(connection, host, p, target),
  }),
} as Pick<DestinationPolicy, "for"> as DestinationPolicy;

async function run(request: PreviewThreadRequest): Promise<void> {
  try {
    const result = await previewPipeline({
      definition: request.definition,
      parameters: request.parameters,
      catalog,
      runtimes,
      connections: request.connections,
      destinations,
      limit: request.limit,
      timeoutMs: request.timeoutMs,
      ...(request.maxResultBytes !== undefined ? { maxResultBytes: request.maxResultBytes } : {}),
      ...(request.files ? { files: request.files } : {}),
    });
    send({ type: "result", result });
  } catch (err) {
    send({ type: "failed", message: errorMessage(err) });
  }
}

port.on("message", (message: ToPreviewThread) => {
  switch (message.type) {
    case "preview":
      void run(message.request);
      break;
    case "resolved":
      pending.get(message.id)?.resolve(message.destination);
      pending.delete(message.id);
      break;
    case "refused": {
      const error = message.permanent
        ? new DestinationRefusedError(message.message)
        : Object.assign(new Error(message.message), message.code ? { code: message.code } : {});
      pending.get(message.id)?.reject(error);
      pending.delete(message.id);
      break;
    }
  }
});
send({ type: "ready" });
