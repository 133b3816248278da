import type { DestinationPolicy } from "@sluice/nodes/destination-policy";
import {
  bundleResolver,
  bundleSecrets,
  type ConnectionBundle,
  type Emit,
  type FilesService,
  type NodeRuntime,
  type RuntimeContext,
  type RuntimeRegistry,
  type SourceReader,
} from "@sluice/nodes/runtime-contract";
import type { PreviewNode, PreviewResult } from "@sluice/pipeline/control/protocol";
import { secretScrubber } from "@sluice/pipeline/control/secret-scrub";
import type { PipelineDefinition } from "@sluice/pipeline/definition";
import { buildGraph, topologicalOrder } from "@sluice/pipeline/graph";
import { formatIssue } from "@sluice/pipeline/issues";
import { capability, type NodeCatalog } from "@sluice/pipeline/node-definition";
import type { ParameterValue } from "@sluice/pipeline/parameters";
import { expressionParameterValues } from "@sluice/pipeline/parameters";
import type { DataRecord, RecordSchema } from "@sluice/pipeline/record-schema";
import { validate } from "@sluice/pipeline/validate";
import { errorMessage } from "./engine-logger";
import { FusedStage } from "./fused-stage";
import { TrackedStateStore } from "./state-store";

// The editor's data preview: the draft runs on a small sample, entirely in memory, in one pass over every node —
// shuffles need no partitioning with a single partition, keyed operators keep their state in memory, windows are
// flushed at the end. Each node's input and output records are captured per port. Sinks are never opened, so
// nothing is written anywhere; sources whose reads have effects are not read at all. On a worker it runs inside a
// preview thread (preview-sandbox.ts), which enforces the hard time and memory limits that `timeoutMs` cannot.

export interface PreviewOptions {
  definition: unknown;
  parameters: Readonly<Record<string, ParameterValue>>;
  catalog: NodeCatalog;
  runtimes: RuntimeRegistry;
  connections: ConnectionBundle;
  /** Where the draft's connections may go. */
  destinations: DestinationPolicy;
  /** Records read per source, and kept per node and port. */
  limit: number;
  /** After this the preview stops reading and answers with what it has (marked truncated). */
  timeoutMs: number;
  /** Records kept in the answer stop once they add up to this many bytes (as JSON); they are still counted. */
  maxResultBytes?: number;
  /** The files directory and the asking workspace (from the job the API wrote): file sources read its folder only. */
  files?: FilesService;
}

/** The answer travels through Redis to the browser: a sample of a few MiB, not whatever the records weigh. */
const DEFAULT_PREVIEW_RESULT_BYTES = 8 * 1024 * 1024;

function jsonLength(value: unknown): number {
  try {
    return JSON.stringify(value)?.length ?? 0;
  } catch {
    return 0; // not JSON (a BigInt): the answer fails to serialise anyway, with its own message
  }
}

class Capture {
  readonly nodes = new Map<string, PreviewNode>();
  private bytes = 0;
  /** Some records were counted but not kept because the answer reached its byte budget. */
  overBudget = false;
  constructor(
    private readonly limit: number,
    private readonly maxBytes: number,
  ) {}

  /** Whether a record (or dead letter) of this size still fits the answer. */
  fits(value: unknown): boolean {
    if (this.overBudget) return false;
    this.bytes += jsonLength(value);
    if (this.bytes <= this.maxBytes) return true;
    this.overBudget = true;
    return false;
  }

  node(id: string): PreviewNode {
    let n = this.nodes.get(id);
    if (!n) {
      n = { inputs: {}, outputs: {}, counts: { in: 0, out: 0 }, errors: [], note: null };
      this.nodes.set(id, n);
    }
    return n;
  }

  private keep(list: Record<string, DataRecord[]>, port: string, record: DataRecord): void {
    list[port] ??= [];
    const kept = list[port]!;
    if (kept.length < this.limit && this.fits(record)) kept.push(record);
  }

  input(id: string, port: string, record: DataRecord): void {
    const n = this.node(id);
    n.counts.in++;
    this.keep(n.inputs as Record<string, DataRecord[]>, port, record);
  }

  output(id: string, port: string, record: DataRecord): void {
    const n = this.node(id);
    n.counts.out++;
    this.keep(n.outputs as Record<string, DataRecord[]>, port, record);
  }
}

/** Wraps every runtime so what flows in and out is captured; sinks are replaced by capturing stand-ins. */
function capturingRuntimes(
  inner: RuntimeRegistry,
  capture: Capture,
  previewable: (nodeId: string) => string | null,
  limit: number,
  signal: AbortSignal,
): RuntimeRegistry {
  return {
    get(type) {
      const runtime = inner.get(type);
      if (!runtime) return undefined;
      if (runtime.kind === "sink") {
        return {
          kind: "sink",
          type,
          async open(ctx: RuntimeContext<unknown>) {
            capture.node(ctx.nodeId);
            return {
              async write(records: readonly DataRecord[]) {
                for (const r of records) capture.input(ctx.nodeId, "in", r);
              },
              async close() {},
            };
          },
        } as NodeRuntime;
      }
      if (runtime.kind === "source") {
        return {
          kind: "source",
          type,
          async open(ctx: RuntimeContext<unknown>) {
            const note = previewable(ctx.nodeId);
            capture.node(ctx.nodeId).note = note;
            if (note !== null)
              return { read: async () => ({ records: [], offset: null, end: true }), close: async () => {} };
            const reader: SourceReader = await runtime.open(ctx as RuntimeContext<never>, null);
            let taken = 0;
            return {
              async read(max: number) {
                const batch = await reader.read(Math.min(max, limit - taken), signal);
                batch.records.forEach((r, i) => {
                  capture.output(ctx.nodeId, batch.ports?.[i] ?? "out", r);
                });
                taken += batch.records.length;
                return taken >= limit ? { ...batch, end: true, sampled: !batch.end } : batch;
              },
              close: () => reader.close(),
            };
          },
        } as NodeRuntime;
      }
      return {
        kind: "transform",
        type,
        create(ctx: RuntimeContext<unknown>) {
          const op = runtime.create(ctx as RuntimeContext<never>);
          const wrapped = new WeakMap<Emit, Emit>();
          const tap = (emit: Emit): Emit => {
            let w = wrapped.get(emit);
            if (!w) {
              w = (record, port) => {
                capture.output(ctx.nodeId, port ?? "out", record);
                emit(record, port);
              };
              wrapped.set(emit, w);
            }
            return w;
          };
          capture.node(ctx.nodeId);
          return {
            ...(op.process
              ? {
                  process(record: DataRecord, emit: Emit, port: string) {
                    capture.input(ctx.nodeId, port, record);
                    op.process!(record, tap(emit), port);
                  },
                }
              : {}),
            ...(op.processBatch
              ? {
                  async processBatch(records, emit, fail) {
                    for (const r of records) capture.input(ctx.nodeId, r.port, r.record);
                    await op.processBatch!(records, tap(emit), fail);
                  },
                }
              : {}),
            ...(op.onWatermark ? { onWatermark: (wm: number, emit: Emit) => op.onWatermark!(wm, tap(emit)) } : {}),
            ...(op.onTick ? { onTick: (now: number, emit: Emit) => op.onTick!(now, tap(emit)) } : {}),
            ...(op.onEnd ? { onEnd: (emit: Emit) => op.onEnd!(tap(emit)) } : {}),
          };
        },
      } as NodeRuntime;
    },
  };
}

export async function previewPipeline(o: PreviewOptions): Promise<PreviewResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const validation = validate(o.definition, o.catalog, { parameters: o.parameters });
  const errors = validation.issues.filter((i) => i.severity === "error");
  if (errors.length > 0 || !validation.definition) {
    return { nodes: {}, problems: errors.slice(0, 20).map(formatIssue), truncated: false, elapsedMs: elapsed() };
  }
  const def: PipelineDefinition = validation.definition;
  const { order } = topologicalOrder(buildGraph(def.spec.nodes, def.spec.edges));
  const types = new Map(def.spec.nodes.map((n) => [n.id, n.type]));
  const capture = new Capture(o.limit, o.maxResultBytes ?? DEFAULT_PREVIEW_RESULT_BYTES);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), o.timeoutMs);
  const previewable = (nodeId: string): string | null => {
    const nodeDef = o.catalog.get(types.get(nodeId) ?? "");
    if (!nodeDef) return "unknown node type";
    const config = validation.configs[nodeId];
    const allowed =
      nodeDef.previewable !== undefined
        ? capability(nodeDef.previewable, config)
        : capability(nodeDef.delivery.replayable, config);
    return allowed
      ? null
      : `${nodeDef.title} cannot be read without consuming or changing what it reads, so the preview leaves it out`;
  };
  const runtimes = capturingRuntimes(o.runtimes, capture, previewable, o.limit, abort.signal);
  const connections = bundleResolver(o.connections);
  const scrub = secretScrubber(bundleSecrets(o.connections));
  const stores = new Map<string, TrackedStateStore>();
  const inputsOf = (nodeId: string) => {
    const inputs: Record<string, RecordSchema> = {};
    for (const e of def.spec.edges) {
      if (e.to !== nodeId) continue;
      const schema = validation.schemas[e.from]?.[e.fromPort ?? "out"];
      if (schema) inputs[e.toPort ?? "in"] = schema;
    }
    return inputs;
  };
  const context = (nodeId: string, config: unknown): RuntimeContext<unknown> => ({
    nodeId,
    config,
    runId: "preview",
    runStartedAt: Date.now(),
    partition: 0,
    partitions: 1,
    parameters: expressionParameterValues(def.spec.parameters, o.parameters),
    settings: def.spec.settings,
    inputs: inputsOf(nodeId),
    outputs: validation.schemas[nodeId] ?? {},
    log: { info() {}, warn() {}, error() {} },
    services: { tail: { async append() {} }, connections, destinations: o.destinations, files: o.files },
    mode: "preview",
    state: (name) => {
      const key = `${nodeId}\u0000${name}`;
      let store = stores.get(key);
      if (!store) {
        store = new TrackedStateStore(key);
        stores.set(key, store);
      }
      return store as never;
    },
  });

  let truncated = false;
  let stage: FusedStage | undefined;
  try {
    stage = await FusedStage.open({
      nodeIds: order,
      definition: def,
      validation,
      runtimes,
      offsets: {},
      outlets: new Map(),
      eventTimeField: (nodeId) =>
        def.spec.settings.timeField ??
        o.catalog.get(types.get(nodeId) ?? "")?.eventTimeField?.(validation.configs[nodeId]),
      context,
      // A driver's error may quote what it was given: the answer never carries a connection's secrets.
      scrub: scrub.text,
    });
    stage.begin(1);
    while (!abort.signal.aborted && stage.sources.some((s) => !s.ended)) {
      let read = 0;
      for (const source of stage.sources.filter((s) => !s.ended)) {
        const batch = await source.reader.read(Math.min(100, o.limit), abort.signal);
        if (batch.records.length > 0) stage.push(source.nodeId, batch.records, batch.ports);
        // What the source could not read shows as the source's per-record errors.
        if (batch.rejected?.length) stage.rejectFromSource(source.nodeId, batch.rejected);
        read += batch.records.length + (batch.rejected?.length ?? 0);
        if (batch.end) {
          source.ended = true;
          if ((batch as { sampled?: boolean }).sampled) truncated = true;
        }
      }
      await stage.flush();
      if (read === 0) await new Promise((r) => setTimeout(r, 20));
    }
    if (stage.sources.some((s) => !s.ended)) truncated = true;
    stage.end();
    await stage.flush();
    // The stand-in sinks only record what reached them.
    for (const sink of stage.sinks) await sink.writer.write(sink.buffer, { batchId: "preview", sequence: 1 });
    for (const letter of stage.takeDeadLetters()) {
      const node = capture.node(letter.nodeId);
      if (node.errors.length < o.limit && capture.fits(letter))
        node.errors.push({ port: letter.port ?? null, error: letter.error, record: letter.record });
    }
    return {
      nodes: Object.fromEntries(capture.nodes),
      problems: [],
      truncated: truncated || capture.overBudget,
      elapsedMs: elapsed(),
    };
  } catch (err) {
    return {
      nodes: Object.fromEntries(capture.nodes),
      problems: [scrub.text(errorMessage(err))],
      truncated: true,
      elapsedMs: elapsed(),
    };
  } finally {
    clearTimeout(timer);
    await stage?.close();
  }
}
