import type {
  Emit,
  OperatorInstance,
  PortRecord,
  RejectedRecord,
  RuntimeContext,
  RuntimeRegistry,
  SinkWriter,
  SourceOffset,
  SourceReader,
} from "@sluice/nodes/runtime-contract";
import { counterField } from "@sluice/pipeline/control/protocol";
import type { PipelineDefinition } from "@sluice/pipeline/definition";
import { buildGraph } from "@sluice/pipeline/graph";
import type { DataRecord } from "@sluice/pipeline/record-schema";
import type { ValidationResult } from "@sluice/pipeline/validate";
import { errorMessage } from "./engine-logger";
import type { DeadLetter } from "./task-commit";

// One stage's nodes fused into a push chain: a record is handed from operator to operator by direct calls until
// it lands in a sink's buffer or in a shuffle outlet towards the next stage. No queue, no copy in between.

export class StageBuildError extends Error {
  override name = "StageBuildError";
}

interface NodeCounters {
  in: number;
  out: number;
  err: number;
}

export interface StageSource {
  nodeId: string;
  reader: SourceReader;
  offset: SourceOffset | null;
  ended: boolean;
  /** Record field carrying event time, if the source has one. */
  eventTimeField: string | undefined;
}

export interface StageSink {
  nodeId: string;
  writer: SinkWriter;
  buffer: DataRecord[];
}

/** What one batch did in a stage: committed with the batch. */
export interface StageReport {
  /** Counter increments by counter field (`n:<node>:in`), only the non-zero ones. */
  increments: Record<string, number>;
  deadLetters: DeadLetter[];
  /** Something happened that must be committed even if no input was read (timers fired, records refused). */
  active: boolean;
}

type Deliver = (record: DataRecord, port: string) => void;

/** Where records on an edge that leaves the stage go: the shuffle writer of that edge. */
export type Outlet = (record: DataRecord) => void;

export function edgeId(fromNode: string, fromPort: string, toNode: string, toPort: string): string {
  return `${fromNode}.${fromPort}->${toNode}.${toPort}`;
}

export class FusedStage {
  readonly sources: StageSource[] = [];
  readonly sinks: StageSink[] = [];
  private readonly counters = new Map<string, NodeCounters>();
  private readonly entry = new Map<string, Emit>();
  private readonly deliverTo = new Map<string, Deliver>();
  /** Operators with hooks, in topological order, with the emitter of each. */
  private readonly hooked: { id: string; op: OperatorInstance; emit: Emit }[] = [];
  private readonly outletsById = new Map<string, Outlet>();
  /** Operators that take batches (I/O), in topological order, with what has reached each in this batch. */
  private readonly batched: { id: string; op: OperatorInstance; emit: Emit; pending: PortRecord[] }[] = [];
  private deadLetters: DeadLetter[] = [];
  private sequence = 0;
  private closing: Promise<void> | undefined;

  private constructor() {}

  static async open(options: {
    nodeIds: readonly string[];
    definition: PipelineDefinition;
    validation: ValidationResult;
    runtimes: RuntimeRegistry;
    offsets: Readonly<Record<string, SourceOffset | null>>;
    /** Edges leaving the stage (by edgeId) and the outlet each feeds. */
    outlets: ReadonlyMap<string, Outlet>;
    eventTimeField: (nodeId: string) => string | undefined;
    context: (nodeId: string, config: unknown) => RuntimeContext<unknown>;
    /** Cuts secrets out of error text before it is kept (dead letters). */
    scrub?: (text: string) => string;
  }): Promise<FusedStage> {
    const stage = new FusedStage();
    if (options.scrub) stage.scrub = options.scrub;
    const { definition, validation, runtimes, outlets } = options;
    const graph = buildGraph(definition.spec.nodes, definition.spec.edges);
    const nodeById = new Map(definition.spec.nodes.map((n) => [n.id, n]));
    try {
      // Open sinks first, then create operators back to front so each emitter's targets already exist.
      for (const id of options.nodeIds) {
        const node = nodeById.get(id);
        const runtime = node ? runtimes.get(node.type) : undefined;
        if (!node || !runtime) throw new StageBuildError(`node ${id}: no runtime for type ${node?.type ?? "?"}`);
        stage.counters.set(id, { in: 0, out: 0, err: 0 });
        if (runtime.kind === "source") {
          const offset = options.offsets[id] ?? null;
          const reader = await runtime.open(
            options.context(id, validation.configs[id]) as RuntimeContext<never>,
            offset,
          );
          stage.sources.push({ nodeId: id, reader, offset, ended: false, eventTimeField: options.eventTimeField(id) });
        } else if (runtime.kind === "sink") {
          const writer = await runtime.open(options.context(id, validation.configs[id]) as RuntimeContext<never>);
          const sink: StageSink = { nodeId: id, writer, buffer: [] };
          stage.sinks.push(sink);
          const counters = stage.counters.get(id)!;
          stage.deliverTo.set(id, (record) => {
            counters.in++;
            sink.buffer.push(record);
          });
        }
      }
      const reversed = [...options.nodeIds].reverse();
      for (const id of reversed) {
        const node = nodeById.get(id)!;
        const runtime = runtimes.get(node.type)!;
        const emit = stage.emitterFor(id, graph.outgoing.get(id) ?? [], outlets);
        if (runtime.kind === "transform") {
          const op = runtime.create(options.context(id, validation.configs[id]) as RuntimeContext<never>);
          const counters = stage.counters.get(id)!;
          if (op.processBatch) {
            // Held until flush(): the operator gets the batch's records at once and is awaited.
            const pending: PortRecord[] = [];
            stage.batched.unshift({ id, op, emit, pending });
            stage.deliverTo.set(id, (record, port) => {
              counters.in++;
              pending.push({ record, port });
            });
          } else if (op.process) {
            const process = op.process.bind(op);
            stage.deliverTo.set(id, (record, port) => {
              counters.in++;
              try {
                process(record, emit, port);
              } catch (err) {
                counters.err++;
                stage.deadLetter(id, err, record, { port });
              }
            });
          } else {
            throw new StageBuildError(`node ${id}: its operator implements neither process nor processBatch`);
          }
          if (op.onWatermark || op.onTick || op.onEnd) stage.hooked.unshift({ id, op, emit });
        } else if (runtime.kind === "source") {
          stage.entry.set(id, emit);
        }
      }
    } catch (err) {
      await stage.close();
      throw err;
    }
    return stage;
  }

  /** Counters of a node, also of one in another stage (a shuffle into it failed here). */
  private countersOf(nodeId: string): NodeCounters {
    let c = this.counters.get(nodeId);
    if (!c) {
      c = { in: 0, out: 0, err: 0 };
      this.counters.set(nodeId, c);
    }
    return c;
  }

  private scrub: (text: string) => string = (t) => t;

  private deadLetter(
    nodeId: string,
    err: unknown,
    record: unknown,
    where: { port?: string; edge?: string } = {},
  ): void {
    this.deadLetters.push({
      nodeId,
      ...where,
      error: this.scrub(errorMessage(err)),
      record,
      at: Date.now(),
      sequence: this.sequence,
    });
  }

  private emitterFor(
    id: string,
    edges: readonly { to: string; fromPort: string; toPort: string }[],
    outlets: ReadonlyMap<string, Outlet>,
  ): Emit {
    const counters = this.counters.get(id)!;
    const byPort = new Map<string, Deliver[]>();
    for (const e of edges) {
      const edge = edgeId(id, e.fromPort, e.to, e.toPort);
      const outlet = outlets.get(edge);
      const deliver = this.deliverTo.get(e.to);
      let target: Deliver | undefined;
      if (outlet) {
        this.outletsById.set(edge, outlet);
        target = (record) => {
          try {
            outlet(record);
          } catch (err) {
            // The record's shuffle key could not be computed; it is the next stage's node that did not get it.
            this.countersOf(e.to).err++;
            this.deadLetter(e.to, err, record, { port: e.toPort, edge });
          }
        };
      } else if (deliver) {
        const port = e.toPort;
        target = (record) => deliver(record, port);
      }
      if (target) byPort.set(e.fromPort, [...(byPort.get(e.fromPort) ?? []), target]);
    }
    const only = byPort.size === 1 ? byPort.get("out") : undefined;
    if (only && only.length === 1) {
      // The common case, one edge from "out": skip the port lookup per record.
      const target = only[0]!;
      return (record, fromPort) => {
        if (fromPort !== undefined && fromPort !== "out") return;
        counters.out++;
        target(record, "");
      };
    }
    return (record, fromPort = "out") => {
      counters.out++;
      const targets = byPort.get(fromPort);
      if (targets) for (const t of targets) t(record, "");
    };
  }

  /** Pushes records read from a source through the chain. */
  push(sourceId: string, records: readonly DataRecord[], ports?: readonly string[]): void {
    const emit = this.entry.get(sourceId);
    if (!emit) throw new StageBuildError(`${sourceId} is not a source of this stage`);
    if (ports) for (let i = 0; i < records.length; i++) emit(records[i]!, ports[i]);
    else for (let i = 0; i < records.length; i++) emit(records[i]!);
  }

  /** Hands records that arrived through a shuffle to `nodeId`'s input `port`. */
  enter(nodeId: string, port: string, records: readonly DataRecord[]): void {
    const deliver = this.deliverTo.get(nodeId);
    if (!deliver) throw new StageBuildError(`${nodeId} does not take input in this stage`);
    for (let i = 0; i < records.length; i++) deliver(records[i]!, port);
  }

  /**
   * Sends a dead letter's record through again, where it failed: into the node's input port, or across the
   * shuffle edge whose key could not be computed. False when the letter does not belong to this stage.
   */
  replay(letter: { nodeId: string; port?: string; edge?: string; record: unknown }): boolean {
    const record = letter.record as DataRecord;
    if (letter.edge !== undefined) {
      const outlet = this.outletsById.get(letter.edge);
      if (!outlet) return false;
      try {
        outlet(record);
      } catch (err) {
        this.deadLetter(letter.nodeId, err, record, { port: letter.port ?? "in", edge: letter.edge });
      }
      return true;
    }
    const deliver = this.deliverTo.get(letter.nodeId);
    if (!deliver || record === null || typeof record !== "object") return false;
    deliver(record, letter.port ?? "in");
    return true;
  }

  /**
   * Hands each batch operator what reached it, upstream first (what one emits may reach the next), and awaits
   * it. A rejection propagates: the batch is not committed and will be retried.
   */
  async flush(): Promise<void> {
    for (const { id, op, emit, pending } of this.batched) {
      if (pending.length === 0) continue;
      const records = pending.splice(0, pending.length);
      const counters = this.counters.get(id)!;
      await op.processBatch!(records, emit, (record, err) => {
        counters.err++;
        const port = records.find((r) => r.record === record)?.port ?? "in";
        this.deadLetter(id, err, record, { port });
      });
    }
  }

  private hook(name: "onWatermark" | "onTick" | "onEnd", arg: number): void {
    for (const { id, op, emit } of this.hooked) {
      try {
        if (name === "onWatermark") op.onWatermark?.(arg, emit);
        else if (name === "onTick") op.onTick?.(arg, emit);
        else op.onEnd?.(emit);
      } catch (err) {
        this.counters.get(id)!.err++;
        this.deadLetter(id, err, { hook: name, at: arg });
      }
    }
  }

  /** Event time advanced to `watermark` on every input: fire operators' timers, upstream first. */
  watermark(watermark: number): void {
    this.hook("onWatermark", watermark);
  }

  tick(now: number): void {
    this.hook("onTick", now);
  }

  /** All input has ended: operators emit what they still hold, upstream first. */
  end(): void {
    this.hook("onWatermark", Number.POSITIVE_INFINITY);
    this.hook("onEnd", 0);
  }

  get hasTickers(): boolean {
    return this.hooked.some((h) => h.op.onTick);
  }

  /** Starts a new batch: counters, dead letters and sink buffers belong to one committed batch. */
  begin(sequence: number): void {
    this.sequence = sequence;
    for (const b of this.batched) b.pending.length = 0;
    for (const c of this.counters.values()) {
      c.in = 0;
      c.out = 0;
      c.err = 0;
    }
    this.deadLetters = [];
    for (const s of this.sinks) s.buffer = [];
  }

  /** Records a source read but could not decode: dead letters of that source, counted as its errors. */
  rejectFromSource(nodeId: string, rejected: readonly RejectedRecord[]): void {
    const counters = this.countersOf(nodeId);
    for (const r of rejected) {
      counters.err++;
      this.deadLetter(nodeId, r.error, r.record);
    }
  }

  /** Records a sink's target refused (through `fail`): dead letters at the sink's input, counted as its errors. */
  rejectAtSink(nodeId: string, refused: readonly { record: DataRecord; error: unknown }[]): void {
    const counters = this.countersOf(nodeId);
    for (const r of refused) {
      counters.err++;
      this.deadLetter(nodeId, r.error, r.record, { port: "in" });
    }
  }

  takeDeadLetters(): DeadLetter[] {
    return this.deadLetters;
  }

  /** The sinks holding records to write in this batch, in stage order. */
  pendingWrites(): StageSink[] {
    return this.sinks.filter((s) => s.buffer.length > 0);
  }

  /** The stage's nodes. */
  get nodeIds(): string[] {
    return [...this.counters.keys()];
  }

  /** What this batch did in the stage so far, for its commit: counter increments and dead letters. */
  report(): StageReport {
    const increments: Record<string, number> = {};
    let counted = false;
    for (const [id, c] of this.counters) {
      if (c.in) increments[counterField(id, "in")] = c.in;
      if (c.out) increments[counterField(id, "out")] = c.out;
      if (c.err) increments[counterField(id, "err")] = c.err;
      if (c.in || c.out || c.err) counted = true;
    }
    return { increments, deadLetters: this.deadLetters, active: counted || this.deadLetters.length > 0 };
  }

  /** Closes every source and sink once; later calls wait for that same close. */
  close(): Promise<void> {
    this.closing ??= Promise.allSettled([
      ...this.sources.map((s) => s.reader.close()),
      ...this.sinks.map((s) => s.writer.close()),
    ]).then(() => {});
    return this.closing;
  }
}
