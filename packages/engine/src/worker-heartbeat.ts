import type { Keys } from "@sluice/pipeline/control/keys";
import { WORKER_TTL_MS } from "@sluice/pipeline/control/protocol";
import type { Redis } from "ioredis";
import { type EngineLogger, errorMessage } from "./engine-logger";

// Each worker announces itself once a second: a sorted set scored by last-seen time (counted by /api/health
// and the fleet page) and a short-lived hash describing it.

export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  startedAt: number;
  slots: number;
  tasks: string[];
}

export class WorkerHeartbeat {
  private timer: NodeJS.Timeout | undefined;

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
      this.beat().catch((err) => this.log.warn("heartbeat failed", { error: errorMessage(err) }));
    }, this.everyMs);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    const info = this.info();
    const now = Date.now();
    await this.redis
      .multi()
      .zadd(this.keys.workers, now, info.id)
      .set(this.keys.worker(info.id), JSON.stringify({ ...info, seenAt: now }), "PX", WORKER_TTL_MS * 3)
      // Forget workers gone for an hour so the set does not grow forever.
      .zremrangebyscore(this.keys.workers, "-inf", now - 3_600_000)
      .exec();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    const id = this.info().id;
    await this.redis.multi().zrem(this.keys.workers, id).del(this.keys.worker(id)).exec();
  }
}
