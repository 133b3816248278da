import type { DataRecord } from "@sluice/pipeline/record-schema";
import type { Redis } from "ioredis";
import type {
  IngestService,
  RejectedRecord,
  RuntimeContext,
  SourceBatch,
  SourceOffset,
  SourceReader,
  SourceRuntime,
} from "../../runtime-contract";
import { NodeConfigError } from "../../runtime-expressions";
import { normaliseDeclared, pickDeclared } from "../files/declared-fields";
import { ENTRY, INGEST_ENTRY_RECORDS, ingestKeys, META, nextStreamId, shardsOf } from "./ingest-stream";
import type { WebhookSourceConfig } from "./webhook-source.def";

// Reads the pipeline's ingest streams (see ingest-stream.ts). Position per shard: the last entry fully taken and how
// many records of the entry after it were taken. After each commit the fully taken entries are trimmed and the
// pipeline's backlog counter lowered, in one script.

function ingestService(ctx: RuntimeContext<unknown>): IngestService | undefined {
  return ctx.services.ingest;
}

/** shard → [last entry id fully taken, records taken from the entry after it]. */
export type WebhookOffset = Record<string, [string, number]>;

function readWebhookOffset(from: SourceOffset | null, shards: readonly number[]): WebhookOffset {
  const out: WebhookOffset = {};
  const o = from !== null && typeof from === "object" && !Array.isArray(from) ? from : {};
  for (const s of shards) {
    const v = (o as Record<string, unknown>)[String(s)];
    out[String(s)] =
      Array.isArray(v) && typeof v[0] === "string" && typeof v[1] === "number" ? [v[0], v[1]] : ["0-0", 0];
  }
  return out;
}

type StreamEntries = [string, string[]][];

/**
 * XREAD's answer as [stream, entries] pairs. Through `call` ioredis hands it over either as a list of pairs (RESP2)
 * or as one flat list alternating stream names and entries (a map reply): both are read here.
 */
function streamReplies(reply: unknown): [string, StreamEntries][] {
  if (!Array.isArray(reply) || reply.length === 0) return [];
  if (typeof reply[0] === "string") {
    const out: [string, StreamEntries][] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) out.push([reply[i] as string, reply[i + 1] as StreamEntries]);
    return out;
  }
  return reply as [string, StreamEntries][];
}

// Claims the pipeline's streams for this run's node; refuses a second webhook node of the same run.
const CLAIM = `
local owner = redis.call('HGET', KEYS[1], '${META.owner}')
if owner then
  local run, node = string.match(owner, '^(%S+) (%S+)$')
  if run == ARGV[1] and node ~= ARGV[2] then return node end
end
redis.call('HSET', KEYS[1], '${META.owner}', ARGV[1] .. ' ' .. ARGV[2])
return false`;

// Trims the entries up to (and including) ARGV[i] from stream KEYS[i+1] and lowers the backlog by their records.
const TRIM = `
local removed = 0
for i = 2, #KEYS do
  local upto = ARGV[(i - 1) * 2 - 1]
  local minid = ARGV[(i - 1) * 2]
  local entries = redis.call('XRANGE', KEYS[i], '-', upto)
  for _, e in ipairs(entries) do
    local f = e[2]
    for j = 1, #f, 2 do
      if f[j] == '${ENTRY.count}' then removed = removed + tonumber(f[j + 1]) end
    end
  end
  if #entries > 0 then redis.call('XTRIM', KEYS[i], 'MINID', minid) end
end
if removed > 0 then
  local left = redis.call('HINCRBY', KEYS[1], '${META.pending}', -removed)
  if left < 0 then redis.call('HSET', KEYS[1], '${META.pending}', 0) end
end
return removed`;

interface Pending {
  shard: string;
  id: string;
  lines: string[];
  receivedAt: number;
  /** Index of the next record to take. */
  next: number;
}

const BLOCK_MS = 50;

export const webhookSourceRuntime: SourceRuntime<WebhookSourceConfig> = {
  kind: "source",
  type: "source.webhook",
  async open(ctx, from): Promise<SourceReader> {
    const c = ctx.config;
    const service = ingestService(ctx as RuntimeContext<unknown>);
    if (!service?.pipelineId) {
      throw new NodeConfigError(
        ctx.nodeId,
        "",
        service
          ? "webhook records belong to a pipeline, and this run names none: run it from Sluice or with `sluice run`"
          : "this worker offers no access to the ingest streams (the engine passes no ingest service)",
      );
    }
    const keys = ingestKeys(service.prefix, service.pipelineId);
    const claimed = (await service.redis.eval(CLAIM, 1, keys.meta, ctx.runId, ctx.nodeId)) as string | null;
    if (claimed) {
      throw new NodeConfigError(
        ctx.nodeId,
        "",
        `node ${claimed} of this run already takes the pipeline's webhook records; a pipeline has one Webhook node`,
      );
    }
    const shards = shardsOf(ctx.partition, ctx.partitions).map(String);
    const position = readWebhookOffset(from, shards.map(Number));
    if (shards.length === 0) {
      return {
        async read() {
          return { records: [], offset: position, end: false, idleMs: 1000 };
        },
        async close() {},
      };
    }
    // Blocking reads get a connection of their own; the shared one keeps serving the rest.
    const reader = (service.redis as Redis).duplicate();
    reader.on("error", () => {}); // retried by ioredis; a failing read surfaces from read()
    const declared = normaliseDeclared(c.fields, "json");
    const preview = ctx.mode === "preview";
    let pending: Pending[] = [];

    const fetch = async (count: number) => {
      // After the last entry each shard has in hand (or its committed position).
      const after = shards.map((s) => {
        const mine = pending.filter((p) => p.shard === s);
        return mine.length > 0 ? mine[mine.length - 1]!.id : position[s]![0];
      });
      const args: (string | number)[] = ["COUNT", count];
      if (!preview) args.push("BLOCK", BLOCK_MS);
      args.push("STREAMS", ...shards.map((s) => keys.stream(Number(s))), ...after);
      const reply = await (reader as Redis).call("XREAD", ...args);
      for (const [key, entries] of streamReplies(reply)) {
        const shard = key.slice(key.lastIndexOf(":") + 1);
        for (const [id, fields] of entries) {
          const get = (name: string) => {
            const i = fields.indexOf(name);
            return i >= 0 && i % 2 === 0 ? fields[i + 1] : undefined;
          };
          const lines = (get(ENTRY.records) ?? "").split("\n").filter((l) => l !== "");
          // The first entry after the committed position may be partly taken already.
          const skip = pending.every((p) => p.shard !== shard) ? position[shard]![1] : 0;
          pending.push({ shard, id, lines, receivedAt: Number(get(ENTRY.receivedAt) ?? 0), next: skip });
        }
      }
    };

    return {
      async read(max): Promise<SourceBatch> {
        if (pending.length === 0) await fetch(Math.max(1, Math.ceil(max / INGEST_ENTRY_RECORDS)) + 1);
        const records: DataRecord[] = [];
        const rejected: RejectedRecord[] = [];
        let taken = 0;
        while (taken < max && pending.length > 0) {
          const entry = pending[0]!;
          while (taken < max && entry.next < entry.lines.length) {
            const line = entry.lines[entry.next]!;
            const index = entry.next++;
            taken++;
            try {
              const value = JSON.parse(line) as Record<string, unknown>;
              const record = declared ? pickDeclared(value, declared, false) : value;
              if (c.receivedAtField !== undefined) record[c.receivedAtField] = entry.receivedAt;
              records.push(record);
            } catch (err) {
              const error = `entry ${entry.id} record ${index + 1}: ${err instanceof Error ? err.message : String(err)}`;
              rejected.push({ record: { entry: entry.id, index, text: line }, error });
              ctx.log.warn("webhook record refused", { error });
            }
          }
          const s = entry.shard;
          if (entry.next >= entry.lines.length) {
            position[s] = [entry.id, 0];
            pending.shift();
          } else {
            position[s] = [position[s]![0], entry.next];
          }
        }
        // Fully taken entries stay in `position`; partly taken ones keep their predecessor's id and a count.
        const offset = Object.fromEntries(Object.entries(position).map(([s, v]) => [s, [...v]]));
        return {
          records,
          offset,
          end: false,
          ...(rejected.length > 0 ? { rejected } : {}),
          ...(taken === 0 ? { idleMs: preview ? 0 : 1 } : {}),
        };
      },
      async committed(offset) {
        const committed = readWebhookOffset(offset, shards.map(Number));
        const trimKeys: string[] = [];
        const args: string[] = [];
        for (const s of shards) {
          const [last] = committed[s]!;
          if (last === "0-0") continue;
          trimKeys.push(keys.stream(Number(s)));
          args.push(last, nextStreamId(last));
        }
        if (trimKeys.length === 0) return;
        await service.redis.eval(TRIM, trimKeys.length + 1, keys.meta, ...trimKeys, ...args);
      },
      async close() {
        pending = [];
        reader.disconnect();
      },
    };
  },
};
