import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { FleetWorker } from "@sluice/engine/fleet-worker";
import { connectRedis } from "@sluice/engine/redis-connection";
import {
  combineDigests,
  combineHistograms,
  DIGEST_KEY,
  DIGEST_STATE,
  LATENCY_KEY,
  LATENCY_STATE,
  type LatencyHistogram,
  type RecordDigest,
  readStoredDigest,
  readStoredHistogram,
} from "@sluice/nodes/sinks/discard-digest";
import { createKeys, type Keys } from "@sluice/pipeline/control/keys";
import { QUEUE_CONTROL, type RunSnapshot, type RunStartJob } from "@sluice/pipeline/control/protocol";
import { readRunSnapshot } from "@sluice/pipeline/control/run-reader";
import { isTerminal } from "@sluice/pipeline/control/run-status";
import type { PhysicalPlan } from "@sluice/pipeline/plan";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { createFleetWorker, type WorkerThreadData, type WorkerThreadMessage } from "./engine-worker";
import { newCounterBuffer, type RedisClientCounts, readCounters, subtractCounts } from "./redis-counter";

// The engine benchmarks' fleet: W fleet workers of this process on the local Redis, under a key prefix of their
// own that is deleted at the end. By default each worker runs in its own worker thread (its own event loop and
// heap, like a `sluice worker` process, so two workers can use two cores); `inline` runs them on the main thread
// instead (one event loop for all, handy for a single --cpu-prof profile). Runs are started as the API and
// `sluice run` start them: a start job on the run.control queue.

export function benchRedisUrl(): string {
  return process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
}

/** Redis's own CPU time so far (main thread and background threads), seconds. */
export async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info("cpu");
  return Number(matchInfo(info, "used_cpu_sys")) + Number(matchInfo(info, "used_cpu_user"));
}

/** Redis `used_memory`, bytes. */
export async function redisUsedMemory(redis: Redis): Promise<number> {
  return Number(matchInfo(await redis.info("memory"), "used_memory"));
}

function matchInfo(info: string, name: string): string {
  const m = new RegExp(`^${name}:([^\\r\\n]+)`, "m").exec(info);
  if (!m) throw new Error(`Redis INFO has no ${name}`);
  return m[1]!;
}

/**
 * Busy CPU seconds of the whole machine so far (every process), from /proc/stat; undefined where there is none.
 * Over a run, this minus the workers' and Redis's CPU is what other processes took: a contention check.
 */
export function machineBusySeconds(): number | undefined {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!;
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / 100;
  } catch {
    return undefined;
  }
}

/**
 * Waits (up to `maxWaitMs`) for a second in which other processes keep less than `maxCores` of the machine busy,
 * so a measurement does not share the cores with someone else's build; returns how busy they were last.
 */
export async function waitForQuiet(redis: Redis, maxWaitMs = 120_000, maxCores = 0.15): Promise<number | undefined> {
  const deadline = Date.now() + maxWaitMs;
  for (;;) {
    const m0 = machineBusySeconds();
    if (m0 === undefined) return undefined;
    const own0 = process.cpuUsage();
    const r0 = await redisCpuSeconds(redis);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 1000));
    const others =
      (machineBusySeconds()! - m0 - cpuSecondsSince(own0) - ((await redisCpuSeconds(redis)) - r0)) /
      ((performance.now() - t0) / 1000);
    if (others < maxCores || Date.now() > deadline) return others;
  }
}

/** CPU seconds (user + system) of this whole process, every thread included, since `from`. */
export function cpuSecondsSince(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1e6;
}

/** What a run cost, from a RunMeter: CPU seconds of this process (the workers), of Redis, and of everything else. */
export interface RunCost {
  cpuWorkers: number;
  cpuRedis: number;
  /** The machine's busy time less the two above; undefined where the machine does not tell. */
  cpuOther: number | undefined;
  /** What the workers' own Redis connections sent (redis-counter.ts). */
  redisClient: RedisClientCounts;
}

/** Starts measuring a run's cost on `fleet`; `stop()` reads it. */
export async function startRunMeter(fleet: BenchFleet): Promise<{ stop(): Promise<RunCost> }> {
  const cpu0 = process.cpuUsage();
  const redis0 = await redisCpuSeconds(fleet.redis);
  const machine0 = machineBusySeconds();
  const client0 = fleet.redisClientCounts();
  return {
    async stop() {
      const cpuWorkers = cpuSecondsSince(cpu0);
      const redisClient = subtractCounts(fleet.redisClientCounts(), client0);
      const cpuRedis = (await redisCpuSeconds(fleet.redis)) - redis0;
      const machine1 = machineBusySeconds();
      const cpuOther =
        machine0 === undefined || machine1 === undefined ? undefined : machine1 - machine0 - cpuWorkers - cpuRedis;
      return { cpuWorkers, cpuRedis, cpuOther, redisClient };
    },
  };
}

interface WorkerHandle {
  close(): Promise<void>;
}

function startThreadWorker(data: WorkerThreadData): Promise<WorkerHandle> {
  // tsx's loader hooks do not reach a worker thread's entry module in Node 20; the thread registers them first.
  const url = new URL("./engine-worker.ts", import.meta.url).href;
  const boot = `import("tsx/esm/api").then(({ register }) => { register(); return import(${JSON.stringify(url)}); })`;
  const thread = new Worker(boot, { eval: true, workerData: data });
  let closed: (() => void) | undefined;
  return new Promise((resolve, reject) => {
    thread.on("error", reject);
    thread.on("message", (m: WorkerThreadMessage) => {
      if (m.type === "ready") {
        resolve({
          close: () =>
            new Promise<void>((done) => {
              closed = done;
              const timer = setTimeout(() => void thread.terminate(), 20_000);
              thread.once("exit", () => {
                clearTimeout(timer);
                done();
              });
              thread.postMessage("close");
            }),
        });
      } else if (m.type === "closed") closed?.();
      else if (m.type === "error") reject(new Error(`worker ${data.workerId}: ${m.message}`));
    });
  });
}

export interface FleetOptions {
  workers: number;
  /** Run the workers on the main thread instead of one worker thread each. */
  inline?: boolean;
  redisUrl?: string;
}

export interface SinkTotals {
  digest: RecordDigest;
  latency: LatencyHistogram;
  partitions: number;
}

export class BenchFleet {
  readonly prefix = `bench-${randomBytes(4).toString("hex")}`;
  readonly keys: Keys = createKeys(this.prefix);
  readonly redisUrl: string;
  /** A command connection of the benchmark's own (polling, INFO, cleanup). */
  readonly redis: Redis;
  private readonly controlConnection: Redis;
  private readonly control: Queue;
  private readonly handles: WorkerHandle[] = [];
  /** One per worker: what its Redis connections sent (redis-counter.ts). */
  private readonly redisCounters: SharedArrayBuffer[] = [];

  private constructor(options: FleetOptions) {
    this.redisUrl = options.redisUrl ?? benchRedisUrl();
    this.redis = connectRedis(this.redisUrl, "bench");
    this.controlConnection = connectRedis(this.redisUrl, "bench-control");
    this.control = new Queue(QUEUE_CONTROL, { connection: this.controlConnection, prefix: this.keys.bullPrefix });
  }

  static async start(options: FleetOptions): Promise<BenchFleet> {
    const fleet = new BenchFleet(options);
    try {
      const started = Array.from({ length: options.workers }, (_, i) => {
        const redisCounts = newCounterBuffer();
        fleet.redisCounters.push(redisCounts);
        const data: WorkerThreadData = {
          redisUrl: fleet.redisUrl,
          prefix: fleet.prefix,
          workerId: `bench-w${i + 1}`,
          redisCounts,
        };
        if (!options.inline) return startThreadWorker(data);
        const worker: FleetWorker = createFleetWorker(data);
        return worker.start().then(() => ({ close: () => worker.close() }));
      });
      fleet.handles.push(...(await Promise.all(started)));
    } catch (err) {
      await fleet.close();
      throw err;
    }
    return fleet;
  }

  /** What the workers' Redis connections have sent so far (commands, round trips, bytes), all workers summed. */
  redisClientCounts(): RedisClientCounts {
    return readCounters(this.redisCounters);
  }

  /** Starts a run of `definition` (validated and planned by a worker, as the API's runs are). */
  async submit(runId: string, definition: unknown): Promise<void> {
    const job: RunStartJob = { v: 1, action: "start", runId, definition, parameters: {} };
    await this.control.add("start", job, { jobId: `start-${runId}` });
  }

  snapshot(runId: string): Promise<RunSnapshot | undefined> {
    return readRunSnapshot(this.redis, this.keys, runId);
  }

  async stop(runId: string): Promise<void> {
    await this.redis.hset(this.keys.runMeta(runId), "desired", "stopped", "status", "stopping");
  }

  /** Polls the run snapshot every `pollMs` until the run ends (or `timeoutMs` passes: an error). */
  async waitForEnd(
    runId: string,
    options: { timeoutMs: number; pollMs?: number; onPoll?: (s: RunSnapshot | undefined) => void | Promise<void> },
  ): Promise<RunSnapshot> {
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      const s = await this.snapshot(runId);
      await options.onPoll?.(s);
      if (s && isTerminal(s.status)) return s;
      if (Date.now() > deadline) {
        throw new Error(`run ${runId} did not end within ${options.timeoutMs} ms (${s?.status ?? "not started"})`);
      }
      await new Promise((r) => setTimeout(r, options.pollMs ?? 50));
    }
  }

  /** The run's physical plan as the worker that started it stored it. */
  async plan(runId: string): Promise<PhysicalPlan | undefined> {
    const raw = await this.redis.hget(this.keys.runMeta(runId), "plan");
    return raw ? (JSON.parse(raw) as PhysicalPlan) : undefined;
  }

  /** sink.discard's committed digest and latency histogram, combined over the partitions of its stage. */
  async sinkTotals(runId: string, sinkNode: string): Promise<SinkTotals> {
    const plan = await this.plan(runId);
    const stage = plan?.stages.find((s) => s.nodes.includes(sinkNode));
    if (!stage) throw new Error(`run ${runId} has no stage with node ${sinkNode}`);
    const digests: RecordDigest[] = [];
    const histograms: LatencyHistogram[] = [];
    for (let partition = 0; partition < stage.partitions; partition++) {
      const task = { runId, stage: stage.index, partition };
      const [digest, latency] = await Promise.all([
        this.redis.hget(this.keys.taskStore(task, sinkNode, DIGEST_STATE), DIGEST_KEY),
        this.redis.hget(this.keys.taskStore(task, sinkNode, LATENCY_STATE), LATENCY_KEY),
      ]);
      digests.push(readStoredDigest(digest === null ? undefined : JSON.parse(digest)));
      histograms.push(readStoredHistogram(latency === null ? undefined : JSON.parse(latency)));
    }
    return {
      digest: combineDigests(digests),
      latency: combineHistograms(histograms),
      partitions: stage.partitions,
    };
  }

  /** How many of the run's task partitions each worker held last (the `owner` of each task state). */
  async taskOwners(runId: string): Promise<Record<string, number>> {
    const plan = await this.plan(runId);
    const owners: Record<string, number> = {};
    for (const stage of plan?.stages ?? []) {
      for (let partition = 0; partition < stage.partitions; partition++) {
        const owner = await this.redis.hget(this.keys.taskState({ runId, stage: stage.index, partition }), "owner");
        owners[owner ?? "?"] = (owners[owner ?? "?"] ?? 0) + 1;
      }
    }
    return owners;
  }

  /** Stops the workers (each hands its partitions back), then deletes every key under this fleet's prefix. */
  async close(): Promise<void> {
    await Promise.allSettled(this.handles.map((h) => h.close()));
    await this.control.close();
    this.controlConnection.disconnect();
    let cursor = "0";
    do {
      const [next, found] = await this.redis.scan(cursor, "MATCH", `${this.prefix}:*`, "COUNT", 1000);
      cursor = next;
      if (found.length > 0) await this.redis.unlink(...found);
    } while (cursor !== "0");
    await this.redis.quit();
  }
}

export function newRunId(name: string): string {
  return `${name}-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
}

/** The commit measured, with "+changes" when the packages a run executes differ from it. */
export function benchCommit(): string {
  const git = (...a: string[]) => execFileSync("git", a, { cwd: fileURLToPath(new URL("..", import.meta.url)) });
  try {
    const head = git("rev-parse", "--short", "HEAD").toString().trim();
    const dirty = git("status", "--porcelain", "--", "packages/engine", "packages/nodes", "packages/pipeline");
    return dirty.length > 0 ? `${head}+changes` : head;
  } catch {
    return "?";
  }
}
