import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type HeldPartition, WORKER_FORGET_MS, type WorkerDescription } from "@sluice/pipeline/control/fleet";
import type { Keys } from "@sluice/pipeline/control/keys";
import { WORKER_TTL_MS } from "@sluice/pipeline/control/protocol";
import type { Redis } from "ioredis";
import { type EngineLogger, errorMessage } from "./engine-logger";

// Each worker announces itself once a second: a sorted set scored by last-seen time (counted by /api/health, listed
// by the fleet page) and a key describing it (WorkerDescription), kept as long as the set remembers the worker so a
// dead one can still be named.

/** What the worker itself knows; the heartbeat adds the process's version, CPU and memory. */
export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  startedAt: number;
  slots: number;
  partitions: HeldPartition[];
}

/**
 * The partition a task job holds, from the job's id (`<runId>-<stage>-<partition>.g<generation>`, as RunController
 * names it); undefined for an id of another shape.
 */
export function heldPartition(jobId: string): HeldPartition | undefined {
  const m = /^(.+)-(\d+)-(\d+)(?:\.g\d+)?$/.exec(jobId);
  if (!m) return undefined;
  return { runId: m[1] as string, stage: Number(m[2]), partition: Number(m[3]) };
}

/** CPU time this process used per second of wall time since the previous sample: cores busy, on average. */
export class CpuSampler {
  private lastUsage: NodeJS.CpuUsage;
  private lastAt: number;
  private cores = 0;

  constructor(
    private readonly usage: () => NodeJS.CpuUsage = () => process.cpuUsage(),
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.lastUsage = usage();
    this.lastAt = clock();
  }

  sample(): number {
    const now = this.clock();
    const usage = this.usage();
    const wallMs = now - this.lastAt;
    // Two samples in the same millisecond say nothing new: keep the last figure rather than divide by zero.
    if (wallMs <= 0) return this.cores;
    const cpuMicros = usage.user - this.lastUsage.user + (usage.system - this.lastUsage.system);
    this.cores = Math.max(0, cpuMicros / 1000 / wallMs);
    this.lastUsage = usage;
    this.lastAt = now;
    return this.cores;
  }
}

let version: string | undefined;

/**
 * The Sluice version this process runs: the engine package's version, and the git commit when it runs from a
 * checkout (read once; `git` may be absent in an image, then the version alone).
 */
export function sluiceVersion(): string {
  if (version !== undefined) return version;
  const here = fileURLToPath(new URL(".", import.meta.url));
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version?: string };
  let commit = "";
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], {
      cwd: here,
      timeout: 2000,
      stdio: ["ignore", "pipe", "ignore"],
    })
      .toString()
      .trim();
  } catch {
    // Not a checkout, or no git: the package version says enough.
  }
  version = `${pkg.version ?? "unknown"}${/^[0-9a-f]{4,40}$/.test(commit) ? `+${commit}` : ""}`;
  return version;
}

export class WorkerHeartbeat {
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;
  private readonly cpu = new CpuSampler();

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly info: () => WorkerInfo,
    private readonly log: EngineLogger,
    private readonly everyMs = 1000,
  ) {}

  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => {
      this.beating = this.beat().catch((err) => this.log.warn("heartbeat failed", { error: errorMessage(err) }));
    }, this.everyMs);
    this.timer.unref();
  }

  private describe(now: number, stoppedAt: number | null): WorkerDescription {
    const memory = process.memoryUsage();
    return {
      ...this.info(),
      version: sluiceVersion(),
      node: process.version,
      cpuCores: this.cpu.sample(),
      memory: { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed },
      seenAt: now,
      stoppedAt,
    };
  }

  private async write(description: WorkerDescription, score: number): Promise<void> {
    const now = description.seenAt;
    await this.redis
      .multi()
      .zadd(this.keys.workers, score, description.id)
      .set(this.keys.worker(description.id), JSON.stringify(description), "PX", WORKER_FORGET_MS)
      // Forget workers gone for an hour so the set does not grow forever.
      .zremrangebyscore(this.keys.workers, "-inf", now - WORKER_FORGET_MS)
      .exec();
  }

  private async beat(): Promise<void> {
    const now = Date.now();
    await this.write(this.describe(now, null), now);
  }

  /**
   * Says the worker stopped: it stops counting as live at once (its score falls out of the live window) but stays
   * listed, marked stopped, until the fleet forgets it.
   */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.beating;
    const now = Date.now();
    await this.write({ ...this.describe(now, now), partitions: [] }, now - WORKER_TTL_MS - 1);
  }
}
