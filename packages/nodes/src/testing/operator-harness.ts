import type { PipelineSettings } from "@sluice/pipeline/definition";
import type { AnyNodeDefinition } from "@sluice/pipeline/node-definition";
import type { DataRecord, RecordSchema } from "@sluice/pipeline/record-schema";
import type { DestinationPolicy } from "../destination-policy";
import {
  bundleResolver,
  type ConnectionBundle,
  type JsonValue,
  type OperatorInstance,
  type RuntimeContext,
  type StateStore,
} from "../runtime-contract";
import { localDestinations } from "./local-destinations";

// Unit-test support for node runtimes: a real RuntimeContext with in-memory state, and a runner that feeds
// records, watermarks and end-of-input through an operator and collects what it emits, per output port.

export class MemoryStateStore<V extends JsonValue = JsonValue> implements StateStore<V> {
  readonly map = new Map<string, V>();
  get(key: string) {
    return this.map.get(key);
  }
  set(key: string, value: V) {
    this.map.set(key, value);
  }
  delete(key: string) {
    this.map.delete(key);
  }
  has(key: string) {
    return this.map.has(key);
  }
  keys() {
    return this.map.keys();
  }
  entries() {
    return this.map.entries();
  }
  get size() {
    return this.map.size;
  }
}

export interface TestContextOptions {
  nodeId?: string;
  partition?: number;
  partitions?: number;
  inputs?: Record<string, RecordSchema>;
  parameters?: Record<string, string | number | boolean>;
  settings?: Partial<PipelineSettings>;
  runStartedAt?: number;
  connections?: ConnectionBundle;
  /** Where connections may go; by default the local test servers (loopback). */
  destinations?: DestinationPolicy;
}

/** A RuntimeContext for `def` with `config` parsed by its schema (so defaults apply, as in a run). */
export function testContext<C>(
  def: AnyNodeDefinition,
  config: unknown,
  options: TestContextOptions = {},
): RuntimeContext<C> & { stores: Map<string, MemoryStateStore> } {
  const stores = new Map<string, MemoryStateStore>();
  const settings: PipelineSettings = { parallelism: 1, delivery: "exactly-once", batchSize: 1000, ...options.settings };
  const inputs = options.inputs ?? {};
  const parsed = def.config.parse(config) as C;
  const outputs = def.infer({ config: parsed, inputs, settings, parameters: {} }).outputs;
  return {
    nodeId: options.nodeId ?? "node",
    config: parsed,
    runId: "test-run",
    runStartedAt: options.runStartedAt ?? 1_700_000_000_000,
    partition: options.partition ?? 0,
    partitions: options.partitions ?? 1,
    parameters: options.parameters ?? {},
    settings,
    inputs,
    outputs,
    log: { info() {}, warn() {}, error() {} },
    services: {
      tail: { async append() {} },
      connections: bundleResolver(options.connections ?? {}),
      destinations: options.destinations ?? localDestinations,
    },
    stores,
    state<V extends JsonValue>(name: string) {
      let store = stores.get(name);
      if (!store) {
        store = new MemoryStateStore();
        stores.set(name, store);
      }
      return store as unknown as StateStore<V>;
    },
  };
}

export type Emitted = Record<string, DataRecord[]>;

/** Drives an operator and records every emitted record under its output port. */
export class OperatorRun {
  readonly emitted: Emitted = {};
  private readonly emit = (record: DataRecord, port = "out") => {
    const list = this.emitted[port];
    if (list) list.push(record);
    else this.emitted[port] = [record];
  };
  constructor(readonly op: OperatorInstance) {}

  /** Records dead-lettered through processBatch's `fail`, with their errors. */
  readonly failed: { record: DataRecord; error: unknown }[] = [];

  push(records: readonly DataRecord[], port = "in"): this {
    if (!this.op.process) throw new Error("this operator takes batches: use pushBatch()");
    for (const r of records) this.op.process(r, this.emit, port);
    return this;
  }

  /** For operators with processBatch: hands the records over at once and awaits the operator. */
  async pushBatch(records: readonly DataRecord[], port = "in"): Promise<this> {
    if (!this.op.processBatch) throw new Error("this operator takes records one by one: use push()");
    await this.op.processBatch(
      records.map((record) => ({ record, port })),
      this.emit,
      (record, error) => this.failed.push({ record, error }),
    );
    return this;
  }
  watermark(wm: number): this {
    this.op.onWatermark?.(wm, this.emit);
    return this;
  }
  tick(now: number): this {
    this.op.onTick?.(now, this.emit);
    return this;
  }
  end(): this {
    this.op.onEnd?.(this.emit);
    return this;
  }
  /** What was emitted on `port`, and clears it. */
  take(port = "out"): DataRecord[] {
    const out = this.emitted[port] ?? [];
    this.emitted[port] = [];
    return out;
  }
}
