import type { LiveTail } from "@sluice/nodes/runtime-contract";
import type { Keys } from "@sluice/pipeline/control/keys";
import type { DataRecord } from "@sluice/pipeline/record-schema";
import type { Redis } from "ioredis";

/** Console sinks' live tail: one capped Redis stream per run and node, kept with the run (see run-state's expireRun). */
export class RedisLiveTail implements LiveTail {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly runId: string,
  ) {}

  async append(nodeId: string, partition: number, records: readonly DataRecord[], keep: number): Promise<void> {
    const key = this.keys.runTail(this.runId, nodeId);
    const pipeline = this.redis.pipeline();
    // Only the newest `keep` can survive the trim, so don't ship the rest.
    for (const r of records.slice(-keep))
      pipeline.xadd(key, "MAXLEN", "~", keep, "*", "p", partition, "r", JSON.stringify(r));
    await pipeline.exec();
  }
}
