import type { Keys, TaskRef } from "@sluice/pipeline/control/keys";
import type { Redis, Result } from "ioredis";

// Crash loops: a partition whose records make its worker die (out of memory, an abort in a driver) would be taken
// over by the next worker for ever, and take that one down too. A lease marks the partition `held` (with its
// worker's id) before it first reads, and clears the mark when it ends normally or finds nothing to read; a new
// owner that finds the mark knows the last owner died with the partition in hand, and counts it (in the same step
// that takes the lease, TaskState.acquire). Every commit
// resets the count, so only takeovers with no finished batch in between add up; at the limit the run is failed.
// A worker that dies holds several partitions, and each is counted, though one caused it. So a partition taken
// over from a dead worker (a suspect) reads its first batch only while no other suspect of the same worker is in
// its first batch: when the worker dies again, only the partition that was reading is counted again, and the
// innocent one either finished a batch (and was cleared) or had not started (and is not counted).

/** Takeovers in a row without a finished batch after which the run is failed. */
export const DEFAULT_CRASH_LIMIT = 3;

/** Sets (ARGV[2] a worker id) or clears (ARGV[2] empty) the mark, if the lease still holds. */
const HOLD_LUA = `
if redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('HDEL', KEYS[1], 'held') else redis.call('HSET', KEYS[1], 'held', ARGV[2]) end
return 1
`;

declare module "ioredis" {
  interface RedisCommander<Context> {
    sluiceHold(state: string, epoch: number, worker: string): Result<number, Context>;
  }
}

function defineCommands(redis: Redis): void {
  if (typeof redis.sluiceHold === "function") return;
  redis.defineCommand("sluiceHold", { numberOfKeys: 1, lua: HOLD_LUA });
}

/** The task-state field a commit sets to "0" to reset the count. */
export const CRASHES_FIELD = "crashes";
/** The task-state field marking the partition as held by a worker (its id). */
export const HELD_FIELD = "held";
/** The task-state field naming the last owner that died holding the partition. */
const CRASHED_BY_FIELD = "crashedBy";

interface Takeover {
  /** Owners in a row that died holding the partition with no finished batch in between. */
  crashes: number;
  /** The last of them. */
  lastWorker: string;
}

/**
 * The crash count a lease starts with, from the task state TaskState.acquire returned (which counted this takeover
 * if the last owner died holding the partition).
 */
export function takeoverOf(initial: Readonly<Record<string, string>>): Takeover {
  return {
    crashes: Math.max(0, Number(initial[CRASHES_FIELD] ?? 0) || 0),
    lastWorker: initial[CRASHED_BY_FIELD] ?? "",
  };
}

/** Longest a suspect waits for the suspects before it: a first batch stuck on a slow sink must not starve it. */
const SUSPECT_WAIT_MS = 10_000;
/** Per worker id, the promise the next suspect waits for: the first batches of the suspects queued before it. */
const suspectQueues = new Map<string, Promise<void>>();

/** One lease's view of the partition's crash count and mark. */
export class PartitionCrashes {
  private marked: "never" | "held" | "cleared" = "never";
  private leaveQuarantine: (() => void) | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly task: TaskRef,
    private readonly epoch: number,
    private readonly workerId: string,
    /** The last owner died holding the partition (TaskState.acquire counted a takeover). */
    private readonly suspect = false,
  ) {
    defineCommands(redis);
  }

  /**
   * Before the lease's first read: from here until it ends normally, a death of this worker counts. A suspect
   * first waits for the worker's other suspects to finish their first batch.
   */
  async beforeFirstRead(): Promise<void> {
    if (this.marked !== "never") return;
    if (this.suspect) await this.enterQuarantine();
    this.marked = "held";
    await this.redis.sluiceHold(this.keys.taskState(this.task), this.epoch, this.workerId);
  }

  /** The lease committed a batch: the worker's next suspect may read. */
  committed(): void {
    this.leaveQuarantine?.();
  }

  private async enterQuarantine(): Promise<void> {
    const before = suspectQueues.get(this.workerId) ?? Promise.resolve();
    let open!: () => void;
    const mine = new Promise<void>((resolve) => {
      open = resolve;
    });
    const queue = before.then(() => mine);
    suspectQueues.set(this.workerId, queue);
    this.leaveQuarantine = () => {
      this.leaveQuarantine = undefined;
      open();
      if (suspectQueues.get(this.workerId) === queue) suspectQueues.delete(this.workerId);
    };
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      before,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, SUSPECT_WAIT_MS);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
  }

  /**
   * The lease found nothing to read: a partition that merely shared a dying worker is not the cause, so it is not
   * counted. (Records arriving later in this lease are counted from the next owner's first read on.)
   */
  async idle(): Promise<void> {
    this.leaveQuarantine?.();
    if (this.marked !== "held") return;
    await this.clear();
  }

  /** The lease ends with this worker alive (finished, handed back, or failed with an error it survived). */
  async release(): Promise<void> {
    this.leaveQuarantine?.();
    if (this.marked === "held") await this.clear().catch(() => {});
  }

  private async clear(): Promise<void> {
    this.marked = "cleared";
    await this.redis.sluiceHold(this.keys.taskState(this.task), this.epoch, "");
  }
}

/** The reason a crash-looping partition's run is failed with. */
export function crashLoopMessage(task: TaskRef, takeover: Takeover, nodeIds: readonly string[]): string {
  const nodes = nodeIds.length === 1 ? `node ${nodeIds[0]}` : `nodes ${nodeIds.join(", ")}`;
  return (
    `partition ${task.partition} of stage ${task.stage} stopped its worker ${takeover.crashes} times in a row ` +
    `without finishing a batch (last: worker ${takeover.lastWorker || "unknown"}); the run was failed to protect ` +
    `the fleet. Look at what ${nodes} do with this partition's records (a worker running out of memory on large ` +
    "records, a driver that aborts), or lower the pipeline's batch size (settings.batchSize, settings.batchBytes)."
  );
}
