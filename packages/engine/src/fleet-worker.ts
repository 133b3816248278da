import { hostname } from "node:os";
import { type LogLevel, silentLogger, teeLogger } from "@sluice/log/logger";
import type { DestinationPolicy } from "@sluice/nodes/destination-policy";
import type { RuntimeRegistry } from "@sluice/nodes/runtime-contract";
import { createKeys, type Keys } from "@sluice/pipeline/control/keys";
import {
  PreviewJob,
  type PreviewStopped,
  previewConnectionsContext,
  QUEUE_CONTROL,
  QUEUE_PREVIEW,
  QUEUE_TASKS,
  RunControlJob,
  TaskJob,
  WORKER_TTL_MS,
} from "@sluice/pipeline/control/protocol";
import { readDesired } from "@sluice/pipeline/control/run-state";
import type { SecretKeys } from "@sluice/pipeline/control/secret-box";
import type { NodeCatalog } from "@sluice/pipeline/node-definition";
import { DelayedError, type Job, Queue, UnrecoverableError, WaitingError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { type EngineLogger, errorMessage } from "./engine-logger";
import { NodeFigurePublisher } from "./node-figure-publisher";
import { runPartitionTask } from "./partition-task";
import { PreviewSandbox, type PreviewSandboxOptions, PreviewStoppedError } from "./preview-sandbox";
import { RunController } from "./run-controller";
import { RunLogSink } from "./run-log-sink";
import { openSealedConnections } from "./sealed-connections";
import { recordTaskRetry } from "./task-retry";
import type { TaskEnvironment } from "./task-setup";
import { heldPartition, WorkerHeartbeat } from "./worker-heartbeat";

/** How the fleet balances partitions between workers; tests shorten these. */
export interface RebalanceTiming {
  /** How often a worker compares its share with the fleet's. */
  everyMs: number;
  /** A partition leased this recently is not moved again, so the fleet does not thrash. */
  minLeaseMs: number;
  /** After handing partitions over, a worker takes no more than it kept for this long, so others get them. */
  cooldownMs: number;
}

const REBALANCE_EVERY_MS = 2000;
/** A partition leased this recently is not moved again, so the fleet does not thrash. */
const MIN_LEASE_BEFORE_REBALANCE_MS = 4000;
/** After handing partitions over, a worker takes no new ones beyond what it kept for this long, so others get them. */
const REBALANCE_COOLDOWN_MS = 6000;
/** A partition refused during that cooldown is offered again after this long (to whichever worker is free). */
const REFUSED_LEASE_DELAY_MS = 300;
/** How often a worker looks for retrying partitions of runs that were stopped meanwhile, to wake them. */
const STOPPED_RETRY_SWEEP_MS = 1000;

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
  /** SLUICE_SECRET_KEY and SLUICE_SECRET_KEY_PREVIOUS, to open the connections of runs that use them. */
  secretKey?: SecretKeys;
  /** A partition that stops its worker this many times in a row without finishing a batch fails its run. */
  crashLimit?: number;
  /** The files directory file nodes work in (SLUICE_FILES_DIR); each workspace's runs get their own folder in it. */
  filesDir?: string;
  /** How long a finished run's Redis keys are kept (SLUICE_RUN_RETENTION); 7 days by default. */
  runRetentionMs?: number;
  rebalance?: Partial<RebalanceTiming>;
  /**
   * Where connections may go (SLUICE_CONNECTIONS_ALLOW, Sluice's own endpoints); without it, the strict default:
   * loopback, link-local and metadata addresses are refused.
   */
  destinations?: DestinationPolicy;
  /**
   * Each data preview's thread: time and memory limits (SLUICE_PREVIEW_TIMEOUT, SLUICE_PREVIEW_MEMORY_MB), and the
   * module of node types it loads when `catalog`/`runtimes` are not the standard ones.
   */
  preview?: Partial<PreviewSandboxOptions>;
  log?: EngineLogger;
  /** Publish per-second node figures (SLUICE_NODE_FIGURES); on by default. `ttlMs`: how long each second is kept. */
  nodeFigures?: boolean | { ttlMs: number };
  /** Lines about a run at this level and above are kept in the run's log (run-log-sink.ts); info by default. */
  runLogLevel?: LogLevel;
}

const CONNECTION_ERROR_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENOTFOUND",
]);

/** BullMQ's words for a job lock this worker no longer holds. */
const LAPSED_LEASE = /could not renew lock|Lock mismatch|Missing lock|Missing key for job/;

function isConnectionTrouble(err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return (code !== undefined && CONNECTION_ERROR_CODES.has(code)) || err.message === "Connection is closed.";
}

export class FleetWorker {
  private readonly keys: Keys;
  private readonly log: EngineLogger;
  private readonly redis: Redis;
  private readonly connections: Redis[] = [];
  private readonly active = new Map<string, AbortController>();
  private figures: NodeFigurePublisher | undefined;
  private runLogs: RunLogSink | undefined;
  private readonly leasedAt = new Map<string, number>();
  private rebalanceTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  /** Until then (after a rebalance), the worker leases no more partitions than `keep`. */
  private cooldownUntil = 0;
  private keep = Number.POSITIVE_INFINITY;
  private taskWorker: Worker | undefined;
  private controlWorker: Worker | undefined;
  private previewWorker: Worker | undefined;
  private previewSandbox: PreviewSandbox | undefined;
  private taskQueue: Queue | undefined;
  private heartbeat: WorkerHeartbeat | undefined;
  private readonly startedAt = Date.now();
  private closing: Promise<void> | undefined;

  private readonly timing: RebalanceTiming;

  constructor(private readonly options: FleetWorkerOptions) {
    this.timing = {
      everyMs: REBALANCE_EVERY_MS,
      minLeaseMs: MIN_LEASE_BEFORE_REBALANCE_MS,
      cooldownMs: REBALANCE_COOLDOWN_MS,
      ...options.rebalance,
    };
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
    const controller = new RunController({
      redis: this.redis,
      keys: this.keys,
      catalog,
      taskQueue: this.taskQueue,
      ...(this.options.runRetentionMs ? { retentionMs: this.options.runRetentionMs } : {}),
    });
    const env: TaskEnvironment = {
      redis: this.redis,
      keys: this.keys,
      catalog,
      runtimes,
      controller,
      log: this.log,
      workerId,
      ...(this.options.secretKey ? { secretKey: this.options.secretKey } : {}),
      ...(this.options.destinations ? { destinations: this.options.destinations } : {}),
      ...(this.options.crashLimit ? { crashLimit: this.options.crashLimit } : {}),
      ...(this.options.filesDir ? { filesDir: this.options.filesDir } : {}),
    };
    const runLogLevel = this.options.runLogLevel ?? "info";
    if (runLogLevel !== "silent") {
      this.runLogs = new RunLogSink({ redis: this.redis, keys: this.keys, level: runLogLevel, workerId });
    }
    const figures = this.options.nodeFigures ?? true;
    if (figures !== false) {
      this.figures = new NodeFigurePublisher({
        redis: this.redis,
        keys: this.keys,
        log: this.log,
        ...(figures === true ? {} : { ttlMs: figures.ttlMs }),
      });
      this.figures.start();
      env.figures = this.figures;
    }

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
    const sandbox = new PreviewSandbox(this.options.preview);
    this.previewSandbox = sandbox;
    this.previewWorker = new Worker(
      QUEUE_PREVIEW,
      async (job) => {
        const parsed = PreviewJob.safeParse(job.data);
        if (!parsed.success) throw new UnrecoverableError(`malformed preview job: ${parsed.error.message}`);
        const p = parsed.data;
        const secretKey = this.options.secretKey;
        if (p.connections && !secretKey)
          throw new UnrecoverableError(`worker ${workerId} has no SLUICE_SECRET_KEY to open the preview's connections`);
        const { connections, destinations } = await openSealedConnections(
          this.options.destinations,
          p.connections && secretKey
            ? { box: p.connections, secretKey, context: previewConnectionsContext(job.id ?? "") }
            : undefined,
        );
        // In a thread of its own, killed at its time or memory limit: this event loop never waits on a preview.
        try {
          return await sandbox.run({
            definition: p.definition,
            parameters: p.parameters,
            connections,
            destinations,
            limit: p.limit,
            timeoutMs: p.timeoutMs,
            // The workspace comes from the job the API wrote, as a run's does (see task-setup.ts).
            files: { root: this.options.filesDir, workspaceId: p.workspaceId },
          });
        } catch (err) {
          if (!(err instanceof PreviewStoppedError)) throw err;
          this.log.warn("preview stopped", { job: job.id, reason: err.reason, ranMs: err.ranMs });
          const stopped: PreviewStopped = { stopped: err.reason, message: err.message };
          return stopped;
        }
      },
      { connection: this.connection(), ...bull, name: workerId, concurrency: 2, drainDelay: 1 },
    );
    // Redis being away is said by the connection itself (connectRedis's onError); the queues would only repeat it.
    // A lease that lapsed meanwhile is taken again through the queue and fenced by its epoch: nothing to act on.
    const onQueueError = (err: Error) => {
      if (isConnectionTrouble(err)) this.log.debug("queue lost its Redis connection", { error: errorMessage(err) });
      else if (LAPSED_LEASE.test(err.message)) this.log.debug("a task's lease lapsed", { error: errorMessage(err) });
      else this.log.error("queue worker error", { error: errorMessage(err) });
    };
    for (const w of [this.taskWorker, this.controlWorker, this.previewWorker]) w.on("error", onQueueError);
    this.taskQueue.on("error", onQueueError);
    this.heartbeat = new WorkerHeartbeat(
      this.redis,
      this.keys,
      () => ({
        id: workerId,
        host: hostname(),
        pid: process.pid,
        startedAt: this.startedAt,
        slots,
        partitions: this.tasks.map(heldPartition).filter((p) => p !== undefined),
      }),
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
    }, this.timing.everyMs);
    this.rebalanceTimer.unref();
    this.sweepTimer = setInterval(() => {
      this.wakeStoppedRetries().catch((err) => this.log.warn("retry sweep failed", { error: errorMessage(err) }));
    }, STOPPED_RETRY_SWEEP_MS);
    this.sweepTimer.unref();
    this.log.info("worker started", { worker: workerId, slots, leaseMs });
  }

  private async runTask(env: TaskEnvironment, job: Job, token: string | undefined): Promise<string> {
    const parsed = TaskJob.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`malformed task job ${job.id}: ${parsed.error.message}`);
    if (await this.refusesLease()) {
      // Offered again shortly, to whichever worker has room; this worker's fetch loop stays free meanwhile.
      await job.moveToDelayed(Date.now() + REFUSED_LEASE_DELAY_MS, token);
      throw new DelayedError();
    }
    const id = job.id ?? "?";
    // Every line of this partition's work says which run, stage and partition it is about.
    const { runId, stage, partition } = parsed.data;
    const log = (this.runLogs ? teeLogger(env.log, this.runLogs.logger) : env.log).child({
      run: runId,
      stage,
      partition,
    });
    const abort = new AbortController();
    if (this.closing) abort.abort();
    this.active.set(id, abort);
    this.leasedAt.set(id, Date.now());
    try {
      const outcome = await runPartitionTask({ ...env, log }, parsed.data, abort.signal);
      if (outcome === "released") {
        await job.moveToWait(token);
        throw new WaitingError();
      }
      return outcome;
    } catch (err) {
      if (err instanceof WaitingError) throw err;
      // Redis or a connector failed: hand the partition back and try again later, on this worker or another. The
      // attempt and the error are recorded with the partition, for the run's page.
      const retry = await recordTaskRetry(env, parsed.data, errorMessage(err));
      log.error("task failed; retrying", {
        attempt: retry.attempt,
        retryInMs: retry.delayMs,
        error: retry.error,
      });
      await job.moveToDelayed(Date.now() + retry.delayMs, token);
      throw new DelayedError();
    } finally {
      this.active.delete(id);
      this.leasedAt.delete(id);
    }
  }

  /**
   * During the cooldown after a rebalance, a worker leases no more than it kept, so the partitions it handed over
   * go to the others. BullMQ's own concurrency is never lowered for this: its fetch loop would then wait for one of
   * this worker's run-long jobs to end before fetching again, and partitions of a worker that dies meanwhile would
   * wait for ever.
   */
  private async refusesLease(): Promise<boolean> {
    if (this.closing || Date.now() >= this.cooldownUntil || this.active.size < this.keep) return false;
    // Alone in the fleet, nobody else would take it.
    const live = await this.redis.zcount(this.keys.workers, Date.now() - WORKER_TTL_MS, "+inf");
    return live > 1;
  }

  /** Partitions waiting out a retry delay whose run was stopped meanwhile go again now, so they stop in seconds. */
  private async wakeStoppedRetries(): Promise<void> {
    const queue = this.taskQueue;
    if (!queue || this.closing) return;
    const byRun = new Map<string, Job[]>();
    for (const job of await queue.getDelayed(0, 499)) {
      const task = TaskJob.safeParse(job.data);
      if (!task.success) continue;
      const jobs = byRun.get(task.data.runId);
      if (jobs) jobs.push(job);
      else byRun.set(task.data.runId, [job]);
    }
    // Each run's meta once, all runs at once (they live in different cluster slots, so one read each).
    await Promise.all(
      [...byRun].map(async ([runId, jobs]) => {
        if ((await readDesired(this.redis, this.keys, runId)) !== "stopped") return;
        // Another worker may have woken one first.
        await Promise.all(jobs.map((job) => job.promote().catch(() => {})));
      }),
    );
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
    if (Date.now() < this.cooldownUntil) return;
    const held = this.active.size;
    if (held <= 1) return;
    const live = await this.redis.zcount(this.keys.workers, Date.now() - WORKER_TTL_MS, "+inf");
    if (live <= 1) return;
    const counts = await queue.getJobCounts("active", "waiting", "prioritized");
    if ((counts.waiting ?? 0) + (counts.prioritized ?? 0) > 0) return;
    const fair = Math.ceil((counts.active ?? held) / live);
    const now = Date.now();
    const settled = [...this.leasedAt].filter(([, at]) => now - at >= this.timing.minLeaseMs).map(([id]) => id);
    const excess = Math.min(held - fair, settled.length);
    if (excess <= 0) return;
    this.keep = held - excess;
    this.cooldownUntil = now + this.timing.cooldownMs;
    this.log.info("handing partitions over to balance the fleet", { held, fair, releasing: excess, workers: live });
    for (const id of settled.slice(-excess)) this.active.get(id)?.abort();
  }

  /** Finishes the batches in flight, hands every leased partition back, and disconnects. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.rebalanceTimer);
      clearInterval(this.sweepTimer);
      for (const abort of this.active.values()) abort.abort();
      await this.previewSandbox?.close();
      await Promise.allSettled([this.taskWorker?.close(), this.controlWorker?.close(), this.previewWorker?.close()]);
      await this.heartbeat?.stop().catch(() => {});
      await this.figures?.stop();
      await this.runLogs?.close();
      await this.taskQueue?.close();
      await Promise.allSettled(this.connections.map((c) => c.quit()));
      this.log.info("worker stopped", { worker: this.options.workerId });
    })();
    return this.closing;
  }
}
