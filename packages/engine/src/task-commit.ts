import { randomUUID } from "node:crypto";
import type { Keys, TaskRef } from "@sluice/pipeline/control/keys";
import { DEFAULT_DEAD_LETTER_LIMIT } from "@sluice/pipeline/definition";
import type { Redis, Result } from "ioredis";

// The commit of one processed batch: one Lua script checks the fencing epoch, then advances source offsets,
// adds the batch's counters, appends its dead letters and bumps the batch sequence — all or nothing. A zombie
// worker whose lease was taken over holds an older epoch and is refused. Dead letters are never trimmed: a batch
// whose dead letters would take the partition past its limit is refused whole, so its input is read again later.

const COMMIT_LUA = `
local state = KEYS[1]
if redis.call('HGET', state, 'epoch') ~= ARGV[1] then return -1 end
-- A commit runs once: a client that lost the connection may send it again after reconnecting, and finds it
-- already applied. Any other sequence means another owner moved the partition on.
local seq = tonumber(redis.call('HGET', state, 'seq') or '0')
local expected = tonumber(ARGV[4])
if seq == expected + 1 then return -2 end
if seq ~= expected then return -1 end
local letters = tonumber(ARGV[5])
if letters > 0 then
  local held = redis.call('XLEN', KEYS[2])
  if held + letters > tonumber(ARGV[3]) then return { -3, held } end
end
local i = 6
local n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do redis.call('HSET', state, ARGV[i], ARGV[i + 1]); i = i + 2 end
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do redis.call('HINCRBY', state, ARGV[i], ARGV[i + 1]); i = i + 2 end
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do redis.call('XADD', KEYS[2], '*', 'e', ARGV[i]); i = i + 1 end
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do
  local key = KEYS[tonumber(ARGV[i])]; i = i + 1
  local sets = tonumber(ARGV[i]); i = i + 1
  for _ = 1, sets do redis.call('HSET', key, ARGV[i], ARGV[i + 1]); i = i + 2 end
  local dels = tonumber(ARGV[i]); i = i + 1
  for _ = 1, dels do redis.call('HDEL', key, ARGV[i]); i = i + 1 end
end
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do
  redis.call('XADD', KEYS[tonumber(ARGV[i])], ARGV[i + 1], 'd', ARGV[i + 2]); i = i + 3
end
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do
  local key = KEYS[tonumber(ARGV[i])]; i = i + 1
  local ids = tonumber(ARGV[i]); i = i + 1
  for _ = 1, ids do redis.call('XDEL', key, ARGV[i]); i = i + 1 end
end
redis.call('HSET', state, 'at', ARGV[2])
return redis.call('HINCRBY', state, 'seq', 1)
`;

/**
 * Takes the lease's epoch: every later commit by an older holder is refused. If the last owner died holding the
 * partition (its `held` mark, see partition-crashes.ts), the takeover is counted in `crashes` and that owner kept
 * in `crashedBy`. Idempotent per lease: sent again after a reconnect, it finds its own lease id and neither bumps
 * the epoch nor counts the takeover a second time.
 */
const ACQUIRE_LUA = `
if redis.call('HGET', KEYS[1], 'lease') ~= ARGV[2] then
  redis.call('HINCRBY', KEYS[1], 'epoch', 1)
  redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'lease', ARGV[2])
  local held = redis.call('HGET', KEYS[1], 'held')
  if held then
    redis.call('HDEL', KEYS[1], 'held')
    redis.call('HSET', KEYS[1], 'crashedBy', held)
    redis.call('HINCRBY', KEYS[1], 'crashes', 1)
  end
end
return { tonumber(redis.call('HGET', KEYS[1], 'epoch')), redis.call('HGETALL', KEYS[1]) }
`;

/** Records what batch `ARGV[2]` read, if the lease (epoch ARGV[1]) still holds and that batch is the next one. */
const INTENT_LUA = `
if redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[1] then return -1 end
if tonumber(redis.call('HGET', KEYS[1], 'seq') or '0') + 1 ~= tonumber(ARGV[2]) then return -1 end
redis.call('HSET', KEYS[1], 'intent', ARGV[3])
return 1
`;

declare module "ioredis" {
  interface RedisCommander<Context> {
    // ioredis flattens array arguments, so large commits need no spread (which has an argument-count limit).
    sluiceCommit(
      numKeys: number,
      keys: string[],
      args: (string | number | Buffer)[],
    ): Result<number | [number, number], Context>;
    sluiceAcquire(state: string, owner: string, lease: string): Result<[number, string[]], Context>;
    sluiceIntent(state: string, epoch: number, sequence: number, intent: string): Result<number, Context>;
  }
}

export function defineTaskCommands(redis: Redis): void {
  if (typeof redis.sluiceCommit === "function") return;
  redis.defineCommand("sluiceCommit", { lua: COMMIT_LUA });
  redis.defineCommand("sluiceAcquire", { numberOfKeys: 1, lua: ACQUIRE_LUA });
  redis.defineCommand("sluiceIntent", { numberOfKeys: 1, lua: INTENT_LUA });
}

export interface DeadLetter {
  nodeId: string;
  /** The input port the record arrived on, so a replay delivers it to the same place. */
  port?: string;
  /** For a record that failed on its way into the next stage (its shuffle key): the edge it was crossing. */
  edge?: string;
  error: string;
  record: unknown;
  at: number;
  /** Batch sequence the record belonged to. */
  sequence: number;
}

export interface StoreChanges {
  /** The store's hash key (same hash tag as the task). */
  key: string;
  set: [string, string][];
  del: string[];
}

export interface TaskCommit {
  /** Fields to set in the task state: offsets (`o:<node>`), positions (`u:…`), watermark, flags. */
  set: Record<string, string>;
  /** Counter increments, e.g. `n:<node>:in`. */
  increments: Record<string, number>;
  deadLetters: readonly DeadLetter[];
  /** Dead letters the partition may hold after this commit (settings.deadLetterLimit); default 1,000,000. */
  deadLetterLimit?: number;
  stores?: readonly StoreChanges[];
  /** Shuffle entries, appended under their deterministic ids. */
  appends?: readonly { key: string; id: string; payload: Buffer }[];
  /** Stream entries consumed by this batch (replayed dead letters), deleted with it. */
  deletes?: readonly { key: string; ids: readonly string[] }[];
}

/** What one batch read: records per source node, and the last shuffle entry id per upstream position field. */
export interface BatchIntent {
  seq: number;
  sources: Record<string, number>;
  upstreams: Record<string, string>;
  /** The replay-stream entries (dead letters sent back) the batch took in, in order. */
  replayed?: string[];
}

export class FencedError extends Error {
  override name = "FencedError";
  constructor(readonly task: TaskRef) {
    super(`task ${task.runId}/${task.stage}/${task.partition} was taken over by another worker`);
  }
}

/** A batch was not committed: its dead letters would take the partition past its limit. Nothing was lost. */
export class DeadLetterLimitError extends Error {
  override name = "DeadLetterLimitError";
  constructor(
    readonly task: TaskRef,
    readonly held: number,
    readonly adding: number,
    readonly limit: number,
  ) {
    const n = (x: number) => x.toLocaleString("en-US");
    super(
      `partition ${task.partition} of stage ${task.stage} holds ${n(held)} dead letters and its next batch would add ` +
        `${n(adding)}, past the limit of ${n(limit)} (settings.deadLetterLimit). The run stopped before committing ` +
        "that batch, so nothing was lost: fix the cause, replay the dead letters (or restart from the start to " +
        "discard them), then restart the run.",
    );
  }
}

export class TaskState {
  private constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    readonly task: TaskRef,
    readonly epoch: number,
    /** The state hash as it was when the lease was taken. */
    readonly initial: Readonly<Record<string, string>>,
  ) {
    this.sequence = Number(initial.seq ?? 0);
  }

  /** The last committed batch sequence. */
  private sequence: number;

  static async acquire(redis: Redis, keys: Keys, task: TaskRef, owner: string): Promise<TaskState> {
    defineTaskCommands(redis);
    const [epoch, flat] = await redis.sluiceAcquire(keys.taskState(task), owner, randomUUID());
    const initial: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) initial[flat[i]!] = flat[i + 1]!;
    return new TaskState(redis, keys, task, Number(epoch), initial);
  }

  /**
   * What the next batch read, recorded before its sinks write: a new owner that finds the batch written but not
   * committed reads exactly the same input again, so the sinks see the same batch and can skip it as written.
   */
  async recordIntent(intent: BatchIntent): Promise<void> {
    const r = await this.redis.sluiceIntent(
      this.keys.taskState(this.task),
      this.epoch,
      this.sequence + 1,
      JSON.stringify(intent),
    );
    if (r === -1) throw new FencedError(this.task);
  }

  /** The input of the batch after the last committed one, if it was recorded and never committed. */
  pendingIntent(): BatchIntent | null {
    const raw = this.initial.intent;
    if (!raw) return null;
    try {
      const intent = JSON.parse(raw) as BatchIntent;
      return intent.seq === this.sequence + 1 ? intent : null;
    } catch {
      return null;
    }
  }

  /**
   * Atomically commits a batch; returns the new batch sequence. Throws FencedError if the lease was lost, and
   * DeadLetterLimitError (nothing committed) if its dead letters would take the partition past its limit.
   */
  async commit(c: TaskCommit): Promise<number> {
    const keys: string[] = [this.keys.taskState(this.task), this.keys.taskDeadLetters(this.task)];
    const limit = c.deadLetterLimit ?? DEFAULT_DEAD_LETTER_LIMIT;
    const args: (string | number | Buffer)[] = [this.epoch, Date.now(), limit, this.sequence, c.deadLetters.length];
    const set = Object.entries(c.set);
    args.push(set.length);
    for (const [k, v] of set) args.push(k, v);
    const inc = Object.entries(c.increments).filter(([, v]) => v !== 0);
    args.push(inc.length);
    for (const [k, v] of inc) args.push(k, v);
    args.push(c.deadLetters.length);
    for (const d of c.deadLetters) args.push(JSON.stringify(d));
    const stores = c.stores ?? [];
    args.push(stores.length);
    for (const st of stores) {
      keys.push(st.key);
      args.push(keys.length, st.set.length);
      for (const [k, v] of st.set) args.push(k, v);
      args.push(st.del.length, ...st.del);
    }
    const appends = c.appends ?? [];
    args.push(appends.length);
    for (const a of appends) {
      keys.push(a.key);
      args.push(keys.length, a.id, a.payload);
    }
    const deletes = c.deletes ?? [];
    args.push(deletes.length);
    for (const d of deletes) {
      keys.push(d.key);
      args.push(keys.length, d.ids.length, ...d.ids);
    }
    const result = await this.redis.sluiceCommit(keys.length, keys, args);
    if (Array.isArray(result)) throw new DeadLetterLimitError(this.task, result[1], c.deadLetters.length, limit);
    if (result === -1) throw new FencedError(this.task);
    // -2: this very commit was already applied (sent again after a reconnect).
    this.sequence = result === -2 ? this.sequence + 1 : result;
    return this.sequence;
  }
}
