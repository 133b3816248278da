import { hostname } from "node:os";
import type { ConnectionBundle, RuntimeRegistry } from "@sluice/nodes/runtime-contract";
import { createKeys, type Keys } from "@sluice/pipeline/control/keys";
import {
  PreviewJob,
  previewConnectionsContext,
  QUEUE_CONTROL,
  QUEUE_PREVIEW,
  QUEUE_TASKS,
  RunControlJob,
  TaskJob,
  WORKER_TTL_MS,
} from "@sluice/pipeline/control/protocol";
import { openJson } from "@sluice/pipeline/control/secret-box";
import type { NodeCatalog } from "@sluice/pipeline/node-definition";
import { DelayedError, type Job, Queue, UnrecoverableError, WaitingError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { type EngineLogger, errorMessage, silentLogger } from "./engine-logger";
import { runPartitionTask, type TaskEnvironment } from "./partition-task";
import { previewPipeline } from "./preview";
import { RunController } from "./run-controller";
import { WorkerHeartbeat } from "./worker-heartbeat";

const REBALANCE_EVERY_MS = 2000;
/** A partition leased this recently is not moved again, so the fleet does not thrash. */
const MIN_LEASE_BEFORE_REBALANCE_MS = 4000;
/** After handing partitions over, a worker takes no new ones for this long, so others get them. */
const REBALANCE_COOLDOWN_MS = 6000;

// A member of the worker fleet: leases task partitions (long-lived BullMQ jobs whose lock is the lease) and run
// control jobs, heartbeats, and on close() finishes the current batches and hands its partitions back.

export interface FleetWorkerOptions {
  /** Makes a new Redis connection; BullMQ needs its own (blocking) ones besides the command connection. */
  connect: () => Redis;
  prefix: string;
  catalog: NodeCatalog;
  runtimes: RuntimeRegistry;
  workerId: string;
  /** Task partitions this worker runs at once. */
  slots?: number;
  /** A lease not renewed for this long is taken over by another worker. */
  leaseMs?: number;
  /** SLUICE_SECRET_KEY, to open the connections of runs that use them. */
  secretKey?: Uint8Array;
  log?: EngineLogger;
}

export class FleetWorker {
  private readonly keys: Keys;
  private readonly log: EngineLogger;
  private readonly redis: Redis;
  private readonly connections: Redis[] = [];
  private readonly active = new Map<string, AbortController>();
  private readonly leasedAt = new Map<string, number>();
  private rebalanceTimer: NodeJS.Timeout | undefined;
  private cooldownUntil = 0;
  private readonly failures = new Map<string, number>();
  private taskWorker: Worker | undefined;
  private controlWorker: Worker | undefined;
  private previewWorker: Worker | undefined;
  private taskQueue: Queue | undefined;
  private heartbeat: WorkerHeartbeat | undefined;
  private readonly startedAt = Date.now();
  private closing: Promise<void> | undefined;

  constructor(private readonly options: FleetWorkerOptions) {
    this.keys = createKeys(options.prefix);
    this.log = options.log ?? silentLogger;
    this.redis = this.connection();
  }

  get id(): string {
    return this.options.workerId;
  }

  /** Task ids this worker currently runs. */
  get tasks(): string[] {
    return [...this.active.keys()];
  }

  private connection(): Redis {
    const c = this.options.connect();
    this.connections.push(c);
    return c;
  }

  async start(): Promise<void> {
    const { catalog, runtimes, workerId } = this.options;
    const slots = this.options.slots ?? 64;
    const leaseMs = this.options.leaseMs ?? 10_000;
    const bull = { prefix: this.keys.bullPrefix };
    this.taskQueue = new Queue(QUEUE_TASKS, { connection: this.connection(), ...bull });
    const controller = new RunController({ redis: this.redis, keys: this.keys, catalog, taskQueue: this.taskQueue });
    const env: TaskEnvironment = {
      redis: this.redis,
      keys: this.keys,
      catalog,
      runtimes,
      controller,
      log: this.log,
      workerId,
      ...(this.options.secretKey ? { secretKey: this.options.secretKey } : {}),
    };

    this.taskWorker = new Worker(QUEUE_TASKS, (job, token) => this.runTask(env, job, token), {
      connection: this.connection(),
      ...bull,
      name: workerId,
      concurrency: slots,
      lockDuration: leaseMs,
      stalledInterval: Math.max(1000, Math.floor(leaseMs / 2)),
      // A task is long-lived and may be taken over many times in its life; never fail it for that.
      maxStalledCount: 1_000_000_000,
      drainDelay: 1,
    });
    this.controlWorker = new Worker(
      QUEUE_CONTROL,
      async (job) => {
        const parsed = RunControlJob.safeParse(job.data);
        if (!parsed.success) throw new UnrecoverableError(`malformed run control job: ${parsed.error.message}`);
        if (parsed.data.action === "start") await controller.start(parsed.data);
        else await controller.restart(parsed.data);
      },
      { connection: this.connection(), ...bull, name: workerId, concurrency: 4, drainDelay: 1 },
    );
    this.previewWorker = new Worker(
      QUEUE_PREVIEW,
      async (job) => {
        const parsed = PreviewJob.safeParse(job.data);
        if (!parsed.success) throw new UnrecoverableError(`malformed preview job: ${parsed.error.message}`);
        const p = parsed.data;
        let connections: ConnectionBundle = {};
        if (p.connections) {
          if (!this.options.secretKey)
            throw new UnrecoverableError(
              `worker ${workerId} has no SLUICE_SECRET_KEY to open the preview's connections`,
            );
          connections = await openJson<ConnectionBundle>(
            this.options.secretKey,
            p.connections,
            previewConnectionsContext(job.id ?? ""),
          );
        }
        return previewPipeline({
          definition: p.definition,
          parameters: p.parameters,
          catalog,
          runtimes,
          connections,
          limit: p.limit,
          timeoutMs: p.timeoutMs,
        });
      },
      { connection: this.connection(), ...bull, name: workerId, concurrency: 2, drainDelay: 1 },
    );
    for (const w of [this.taskWorker, this.controlWorker, this.previewWorker]) {
      w.on("error", (err) => this.log.error("queue worker error", { error: errorMessage(err) }));
    }
    this.heartbeat = new WorkerHeartbeat(
      this.redis,
      this.keys,
      () => ({ id: workerId, host: hostname(), pid: process.pid, startedAt: this.startedAt, slots, tasks: this.tasks }),
      this.log,
    );
    await this.heartbeat.start();
    await Promise.all([
      this.taskWorker.waitUntilReady(),
      this.controlWorker.waitUntilReady(),
      this.previewWorker.waitUntilReady(),
    ]);
    this.rebalanceTimer = setInterval(() => {
      this.rebalance().catch((err) => this.log.warn("rebalance failed", { error: errorMessage(err) }));
    }, REBALANCE_EVERY_MS);
    this.rebalanceTimer.unref();
    this.log.info("worker started", { worker: workerId, slots, leaseMs });
  }

  private async runTask(env: TaskEnvironment, job: Job, token: string | undefined): Promise<string> {
    const parsed = TaskJob.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`malformed task job ${job.id}: ${parsed.error.message}`);
    const id = job.id ?? "?";
    const abort = new AbortController();
    if (this.closing) abort.abort();
    this.active.set(id, abort);
    this.leasedAt.set(id, Date.now());
    try {
      const outcome = await runPartitionTask(env, parsed.data, abort.signal);
      this.failures.delete(id);
      if (outcome === "released") {
        await job.moveToWait(token);
        throw new WaitingError();
      }
      return outcome;
    } catch (err) {
      if (err instanceof WaitingError) throw err;
      // Redis or a connector failed: hand the partition back and try again later, on this worker or another.
      const failures = (this.failures.get(id) ?? 0) + 1;
      this.failures.set(id, failures);
      const delay = Math.min(250 * 2 ** Math.min(failures - 1, 7), 30_000);
      this.log.error("task failed; retrying", { task: id, failures, retryInMs: delay, error: errorMessage(err) });
      await job.moveToDelayed(Date.now() + delay, token);
      throw new DelayedError();
    } finally {
      this.active.delete(id);
      this.leasedAt.delete(id);
    }
  }

  /**
   * Fair share: when live workers hold unequal numbers of partitions and nothing is waiting, a worker above its
   * share hands the excess back (each commits its batch first) and takes no new work for a while, so the
   * partitions go to the workers with room — that is how a worker joining a busy fleet gets work.
   */
  private async rebalance(): Promise<void> {
    const worker = this.taskWorker;
    const queue = this.taskQueue;
    if (!worker || !queue || this.closing) return;
    const slots = this.options.slots ?? 64;
    if (Date.now() < this.cooldownUntil) return;
    if (worker.concurrency !== slots) worker.concurrency = slots;
    const held = this.active.size;
    if (held <= 1) return;
    const live = await this.redis.zcount(this.keys.workers, Date.now() - WORKER_TTL_MS, "+inf");
    if (live <= 1) return;
    const counts = await queue.getJobCounts("active", "waiting", "prioritized");
    if ((counts.waiting ?? 0) + (counts.prioritized ?? 0) > 0) return;
    const fair = Math.ceil((counts.active ?? held) / live);
    const now = Date.now();
    const settled = [...this.leasedAt].filter(([, at]) => now - at >= MIN_LEASE_BEFORE_REBALANCE_MS).map(([id]) => id);
    const excess = Math.min(held - fair, settled.length);
    if (excess <= 0) return;
    worker.concurrency = Math.max(1, held - excess);
    this.cooldownUntil = now + REBALANCE_COOLDOWN_MS;
    this.log.info("handing partitions over to balance the fleet", { held, fair, releasing: excess, workers: live });
    for (const id of settled.slice(-excess)) this.active.get(id)?.abort();
  }

  /** Finishes the batches in flight, hands every leased partition back, and disconnects. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.rebalanceTimer);
      for (const abort of this.active.values()) abort.abort();
      await Promise.allSettled([this.taskWorker?.close(), this.controlWorker?.close(), this.previewWorker?.close()]);
      await this.heartbeat?.stop().catch(() => {});
      await this.taskQueue?.close();
      await Promise.allSettled(this.connections.map((c) => c.quit()));
      this.log.info("worker stopped", { worker: this.options.workerId });
    })();
    return this.closing;
  }
}
