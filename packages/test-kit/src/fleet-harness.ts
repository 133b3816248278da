import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { FleetWorker } from "@sluice/engine/fleet-worker";
import { connectRedis } from "@sluice/engine/redis-connection";
import { DestinationPolicy } from "@sluice/nodes/destination-policy";
import type { ConnectionBundle, RuntimeRegistry } from "@sluice/nodes/runtime-contract";
import { createKeys, type Keys } from "@sluice/pipeline/control/keys";
import {
  connectionsContext,
  QUEUE_CONTROL,
  type RunSnapshot,
  type RunStartJob,
} from "@sluice/pipeline/control/protocol";
import { readRunSnapshot } from "@sluice/pipeline/control/run-reader";
import { DEFAULT_RUN_RETENTION_MS, requeueRun, stopRun } from "@sluice/pipeline/control/run-state";
import { sealJson } from "@sluice/pipeline/control/secret-box";
import type { NodeCatalog } from "@sluice/pipeline/node-definition";
import { Queue } from "bullmq";
import type { Cluster, Redis } from "ioredis";

/** Where the workers' connections may go in tests: the local test servers, on loopback. */
export const LOCAL_DESTINATIONS = DestinationPolicy.fromSettings("127.0.0.0/8,[::1]/128");

// Integration-test harness: real worker processes (`apps/worker/src/main.ts`) on the real Redis, each test under
// its own key prefix so files can run in parallel and leave nothing behind.

const WORKER_MAIN = fileURLToPath(new URL("../../../apps/worker/src/main.ts", import.meta.url));
/** A worker process that also knows the engine's test node types (see test-worker.ts). */
export const TEST_WORKER_MAIN = fileURLToPath(new URL("./test-worker.ts", import.meta.url));

export function testRedisUrl(): string {
  return process.env.SLUICE_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
}

export class WorkerProcess {
  readonly output: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly child: ChildProcess) {
    const collect = (chunk: Buffer) => this.output.push(...chunk.toString().split("\n").filter(Boolean));
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    this.exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  }

  /** Resolves once the worker logged that it is started (its queues are listening). */
  async ready(timeoutMs = 20_000): Promise<void> {
    await waitFor(
      () => this.output.some((l) => l.includes("worker started")),
      timeoutMs,
      () => this.output.join("\n"),
    );
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}

export class FleetHarness {
  readonly prefix = `t-${randomBytes(4).toString("hex")}`;
  readonly keys: Keys = createKeys(this.prefix);
  readonly redis: Redis;
  readonly control: Queue;

  /** On the shared test Redis, or on another server (a private one a test restarts, or a Redis Cluster). */
  constructor(
    readonly redisUrl = testRedisUrl(),
    private readonly options: { cluster?: boolean } = {},
  ) {
    // Errors are expected: a test may take its server away on purpose.
    this.redis = this.connect("harness");
    this.controlConnection = this.connect("harness-control");
    this.control = new Queue(QUEUE_CONTROL, { connection: this.controlConnection, prefix: this.keys.bullPrefix });
  }

  private readonly controlConnection: Redis;

  /** A connection like the workers' own (cluster-aware, retrying through outages). */
  connect(name: string): Redis {
    return connectRedis(this.redisUrl, name, () => {}, { cluster: this.options.cluster ?? false });
  }
  private readonly workers: WorkerProcess[] = [];
  private readonly inProcess: FleetWorker[] = [];

  /** A worker in this process with the node types given (e.g. test-only operators). */
  async startInProcess(
    id: string,
    catalog: NodeCatalog,
    runtimes: RuntimeRegistry,
    leaseMs = 2000,
    /** The module of node types its preview threads load, when `catalog` is not the standard one. */
    previewNodes?: string,
  ): Promise<FleetWorker> {
    const worker = new FleetWorker({
      connect: () => this.connect(`worker-${id}`),
      prefix: this.prefix,
      catalog,
      runtimes,
      workerId: id,
      leaseMs,
      secretKey: this.secretKey,
      // The test servers connectors reach listen on loopback.
      destinations: LOCAL_DESTINATIONS,
      ...(previewNodes ? { preview: { nodes: previewNodes } } : {}),
    });
    this.inProcess.push(worker);
    await worker.start();
    return worker;
  }

  /** A state store's committed contents, merged over every partition of a stage. */
  async store(
    runId: string,
    stage: number,
    partitions: number,
    nodeId: string,
    name: string,
  ): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (let partition = 0; partition < partitions; partition++) {
      const hash = await this.redis.hgetall(this.keys.taskStore({ runId, stage, partition }, nodeId, name));
      for (const [k, v] of Object.entries(hash)) out[k] = JSON.parse(v);
    }
    return out;
  }

  async waitForStatus(runId: string, status: string, timeoutMs = 30_000) {
    return waitFor(
      async () => {
        const s = await this.snapshot(runId);
        return s?.status === status ? s : undefined;
      },
      timeoutMs,
      () => `waiting for ${runId} to be ${status}`,
    );
  }

  spawnWorker(id: string, env: Record<string, string> = {}, main = WORKER_MAIN): WorkerProcess {
    const child = spawn(process.execPath, ["--import", "tsx", main], {
      env: {
        ...process.env,
        REDIS_URL: this.redisUrl,
        SLUICE_REDIS_PREFIX: this.prefix,
        SLUICE_WORKER_ID: id,
        SLUICE_LEASE_TIMEOUT: "2s",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const worker = new WorkerProcess(child);
    this.workers.push(worker);
    return worker;
  }

  /** The key runs' connection bundles are sealed with; in-process workers get it. */
  readonly secretKey = crypto.getRandomValues(new Uint8Array(32));

  async startRun(
    runId: string,
    definition: unknown,
    parameters: Record<string, string | number | boolean> = {},
    connections?: ConnectionBundle,
  ): Promise<void> {
    const sealed = connections ? await sealJson(this.secretKey, connections, connectionsContext(runId)) : undefined;
    const job: RunStartJob = {
      v: 1,
      action: "start",
      runId,
      definition,
      parameters,
      ...(sealed ? { connections: sealed } : {}),
    };
    await this.control.add("start", job, { jobId: `start-${runId}` });
  }

  snapshot(runId: string): Promise<RunSnapshot | undefined> {
    return readRunSnapshot(this.redis, this.keys, runId);
  }

  /** Stops the run the way the API does (run-state's stop: a run no task has started ends at once). */
  async stopRun(runId: string): Promise<void> {
    await stopRun(this.redis, this.keys, runId, DEFAULT_RUN_RETENTION_MS);
  }

  /** Restarts an ended run the way the API does: queued in Redis first (a worker restarts only a queued run). */
  async restartRun(runId: string, reset = false): Promise<void> {
    const found = await requeueRun(this.redis, this.keys, runId, {});
    if (found !== "requeued") throw new Error(`run ${runId} cannot be restarted: ${found}`);
    await this.control.add("restart", { v: 1, action: "restart", runId, reset });
  }

  async close(): Promise<void> {
    await Promise.all(this.inProcess.map((w) => w.close()));
    for (const w of this.workers) if (w.child.exitCode === null && w.child.signalCode === null) w.kill("SIGKILL");
    await Promise.all(this.workers.map((w) => w.exited));
    await this.control.close();
    this.controlConnection.disconnect();
    // In a cluster every master holds some of the keys.
    const nodes = this.options.cluster ? (this.redis as unknown as Cluster).nodes("master") : [this.redis];
    for (const node of nodes) {
      let cursor = "0";
      do {
        const [next, keys] = await node.scan(cursor, "MATCH", `${this.prefix}:*`, "COUNT", 1000);
        cursor = next;
        for (const key of keys) await this.redis.del(key);
      } while (cursor !== "0");
    }
    await this.redis.quit();
  }
}

export async function waitFor<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs: number,
  describe: () => string = () => "",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms ${describe()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The first slice's pipeline: generator → filter → console. */
export function slicePipeline(generator: Record<string, unknown>, where = "status = 200", parallelism = 4) {
  return {
    apiVersion: "sluice/v1",
    kind: "Pipeline",
    metadata: { name: "slice" },
    spec: {
      settings: { parallelism },
      nodes: [
        { id: "gen", type: "source.generator", config: generator },
        { id: "keep", type: "transform.filter", config: { where } },
        { id: "out", type: "sink.console", config: { keep: 50 } },
      ],
      edges: [
        { from: "gen", to: "keep" },
        { from: "keep", to: "out" },
      ],
    },
  };
}
