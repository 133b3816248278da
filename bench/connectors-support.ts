import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import { catalog } from "@sluice/nodes/catalog";
import type {
  ConnectionBundle,
  SinkRuntime,
  SinkWriter,
  SourceOffset,
  SourceReader,
  SourceRuntime,
} from "@sluice/nodes/runtime-contract";
import { runtimes } from "@sluice/nodes/runtimes";
import { type TestContextOptions, testContext } from "@sluice/nodes/testing/operator-harness";
import type { AnyNodeDefinition } from "@sluice/pipeline/node-definition";
import { type DataRecord, field, type RecordSchema, t } from "@sluice/pipeline/record-schema";

// What every case of `npm run bench -- connectors` shares: the 200-byte records, a RuntimeContext built as the
// connector integration tests build it (testContext, with a run id of its own), and the two loops that drive a
// reader or a writer the way the engine's partition task does — read(max = batchSize) then committed(offset);
// write(batch) then committed(batch) — with one reader or writer per partition.

/** Size of every record as compact JSON (what a message payload or a JSON line holds). */
export const RECORD_BYTES = 200;
/** Event time of record 0. */
export const START_TIME = Date.UTC(2026, 10, 24);
const COUNTRIES = ["DE", "FR", "NL", "US", "JP"] as const;
const ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ";
/** Distinct records per id length; record i is a copy of one of them with its own id. */
const POOL = 10_000;

/** The fields of a bench record, as a closed schema (sinks that create or fill typed columns need it). */
export const BENCH_SCHEMA: RecordSchema = {
  fields: [
    field("id", t.int, false),
    field("user_id", t.int, false),
    field("country", t.string, false),
    field("status", t.int, false),
    field("amount", t.float, false),
    field("ts", t.timestamp, false),
    field("note", t.string, false),
  ],
  open: false,
};

/** Templates of records whose id has `digits` digits, so a copy with any such id is exactly RECORD_BYTES long. */
const pools = new Map<number, DataRecord[]>();

function poolFor(digits: number): DataRecord[] {
  let pool = pools.get(digits);
  if (pool) return pool;
  pool = new Array(POOL);
  let seed = 0x2545f491 ^ digits;
  for (let k = 0; k < POOL; k++) {
    const r = {
      id: 10 ** (digits - 1),
      user_id: (k * 7919) % 100_000,
      country: COUNTRIES[k % COUNTRIES.length]!,
      status: k % 4,
      amount: ((k * 104_729) % 1_000_000) / 100 + 0.01,
      ts: START_TIME + k,
      note: "",
    };
    // Pseudo-random text, so compressing formats (Parquet) see notes like real ones, not a repeated letter.
    let note = "";
    for (let n = RECORD_BYTES - JSON.stringify(r).length; n > 0; n--) {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      note += ALPHABET[(seed >>> 0) % ALPHABET.length];
    }
    r.note = note;
    pool[k] = r;
  }
  pools.set(digits, pool);
  return pool;
}

/**
 * Record `i`: seven fields (id, user_id, country, status, amount, ts, note), exactly RECORD_BYTES bytes as compact
 * JSON. A fresh object each time (a copy of a template with id i), cheap enough to make inside timed loops.
 */
export function benchRecord(i: number): DataRecord {
  const digits = i < 10 ? 1 : Math.floor(Math.log10(i)) + 1;
  return { ...poolFor(digits)[i % POOL]!, id: i };
}

export function benchRecords(from: number, n: number): DataRecord[] {
  const out: DataRecord[] = new Array(n);
  for (let k = 0; k < n; k++) out[k] = benchRecord(from + k);
  return out;
}

/** A name no other run uses: `prefix-<10 hex>` (or with `_` for systems that want identifiers). */
export function uniqueName(prefix: string, separator = "-"): string {
  return `${prefix}${separator}${randomBytes(5).toString("hex")}`;
}

export interface BenchContextOptions extends TestContextOptions {
  connections?: ConnectionBundle;
  services?: Record<string, unknown>;
  mode?: "run" | "preview";
}

/**
 * A RuntimeContext as the connector integration tests build it (the node's config parsed by its schema, in-memory
 * state, a resolver over `connections`), with a run id of its own so client ids, consumer and slot names do not meet
 * those of tests running beside the benchmark, and optional extra services (files root, ingest) merged in as the
 * engine would hand them over.
 */
export function benchContext<C>(def: AnyNodeDefinition, config: unknown, runId: string, o: BenchContextOptions = {}) {
  const ctx = testContext<C>(def, config, { runStartedAt: Date.now(), nodeId: "bench", ...o });
  return {
    ...ctx,
    runId,
    services: { ...ctx.services, ...o.services },
    ...(o.mode ? { mode: o.mode } : {}),
  };
}

function nodeDef(type: string): AnyNodeDefinition {
  const def = catalog.get(type);
  if (!def) throw new Error(`no node type ${type} in the catalog`);
  return def;
}

/** Opens the reader of source `type` from the runtime registry, as the engine does. */
export async function openSource(
  type: string,
  config: unknown,
  runId: string,
  o: BenchContextOptions = {},
  from: SourceOffset | null = null,
): Promise<SourceReader> {
  const runtime = runtimes.get(type);
  if (runtime?.kind !== "source") throw new Error(`no source runtime for ${type}`);
  const ctx = benchContext(nodeDef(type), config, runId, o);
  return (runtime as SourceRuntime<unknown>).open(ctx, from);
}

/** Opens the writer of sink `type` from the runtime registry, with the bench records' schema as its input. */
export async function openSink(
  type: string,
  config: unknown,
  runId: string,
  o: BenchContextOptions = {},
): Promise<SinkWriter> {
  const runtime = runtimes.get(type);
  if (runtime?.kind !== "sink") throw new Error(`no sink runtime for ${type}`);
  const ctx = benchContext(nodeDef(type), config, runId, { inputs: { in: BENCH_SCHEMA }, ...o });
  return (runtime as SinkRuntime<unknown>).open(ctx);
}

export interface Measured {
  /** Records timed (the warm-up excluded), over all partitions. */
  records: number;
  /** Wall-clock seconds from the end of the warm-up to the last record written or read. */
  seconds: number;
  /** CPU of this process (all threads) over the timed part, seconds. */
  cpuSeconds: number;
  /** Busy cores of the whole machine (every process: this one, the server, anything else) over the timed part. */
  machineCores?: number;
  /** Partitions (writers or readers) that ran at once. */
  partitions?: number;
  notes?: string[];
}

export interface DriveOptions {
  /** Records timed, over all partitions. */
  records: number;
  /** Records before them, not timed, over all partitions. */
  warmup: number;
  batch: number;
  /** Called after each batch with the records this partition has done so far (warm-up included). */
  onProgress?: (done: number) => void;
}

const never = new AbortController().signal;

/** `total` split over `parts`: the first ones take the remainder. */
export function shares(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, p) => Math.floor(total / parts) + (p < total % parts ? 1 : 0));
}

/**
 * Writes `warmup` then `records` bench records (ids 0, 1, …) through the writers — one per partition, all at once,
 * as one worker runs a stage's partitions — in batches of `batch`, as the engine does: write(batch) then
 * committed(batch). Timed from when every writer has finished its warm-up to when the last one is done; making the
 * records (a copy of a template each) is inside that time and small. A refused record fails the benchmark.
 */
export async function driveSinks(writers: readonly SinkWriter[], runId: string, o: DriveOptions): Promise<Measured> {
  let next = 0;
  let refused: unknown;
  const fail = (_record: DataRecord, error: unknown) => {
    refused ??= error;
  };
  const sequences = writers.map(() => 0);
  const batchOf = async (p: number, n: number) => {
    const records = benchRecords(next, n);
    next += n;
    const sequence = ++sequences[p]!;
    const info = { batchId: `${runId}:0:${p}:${sequence}`, sequence };
    await writers[p]!.write(records, info, fail);
    await writers[p]!.committed?.(info);
    if (refused !== undefined) throw new Error(`the sink refused a record: ${String(refused)}`);
  };
  const phase = (counts: number[]) =>
    Promise.all(
      writers.map(async (_, p) => {
        for (let done = 0; done < counts[p]!; ) {
          const n = Math.min(o.batch, counts[p]! - done);
          await batchOf(p, n);
          done += n;
          o.onProgress?.(done);
        }
      }),
    );
  await phase(shares(o.warmup, writers.length));
  const clock = startClock();
  await phase(shares(o.records, writers.length));
  return { records: o.records, partitions: writers.length, ...clock.stop() };
}

/** Opens `partitions` writers of sink `type` (partition p of P each), drives them, and closes them. */
export async function runSink(
  type: string,
  config: unknown,
  o: CaseOptions,
  context: BenchContextOptions = {},
): Promise<Measured> {
  const runId = uniqueName(`bench-${type.replace(/^sink\./, "")}`);
  const writers: SinkWriter[] = [];
  try {
    for (let p = 0; p < o.partitions; p++) {
      writers.push(await openSink(type, config, runId, { ...context, partition: p, partitions: o.partitions }));
    }
    return await driveSinks(writers, runId, o);
  } finally {
    for (const w of writers) await w.close();
  }
}

/**
 * Reads `warmup` records (not timed), then times reading `records` more, as the engine does: read(max), then
 * committed(offset), with max = the batch size (less near the warm-up line and the end, so both counts are exact).
 * With several readers (one per partition, each given its share of both counts), they read at once, and the clock
 * runs from when every one has finished its warm-up to when the last one is done. Fails on a rejected record, on
 * an early end, or when a reader gets nothing for `stallMs`.
 */
export async function driveSources(
  readers: readonly SourceReader[],
  o: DriveOptions & { stallMs?: number },
  check?: (partition: number) => (record: DataRecord, index: number) => void,
): Promise<Measured> {
  const stallMs = o.stallMs ?? 30_000;
  const warm = shares(o.warmup, readers.length);
  const timed = shares(o.records, readers.length);
  const readUpTo = async (p: number, from: number, to: number) => {
    const reader = readers[p]!;
    const checkOne = check?.(p);
    let got = from;
    let lastProgress = Date.now();
    while (got < to) {
      const limit = to - got;
      const batch = await reader.read(Math.min(o.batch, limit), never);
      if (batch.rejected && batch.rejected.length > 0) {
        throw new Error(`the source rejected a record: ${batch.rejected[0]!.error}`);
      }
      const n = batch.records.length;
      if (n > limit) throw new Error(`asked for at most ${limit} records, the source gave ${n}`);
      if (checkOne) for (let k = 0; k < n; k++) checkOne(batch.records[k]!, got + k);
      got += n;
      if (n > 0) {
        await reader.committed?.(batch.offset);
        o.onProgress?.(got);
        lastProgress = Date.now();
      } else {
        if (Date.now() - lastProgress > stallMs) {
          throw new Error(`partition ${p}: no record for ${stallMs / 1000} s after ${got} of ${warm[p]! + timed[p]!}`);
        }
        // As the engine: nothing read, so wait what the source asked (at most 25 ms) before reading again.
        await sleep(Math.min(Math.max(batch.idleMs ?? 25, 1), 25));
      }
      if (batch.end && got < to) throw new Error(`partition ${p}: the source ended after ${got} records`);
    }
  };
  await Promise.all(readers.map((_, p) => readUpTo(p, 0, warm[p]!)));
  const clock = startClock();
  await Promise.all(readers.map((_, p) => readUpTo(p, warm[p]!, warm[p]! + timed[p]!)));
  return { records: o.records, partitions: readers.length, ...clock.stop() };
}

/** driveSources with one reader. */
export function driveSource(
  reader: SourceReader,
  o: DriveOptions & { stallMs?: number },
  check?: (record: DataRecord, index: number) => void,
): Promise<Measured> {
  return driveSources([reader], o, check ? () => check : undefined);
}

/**
 * Busy CPU seconds of the whole machine so far (every process), from /proc/stat; undefined where there is none. (As
 * engine-harness.ts has it; not imported from there, since that module starts a fleet worker in any worker thread.)
 */
function machineBusySeconds(): number | undefined {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!;
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / 100;
  } catch {
    return undefined;
  }
}

/** Wall clock, this process's CPU and the machine's busy time from now to stop(). */
export function startClock() {
  const t0 = performance.now();
  const cpu = process.cpuUsage();
  const busy0 = machineBusySeconds();
  return {
    stop(): { seconds: number; cpuSeconds: number; machineCores?: number } {
      const seconds = (performance.now() - t0) / 1000;
      const busy1 = machineBusySeconds();
      return {
        seconds,
        cpuSeconds: cpuSince(cpu),
        ...(busy0 !== undefined && busy1 !== undefined ? { machineCores: (busy1 - busy0) / seconds } : {}),
      };
    },
  };
}

/**
 * Waits (up to `maxWaitMs`) for a second in which other processes keep less than `maxCores` of the machine busy, as
 * the engine benchmark does; returns how busy they were in the last second measured (undefined without /proc).
 */
export async function othersBusyCores(maxWaitMs: number, maxCores = 0.15): Promise<number | undefined> {
  const deadline = Date.now() + maxWaitMs;
  for (;;) {
    const m0 = machineBusySeconds();
    if (m0 === undefined) return undefined;
    const own = process.cpuUsage();
    const t0 = performance.now();
    await sleep(1000);
    const others = (machineBusySeconds()! - m0 - cpuSince(own)) / ((performance.now() - t0) / 1000);
    if (others < maxCores || Date.now() >= deadline) return others;
  }
}

export function cpuSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1e6;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `work` steps of `step` items, `parallel` at a time. */
export async function inChunks(
  total: number,
  step: number,
  parallel: number,
  work: (from: number, n: number) => Promise<unknown>,
) {
  let next = 0;
  const lane = async () => {
    while (next < total) {
      const from = next;
      const n = Math.min(step, total - from);
      next += n;
      await work(from, n);
    }
  };
  await Promise.all(Array.from({ length: parallel }, lane));
}

/** Starts a helper thread (connectors-threads.ts) with tsx's hooks registered, and waits for its "ready". */
export function startThread<T extends { type: string }>(
  data: Record<string, unknown>,
  onMessage: (m: T) => void = () => {},
): Promise<{ worker: Worker; ready: T; stop(): Promise<void> }> {
  // tsx's loader hooks do not reach a worker thread's entry module in Node 20; the thread registers them first
  // (as engine-harness.ts does).
  const url = new URL("./connectors-threads.ts", import.meta.url).href;
  const boot = `import("tsx/esm/api").then(({ register }) => { register(); return import(${JSON.stringify(url)}); })`;
  const worker = new Worker(boot, { eval: true, workerData: data });
  return new Promise((resolve, reject) => {
    worker.once("error", reject);
    worker.on("message", (m: T) => {
      if (m.type === "ready") {
        resolve({
          worker,
          ready: m,
          stop: () =>
            new Promise<void>((done) => {
              const timer = setTimeout(() => void worker.terminate(), 10_000);
              worker.once("exit", () => {
                clearTimeout(timer);
                done();
              });
              worker.postMessage({ type: "stop" });
            }),
        });
      } else if (m.type === "error") reject(new Error(String((m as unknown as { message: string }).message)));
      else onMessage(m);
    });
  });
}

export type Direction = "source" | "sink" | "ingest";

export interface CaseOptions {
  /** Records timed. */
  records: number;
  /** Records before them, not timed (JIT, connections, caches). */
  warmup: number;
  /** Records per read/write, as the engine's settings.batchSize. */
  batch: number;
  /** Writers (readers, where the case supports it) at once, as one worker runs a stage's partitions. */
  partitions: number;
  log: (message: string) => void;
}

export interface BenchCase {
  connector: string;
  direction: Direction;
  /** Records giving a figure in a few seconds at the rates seen here. */
  defaultRecords: number;
  /** records/s this case must reach (checked with --check). */
  target?: number;
  /** One line: what is measured and how. */
  what: string;
  /** Sources: the case can read with several partitions (sinks always can). */
  partitioned?: boolean;
  run(o: CaseOptions): Promise<Measured>;
}
