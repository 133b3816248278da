import type { Db } from "@sluice/db/client";
import type { Keys } from "@sluice/pipeline/control/keys";
import {
  connectionsContext,
  PreviewJob,
  previewConnectionsContext,
  QUEUE_CONTROL,
  QUEUE_PREVIEW,
  RunStartJob,
} from "@sluice/pipeline/control/protocol";
import { QueueKeys } from "bullmq";
import { Cluster, type Redis } from "ioredis";
import { secretsContext } from "./connection-secrets";

// Every place Sluice keeps a value sealed with its secret key (secret-box.ts), listed in batches for
// `sluice secrets status` and `rotate`: the secrets of each connection (Postgres), the connection bundle each run
// carries in its Redis meta for its whole life, and the bundles in start and preview jobs (queued, or kept by BullMQ
// for a while after they ran). Each value can be replaced only if it is still what was read.

export type SealedPlace = "connections" | "runs" | "jobs";

/** One sealed value where it is kept. */
export interface SealedValue {
  place: SealedPlace;
  /** Names it in messages, e.g. `connection "warehouse" in workspace "acme"`; never anything secret. */
  label: string;
  box: string;
  /** What it was sealed for (see secret-box.ts). */
  context: string;
  /** Writes `next` in its place unless the value there is no longer `box`; false then (or when it is gone). */
  replace(next: string): Promise<boolean>;
  /** The value as it is now; undefined when it is gone. */
  reread(): Promise<SealedValue | undefined>;
}

interface ConnectionRow {
  id: string;
  name: string;
  secrets: Uint8Array<ArrayBuffer> | null;
  updatedAt: Date;
  workspace: { slug: string };
}

const CONNECTION_COLUMNS = {
  id: true,
  name: true,
  secrets: true,
  updatedAt: true,
  workspace: { select: { slug: true } },
} as const;

function connectionValue(db: Db, row: ConnectionRow): SealedValue | undefined {
  if (!row.secrets || row.secrets.length === 0) return undefined;
  const read = row.secrets;
  return {
    place: "connections",
    label: `connection "${row.name}" in workspace "${row.workspace.slug}"`,
    box: Buffer.from(read).toString("utf8"),
    context: secretsContext(row.id),
    async replace(next) {
      // Compared on the ciphertext: any edit of the secrets seals them afresh (new IV), so it never matches. The row's
      // updatedAt is kept: the connection says what it said before.
      const { count } = await db.connection.updateMany({
        where: { id: row.id, secrets: { equals: read } },
        data: { secrets: new Uint8Array(Buffer.from(next, "utf8")), updatedAt: row.updatedAt },
      });
      return count === 1;
    },
    async reread() {
      const now = await db.connection.findUnique({ where: { id: row.id }, select: CONNECTION_COLUMNS });
      return now ? connectionValue(db, now) : undefined;
    },
  };
}

/** The sealed secrets of every connection, `batchSize` rows at a time, in id order. */
export async function* storedConnectionSecrets(db: Db, batchSize: number): AsyncGenerator<SealedValue[]> {
  let after: string | undefined;
  for (;;) {
    const rows = await db.connection.findMany({
      where: { secrets: { not: null }, ...(after === undefined ? {} : { id: { gt: after } }) },
      orderBy: { id: "asc" },
      take: batchSize,
      select: CONNECTION_COLUMNS,
    });
    if (rows.length === 0) return;
    after = rows.at(-1)!.id;
    yield rows.flatMap((r) => connectionValue(db, r) ?? []);
  }
}

/** Sets a hash field to ARGV[3] only while it still holds ARGV[2]: a value sealed anew meanwhile is left alone. */
const SWAP_FIELD_LUA = `
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
  return 1
end
return 0`;

async function swapField(redis: Redis, key: string, field: string, from: string, to: string): Promise<boolean> {
  return Number(await redis.eval(SWAP_FIELD_LUA, 1, key, field, from, to)) === 1;
}

/** Every key matching `pattern` on every node (each master of a cluster), `count` at a time. */
async function* scanKeys(redis: Redis, pattern: string, count: number, type?: "hash"): AsyncGenerator<string[]> {
  const nodes: Redis[] = redis instanceof Cluster ? (redis as Cluster).nodes("master") : [redis];
  for (const node of nodes) {
    let cursor = "0";
    do {
      const [next, found] = type
        ? await node.scan(cursor, "MATCH", pattern, "COUNT", count, "TYPE", type)
        : await node.scan(cursor, "MATCH", pattern, "COUNT", count);
      cursor = next;
      if (found.length > 0) yield found;
    } while (cursor !== "0");
  }
}

async function runValue(redis: Redis, key: string, runId: string): Promise<SealedValue | undefined> {
  const box = await redis.hget(key, "connections");
  if (!box) return undefined;
  return {
    place: "runs",
    label: `run ${runId}`,
    box,
    context: connectionsContext(runId),
    replace: (next) => swapField(redis, key, "connections", box, next),
    reread: () => runValue(redis, key, runId),
  };
}

/** The connection bundle of every run that has one in Redis (running, paused or kept after its end). */
export async function* runConnectionBundles(
  redis: Redis,
  keys: Keys,
  batchSize: number,
): AsyncGenerator<SealedValue[]> {
  const head = `${keys.prefix}:{`;
  for await (const found of scanKeys(redis, `${head}*}:meta`, batchSize)) {
    const values: SealedValue[] = [];
    for (const key of found) {
      // `<prefix>:{<run id>}:meta`; BullMQ's own `…:{bull}:<queue>:meta` and task keys do not end like that.
      const runId = key.slice(head.length, -"}:meta".length);
      if (!key.endsWith("}:meta") || runId === "" || runId.includes("}")) continue;
      const value = await runValue(redis, key, runId);
      if (value) values.push(value);
    }
    if (values.length > 0) yield values;
  }
}

/** The context a queued job's bundle was sealed for, when the job carries one. */
type JobContext = (jobId: string, data: unknown) => string | undefined;

const startJobContext: JobContext = (_jobId, data) => {
  const job = RunStartJob.safeParse(data);
  return job.success && job.data.connections ? connectionsContext(job.data.runId) : undefined;
};

const previewJobContext: JobContext = (jobId, data) => {
  const job = PreviewJob.safeParse(data);
  return job.success && job.data.connections ? previewConnectionsContext(jobId) : undefined;
};

async function jobValue(
  redis: Redis,
  key: string,
  jobId: string,
  contextOf: JobContext,
): Promise<SealedValue | undefined> {
  const text = await redis.hget(key, "data");
  if (!text) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  const context = contextOf(jobId, data);
  if (context === undefined) return undefined;
  const job = data as { connections: string };
  return {
    place: "jobs",
    label: `job ${jobId}`,
    box: job.connections,
    context,
    // The whole job data is compared and written: BullMQ stored it as JSON.stringify gives it, as here.
    replace: (next) => swapField(redis, key, "data", text, JSON.stringify({ ...job, connections: next })),
    reread: () => jobValue(redis, key, jobId, contextOf),
  };
}

/**
 * The connection bundles in the jobs of the control queue (run starts) and the preview queue, whatever their state:
 * waiting, retried, or kept after they ran.
 */
export async function* queuedConnectionBundles(
  redis: Redis,
  keys: Keys,
  batchSize: number,
): AsyncGenerator<SealedValue[]> {
  const queues: [string, JobContext][] = [
    [QUEUE_CONTROL, startJobContext],
    [QUEUE_PREVIEW, previewJobContext],
  ];
  for (const [queue, contextOf] of queues) {
    // A job is the hash `<queue key>:<job id>`; the queue's other hashes (its meta, …) carry no bundle.
    const head = new QueueKeys(keys.bullPrefix).toKey(queue, "");
    for await (const found of scanKeys(redis, `${head}*`, batchSize, "hash")) {
      const values: SealedValue[] = [];
      for (const key of found) {
        const value = await jobValue(redis, key, key.slice(head.length), contextOf);
        if (value) values.push(value);
      }
      if (values.length > 0) yield values;
    }
  }
}
