import { Duration } from "@sluice/pipeline/duration";
import { defineNode, type InferIssue } from "@sluice/pipeline/node-definition";
import { field, t } from "@sluice/pipeline/record-schema";
import { z } from "zod";
import { checkSourcePayload, connectionField, sourcePayloadFields, sourceRecordSchema } from "../messaging/payload";

const StreamKey = z.string().min(1, "name a stream key").max(1024);

/** `earliest`, `latest`, or an entry id (`1700000000000-0`, or just the milliseconds). */
const START = /^(earliest|latest|\d{1,20}(-\d{1,20})?)$/;

/** `start` (the stream's last entry when the run starts) or an entry id (`1700000000000-5`, or just the milliseconds = the whole millisecond). */
const UNTIL = /^(start|\d{1,20}(-\d{1,20})?)$/;

const payload = sourcePayloadFields(["json", "text", "bytes-base64", "fields"]);

const config = z
  .strictObject({
    connection: connectionField("redis", "Redis"),
    stream: z.union([StreamKey, z.array(StreamKey).min(1).max(1024)]).meta({
      label: "Stream",
      discover: "object",
      help: "A stream key, or a list of them. With several, partition p reads the streams at positions p, p+P, p+2P, … of the list (P = parallelism).",
      placeholder: "orders",
      examples: ["orders", ["clicks:0", "clicks:1", "clicks:2", "clicks:3"]],
    }),
    group: z.string().min(1).max(200).regex(/^\S+$/, "a group name has no spaces").optional().meta({
      label: "Consumer group",
      help: "Keep this group's position at what the run has committed, and start a new run where the group stands. Empty: no group is created or moved.",
    }),
    start: z
      .string()
      .regex(START, 'write "earliest", "latest" or an entry id such as 1700000000000-0')
      .default("earliest")
      .meta({
        label: "Start at",
        help: "Where a new run starts (a restarted run continues from its last commit): earliest = the first entry; latest = entries added after the run was created; or after an entry id. With a consumer group that already exists, the group's position wins.",
        examples: ["earliest", "latest", "1700000000000-0"],
      }),
    until: z
      .string()
      .regex(UNTIL, 'write "start" or an entry id such as 1700000000000-0')
      .optional()
      .meta({
        label: "Stop after",
        help: "Make the read bounded: read up to this entry id (included), then end. start = the stream's last entry when the run starts. Empty: keep reading new entries.",
        examples: ["start", "1700000060000-0"],
        advanced: true,
      }),
    entryField: z.string().min(1).max(256).default("data").meta({
      label: "Entry field",
      help: "The field of each stream entry that holds the payload (not used by the fields format).",
    }),
    ...payload,
    fields: payload.fields.meta({ discover: "fields" }),
    block: Duration.prefault("100ms").meta({
      label: "Wait for new entries",
      help: "How long one read waits for new entries when there are none (e.g. 100ms); at most 5s.",
      advanced: true,
      widget: "duration",
    }),
  })
  .superRefine((c, ctx) => {
    checkSourcePayload(c, ctx);
    if (Array.isArray(c.stream)) {
      const seen = new Set<string>();
      c.stream.forEach((s, i) => {
        if (seen.has(s)) ctx.addIssue({ code: "custom", path: ["stream", i], message: `"${s}" is listed twice` });
        seen.add(s);
      });
    }
    if (c.block > 5000) ctx.addIssue({ code: "custom", path: ["block"], message: "wait at most 5s" });
  });

export type RedisStreamSourceConfig = z.output<typeof config>;

export function streamList(c: { stream: string | string[] }): string[] {
  return Array.isArray(c.stream) ? c.stream : [c.stream];
}

const REDIS_METADATA = [
  field("_stream", t.string, false, "the stream key"),
  field("_id", t.string, false, "the entry id"),
  field("_time", t.timestamp, false, "when Redis added the entry (the id's milliseconds)"),
];

export const redisStreamSourceDef = defineNode({
  type: "source.redis-stream",
  version: 1,
  kind: "source",
  title: "Redis Streams",
  category: "Messaging",
  icon: "database",
  summary: "Reads entries from Redis streams, replayable from the last committed entry id.",
  docs: `Reads the entries of one or more Redis streams, in order, each becoming one record.

**Position and exactly-once.** The position is the id of the last entry read from each stream, committed by the
engine atomically with each batch. A restarted or failed-over partition reads again after the committed ids
(\`XREAD\` from that id), so nothing is skipped and nothing is read twice: the source is replayable, and a pipeline
from it into an idempotent or transactional sink runs exactly-once. The group's pending-entries list is never
relied on.

**Consumer group.** With *Consumer group* set, the group is created if it does not exist (at the start position)
and its last-delivered id is moved to what the run has committed after every batch (\`XGROUP SETID\`), so
\`XINFO GROUPS\` shows how far the pipeline is (its \`lag\`), and a new run of the pipeline starts where the group
stands. No entry is added to the group's pending list; nothing needs acknowledging.

**Partitions.** Stream *i* of the list is read by partition *i mod P*. List several streams (for example one per
producer shard, \`clicks:0\` … \`clicks:7\`) to read in parallel; with one stream, one partition reads and the others
stay idle. Do not change the list of a running pipeline: a stream moving to another partition starts there again
from *Start at*.

**Start at.** \`earliest\` (default) reads each stream from its first entry, \`latest\` only entries added after the
run was created (compared by the time in the entry id, so it is the same on every retry), or give an entry id to
read what follows it.

**Bounded reads (replay).** With *Stop after* the source reads up to an entry id (included; just the milliseconds
takes the whole millisecond) and then ends, on every partition, so the run completes — a backfill replays a stretch
of a stream this way (Start at just before the first entry, Stop after the last). \`start\` stops at each stream's
last entry when the run starts; that id is kept in the position, so a restarted partition ends at the same entry.
A bound that lies ahead is waited for until the server's clock (or the stream's last id) has passed it. A replay
should not name the live pipeline's *Consumer group*: it would move it.

**Payload.** By default the entry's \`data\` field holds a JSON object whose keys become the record's fields.
\`text\` and \`bytes-base64\` put the payload in one field; \`fields\` takes the entry's own field-value pairs (all
text, converted when *Fields* declares types). An entry whose payload cannot be read — invalid JSON, not an object,
a declared field of the wrong type, no \`data\` field — goes to the dead-letter queue with the error, the stream and
the entry id, and the run goes on. With *Add message metadata*, each record also gets \`_stream\`, \`_id\` and \`_time\`
(epoch ms of the id).

**Trimming.** Entries trimmed away (\`MAXLEN\`) before the pipeline read them are gone: size the producers' limits
for the longest outage you want to survive.`,
  inputs: [],
  outputs: [{ name: "out" }],
  config,
  examples: [
    { title: "JSON entries from one stream", config: { connection: "local-redis", stream: "orders" } },
    {
      title: "Four shards read in parallel, typed, tracked by a consumer group",
      config: {
        connection: "local-redis",
        stream: ["clicks:0", "clicks:1", "clicks:2", "clicks:3"],
        group: "sluice-clicks",
        fields: ["user_id", "path", { name: "ts", type: "timestamp", nullable: false }],
        timeField: "ts",
      },
    },
    {
      title: "Entries' own fields, new entries only",
      config: {
        connection: "local-redis",
        stream: "sensor-readings",
        format: "fields",
        start: "latest",
        metadata: true,
      },
    },
  ],
  delivery: { replayable: true },
  eventTimeField: (c) => c.timeField,
  infer: ({ config: c }) => {
    const issues: InferIssue[] = [];
    return { outputs: { out: sourceRecordSchema(c, REDIS_METADATA, issues) }, issues };
  },
  summarize: (c) => {
    const streams = streamList(c);
    const what = streams.length === 1 ? streams[0]! : `${streams.length} streams`;
    return [what, c.format, c.group !== undefined ? `group ${c.group}` : undefined].filter(Boolean).join(" · ");
  },
});
