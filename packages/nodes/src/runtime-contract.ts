import type { OffsetLag } from "@sluice/pipeline/control/node-figures";
import type { PipelineSettings } from "@sluice/pipeline/definition";
import type { DataRecord, RecordSchema } from "@sluice/pipeline/record-schema";
import type { Cluster, Redis } from "ioredis";
import type { DestinationPolicy } from "./destination-policy";

// What a node's runtime (`<type>.run.ts`) implements and what the engine hands it. Server-only.

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A source's position, opaque to the engine and committed with each batch. */
export type SourceOffset = JsonValue;

export interface RuntimeLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** The live tail the UI shows for console sinks: a capped log per run, not a data store. */
export interface LiveTail {
  append(nodeId: string, partition: number, records: readonly DataRecord[], keep: number): Promise<void>;
}

/** The connections a run may use, resolved with their secrets (never logged, never sent anywhere else). */
export interface ConnectionResolver {
  /** The connection's config; throws ConnectionUnavailableError naming it when the run has no such connection. */
  get<C = Record<string, unknown>>(name: string, type?: string): C;
}

export class ConnectionUnavailableError extends Error {
  override name = "ConnectionUnavailableError";
  constructor(
    readonly connection: string,
    reason: string,
  ) {
    super(`connection "${connection}" ${reason}`);
  }
}

export interface RuntimeServices {
  tail: LiveTail;
  connections: ConnectionResolver;
  /** Where connections may go: every connector resolves and checks its hosts through it (destination-policy.ts). */
  destinations: DestinationPolicy;
  /** The fleet's Redis and the run's saved pipeline, for the webhook source's ingest streams. */
  ingest?: IngestService;
  /** Where file sources and sinks read and write (connectors/files/files-root.ts). */
  files?: FilesService;
}

export interface FilesService {
  /** The files directory (the worker's SLUICE_FILES_DIR); undefined: `.sluice/files` in the working directory. */
  root?: string;
  /**
   * The workspace the run or preview belongs to, as the API wrote it into the job (never from the definition): its
   * file nodes see only `<root>/<workspaceId>`. Undefined for `sluice run`, whose file nodes use the root itself.
   */
  workspaceId?: string;
}

export interface IngestService {
  redis: Redis | Cluster;
  /** The deployment's Redis key prefix. */
  prefix: string;
  /** The pipeline the run belongs to (a saved one's id, or `sluice run`'s id for its file); undefined without one. */
  pipelineId: string | undefined;
}

/** A run's connections as the engine receives them (sealed in transit): name → type and config with secrets. */
export type ConnectionBundle = Record<
  string,
  {
    type: string;
    config: Record<string, unknown>;
    /** Which config fields are secret, so the engine can cut their values out of errors and logs. */
    secrets?: string[];
  }
>;

/** The secret values of a bundle (for scrubbing). */
export function bundleSecrets(bundle: ConnectionBundle): unknown[] {
  return Object.values(bundle).flatMap((e) => (e.secrets ?? []).map((f) => e.config[f]));
}

export function bundleResolver(bundle: ConnectionBundle): ConnectionResolver {
  return {
    get<C>(name: string, type?: string): C {
      const entry = Object.hasOwn(bundle, name) ? bundle[name] : undefined;
      if (!entry)
        throw new ConnectionUnavailableError(
          name,
          "is not one of this run's connections (create it, or check the name)",
        );
      if (type !== undefined && entry.type !== type) {
        throw new ConnectionUnavailableError(name, `is a ${entry.type} connection, not ${type}`);
      }
      return entry.config as C;
    },
  };
}

/**
 * Operator state, one store per name per operator per partition. Reads and writes are in memory; the engine
 * loads the store before the first record and commits what changed atomically with each batch, so after a
 * crash the state is exactly what the last committed batch left. Values must be plain JSON.
 */
export interface StateStore<V extends JsonValue = JsonValue> {
  get(key: string): V | undefined;
  set(key: string, value: V): void;
  delete(key: string): void;
  has(key: string): boolean;
  keys(): IterableIterator<string>;
  entries(): IterableIterator<[string, V]>;
  readonly size: number;
}

export interface RuntimeContext<C> {
  nodeId: string;
  config: C;
  runId: string;
  /** Fixed when the run was created, so replays derive the same values (e.g. generated event times). */
  runStartedAt: number;
  partition: number;
  partitions: number;
  parameters: Readonly<Record<string, string | number | boolean>>;
  settings: PipelineSettings;
  inputs: Readonly<Record<string, RecordSchema>>;
  outputs: Readonly<Record<string, RecordSchema>>;
  log: RuntimeLogger;
  services: RuntimeServices;
  /** This operator's state store called `name` (see StateStore). */
  state<V extends JsonValue = JsonValue>(name: string): StateStore<V>;
  /**
   * "preview": the editor's data preview runs the draft on a small sample — sources read what they have at once
   * (no rate pacing, no long polls) and nothing is written anywhere.
   */
  mode?: "run" | "preview";
}

export interface SourceBatch {
  records: DataRecord[];
  /** Position after the last record of this batch. */
  offset: SourceOffset;
  /** A bounded source has nothing more to read. */
  end: boolean;
  /** Nothing is available now: the engine may wait this long before reading again. */
  idleMs?: number;
  /**
   * For sources with several outputs: the output port of each record (`ports[k]` for `records[k]`). Without
   * it every record leaves by "out".
   */
  ports?: readonly string[];
  /** A bounded source's progress in this partition (records read so far, and in all), for progress bars. */
  progress?: { done: number; total: number };
  /**
   * What was read but could not be decoded (a malformed JSON message, a CSV line with too few columns). The engine
   * dead-letters each under the source's node id, counts it as an error of that node, and commits it with the batch,
   * so the source's position moves past it and the run goes on.
   */
  rejected?: readonly RejectedRecord[];
}

/** A record a source read but could not decode, kept with where it came from so a person can find and fix it. */
export interface RejectedRecord {
  /** What was read, with its origin (file and line, stream and entry id, subject and sequence). */
  record: Record<string, unknown>;
  error: string;
}

export interface SourceReader {
  /** Reads at most `max` records after the current position. */
  read(max: number, signal: AbortSignal): Promise<SourceBatch>;
  /**
   * How large a record is at most, as JSON, in bytes, when the source knows it from its config (a generator). The
   * engine asks for fewer records when they would pass the batch's byte budget (settings.batchBytes); without this
   * it starts with a small read and estimates from the records it gets.
   */
  readonly recordBytes?: number;
  /**
   * The engine may ask for the next batch before the last one is committed: `read` is called again while the
   * previous batch's sinks write and its commit is on its way, and may run while `committed` (of an earlier batch)
   * does. Each batch still carries its own offset, and a batch read ahead that is never committed is read again
   * from the committed offset by the next owner. For sources whose reads wait on I/O (files, queries), so that the
   * wait overlaps the sinks' writes.
   */
  readonly readAhead?: boolean;
  /** The engine durably committed `offset` (sources that acknowledge upstream do it here). */
  committed?(offset: SourceOffset): Promise<void>;
  /**
   * How far this partition is behind what its system holds for it, in the system's own unit: WAL bytes past the
   * slot's confirmed position, stream entries after the committed id, broker messages not yet acknowledged, bytes
   * of files not yet read. Only for sources that have such a notion (not a generator, a webhook or MQTT), and only
   * when it costs one cheap request; undefined when it cannot say now. Where several partitions share one backlog
   * (a broker queue) one of them counts it, so the node's lag is the sum over its partitions. The engine asks at
   * most once a second, never while an earlier ask is unanswered, possibly while `read` is running and possibly
   * after `close` (then it may throw); a throw or a slow answer only costs that second's figure.
   */
  offsetLag?(): Promise<OffsetLag | undefined>;
  close(): Promise<void>;
}

export type Emit = (record: DataRecord, port?: string) => void;

/**
 * A transform. Records are shared between branches of the graph: treat every input record as immutable and emit
 * new objects when changing one.
 */
export interface PortRecord {
  record: DataRecord;
  port: string;
}

export interface OperatorInstance {
  /** Handles one record; calls `emit` for each output. Throwing sends the record to the dead-letter queue. */
  process?(record: DataRecord, emit: Emit, inputPort: string): void;
  /**
   * For operators that need I/O per record (lookups): the records that reached the operator in a batch, handed
   * over at once and awaited before the batch is committed. `fail` dead-letters one record; a rejected promise
   * fails the whole batch, which is then retried from the last commit (e.g. while a database is down).
   * An operator implements process or processBatch.
   */
  processBatch?(
    records: readonly PortRecord[],
    emit: Emit,
    fail: (record: DataRecord, error: unknown) => void,
  ): Promise<void>;
  /** Event time reached `watermark` (epoch ms) on every input: close windows, fire timers, expire state. */
  onWatermark?(watermark: number, emit: Emit): void;
  /** Called about once a second with the wall clock, for processing-time windows and early results. */
  onTick?(now: number, emit: Emit): void;
  /** Every input has ended (a bounded run): emit whatever is still held. */
  onEnd?(emit: Emit): void;
}

export interface BatchInfo {
  /** Deterministic across replays of the same batch: `run:stage:partition:sequence`. Idempotent sinks key on it. */
  batchId: string;
  sequence: number;
}

/** Dead-letters one record of a sink's batch (the target refused it); the rest of the batch is written. */
export type FailRecord = (record: DataRecord, error: unknown) => void;

export interface SinkWriter {
  /**
   * Writes the batch durably before the engine commits it; may be called again with the same batch after a crash.
   * `fail` dead-letters a record the target refused (the engine always passes it; direct callers may not). Records
   * failed by an attempt that then throws are forgotten: the retry decides again.
   */
  write(records: readonly DataRecord[], batch: BatchInfo, fail?: FailRecord): Promise<void>;
  /**
   * The engine durably committed a batch this sink wrote, before the next `write`: two-phase sinks complete their
   * work here (e.g. renaming a finished file into place). Not called for a batch a crash interrupted; such sinks
   * finish or undo that work when they open again.
   */
  committed?(batch: BatchInfo): Promise<void>;
  close(): Promise<void>;
}

/**
 * A failure no retry can fix: refused credentials, a 4xx answer, a table that does not exist. Thrown by a reader's
 * `read` or a writer's `write`, it fails the run with its message instead of being retried with backoff.
 */
export class PermanentConnectorError extends Error {
  override name = "PermanentConnectorError";
}

/** A record a sink's target refused, when the caller gave no way to dead-letter it (see FailRecord). */
export class RecordRejectedError extends Error {
  override name = "RecordRejectedError";
  constructor(
    readonly index: number,
    readonly record: DataRecord,
    reason: string,
  ) {
    super(`record ${index + 1} of the batch was refused: ${reason}`);
  }
}

/** Dead-letters through `fail` when there is one; otherwise throws, so the batch is retried, not lost. */
export function rejectOrThrow(fail: FailRecord | undefined, index: number, record: DataRecord, reason: string): void {
  if (fail) fail(record, new Error(reason));
  else throw new RecordRejectedError(index, record, reason);
}

export interface SourceRuntime<C = unknown> {
  kind: "source";
  type: string;
  /** Opens a reader positioned after `from` (null: from the beginning). */
  open(ctx: RuntimeContext<C>, from: SourceOffset | null): Promise<SourceReader>;
}

export interface TransformRuntime<C = unknown> {
  kind: "transform";
  type: string;
  create(ctx: RuntimeContext<C>): OperatorInstance;
}

export interface SinkRuntime<C = unknown> {
  kind: "sink";
  type: string;
  open(ctx: RuntimeContext<C>): Promise<SinkWriter>;
}

export type NodeRuntime = SourceRuntime<never> | TransformRuntime<never> | SinkRuntime<never>;

export interface RuntimeRegistry {
  get(type: string): NodeRuntime | undefined;
}

export function createRuntimeRegistry(runtimes: readonly NodeRuntime[]): RuntimeRegistry {
  const byType = new Map<string, NodeRuntime>();
  for (const r of runtimes) {
    if (byType.has(r.type)) throw new Error(`runtime for "${r.type}" is registered twice`);
    byType.set(r.type, r);
  }
  return { get: (type) => byType.get(type) };
}
