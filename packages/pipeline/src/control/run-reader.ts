import type { Keys, TaskRef } from "./keys";
import { parseRunMeta, type RunMeta, type RunSnapshot, runSnapshot, runTaskRefs } from "./protocol";

/** The few Redis reads a run snapshot needs; an ioredis client satisfies it structurally. */
export interface RunStateReader {
  hgetall(key: string): Promise<Record<string, string>>;
  scard(key: string): Promise<number>;
  xlen(key: string): Promise<number>;
  xrevrange(key: string, end: string, start: string, count: "COUNT", n: number): Promise<[string, string[]][]>;
}

export async function readRunMeta(redis: RunStateReader, keys: Keys, runId: string): Promise<RunMeta | undefined> {
  return parseRunMeta(await redis.hgetall(keys.runMeta(runId)));
}

/** Current status and committed per-node counters of a run, summed over its task partitions. */
export async function readRunSnapshot(
  redis: RunStateReader,
  keys: Keys,
  runId: string,
): Promise<RunSnapshot | undefined> {
  const meta = await readRunMeta(redis, keys, runId);
  if (!meta) return undefined;
  const [states, done] = await Promise.all([
    Promise.all(runTaskRefs(runId, meta.stages).map((t) => redis.hgetall(keys.taskState(t)))),
    redis.scard(keys.runDone(runId)),
  ]);
  return runSnapshot(runId, meta, states, done, Date.now());
}

export interface TailEntry {
  /** The entry's stream id, `<ms>-<seq>`. */
  id: string;
  partition: number;
  record: unknown;
  /** When the record reached the sink's tail (epoch ms, from the stream id): the order the tail is listed in. */
  arrivedAt: number;
}

/**
 * The records a console sink kept, latest to arrive first: the order of the tail's stream, not of the records' own
 * times (partitions write their batches as they finish, so event times interleave). A batch's entries share a
 * millisecond and are told apart by the id's sequence number, so within one the last written is the first listed.
 */
export async function readTail(
  redis: RunStateReader,
  keys: Keys,
  runId: string,
  nodeId: string,
  count: number,
): Promise<TailEntry[]> {
  const entries = await redis.xrevrange(keys.runTail(runId, nodeId), "+", "-", "COUNT", count);
  return entries.map(([id, fields]) => {
    const get = (name: string) => fields[fields.indexOf(name) + 1];
    let record: unknown = null;
    try {
      record = JSON.parse(get("r") ?? "null");
    } catch {
      record = get("r");
    }
    return { id, partition: Number(get("p")), record, arrivedAt: Number(id.split("-")[0]) };
  });
}

export interface DeadLetterView {
  /** `<stage>.<partition>.<stream id>`: enough to find it again for a replay, and the cursor of the page after it. */
  id: string;
  stage: number;
  partition: number;
  nodeId: string;
  port: string | null;
  error: string;
  record: unknown;
  at: number;
  /** The batch the record failed in. */
  sequence: number | null;
  /** Who fixed the record by hand or with an expression, and how, if anyone did. */
  fixed: DeadLetterFix | null;
}

export interface DeadLetterFix {
  by: string;
  at: number;
  /** The expression applied, or "by hand". */
  how: string;
}

/** Where a dead letter sits: its partition and its entry in that partition's stream. */
interface DeadLetterRef {
  stage: number;
  partition: number;
  streamId: string;
}

/** Reads a dead letter id as listed (`0.2.1700000000000-0`); undefined when it is not one. */
export function parseDeadLetterId(id: string): DeadLetterRef | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+-\d+)$/.exec(id);
  if (!m) return undefined;
  return { stage: Number(m[1]), partition: Number(m[2]), streamId: m[3]! };
}

function streamIdParts(id: string): [bigint, bigint] {
  const [ms, seq] = id.split("-");
  return [BigInt(ms ?? 0), BigInt(seq ?? 0)];
}

/**
 * The order dead letters are listed in, newest first: by stream id (the time their batch was committed), ties
 * between partitions by stage, then partition, descending. Every letter has one place in it, so pages never
 * overlap or skip one. Negative when `a` comes first.
 */
function compareDeadLetters(a: DeadLetterRef, b: DeadLetterRef): number {
  const [am, as] = streamIdParts(a.streamId);
  const [bm, bs] = streamIdParts(b.streamId);
  if (am !== bm) return am > bm ? -1 : 1;
  if (as !== bs) return as > bs ? -1 : 1;
  return b.stage - a.stage || b.partition - a.partition;
}

/** A dead letter as stored: what the engine's commit wrote (task-commit.ts's DeadLetter), and a fix if one was made. */
export interface StoredDeadLetter {
  nodeId?: string;
  port?: string;
  edge?: string;
  error?: string;
  record?: unknown;
  at?: number;
  sequence?: number;
  fixed?: DeadLetterFix;
}

/** The letter a stream entry holds (`e` field); an unreadable one says so in its error. */
export function storedDeadLetter(fields: string[]): StoredDeadLetter {
  try {
    return JSON.parse(fields[fields.indexOf("e") + 1] ?? "{}") as StoredDeadLetter;
  } catch {
    return { error: "unreadable dead letter" };
  }
}

function deadLetterView(t: TaskRef, streamId: string, fields: string[]): DeadLetterView {
  const letter = storedDeadLetter(fields);
  return {
    id: `${t.stage}.${t.partition}.${streamId}`,
    stage: t.stage,
    partition: t.partition,
    nodeId: letter.nodeId ?? "?",
    port: letter.port ?? null,
    error: letter.error ?? "",
    record: letter.record ?? null,
    at: letter.at ?? 0,
    sequence: typeof letter.sequence === "number" ? letter.sequence : null,
    fixed: letter.fixed ?? null,
  };
}

/** How many dead letters the run holds now, over all its partitions. */
export async function countDeadLetters(
  redis: RunStateReader,
  keys: Keys,
  runId: string,
  meta: RunMeta,
): Promise<number> {
  const counts = await Promise.all(runTaskRefs(runId, meta.stages).map((t) => redis.xlen(keys.taskDeadLetters(t))));
  return counts.reduce((sum, n) => sum + n, 0);
}

/**
 * Up to `limit` dead letters of a run over all its partitions, newest first (see compareDeadLetters), starting after
 * the letter `after` when given: the page that follows the one it ended. With `match`, only the letters it accepts
 * (a group): each partition is read on in slices until it has given a page of them or has no more.
 */
export async function readDeadLetters(
  redis: RunStateReader,
  keys: Keys,
  runId: string,
  meta: RunMeta,
  limit: number,
  after?: DeadLetterRef,
  match?: (letter: DeadLetterView) => boolean,
): Promise<DeadLetterView[]> {
  const tasks = runTaskRefs(runId, meta.stages);
  // Each stream is read from the cursor's stream id down, inclusive: at most one entry of a stream shares that id
  // and the filter below drops it if it is not after the cursor, so limit + 1 entries are always enough.
  const slice = match ? Math.max(limit + 1, 1000) : limit + 1;
  const perTask = await Promise.all(
    tasks.map(async (t) => {
      const found: { ref: DeadLetterRef; view: DeadLetterView }[] = [];
      let end = after ? after.streamId : "+";
      while (found.length < limit) {
        const entries = await redis.xrevrange(keys.taskDeadLetters(t), end, "-", "COUNT", slice);
        for (const [streamId, fields] of entries) {
          const ref = { stage: t.stage, partition: t.partition, streamId };
          if (after && compareDeadLetters(ref, after) <= 0) continue;
          const view = deadLetterView(t, streamId, fields);
          if (!match || match(view)) found.push({ ref, view });
        }
        if (entries.length < slice) break;
        end = `(${entries[entries.length - 1]![0]}`;
      }
      return found;
    }),
  );
  return perTask
    .flat()
    .sort((a, b) => compareDeadLetters(a.ref, b.ref))
    .slice(0, limit)
    .map((l) => l.view);
}

/** The stream reads a whole scan of dead letters needs; an ioredis client satisfies it. */
export interface DeadLetterScanner {
  xrange(key: string, start: string, end: string, count: "COUNT", n: number): Promise<[string, string[]][]>;
}

const SCAN_SLICE = 2000;

/**
 * Every dead letter the run holds now, partition by partition, oldest first, a slice at a time: `visit` sees each
 * once (letters that arrive during the scan may be seen too). For work over all of them, such as grouping.
 */
export async function scanDeadLetters(
  redis: DeadLetterScanner,
  keys: Keys,
  runId: string,
  meta: RunMeta,
  visit: (letter: DeadLetterView) => void,
): Promise<void> {
  for (const t of runTaskRefs(runId, meta.stages)) {
    let start = "-";
    while (true) {
      const entries = await redis.xrange(keys.taskDeadLetters(t), start, "+", "COUNT", SCAN_SLICE);
      for (const [streamId, fields] of entries) visit(deadLetterView(t, streamId, fields));
      if (entries.length < SCAN_SLICE) break;
      start = `(${entries[entries.length - 1]![0]}`;
    }
  }
}
