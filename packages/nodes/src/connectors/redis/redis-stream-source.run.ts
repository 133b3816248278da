import type { DataRecord } from "@sluice/pipeline/record-schema";
import type { Redis } from "ioredis";
import type { Destination } from "../../destination-policy";
import type { RejectedRecord, SourceBatch, SourceOffset, SourceReader, SourceRuntime } from "../../runtime-contract";
import { NodeConfigError } from "../../runtime-expressions";
import { PayloadDecoder, withMetadata } from "../messaging/codec";
import { errorText, openError } from "../messaging/connection-problems";
import { rejectedBatch } from "../messaging/rejected";
import { connectRedis, diagnoseRedis, redisClient, redisConfig, redisDestination, redisWhere } from "./redis-client";
import { type RedisStreamSourceConfig, streamList } from "./redis-stream-source.def";
import { RespConnection } from "./resp-connection";
import { RespError } from "./resp-reader";
import { readRangeReply, type StreamEntries } from "./stream-entries";
import { StreamReadAhead } from "./stream-read-ahead";

// Partition p reads its share of the streams with XREAD after the ids it last committed: the committed offset is
// the whole truth, so a replay reads exactly the same entries again. A consumer group, if configured, only mirrors
// that position (XGROUP SETID after each commit) for monitoring and for where the next run starts.
// Entries are read on a bare RESP connection of their own (resp-connection.ts), one XREAD ahead, and decoded from
// the reply's bytes (stream-entries.ts): a client library's reply decoder took 40 % of the CPU. The ioredis client
// does the rest (checks on open, the consumer group).

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

/** The metadata of an entry (for records with metadata, and dead letters). */
function entryMeta(stream: string, id: string): DataRecord {
  return { _stream: stream, _id: id, _time: idTime(id) };
}

/** Entry id → epoch ms. */
function idTime(id: string): number {
  const dash = id.indexOf("-");
  return Number(dash < 0 ? id : id.slice(0, dash));
}

/** Beyond this many entries either side of the position, the offset lag is estimated rather than counted. */
const LAG_COUNT_LIMIT = 10_000;

/** The id just after `id`, for an exclusive XRANGE start on servers older than 6.2 (no "(" ranges). */
function nextId(id: string): string {
  const dash = id.indexOf("-");
  const ms = BigInt(dash < 0 ? id : id.slice(0, dash));
  const seq = dash < 0 ? 0n : BigInt(id.slice(dash + 1));
  return seq >= BigInt(MAX_SEQ) ? `${ms + 1n}-0` : `${ms}-${seq + 1n}`;
}

/** Entry id → [ms, seq], for comparing ids. */
function idParts(id: string): [bigint, bigint] {
  const dash = id.indexOf("-");
  return dash < 0 ? [BigInt(id), 0n] : [BigInt(id.slice(0, dash)), BigInt(id.slice(dash + 1))];
}

function compareIds(a: string, b: string): number {
  const [am, as] = idParts(a);
  const [bm, bs] = idParts(b);
  return am !== bm ? (am < bm ? -1 : 1) : as === bs ? 0 : as < bs ? -1 : 1;
}

/** Offset key of the end ids a bounded read captured (`until: start`); no stream key is empty, so none collides. */
const BOUNDS_KEY = "";

/** The configured end bound as an entry id; undefined for "start" (the stream's last entry, captured on open). */
function untilId(until: string): string | undefined {
  if (until === "start") return undefined;
  return until.includes("-") ? until : `${until}-${MAX_SEQ}`;
}

/** The end ids kept in a committed offset (a bounded read with `until: start`). */
function readBounds(from: SourceOffset | null): Record<string, string> {
  if (from === null || typeof from !== "object" || Array.isArray(from)) return {};
  const kept = (from as Record<string, unknown>)[BOUNDS_KEY];
  if (kept === null || typeof kept !== "object" || Array.isArray(kept)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(kept)) if (typeof v === "string") out[k] = v;
  return out;
}

/** The stream's last entry id, "0-0" when it is empty or missing. */
async function lastEntryId(client: Redis, stream: string): Promise<string> {
  const [newest] = (await client.xrevrange(stream, "+", "-", "COUNT", 1)) as [string, string[]][];
  return newest?.[0] ?? "0-0";
}

/**
 * No entry up to `until` can still be added to the stream: new ids are above both the stream's last generated id and
 * the server's clock (an auto id), so once either passes the bound, the entries up to it are all there.
 */
async function boundPassed(client: Redis, stream: string, until: string): Promise<boolean> {
  const [sec, usec] = (await client.time()) as [string | number, string | number];
  const nowMs = BigInt(sec) * 1000n + BigInt(usec) / 1000n;
  if (nowMs > idParts(until)[0]) return true;
  let info: unknown[];
  try {
    info = (await client.xinfo("STREAM", stream)) as unknown[];
  } catch (err) {
    if (/no such key/i.test(errorText(err))) return false;
    throw err;
  }
  const at = info.indexOf("last-generated-id");
  return at >= 0 && compareIds(String(info[at + 1]), until) >= 0;
}

/**
 * Entries of KEYS[1] after the position ARGV[3] (ARGV[1]: the id just after it), counted in the server so no entry
 * crosses the wire: those after it when there are fewer than ARGV[2], else the stream's length less those up to it
 * when those are fewer, else an estimate from the ids' times (the stream is long on both sides of the position).
 */
const COUNT_AFTER = `
local limit = tonumber(ARGV[2])
local after = #redis.call('XRANGE', KEYS[1], ARGV[1], '+', 'COUNT', limit)
if after < limit then return after end
local len = redis.call('XLEN', KEYS[1])
local before = #redis.call('XREVRANGE', KEYS[1], ARGV[3], '-', 'COUNT', limit)
if before < limit then return len - before end
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1][1]
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1][1]
local function ms(id) return tonumber(string.match(id, '^(%d+)')) end
local span = ms(last) - ms(first)
local estimate = len
if span > 0 then estimate = math.floor(len * (ms(last) - ms(ARGV[1])) / span) end
return math.max(limit, math.min(len - limit, estimate))
`;

/** The group's lag (Redis 7.0+) when it sits exactly at `position`, else undefined. */
async function groupLag(client: Redis, stream: string, group: string, position: string): Promise<number | undefined> {
  const groups = (await client.xinfo("GROUPS", stream).catch(() => [])) as unknown[];
  for (const g of groups) {
    const pairs = g as unknown[];
    const info: Record<string, unknown> = {};
    for (let i = 0; i + 1 < pairs.length; i += 2) info[String(pairs[i])] = pairs[i + 1];
    if (info.name !== group) continue;
    return info["last-delivered-id"] === position && typeof info.lag === "number" ? info.lag : undefined;
  }
  return undefined;
}

/** Entries of `stream` after `position`: the group's own lag where the server keeps it exactly, else counted. */
async function entriesAfter(client: Redis, stream: string, position: string, group: string | undefined) {
  const lag = group === undefined ? undefined : await groupLag(client, stream, group, position);
  if (lag !== undefined) return lag;
  return Number(await client.eval(COUNT_AFTER, 1, stream, nextId(position), LAG_COUNT_LIMIT, position));
}

/** Server errors after which reading may work again: the server is starting, failing over, or busy. */
const TRANSIENT = /^(LOADING|MASTERDOWN|TRYAGAIN|BUSY|READONLY)\b/;

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
    const keys = streamList(c).filter((_, i) => i % ctx.partitions === ctx.partition);
    const name = `${ctx.runId}:${ctx.nodeId}:${ctx.partition}`;
    const group = preview ? undefined : c.group;
    const positions: Positions = new Map();
    /** A bounded read (`until`): the last entry id to read, per stream. */
    const bounds: Positions = new Map();
    let entriesConn: RespConnection | undefined;
    let client: Redis | undefined;
    let destination: Destination;
    try {
      destination = await redisDestination(conn, ctx.services.destinations.for(c.connection));
      client = redisClient(conn, name, preview ? "probe" : "run", destination);
      await connectRedis(client);
      const committed = readOffset(from);
      const keptBounds = readBounds(from);
      for (const stream of keys) {
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
        if (c.until !== undefined && !preview) {
          const end = untilId(c.until) ?? keptBounds[stream] ?? (await lastEntryId(client, stream));
          bounds.set(stream, end);
        }
      }
      if (keys.length > 0) entriesConn = await RespConnection.open(conn, name, destination);
    } catch (err) {
      client?.disconnect();
      if (err instanceof NodeConfigError) throw err;
      throw openError(ctx, c.connection, diagnoseRedis(err, where));
    }

    const decoder = new PayloadDecoder(c);
    const binary = c.format === "bytes-base64";
    const fieldsFormat = c.format === "fields";
    const entryField = Buffer.from(c.entryField, "utf8");
    // The captured end ids ride along in the offset, so a restarted partition ends at the same entries.
    const captured: Record<string, SourceOffset> =
      c.until === "start" && bounds.size > 0 ? { [BOUNDS_KEY]: Object.fromEntries(bounds) } : {};
    const offset = (): SourceOffset => ({ ...Object.fromEntries(positions), ...captured });
    let acknowledged = new Map(positions);
    /** Where the committed offset has each stream: what the offset lag counts from. */
    const committedIds = new Map(positions);
    let warnedAt = 0;
    // A preview of "latest" shows the newest entries instead of waiting for new ones.
    let previewNewest = preview && c.start === "latest";
    const ahead = new StreamReadAhead(
      () => RespConnection.open(conn, name, destination),
      keys,
      positions,
      entryField,
      c.block,
      entriesConn,
    );

    /** Entries [from, to) of one stream as records (or rejected ones), moving the stream's position past them. */
    const toRecords = (entries: StreamEntries, from: number, to: number, out: DataRecord[], bad: RejectedRecord[]) => {
      if (from >= to) return;
      const stream = entries.stream;
      for (let k = from; k < to; k++) {
        let payload: string | Buffer | undefined;
        try {
          let record: DataRecord;
          if (fieldsFormat) record = decoder.decodeFields(entries.pairs(k));
          else {
            payload = binary ? entries.bytes(k) : entries.text(k);
            if (payload === undefined) throw new Error(`the entry has no field "${c.entryField}"`);
            record = decoder.decode(payload);
          }
          out.push(decoder.withMetadata ? withMetadata(record, entryMeta(stream, entries.id(k))) : record);
        } catch (err) {
          const raw = fieldsFormat || payload === undefined ? entries.pairs(k) : payload;
          bad.push(decoder.undecoded(raw, err, entryMeta(stream, entries.id(k))));
        }
      }
      positions.set(stream, entries.id(to - 1));
    };

    const readPreview = async (max: number): Promise<SourceBatch> => {
      const records: DataRecord[] = [];
      const bad: RejectedRecord[] = [];
      let full = false;
      const per = Math.max(1, Math.ceil(max / Math.max(1, keys.length)));
      const reader = entriesConn!;
      for (const stream of keys) {
        const reply = await reader.send(
          previewNewest
            ? ["XREVRANGE", stream, "+", "-", "COUNT", per]
            : ["XRANGE", stream, `(${positions.get(stream)!}`, "+", "COUNT", per],
        );
        const entries = readRangeReply(reply, stream, entryField);
        if (previewNewest) entries.reverse();
        if (entries.length === per) full = true;
        toRecords(entries, 0, entries.length, records, bad);
      }
      const end = previewNewest || !full;
      previewNewest = false;
      return rejectedBatch(ctx, { records, offset: offset(), end }, bad);
    };

    /** Streams of a bounded read with every entry up to their bound read. */
    const finished = new Set<string>();
    let rangeConn = entriesConn;
    const readBounded = async (max: number): Promise<SourceBatch> => {
      const records: DataRecord[] = [];
      const bad: RejectedRecord[] = [];
      const open = keys.filter((k) => !finished.has(k));
      const per = Math.max(1, Math.ceil(max / Math.max(1, open.length)));
      let waiting = false;
      for (const stream of open) {
        const position = positions.get(stream)!;
        const end = bounds.get(stream)!;
        if (compareIds(position, end) >= 0) {
          finished.add(stream);
          continue;
        }
        if (rangeConn?.closed) rangeConn = undefined;
        rangeConn ??= await RespConnection.open(conn, name, destination);
        const reply = await rangeConn.send(["XRANGE", stream, nextId(position), end, "COUNT", per]);
        const entries = readRangeReply(reply, stream, entryField);
        toRecords(entries, 0, entries.length, records, bad);
        if (entries.length < per) {
          // Everything up to the bound that exists now is read; done unless more can still arrive below it.
          if (await boundPassed(client, stream, end)) finished.add(stream);
          else waiting = true;
        }
      }
      const end = finished.size === keys.length;
      return rejectedBatch(
        ctx,
        { records, offset: offset(), end, ...(waiting && records.length === 0 ? { idleMs: c.block } : {}) },
        bad,
      );
    };

    return {
      async read(max): Promise<SourceBatch> {
        if (keys.length === 0) return { records: [], offset: offset(), end: c.until !== undefined, idleMs: 1000 };
        if (preview) return readPreview(max);
        if (c.until !== undefined) {
          try {
            return await readBounded(max);
          } catch (err) {
            if (err instanceof RespError && !TRANSIENT.test(err.message)) {
              throw new Error(`reading from ${where} failed: ${diagnoseRedis(err, where).message}`, { cause: err });
            }
            // The server is away: the next read connects again and goes on from the same position.
            if (rangeConn !== entriesConn) rangeConn?.close();
            rangeConn = undefined;
            if (Date.now() - warnedAt > 10_000) {
              warnedAt = Date.now();
              ctx.log.warn("redis unavailable; waiting for it to come back", { error: errorText(err), where });
            }
            return { records: [], offset: offset(), end: false, idleMs: 250 };
          }
        }
        let slices: Awaited<ReturnType<StreamReadAhead["take"]>>;
        try {
          slices = await ahead.take(max);
        } catch (err) {
          if (err instanceof RespError && !TRANSIENT.test(err.message)) {
            throw new Error(`reading from ${where} failed: ${diagnoseRedis(err, where).message}`, { cause: err });
          }
          // The server is away: nothing new to report; the next read connects again and resumes where it was.
          if (Date.now() - warnedAt > 10_000) {
            warnedAt = Date.now();
            ctx.log.warn("redis unavailable; waiting for it to come back", { error: errorText(err), where });
          }
          return { records: [], offset: offset(), end: false, idleMs: 250 };
        }
        const records: DataRecord[] = [];
        const bad: RejectedRecord[] = [];
        for (const { entries, from, to } of slices) toRecords(entries, from, to, records, bad);
        return rejectedBatch(ctx, { records, offset: offset(), end: false, idleMs: 1 }, bad);
      },

      async committed(committedOffset) {
        const ids = readOffset(committedOffset);
        for (const k of keys) if (ids[k] !== undefined) committedIds.set(k, ids[k]!);
        if (group === undefined) return;
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

      /** Entries after the committed id, summed over this partition's streams (a request or two per stream). */
      async offsetLag() {
        if (keys.length === 0) return undefined;
        const counts = await Promise.all(keys.map((k) => entriesAfter(client, k, committedIds.get(k)!, group)));
        return { value: counts.reduce((a, b) => a + b, 0), unit: "entries" as const };
      },

      async close() {
        ahead.close();
        entriesConn?.close();
        if (rangeConn !== entriesConn) rangeConn?.close();
        client.disconnect();
      },
    };
  },
};
