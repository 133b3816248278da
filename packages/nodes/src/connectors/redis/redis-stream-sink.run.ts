import { createHash } from "node:crypto";
import type { DataRecord } from "@sluice/pipeline/record-schema";
import type { Destination } from "../../destination-policy";
import type { SinkRuntime } from "../../runtime-contract";
import { NodeConfigError } from "../../runtime-expressions";
import { PayloadEncoder } from "../messaging/codec";
import { openError } from "../messaging/connection-problems";
import { diagnoseRedis, redisConfig, redisDestination, redisWhere } from "./redis-client";
import type { RedisStreamSinkConfig } from "./redis-stream-sink.def";
import { BulkWriter, type CommandArg, commandHeader } from "./resp-command";
import { RespConnection } from "./resp-connection";
import { parseReply, RespError, replyError } from "./resp-reader";

// A batch is appended as a few Lua scripts of CHUNK entries each, sent one after the other without waiting, so
// Redis appends chunk k while this process encodes chunk k+1. Each writer (run, stage, partition, node) keeps a
// marker in a hash beside the stream: the chain of what its current batch has in the stream so far, one link per
// chunk — `|seq:entries:digest|…|`, the digest covering the batch's entries up to that chunk. A chunk whose link is
// in the chain is skipped; otherwise it is appended after its predecessor's link (the chain cut there, a chunk 0
// starts a new one), trimming once after the last chunk. A replay of a batch after a crash mid-way thus skips what
// got in and appends the rest — exactly-once, chunk by chunk — while a replay carrying other records (other
// digests) is appended: duplicates then, as an at-least-once source allows, never a loss.

const WRITTEN_TTL_MS = 7 * 24 * 3600 * 1000;

/** Entries per script: small, so Redis appends while the next chunk is encoded; big enough to amortise a call. */
export const CHUNK = 125;

// KEYS: stream, markers. ARGV: writer, ttl, trim, maxLen, last chunk ('1'|'0'), the previous chunk's link ('' for
// chunk 0), this chunk's link, entries n, then 'single' field payload… or 'pairs' (count field value…)….
const APPEND_CHUNK = `
local chain = redis.call('HGET', KEYS[2], ARGV[1]) or ''
local link = '|' .. ARGV[7] .. '|'
if string.find(chain, link, 1, true) then return -1 end
local before = ''
if ARGV[6] ~= '' then
  local prev = '|' .. ARGV[6] .. '|'
  local at = string.find(chain, prev, 1, true)
  if not at then return redis.error_reply('ERR the chunk before this one is not in the stream') end
  before = string.sub(chain, 1, at + #prev - 2)
end
local n = tonumber(ARGV[8])
if ARGV[9] == 'single' then
  local f = ARGV[10]
  for e = 11, 10 + n do redis.call('XADD', KEYS[1], '*', f, ARGV[e]) end
else
  local i = 10
  for e = 1, n do
    local c = tonumber(ARGV[i])
    redis.call('XADD', KEYS[1], '*', unpack(ARGV, i + 1, i + 2 * c))
    i = i + 1 + 2 * c
  end
end
if ARGV[5] == '1' then
  if ARGV[3] == 'approximate' then redis.call('XTRIM', KEYS[1], 'MAXLEN', '~', ARGV[4])
  elseif ARGV[3] == 'exact' then redis.call('XTRIM', KEYS[1], 'MAXLEN', ARGV[4]) end
end
redis.call('HSET', KEYS[2], ARGV[1], before .. link)
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return n
`;

const APPEND_CHUNK_SHA = createHash("sha1").update(APPEND_CHUNK).digest("hex");

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
function pushFieldPairs(out: (string | number)[], record: DataRecord, fallbackField: string): void {
  const countAt = out.length;
  out.push(0);
  for (const key in record) {
    const v = record[key];
    if (v === null || v === undefined) continue;
    out.push(key, typeof v === "string" ? v : JSON.stringify(v));
  }
  // XADD needs at least one field.
  if (out.length === countAt + 1) out.push(fallbackField, "{}");
  out[countAt] = (out.length - countAt - 1) / 2;
}

export const redisStreamSinkRuntime: SinkRuntime<RedisStreamSinkConfig> = {
  kind: "sink",
  type: "sink.redis-stream",
  async open(ctx) {
    const c = ctx.config;
    const conn = redisConfig(ctx.services.connections.get(c.connection, "redis"));
    const where = redisWhere(conn);
    const name = `${ctx.runId}:${ctx.nodeId}:${ctx.partition}`;
    // A bare connection (resp-connection.ts): the client library's command building cost ~1 µs a record.
    let redis: RespConnection | undefined;
    // Resolved and checked once (a refusal is permanent); reconnects go to the same address.
    let destination: Destination | undefined;
    const connect = async () => {
      if (redis === undefined || redis.closed) {
        redis = undefined;
        destination ??= await redisDestination(conn, ctx.services.destinations.for(c.connection));
        redis = await RespConnection.open(conn, name, destination);
      }
      return redis;
    };
    try {
      const type = parseReply(await (await connect()).send(["TYPE", c.stream]));
      if (type instanceof RespError) throw type;
      if (type !== "stream" && type !== "none") {
        throw new NodeConfigError(
          ctx.nodeId,
          "stream",
          `the key "${c.stream}" on ${where} holds a ${String(type)}, not a stream`,
        );
      }
    } catch (err) {
      redis?.close();
      if (err instanceof NodeConfigError) throw err;
      throw openError(ctx, c.connection, diagnoseRedis(err, where));
    }
    const encoder = new PayloadEncoder(c);
    const written = writtenBatchesKey(c.stream);
    const fieldsFormat = c.format === "fields";
    const maxLen = c.maxLen ?? 0;

    /** Records [from, to) as the script's arguments after the count (mode, then the entries), as RESP bytes. */
    const encodeChunk = (records: readonly DataRecord[], from: number, to: number): BulkWriter => {
      const w = new BulkWriter();
      if (fieldsFormat) {
        const args: (string | number)[] = [];
        for (let i = from; i < to; i++) pushFieldPairs(args, records[i]!, c.entryField);
        w.bulk("pairs");
        for (const arg of args) w.bulk(arg);
      } else {
        w.bulk("single");
        w.bulk(c.entryField);
        for (let i = from; i < to; i++) w.bulk(encoder.encode(records[i]!));
      }
      return w;
    };

    return {
      async write(records, batch) {
        if (records.length === 0) return;
        // The batch id without its sequence names this writer (run, stage, partition); with the node: two sinks of
        // one stage writing the same stream keep apart.
        const cut = batch.batchId.lastIndexOf(":");
        const writer = `${ctx.nodeId}@${batch.batchId.slice(0, cut)}`;
        const chunks: ScriptCall[] = [];
        // The digest runs over the chunks' bytes as sent (bulk strings carry their lengths: unambiguous).
        const digest = createHash("sha1");
        let previous = "";
        try {
          const redis = await connect();
          const sent: Promise<Buffer>[] = [];
          for (let from = 0; from < records.length; from += CHUNK) {
            const to = Math.min(records.length, from + CHUNK);
            const entries = encodeChunk(records, from, to);
            digest.update(entries.bytes());
            const link = `${batch.sequence}:${to}:${digest.copy().digest("base64url")}`;
            const last = to === records.length ? 1 : 0;
            const call: ScriptCall = {
              args: [2, c.stream, written, writer, WRITTEN_TTL_MS, c.trim, maxLen, last, previous, link, to - from],
              entries,
            };
            chunks.push(call);
            sent.push(redis.sendEncoded(scriptCommand(call, true)));
            previous = link;
          }
          let failure = await firstError(sent);
          if (failure instanceof RespError && failure.message.startsWith("NOSCRIPT")) {
            // The server does not have the script yet (first batch, a restart, SCRIPT FLUSH): send the batch again,
            // the first chunk with the script itself — chunks that got in meanwhile are skipped by their links.
            failure = await firstError(chunks.map((call, k) => redis.sendEncoded(scriptCommand(call, k > 0))));
          }
          if (failure !== undefined) throw failure;
        } catch (err) {
          const d = diagnoseRedis(err, where);
          throw new Error(`writing to stream "${c.stream}" on ${where} failed: ${d.message}`);
        }
      },
      async close() {
        redis?.close();
      },
    };
  },
};

interface ScriptCall {
  /** The key count, the keys and the arguments before the entries. */
  args: CommandArg[];
  entries: BulkWriter;
}

/** EVALSHA (or EVAL, with the script's text) of one chunk, in pieces for RespConnection.sendEncoded. */
function scriptCommand(call: ScriptCall, bySha: boolean): Buffer[] {
  const head = new BulkWriter(bySha ? 1024 : 4096);
  head.bulk(bySha ? "EVALSHA" : "EVAL");
  head.bulk(bySha ? APPEND_CHUNK_SHA : APPEND_CHUNK);
  for (const arg of call.args) head.bulk(arg);
  return [Buffer.from(commandHeader(head.count + call.entries.count), "latin1"), head.bytes(), call.entries.bytes()];
}

/** The first failure among the replies (a lost connection or an error reply), once all are in. */
async function firstError(replies: readonly Promise<Buffer>[]): Promise<unknown> {
  const results = await Promise.allSettled(replies);
  for (const r of results) {
    if (r.status === "rejected") return r.reason;
    const err = replyError(r.value);
    if (err) return err;
  }
  return undefined;
}
