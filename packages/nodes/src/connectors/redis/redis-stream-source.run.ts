import type { DataRecord } from "@sluice/pipeline/record-schema";
import type { Redis } from "ioredis";
import type { RejectedRecord, SourceBatch, SourceOffset, SourceReader, SourceRuntime } from "../../runtime-contract";
import { NodeConfigError } from "../../runtime-expressions";
import { PayloadDecoder, withMetadata } from "../messaging/codec";
import { errorText, openError } from "../messaging/connection-problems";
import { rejectedBatch } from "../messaging/rejected";
import { connectRedis, diagnoseRedis, redisClient, redisConfig, redisWhere } from "./redis-client";
import { type RedisStreamSourceConfig, streamList } from "./redis-stream-source.def";

// Partition p reads its share of the streams with XREAD after the ids it last committed: the committed offset is
// the whole truth, so a replay reads exactly the same entries again. A consumer group, if configured, only mirrors
// that position (XGROUP SETID after each commit) for monitoring and for where the next run starts.

/** The largest sequence part of an entry id: `<ms>-MAX_SEQ` is "everything up to the end of that millisecond". */
const MAX_SEQ = "18446744073709551615";

type Positions = Map<string, string>;

function readOffset(from: SourceOffset | null): Record<string, string> {
  if (from === null || typeof from !== "object" || Array.isArray(from)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(from)) if (typeof v === "string") out[k] = v;
  return out;
}

/** The position before the first entry a new run reads. */
function startPosition(start: string, runStartedAt: number): string {
  if (start === "earliest") return "0-0";
  if (start === "latest") return `${Math.max(0, runStartedAt - 1)}-${MAX_SEQ}`;
  return start.includes("-") ? start : `${start}-0`;
}

/** Entry id → epoch ms. */
function idTime(id: string): number {
  const dash = id.indexOf("-");
  return Number(dash < 0 ? id : id.slice(0, dash));
}

type Entry = [id: string, pairs: (string | Buffer)[]];

/** The group's last-delivered id, or undefined when the stream has no such group. */
async function groupPosition(client: Redis, stream: string, group: string): Promise<string | undefined> {
  let groups: unknown[];
  try {
    groups = (await client.xinfo("GROUPS", stream)) as unknown[];
  } catch (err) {
    if (/no such key/i.test(errorText(err))) return undefined;
    throw err;
  }
  for (const g of groups) {
    const pairs = g as unknown[];
    const info: Record<string, unknown> = {};
    for (let i = 0; i + 1 < pairs.length; i += 2) info[String(pairs[i])] = pairs[i + 1];
    if (info.name === group) return String(info["last-delivered-id"]);
  }
  return undefined;
}

export const redisStreamSourceRuntime: SourceRuntime<RedisStreamSourceConfig> = {
  kind: "source",
  type: "source.redis-stream",
  async open(ctx, from): Promise<SourceReader> {
    const c = ctx.config;
    const conn = redisConfig(ctx.services.connections.get(c.connection, "redis"));
    const where = redisWhere(conn);
    const preview = ctx.mode === "preview";
    const mine = streamList(c).filter((_, i) => i % ctx.partitions === ctx.partition);
    const client = redisClient(conn, `${ctx.runId}:${ctx.nodeId}:${ctx.partition}`, preview ? "probe" : "run");
    const group = preview ? undefined : c.group;
    const positions: Positions = new Map();
    try {
      await connectRedis(client);
      const committed = readOffset(from);
      for (const stream of mine) {
        const type = await client.type(stream);
        if (type !== "stream" && type !== "none") {
          throw new NodeConfigError(
            ctx.nodeId,
            "stream",
            `the key "${stream}" on ${where} holds a ${type}, not a stream`,
          );
        }
        let position = committed[stream];
        if (position === undefined) {
          const start = startPosition(c.start, ctx.runStartedAt);
          position = (c.group !== undefined ? await groupPosition(client, stream, c.group) : undefined) ?? start;
          // The group is created where the run starts, so its lag is right from the first batch.
          if (group !== undefined && position === start) {
            await client.xgroup("CREATE", stream, group, start, "MKSTREAM").catch((err: unknown) => {
              if (!/BUSYGROUP/.test(errorText(err))) throw err;
            });
          }
        }
        positions.set(stream, position);
      }
    } catch (err) {
      client.disconnect();
      if (err instanceof NodeConfigError) throw err;
      throw openError(ctx, c.connection, diagnoseRedis(err, where));
    }

    const decoder = new PayloadDecoder(c);
    const binary = c.format === "bytes-base64";
    const fieldsFormat = c.format === "fields";
    const entryField = c.entryField;
    const keys = [...positions.keys()];
    const offset = (): SourceOffset => Object.fromEntries(positions);
    let acknowledged = new Map(positions);
    let warnedAt = 0;
    // A preview of "latest" shows the newest entries instead of waiting for new ones.
    let previewNewest = preview && c.start === "latest";

    const toRecords = (stream: string, entries: readonly Entry[], out: DataRecord[], bad: RejectedRecord[]) => {
      for (const [id, pairs] of entries) {
        positions.set(stream, id);
        const meta = { _stream: stream, _id: id, _time: idTime(id) };
        let payload: string | Buffer | undefined;
        try {
          let record: DataRecord;
          if (fieldsFormat) record = decoder.decodeFields(pairs as string[]);
          else {
            for (let i = 0; i + 1 < pairs.length; i += 2) {
              if (String(pairs[i]) === entryField) {
                payload = pairs[i + 1]!;
                break;
              }
            }
            if (payload === undefined) throw new Error(`the entry has no field "${entryField}"`);
            record = decoder.decode(payload);
          }
          out.push(decoder.withMetadata ? withMetadata(record, meta) : record);
        } catch (err) {
          const raw = fieldsFormat || payload === undefined ? pairs.map(String) : payload;
          bad.push(decoder.undecoded(raw, err, meta));
        }
      }
    };

    const readPreview = async (max: number): Promise<SourceBatch> => {
      const records: DataRecord[] = [];
      const bad: RejectedRecord[] = [];
      let full = false;
      const per = Math.max(1, Math.ceil(max / Math.max(1, keys.length)));
      for (const stream of keys) {
        const entries = previewNewest
          ? ((await client.xrevrange(stream, "+", "-", "COUNT", per)) as Entry[]).reverse()
          : ((await client.xrange(stream, `(${positions.get(stream)!}`, "+", "COUNT", per)) as Entry[]);
        if (entries.length === per) full = true;
        toRecords(stream, entries, records, bad);
      }
      const end = previewNewest || !full;
      previewNewest = false;
      return rejectedBatch(ctx, { records, offset: offset(), end }, bad);
    };

    return {
      async read(max): Promise<SourceBatch> {
        if (keys.length === 0) return { records: [], offset: offset(), end: false, idleMs: 1000 };
        if (preview) return readPreview(max);
        const per = Math.max(1, Math.ceil(max / keys.length));
        const args: (string | number)[] = ["COUNT", per];
        if (c.block > 0) args.push("BLOCK", c.block);
        args.push("STREAMS", ...keys, ...keys.map((k) => positions.get(k)!));
        let reply: [string | Buffer, Entry[]][] | null;
        try {
          reply = (binary ? await client.callBuffer("XREAD", ...args) : await client.call("XREAD", ...args)) as
            | [string | Buffer, Entry[]][]
            | null;
        } catch (err) {
          // The server is away: nothing new to report; ioredis reconnects, and reading resumes where it was.
          if (client.status !== "ready" || /closed|writeable|ECONN|EPIPE/i.test(errorText(err))) {
            if (Date.now() - warnedAt > 10_000) {
              warnedAt = Date.now();
              ctx.log.warn("redis unavailable; waiting for it to come back", { error: errorText(err), where });
            }
            return { records: [], offset: offset(), end: false, idleMs: 250 };
          }
          throw err;
        }
        const records: DataRecord[] = [];
        const bad: RejectedRecord[] = [];
        if (reply) {
          for (const [stream, entries] of reply) {
            const name = String(stream);
            if (binary) for (const e of entries) e[0] = String(e[0]);
            toRecords(name, entries, records, bad);
          }
        }
        return rejectedBatch(ctx, { records, offset: offset(), end: false, idleMs: 1 }, bad);
      },

      async committed(committedOffset) {
        if (group === undefined) return;
        const ids = readOffset(committedOffset);
        const moves = keys.filter((k) => ids[k] !== undefined && ids[k] !== acknowledged.get(k));
        if (moves.length === 0) return;
        const pipeline = client.pipeline();
        for (const k of moves) pipeline.xgroup("SETID", k, group, ids[k]!);
        const results = await pipeline.exec().catch((err: unknown) => [[err, null] as [unknown, unknown]]);
        const failure = results?.find(([err]) => err);
        if (failure) {
          // Only the group's display of progress lags; the run's position is already committed.
          ctx.log.warn("could not move the consumer group", { group, error: errorText(failure[0]) });
          return;
        }
        acknowledged = new Map([...acknowledged, ...moves.map((k) => [k, ids[k]!] as [string, string])]);
      },

      async close() {
        client.disconnect();
      },
    };
  },
};
