import type { Keys } from "./keys";
import { parseRunMeta, type RunMeta, type RunSnapshot, runSnapshot, runTaskRefs } from "./protocol";

/** The few Redis reads a run snapshot needs; an ioredis client satisfies it structurally. */
export interface RunStateReader {
  hgetall(key: string): Promise<Record<string, string>>;
  scard(key: string): Promise<number>;
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
  id: string;
  partition: number;
  record: unknown;
}

/** The newest records a console sink kept, newest first. */
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
    return { id, partition: Number(get("p")), record };
  });
}

export interface DeadLetterView {
  /** `<stage>.<partition>.<stream id>`: enough to find it again for a replay. */
  id: string;
  stage: number;
  partition: number;
  nodeId: string;
  port: string | null;
  error: string;
  record: unknown;
  at: number;
}

/** The newest dead letters of a run over all its partitions, newest first. */
export async function readDeadLetters(
  redis: RunStateReader,
  keys: Keys,
  runId: string,
  meta: RunMeta,
  limit: number,
): Promise<DeadLetterView[]> {
  const tasks = runTaskRefs(runId, meta.stages);
  const perTask = await Promise.all(
    tasks.map((t) => redis.xrevrange(keys.taskDeadLetters(t), "+", "-", "COUNT", limit)),
  );
  const letters: DeadLetterView[] = [];
  perTask.forEach((entries, i) => {
    const t = tasks[i]!;
    for (const [id, fields] of entries) {
      let letter: { nodeId?: string; port?: string; error?: string; record?: unknown; at?: number } = {};
      try {
        letter = JSON.parse(fields[fields.indexOf("e") + 1] ?? "{}");
      } catch {
        letter = { error: "unreadable dead letter" };
      }
      letters.push({
        id: `${t.stage}.${t.partition}.${id}`,
        stage: t.stage,
        partition: t.partition,
        nodeId: letter.nodeId ?? "?",
        port: letter.port ?? null,
        error: letter.error ?? "",
        record: letter.record ?? null,
        at: letter.at ?? 0,
      });
    }
  });
  return letters.sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1)).slice(0, limit);
}
