import { createHash } from "node:crypto";
import type { DataRecord } from "@sluice/pipeline/record-schema";
import type { Redis } from "ioredis";
import type { SinkRuntime } from "../../runtime-contract";
import { NodeConfigError } from "../../runtime-expressions";
import { PayloadEncoder } from "../messaging/codec";
import { openError } from "../messaging/connection-problems";
import { connectRedis, diagnoseRedis, redisClient, redisConfig, redisWhere } from "./redis-client";
import type { RedisStreamSinkConfig } from "./redis-stream-sink.def";

// One Lua script per batch: skip it if this writer's last written batch is this one (same sequence, same content),
// else append every entry, trim once, and remember the batch. All or nothing, so a replay after a crash finds the
// batch either wholly written (and skips it) or not at all.

const WRITTEN_TTL_MS = 7 * 24 * 3600 * 1000;

const APPEND_BATCH = `
if redis.call('HGET', KEYS[2], ARGV[1]) == ARGV[2] then return -1 end
local n = tonumber(ARGV[6])
if ARGV[7] == 'single' then
  local f = ARGV[8]
  for i = 9, 8 + n do redis.call('XADD', KEYS[1], '*', f, ARGV[i]) end
else
  local i = 8
  for e = 1, n do
    local k = tonumber(ARGV[i])
    redis.call('XADD', KEYS[1], '*', unpack(ARGV, i + 1, i + 2 * k))
    i = i + 1 + 2 * k
  end
end
if ARGV[4] == 'approximate' then redis.call('XTRIM', KEYS[1], 'MAXLEN', '~', ARGV[5])
elseif ARGV[4] == 'exact' then redis.call('XTRIM', KEYS[1], 'MAXLEN', ARGV[5]) end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return n
`;

type AppendingRedis = Redis & {
  sluiceAppendBatch(stream: string, written: string, ...args: (string | number | Buffer)[]): Promise<number>;
};

/**
 * The hash recording written batches, in the stream's hash slot (Redis Cluster runs a script only on keys of one
 * slot): the stream's own hash tag if it has one, else the whole stream name as the tag.
 */
export function writtenBatchesKey(stream: string): string {
  const open = stream.indexOf("{");
  const close = open >= 0 ? stream.indexOf("}", open + 1) : -1;
  return close > open + 1 ? `${stream}:sluice-written` : `{${stream}}:sluice-written`;
}

/** The `fields` format: each top-level field as an entry field; text as it is, other values as JSON, NULLs left out. */
function fieldPairs(record: DataRecord, fallbackField: string): (string | number)[] {
  const pairs: string[] = [];
  for (const key in record) {
    const v = record[key];
    if (v === null || v === undefined) continue;
    pairs.push(key, typeof v === "string" ? v : JSON.stringify(v));
  }
  // XADD needs at least one field.
  return pairs.length > 0 ? [pairs.length / 2, ...pairs] : [1, fallbackField, "{}"];
}

export const redisStreamSinkRuntime: SinkRuntime<RedisStreamSinkConfig> = {
  kind: "sink",
  type: "sink.redis-stream",
  async open(ctx) {
    const c = ctx.config;
    const conn = redisConfig(ctx.services.connections.get(c.connection, "redis"));
    const where = redisWhere(conn);
    const client = redisClient(conn, `${ctx.runId}:${ctx.nodeId}:${ctx.partition}`, "run") as AppendingRedis;
    try {
      await connectRedis(client);
      const type = await client.type(c.stream);
      if (type !== "stream" && type !== "none") {
        throw new NodeConfigError(
          ctx.nodeId,
          "stream",
          `the key "${c.stream}" on ${where} holds a ${type}, not a stream`,
        );
      }
    } catch (err) {
      client.disconnect();
      if (err instanceof NodeConfigError) throw err;
      throw openError(ctx, c.connection, diagnoseRedis(err, where));
    }
    client.defineCommand("sluiceAppendBatch", { numberOfKeys: 2, lua: APPEND_BATCH });
    const encoder = new PayloadEncoder(c);
    const written = writtenBatchesKey(c.stream);
    const fieldsFormat = c.format === "fields";

    return {
      async write(records, batch) {
        if (records.length === 0) return;
        const digest = createHash("sha1");
        const entries: (string | number | Buffer)[] = fieldsFormat ? [] : [c.entryField];
        for (const record of records) {
          if (fieldsFormat) {
            const pairs = fieldPairs(record, c.entryField);
            for (let i = 1; i < pairs.length; i++) digest.update(String(pairs[i])).update("\u0000");
            entries.push(...pairs);
          } else {
            const payload = encoder.encode(record);
            digest.update(payload).update("\u0000");
            entries.push(payload);
          }
        }
        // The batch id without its sequence names this writer (run, stage, partition); with the node: two sinks of
        // one stage writing the same stream keep apart.
        const cut = batch.batchId.lastIndexOf(":");
        const writer = `${ctx.nodeId}@${batch.batchId.slice(0, cut)}`;
        const marker = `${batch.sequence}:${digest.digest("base64url")}`;
        try {
          await client.sluiceAppendBatch(
            c.stream,
            written,
            writer,
            marker,
            WRITTEN_TTL_MS,
            c.trim,
            c.maxLen ?? 0,
            records.length,
            fieldsFormat ? "pairs" : "single",
            ...entries,
          );
        } catch (err) {
          const d = diagnoseRedis(err, where);
          throw new Error(`writing to stream "${c.stream}" on ${where} failed: ${d.message}`);
        }
      },
      async close() {
        client.disconnect();
      },
    };
  },
};
