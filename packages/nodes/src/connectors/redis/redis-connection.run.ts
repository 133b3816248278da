import type { DataRecord } from "@sluice/pipeline/record-schema";
import type { Redis } from "ioredis";
import type { ConnectionRuntime, DiscoveredObject } from "../../connection-runtime";
import { abortable, errorText, failed } from "../messaging/connection-problems";
import { sampleFields, sampleRecord } from "../messaging/sample-fields";
import { connectRedis, diagnoseRedis, redisClient, redisConfig, redisDestination, redisWhere } from "./redis-client";
import type { RedisConnectionConfig } from "./redis-connection.def";

// "Test connection" and discovery for Redis: connect, authenticate, read the version; list stream keys by SCAN
// and sample a stream's newest entries. Server-only.

const MAX_STREAMS = 1000;
const MAX_SCANNED = 200_000;

function infoField(info: string, name: string): string | undefined {
  return new RegExp(`^${name}:(.*)$`, "m").exec(info)?.[1]?.trim();
}

/** An entry as a sample record: a lone JSON `data` field as the object it holds, else the entry's fields. */
function entryRecord(pairs: readonly string[]): DataRecord {
  if (pairs.length === 2 && pairs[0] === "data") return sampleRecord(pairs[1]!);
  const out: DataRecord = {};
  for (let i = 0; i + 1 < pairs.length; i += 2) out[pairs[i]!] = pairs[i + 1];
  return out;
}

export const redisConnectionRuntime: ConnectionRuntime<RedisConnectionConfig> = {
  type: "redis",
  async test(raw, signal, destinations) {
    let c: RedisConnectionConfig;
    try {
      c = redisConfig(raw);
    } catch (err) {
      return { ok: false, problem: "misconfigured", message: errorText(err) };
    }
    const where = redisWhere(c);
    let client: Redis | undefined;
    try {
      const destination = await abortable(redisDestination(c, destinations), signal);
      const opened = redisClient(c, "test-connection", "probe", destination);
      client = opened;
      signal.addEventListener("abort", () => opened.disconnect(), { once: true });
      await abortable(connectRedis(client), signal);
      const info = await abortable(client.info("server"), signal);
      const version = infoField(info, "redis_version") ?? "?";
      const major = Number(version.split(".")[0]);
      if (major < 5) {
        return {
          ok: false,
          problem: "misconfigured",
          message: `${where} runs Redis ${version}; streams need Redis 5 or newer`,
        };
      }
      const db = (client.options.db ?? 0) as number;
      return {
        ok: true,
        message: `connected to ${where} (Redis ${version}), database ${db}`,
        details: { version, database: db, mode: infoField(info, "redis_mode") ?? "standalone" },
      };
    } catch (err) {
      if (signal.aborted) return { ok: false, problem: "timeout", message: `${where} did not answer in time` };
      return failed(diagnoseRedis(err, where));
    } finally {
      client?.disconnect();
    }
  },

  async discover(raw, request, signal, destinations) {
    const c = redisConfig(raw);
    const where = redisWhere(c);
    const destination = await abortable(redisDestination(c, destinations), signal).catch((err: unknown) => {
      throw new Error(diagnoseRedis(err, where).message);
    });
    const client = redisClient(c, "discovery", "probe", destination);
    signal.addEventListener("abort", () => client.disconnect(), { once: true });
    try {
      await abortable(connectRedis(client), signal).catch((err: unknown) => {
        throw new Error(diagnoseRedis(err, where).message);
      });
      if (request.object !== undefined) {
        const stream = request.object;
        const type = await client.type(stream);
        if (type !== "stream") {
          throw new Error(
            type === "none"
              ? `there is no stream "${stream}" on ${where}`
              : `"${stream}" holds a ${type}, not a stream`,
          );
        }
        const [length, newest] = await Promise.all([
          client.xlen(stream),
          client.xrevrange(stream, "+", "-", "COUNT", Math.max(1, request.sample ?? 10)),
        ]);
        const sample = newest.reverse().map(([, pairs]) => entryRecord(pairs));
        const object: DiscoveredObject = { kind: "stream", name: stream, rows: length, fields: sampleFields(sample) };
        return { objects: [object], ...(request.sample ? { sample } : {}) };
      }
      const names: string[] = [];
      let cursor = "0";
      let scanned = 0;
      do {
        const [next, keys] = await client.scan(cursor, "COUNT", 1000, "TYPE", "stream");
        cursor = next;
        scanned += 1000;
        names.push(...keys);
      } while (cursor !== "0" && names.length < MAX_STREAMS && scanned < MAX_SCANNED && !signal.aborted);
      const shown = [...new Set(names)].sort().slice(0, MAX_STREAMS);
      const pipeline = client.pipeline();
      for (const name of shown) pipeline.xlen(name);
      const lengths = (await pipeline.exec()) ?? [];
      return {
        objects: shown.map((name, i) => ({
          kind: "stream",
          name,
          ...(typeof lengths[i]?.[1] === "number" ? { rows: lengths[i][1] } : {}),
        })),
      };
    } finally {
      client.disconnect();
    }
  },
};
